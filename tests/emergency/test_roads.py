"""The generated county road network, its routing graph and the per-process cache."""

from __future__ import annotations

import numpy as np
import pytest

from yigongti.emergency.models import Landmark, Place, RoadEdge, RoadNetwork, RoadNode, Station, Vehicle
from yigongti.emergency.roads.generate import (
    SPEED,
    TownshipSpec,
    VillageSpec,
    build_layout,
    county_townships,
    generate_network,
)
from yigongti.emergency.roads.graph import clear_cache, load_graph, road_graph
from yigongti.orgs.models import Region, RegionLevel


@pytest.fixture(autouse=True)
def _fresh_graph():
    clear_cache()
    yield
    clear_cache()


def _specs(n_townships=15, villages=10):
    out = []
    for k in range(n_townships):
        name = f"第{k}镇" if k < 10 else f"第{k}瑶族乡"
        out.append(TownshipSpec(f"431127{100 + k:03d}000", name, mountain=name.endswith("乡"), seat=k == 0,
                                villages=[VillageSpec(f"431127{100 + k:03d}{201 + j:03d}", f"村{j}")
                                          for j in range(villages)]))
    return out


def test_layout_is_deterministic_from_the_seed_and_reaches_the_target():
    a = build_layout(_specs(), seed=7, target_nodes=20000, county_code="431127000000", county_name="蓝山县")
    b = build_layout(_specs(), seed=7, target_nodes=20000, county_code="431127000000", county_name="蓝山县")
    c = build_layout(_specs(), seed=8, target_nodes=2000, county_code="431127000000", county_name="蓝山县")
    assert len(a.lon) >= 20000
    assert np.array_equal(a.lon, b.lon) and np.array_equal(a.edge_a, b.edge_a)
    assert np.array_equal(a.edge_speed_kmh, b.edge_speed_kmh) and a.edge_class == b.edge_class
    assert [(p.lon, p.lat) for p in a.places] != [(p.lon, p.lat) for p in c.places]
    assert {"national", "provincial", "county", "township", "village", "street"} <= set(a.edge_class)
    assert len(a.places) == 15 * 10 + 15 + 1
    assert len({p.node for p in a.places if len(p.code) == 12 and p.code[9:] != "000"}) == 150  # villages apart
    assert len(a.landmarks) >= 15 * 5


def test_mountain_roads_are_slower_and_longer():
    d = build_layout(_specs(), seed=3, target_nodes=8000, county_code="431127000000", county_name="蓝山县")
    speed = np.asarray(d.edge_speed_kmh)
    village = np.array([c == "village" for c in d.edge_class])
    # village roads run at 25 km/h ±10 % on the flat and at 60 % of it in the hills
    assert speed[village].max() <= SPEED["village"] * 1.08 + 1e-9
    assert (speed[village] < SPEED["village"] * 0.7).any()
    mountain_places = [p for p in d.places if "瑶族乡" in p.code or int(p.code[6:9]) >= 110]
    flat_places = [p for p in d.places if 100 < int(p.code[6:9]) < 110]
    assert np.mean([p.elevation_m for p in mountain_places]) > np.mean([p.elevation_m for p in flat_places]) + 200


def _all_regions_of(county):
    return Region.objects.filter(code__startswith=county.prefix, level__in=[RegionLevel.TOWNSHIP,
                                                                           RegionLevel.VILLAGE])


def test_generate_network_gives_every_township_and_village_a_place(ems):
    cast = ems.cast
    net = generate_network(cast.county, seed=1, target_nodes=3000,
                           populations={cast.village.code: 1234, cast.other_village.code: 4321})
    assert net.active and net.source == "generated" and net.seed == 1
    assert RoadNode.objects.filter(network=net).count() >= 3000
    assert RoadEdge.objects.filter(network=net).count() > 3000
    places = {p.region.code: p for p in Place.objects.filter(network=net).select_related("region", "node")}
    assert set(places) == {r.code for r in _all_regions_of(cast.county)} | {cast.county.code}
    assert places[cast.village.code].population == 1234
    assert places[cast.township.code].population == 1234  # a township: the sum of its villages
    assert places[cast.county.code].population == 1234 + 4321
    assert all(p.node.network_id == net.pk for p in places.values())
    assert Landmark.objects.filter(network=net, name__contains="中学").exists()
    # the fixture's network stops routing; stations and vehicles are on the new one's nodes
    ems.network.refresh_from_db()
    assert not ems.network.active
    assert all(s.node.network_id == net.pk for s in Station.objects.select_related("node"))
    assert all(v.node.network_id == net.pk for v in Vehicle.objects.select_related("node"))
    g = road_graph()
    assert g.network_id == net.pk
    # connected: every place reaches the seat
    times = g.times_to(places[cast.county.code].node_id)
    assert np.isfinite(times.take([p.node_id for p in places.values()])).all()


