"""Recommending ambulances by road travel time (the ``ems`` grid: 1 km blocks, a fast national road along row 2,
slow village roads on the mountain side, columns 10–11)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from yigongti.emergency.models import Call, Landmark, VehicleStatus
from yigongti.emergency.recommend import Row, locate, meets, rank_candidates, recommend
from yigongti.emergency.roads.graph import clear_cache


@pytest.fixture(autouse=True)
def _fresh_graph():
    clear_cache()
    yield
    clear_cache()


def make_call(ems, n=[0], **fields) -> Call:  # noqa: B006 (a counter for unique call numbers)
    n[0] += 1
    fields.setdefault("rang_at", timezone.now())
    return Call.objects.create(call_no=f"120-T{n[0]:06d}", **fields)


def _available_only(ems, *signs):
    for sign, v in ems.vehicles.items():
        v.status = VehicleStatus.AVAILABLE if sign in signs else VehicleStatus.MAINTENANCE
        v.save()


def test_road_time_beats_straight_line(ems):
    # X at (4, 2) on the national road, Y at (8, 6) off it; incident at (9, 2) on the national road:
    # Y is straight-line nearer (≈4.1 km vs 5 km) but X drives 5 km at 70 km/h; Y 3 km at 45 km/h down to the
    # edge (8, 3)–(8, 2) that belongs to the national road, then 2 km at 70.
    _available_only(ems, "A1", "B1")
    a1, b1 = ems.vehicles["A1"], ems.vehicles["B1"]
    a1.node, a1.lon, a1.lat = ems.node(4, 2), ems.node(4, 2).lon, ems.node(4, 2).lat
    b1.node, b1.lon, b1.lat = ems.node(8, 6), ems.node(8, 6).lon, ems.node(8, 6).lat
    a1.save()
    b1.save()
    call = make_call(ems, node=ems.node(9, 2))
    first, second = recommend(call)
    assert first.vehicle == a1 and first.rank == 1
    assert first.straight_rank == 2 and second.straight_rank == 1
    assert first.eta_s == pytest.approx(5000 / (70 / 3.6), rel=1e-6)
    assert second.eta_s == pytest.approx(3000 / (45 / 3.6) + 2000 / (70 / 3.6), rel=1e-6)
    assert first.road_m == pytest.approx(5000)
    assert "走公路最快" in first.reason and "直线最近" in second.reason


def test_special_needs_rank_first_and_are_flagged(ems):
    call = make_call(ems, node=ems.node(4, 4), special_needs=["negative_pressure"])
    ranked = recommend(call, limit=10)
    assert ranked[0].vehicle == ems.vehicles["N1"] and ranked[0].meets_needs
    assert all(not c.meets_needs for c in ranked[1:])
    assert "不满足：负压" in ranked[1].reason
    monitoring = recommend(make_call(ems, node=ems.node(9, 9), special_needs=["monitoring"]), limit=10)
    assert [c.vehicle.call_sign for c in monitoring if c.meets_needs][:2] == ["B1", "A3"]


def test_only_available_and_returning_vehicles_are_offered(ems):
    ems.vehicles["A1"].status = VehicleStatus.DISPATCHED
    ems.vehicles["A1"].save()
    ems.vehicles["A2"].status = VehicleStatus.RETURNING
    ems.vehicles["A2"].save()
    ranked = recommend(make_call(ems, node=ems.node(3, 3)), limit=10)
    signs = [c.vehicle.call_sign for c in ranked]
    assert "A1" not in signs and len(signs) == 4
    a2 = next(c for c in ranked if c.vehicle.call_sign == "A2")
    assert a2.returning and "返站途中" in a2.reason and a2.rank == 1  # (3, 3) is where A2 is


def test_limit_and_ranks(ems):
    ranked = recommend(make_call(ems, node=ems.node(0, 0)), limit=2)
    assert [c.rank for c in ranked] == [1, 2]


def test_unknown_location_falls_back_to_region_landmark_or_none(ems):
    cast = ems.cast
    by_village = locate(make_call(ems, region=cast.other_village))
    assert by_village.node_id == ems.node(11, 11).pk and by_village.source == "region"
    by_code = locate(make_call(ems, area_code=cast.other_township.code[:9]))
    assert by_code.node_id == ems.node(9, 9).pk and by_code.source == "area_code"
    Landmark.objects.create(network=ems.network, name="石桥小学", region=cast.village, lon=ems.node(2, 7).lon,
                            lat=ems.node(2, 7).lat, node=ems.node(2, 7))
    typed = locate(make_call(ems, address="石桥小学门口，穿红衣服"))
    assert typed.node_id == ems.node(2, 7).pk and typed.source == "address_landmark"
    unknown = make_call(ems, address="不知道在哪")
    assert locate(unknown) is None
    ranked = recommend(unknown, limit=10)
    assert len(ranked) == 5 and all(c.eta_s is None for c in ranked)
    assert "呼救地点未明" in ranked[0].reason


def test_coordinates_snap_to_the_nearest_node(ems):
    where = locate(make_call(ems, lon=ems.node(6, 6).lon + 0.002, lat=ems.node(6, 6).lat - 0.001))
    assert where.node_id == ems.node(6, 6).pk and where.source == "coordinates"


def test_rank_candidates_is_a_pure_rule():
    rows = [Row("slow", 900.0, 1000.0, True), Row("fast", 300.0, 5000.0, True), Row("unfit", 60.0, 10.0, False),
            Row("back", 300.0, 4000.0, True, returning=True), Row("cut off", None, 50.0, True)]
    ordered = [(r.key, rank, s) for r, rank, s in rank_candidates(rows)]
    assert [k for k, _r, _s in ordered] == ["fast", "back", "slow", "cut off", "unfit"]
    assert {k: s for k, _r, s in ordered} == {"unfit": 1, "cut off": 2, "slow": 3, "back": 4, "fast": 5}


def test_meets():
    assert meets("negative_pressure", [], "negative_pressure") and not meets("basic", [], "negative_pressure")
    assert meets("basic", ["monitor"], "monitoring") and meets("neonatal", [], "neonatal")


def test_without_a_road_network_vehicles_rank_by_straight_line(ems):
    from yigongti.emergency.models import RoadNetwork

    RoadNetwork.objects.update(active=False)
    b1 = ems.vehicles["B1"]
    call = make_call(ems, lon=b1.lon + 0.01, lat=b1.lat)
    ranked = recommend(call, limit=10)
    assert ranked[0].vehicle == b1 and ranked[0].eta_s is None and ranked[0].straight_m == pytest.approx(1006, rel=0.01)
    assert "尚未生成或导入路网" in ranked[0].reason and [c.rank for c in ranked] == [1, 2, 3, 4, 5]
