"""Importing a county's roads from a local OpenStreetMap file (pyosmium)."""

from __future__ import annotations

from pathlib import Path

import pytest

from yigongti.core.errors import InvalidInput
from yigongti.emergency.models import Landmark, Place, RoadEdge, RoadNetwork, RoadNode, Station
from yigongti.emergency.roads.graph import clear_cache, road_graph
from yigongti.emergency.roads.osm import import_osm, import_osm_report


@pytest.fixture(autouse=True)
def _fresh_graph():
    clear_cache()
    yield
    clear_cache()


def write_osm(tmp_path: Path, cast) -> Path:
    """A tiny county: a trunk road west–east through 塔峰镇 (1 … 5), a one-way street (5 → 6), a tertiary road up
    to 大塘村 (3 → 7 → 8), an island track far away (20 – 21), a footway (ignored); place nodes and a school."""
    nodes = {1: (112.10, 25.30), 2: (112.11, 25.30), 3: (112.12, 25.30), 4: (112.13, 25.30), 5: (112.14, 25.30),
             6: (112.15, 25.30), 7: (112.12, 25.31), 8: (112.12, 25.32), 20: (113.0, 26.0), 21: (113.01, 26.0),
             30: (112.12, 25.301), 31: (112.121, 25.30)}
    xml = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    tagged = {
        100: {"place": "town", "name": cast.township.name, "population": "52000"},
        101: {"place": "village", "name": cast.village.name.removesuffix("村")},
        102: {"amenity": "school", "name": "塔峰中学"},
    }
    where = {100: (112.121, 25.301), 101: (112.12, 25.321), 102: (112.131, 25.301)}
    for i, (lon, lat) in nodes.items():
        xml.append(f'<node id="{i}" version="1" lat="{lat}" lon="{lon}"/>')
    for i, tags in tagged.items():
        lon, lat = where[i]
        xml.append(f'<node id="{i}" version="1" lat="{lat}" lon="{lon}">'
                   + "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()) + "</node>")
    ways = [(1000, [1, 2, 3, 4, 5], {"highway": "trunk", "ref": "G240", "maxspeed": "80"}),
            (1001, [5, 6], {"highway": "residential", "oneway": "yes", "name": "塔峰路"}),
            (1002, [3, 7, 8], {"highway": "tertiary"}),
            (1003, [20, 21], {"highway": "track"}),
            (1004, [30, 31], {"highway": "footway"})]
    for wid, refs, tags in ways:
        xml.append(f'<way id="{wid}" version="1">' + "".join(f'<nd ref="{r}"/>' for r in refs)
                   + "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()) + "</way>")
    xml.append("</osm>")
    path = tmp_path / "county.osm"
    path.write_text("\n".join(xml), encoding="utf-8")
    return path


def test_import_builds_the_road_graph_from_highways(ems, tmp_path):
    cast = ems.cast
    net, report = import_osm_report(str(write_osm(tmp_path, cast)), county=cast.county)
    assert net.active and net.source == "osm" and net.source_file == "county.osm"
    ext = set(RoadNode.objects.filter(network=net).values_list("ext_id", flat=True))
    assert ext == {1, 2, 3, 4, 5, 6, 7, 8}  # the island and the footway are gone
    assert report.dropped_nodes == 2
    edges = {(e.source.ext_id, e.target.ext_id): e for e in RoadEdge.objects.filter(network=net)
             .select_related("source", "target")}
    assert edges[(1, 2)].road_class == "national" and edges[(1, 2)].speed_kmh == 80 and edges[(1, 2)].name == "G240"
    assert edges[(3, 7)].road_class == "township" and edges[(3, 7)].speed_kmh == 40
    assert edges[(5, 6)].oneway and edges[(5, 6)].road_class == "street"
    assert edges[(1, 2)].length_m == pytest.approx(1004, rel=0.01)  # 0.01° of longitude at 25.3°N
    g = road_graph()
    by_ext = dict(RoadNode.objects.filter(network=net).values_list("ext_id", "pk"))
    assert g.eta_s(by_ext[5], by_ext[6]) < float("inf") and g.eta_s(by_ext[6], by_ext[5]) == float("inf")


def test_import_places_regions_by_osm_names_and_reports_the_rest(ems, tmp_path):
    cast = ems.cast
    net, report = import_osm_report(str(write_osm(tmp_path, cast)), county=cast.county, name="蓝山县OSM")
    places = {p.region.code: p for p in Place.objects.filter(network=net).select_related("region", "node")}
    assert places[cast.township.code].population == 52000
    assert (places[cast.township.code].lon, places[cast.township.code].lat) == (112.121, 25.301)
    assert places[cast.village.code].node.ext_id == 8  # "大塘" matched 大塘村, snapped to the road's end
    assert cast.other_village.code in report.unmatched
    assert cast.village.code in report.matched
    # an unmatched village sits at its township's place (itself unmatched: the county's, i.e. the first township)
    assert Landmark.objects.get(network=net).name == "塔峰中学"
    ems.network.refresh_from_db()
    assert not ems.network.active
    assert all(s.node.network_id == net.pk for s in Station.objects.select_related("node"))


def test_positions_from_the_operator_override_names(ems, tmp_path):
    cast = ems.cast
    net = import_osm(str(write_osm(tmp_path, cast)), county=cast.county,
                     positions={cast.other_village.code: (112.14, 25.30)}, populations={cast.other_village.code: 800})
    p = Place.objects.select_related("node").get(network=net, region=cast.other_village)
    assert p.node.ext_id == 5 and p.population == 800


def test_bad_files_are_refused_with_a_reason(ems, tmp_path):
    with pytest.raises(InvalidInput, match="找不到文件"):
        import_osm(str(tmp_path / "missing.osm"), county=ems.cast.county)
    empty = tmp_path / "empty.osm"
    empty.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="25" lon="112"/></osm>')
    with pytest.raises(InvalidInput, match="没有可通行的道路"):
        import_osm(str(empty), county=ems.cast.county)
    broken = tmp_path / "broken.osm"
    broken.write_text("<osm><way id=")
    with pytest.raises(InvalidInput):
        import_osm(str(broken), county=ems.cast.county)
    assert RoadNetwork.objects.filter(active=True).get() == ems.network


def test_the_import_command_reports_what_it_matched(ems, tmp_path):
    from click.testing import CliRunner

    from yigongti.cli import main

    cast = ems.cast
    places = tmp_path / "places.csv"
    places.write_text(f"code,lon,lat,population\n{cast.other_village.code},112.14,25.30,900\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["emergency", "roads", "import", str(write_osm(tmp_path, cast)),
                                       "--county", cast.county.code, "--places", str(places)])
    assert result.exit_code == 0, result.output
    assert "已设为在用路网" in result.output and "未匹配" in result.output
    net = RoadNetwork.objects.get(active=True)
    assert Place.objects.get(network=net, region=cast.other_village).population == 900
    bad = CliRunner().invoke(main, ["emergency", "roads", "import", str(places), "--county", cast.county.code])
    assert bad.exit_code != 0 and "OpenStreetMap" in bad.output


def test_the_generate_command_builds_the_county(ems):
    from click.testing import CliRunner

    from yigongti.cli import main

    result = CliRunner().invoke(main, ["emergency", "roads", "generate", "--county", ems.cast.county.code,
                                       "--seed", "3", "--target-nodes", "1200"])
    assert result.exit_code == 0, result.output
    net = RoadNetwork.objects.get(active=True)
    assert net.seed == 3 and RoadNode.objects.filter(network=net).count() >= 1200
    assert CliRunner().invoke(main, ["emergency", "roads", "generate", "--county", "999999"]).exit_code != 0