def test_same_seed_same_network_in_the_database(ems):
    county = ems.cast.county
    a = generate_network(county, seed=5, target_nodes=1500)
    b = generate_network(county, seed=5, target_nodes=1500)
    assert a.version != b.version  # a rebuild always reloads the graphs
    pos = [list(RoadNode.objects.filter(network=n).order_by("ext_id").values_list("lon", "lat")) for n in (a, b)]
    assert pos[0] == pos[1]
    a.refresh_from_db()
    assert not a.active and b.active


def test_county_townships_marks_xiang_as_mountain_and_the_first_zhen_as_seat(cast):
    specs = {t.name: t for t in county_townships(cast.county)}
    seat = [t for t in specs.values() if t.seat]
    assert len(seat) == 1 and not seat[0].mountain
    assert sum(len(t.villages) for t in specs.values()) == _all_regions_of(cast.county).filter(
        level=RegionLevel.VILLAGE).count()


def test_graph_times_routes_and_nearest(ems):
    g = road_graph()
    a, b = ems.node(0, 0).pk, ems.node(3, 0).pk
    assert g.eta_s(a, b) == pytest.approx(3000 / (45 / 3.6))
    assert g.times_from(a)[b] == pytest.approx(g.times_to(b)[a])
    route = g.route(a, b)
    assert route[0] == g.lonlat(a) and route[-1] == g.lonlat(b) and len(route) == 4
    assert g.nearest(ems.node(5, 5).lon + 0.003, ems.node(5, 5).lat) == ems.node(5, 5).pk
    m = g.time_matrix([a, b], [a, b])
    assert m[0, 0] == 0 and m[0, 1] == pytest.approx(m[1, 0])
    assert len(g) == 144 and g.edge_count == 2 * 2 * 11 * 12  # the fixture's both-way rows kept once per way


def test_one_way_edges_run_one_way(ems):
    net = RoadNetwork.objects.create(name="单行", version="ow-1", bbox=[0, 0, 1, 1])
    n1, n2 = (RoadNode.objects.create(network=net, lon=112.0 + k * 0.01, lat=25.0) for k in range(2))
    RoadEdge.objects.create(network=net, source=n1, target=n2, road_class="street", length_m=1000, speed_kmh=36,
                            oneway=True)
    g = load_graph(net)
    assert g.eta_s(n1.pk, n2.pk) == pytest.approx(100.0)
    assert g.eta_s(n2.pk, n1.pk) == float("inf")
    assert g.route(n2.pk, n1.pk) == []


def test_the_cache_reloads_when_the_network_changes(ems):
    first = road_graph()
    assert road_graph() is first
    RoadNetwork.objects.filter(pk=ems.network.pk).update(version="test-2")
    second = road_graph()
    assert second is not first and second.version == "test-2"


def test_no_network_is_a_clear_error(db):
    from yigongti.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="尚未生成或导入路网"):
        road_graph()


def test_places_stay_put_whatever_the_target():
    small = build_layout(_specs(), seed=4, target_nodes=2000, county_code="431127000000", county_name="蓝山县")
    big = build_layout(_specs(), seed=4, target_nodes=20000, county_code="431127000000", county_name="蓝山县")
    assert [(p.code, round(p.lon, 6), round(p.lat, 6)) for p in small.places] == \
        [(p.code, round(p.lon, 6), round(p.lat, 6)) for p in big.places]
    assert [p.population for p in small.places] == [p.population for p in big.places]


def test_a_generated_network_moves_stations_to_their_township_place(ems):
    cast = ems.cast
    net = generate_network(cast.county, seed=2, target_nodes=1500)
    township_place = Place.objects.get(network=net, region=cast.other_township)
    station = Station.objects.get(pk=ems.township_station.pk)
    assert (station.lon, station.lat) == (township_place.lon, township_place.lat)
    b1 = Vehicle.objects.get(pk=ems.vehicles["B1"].pk)
    assert (b1.lon, b1.lat) == (station.lon, station.lat) and b1.node_id == station.node_id
