"""Station planning on the ``ems`` grid: reading the network, a run end to end, the job, permissions, bad input.

The routing graph is H1's ``road_graph()``; here a small stand-in over the fixture's RoadEdge rows (networkx)
gives the same ``times_from`` so these tests do not depend on its cache."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from tests.cast import SYSTEM, as_
from yigongti.core import jobs
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.emergency.models import Place, RoadEdge, RoadNetwork, StationPlan
from yigongti.emergency.planning import data
from yigongti.emergency.services import planning as services
from yigongti.orgs.models import Region, RegionLevel

pytestmark = pytest.mark.django_db


class GridGraph:
    def __init__(self, network):
        self.g = nx.DiGraph()
        for s, t, length, speed in RoadEdge.objects.filter(network=network).values_list(
                "source_id", "target_id", "length_m", "speed_kmh"):
            self.g.add_edge(s, t, w=length / (speed / 3.6))

    def times_from(self, node_id):
        return nx.single_source_dijkstra_path_length(self.g, node_id, weight="w")


def _village(ems, code, name, parent, i, j, population):
    region = Region.objects.create(code=code, name=name, level=RegionLevel.VILLAGE, parent=parent)
    return Place.objects.create(network=ems.network, region=region, lon=ems.node(i, j).lon, lat=ems.node(i, j).lat,
                                node=ems.node(i, j), population=population)


@pytest.fixture(autouse=True)
def stand_in_graph(monkeypatch):
    monkeypatch.setattr(services, "_graph", GridGraph)


@pytest.fixture
def county(ems):
    """The grid with a far mountain township (a candidate at (11, 1)) and its villages in the south-east."""
    cast = ems.cast
    far = Region.objects.create(code=cast.county.code[:6] + "990000", name="南岭乡", level=RegionLevel.TOWNSHIP,
                                parent=cast.county)
    Place.objects.create(network=ems.network, region=far, lon=ems.node(11, 1).lon, lat=ems.node(11, 1).lat,
                         node=ems.node(11, 1), population=1500)
    _village(ems, far.code[:9] + "001", "岭下村", far, 11, 0, 4000)
    _village(ems, far.code[:9] + "002", "岭上村", far, 10, 1, 2500)
    return ems


def test_the_input_has_villages_as_demand_stations_as_sites_and_townships_as_candidates(county):
    inp = data.load_input(county.network, GridGraph(county.network))
    assert sorted(v["name"] for v in inp.villages) == sorted(["岭下村", "岭上村", str(county.cast.village),
                                                              str(county.cast.other_village)])
    stations = [s for s in inp.sites if s.kind == "station"]
    assert len(stations) == 2  # the command center and the sub-center share a node: one site, four vehicles
    assert sorted(s.vehicles for s in stations) == [1, 4]
    assert [s.name for s in inp.sites if s.kind == "candidate"] == ["南岭乡"]
    # (4, 4) → (11, 0): the fastest road runs along row 2 (national, 70 km/h)
    seat = next(j for j, s in enumerate(inp.sites) if s.vehicles == 4)
    i = next(k for k, v in enumerate(inp.villages) if v["name"] == "岭下村")
    assert inp.times[i, seat] == pytest.approx(2 * 80 + 7 * 1000 / (70 / 3.6) + 80 + 2 * 1000 / (20 / 3.6), rel=0.2)
    assert inp.to_hospital_s is not None and np.all(np.isfinite(inp.to_hospital_s))


def test_a_run_proposes_the_mountain_township_and_covers_more(county):
    plan = services.start_plan(as_(county.cast.bureau), name="南岭规划", background=False, threshold_min=10,
                               scenarios=["add1"], calls_per_year=3000)
    plan.refresh_from_db()
    assert plan.status == "done" and plan.seconds is not None
    r = plan.result
    today, add1 = r["today"], r["scenarios"][0]
    assert add1["key"] == "add1"
    assert [r["sites"][j]["name"] for j in add1["solution"]["added"]] == ["南岭乡"]
    assert add1["coverage"]["covered"]["10"] > today["coverage"]["covered"]["10"]
    assert add1["coverage"]["covered"]["10"] == 12500  # every village within 10 minutes
    assert today["sim"]["calls"] == add1["sim"]["calls"] > 200
    assert add1["sim"]["response_p90_s"] < today["sim"]["response_p90_s"]
    assert 0 <= today["sim"]["out_3min_rate"] <= 1
    assert r["calls_model"]["source"] == "params"
    south = next(t for t in r["townships"] if t["township"] == "南岭乡")
    assert south["today"] < south["scenarios"]["add1"] == south["population"]


def test_moving_a_station_keeps_the_fleet(county):
    plan = services.start_plan(as_(county.cast.bureau), background=False, scenarios=["move1"], simulate=False)
    move = plan.result["scenarios"][0]
    assert len(move["solution"]["closed"]) == 1 and len(move["solution"]["added"]) == 1
    assert sum(n for _, n in move["stations"]) == sum(n for _, n in plan.result["today"]["stations"])
    assert "sim" not in plan.result["today"]


def test_a_plan_runs_in_the_background_under_the_worker(county):
    plan = services.start_plan(as_(county.cast.manager), scenarios=["add1"], simulate=False)
    assert plan.status == "queued"
    assert jobs.run_due() == 1
    plan.refresh_from_db()
    assert plan.status == "done" and plan.result["scenarios"][0]["solution"]["added"]


def test_a_network_without_villages_fails_with_a_reason(ems):
    empty = RoadNetwork.objects.create(name="空路网", version="x", active=False)
    plan = services.start_plan(SYSTEM, network=empty, background=False)
    assert plan.status == "failed" and "villages" in plan.result["error"]


def test_only_the_bureau_and_managers_may_plan(county):
    for user in (county.cast.county_doctor, county.dispatcher, county.cast.outsider):
        with pytest.raises(Forbidden):
            services.start_plan(as_(user), background=False)
    assert not StationPlan.objects.exists()


def test_bad_parameters_are_refused_all_at_once(county):
    with pytest.raises(InvalidInput) as e:
        services.start_plan(as_(county.cast.bureau), threshold_min=12, scenarios=["add3"], calls_per_year="many",
                            new_vehicles=9, objective="nearest")
    assert set(e.value.errors) == {"threshold_min", "scenarios", "calls_per_year", "new_vehicles", "objective"}
    assert not StationPlan.objects.exists()


def test_no_active_network_is_a_conflict(cast):
    with pytest.raises(Conflict):
        services.start_plan(as_(cast.bureau), background=False)


def test_the_real_routing_graph_gives_the_same_matrix_as_the_stand_in(county):
    graph = pytest.importorskip("yigongti.emergency.roads.graph")
    real = data.load_input(county.network, graph.load_graph(county.network))
    stand_in = data.load_input(county.network, GridGraph(county.network))
    assert np.allclose(real.times, stand_in.times)
    assert np.allclose(real.to_hospital_s, stand_in.to_hospital_s)


def test_the_county_s_own_calls_give_the_rate_and_the_hours(county):
    import datetime as dt

    from django.utils import timezone

    from yigongti.emergency.models import Call, CallEvent, EventKind, Mission, MissionStatus

    now = timezone.now()
    local = timezone.localtime(now).replace(minute=30, second=0, microsecond=0)
    rows = []
    for k in range(150):  # 150 calls of the last year, all at 09:30 or 21:30 local time
        at = (local - dt.timedelta(days=1 + k)).replace(hour=9 if k % 3 else 21)
        rows.append(Call(call_no=f"120-T{k:05d}", area_code=county.cast.village.code, rang_at=at))
    rows.append(Call(call_no="120-OLD", area_code=county.cast.village.code, rang_at=now - dt.timedelta(days=400)))
    made = Call.objects.bulk_create(rows)
    events = []
    for k, call in enumerate(made[:40]):  # 40 with a mission: out in 100 s (3 in 4) or 200 s, on scene at 10–20 min
        m = Mission.objects.create(call=call, vehicle=county.vehicles["A1"], status=MissionStatus.COMPLETED,
                                   dispatched_at=call.rang_at + dt.timedelta(seconds=60))
        out = 100 if k % 4 else 200
        for kind, sec in ((EventKind.DISPATCH_ORDER, 60), (EventKind.WHEELS_ROLLING, 60 + out),
                          (EventKind.ON_SCENE, 600 + 15 * k)):
            events.append(CallEvent(call=call, mission=m, kind=kind, at=call.rang_at + dt.timedelta(seconds=sec)))
    CallEvent.objects.bulk_create(events)
    inp = data.load_input(county.network, GridGraph(county.network), now=now)
    assert inp.calls_per_year == 150
    assert inp.hourly is not None and inp.hourly[9] == 100 and inp.hourly[21] == 50 and sum(inp.hourly) == 150
    assert inp.actual is not None and inp.actual["calls"] == 150 and inp.actual["responses"] == 40
    assert inp.actual["response_p50_s"] == pytest.approx(600 + 15 * 19.5)
    assert inp.actual["out_3min_rate"] == 0.75
    plan = services.start_plan(SYSTEM, background=False, scenarios=["add1"])
    model = plan.result["calls_model"]
    assert model["source"] == "calls" and model["calls_per_year"] == 150
    assert model["hourly"][9] == pytest.approx(2 / 3, abs=1e-3)
    assert plan.result["actual"]["out_3min_rate"] == 0.75
    from yigongti.emergency.planning import view_model

    view = view_model.build(plan)
    assert view.actual is not None and view.actual["out3"] == 75.0 and view.actual["calls"] == 150
    assert [row["key"] for row in view.simulation] == ["today", "add1"]


def test_a_routing_refusal_fails_the_run_with_its_message(county, monkeypatch):
    def no_graph(network):
        raise InvalidInput("no_network", "路网不存在")

    monkeypatch.setattr(services, "_graph", no_graph)
    plan = services.start_plan(SYSTEM, background=False)
    assert plan.status == "failed" and plan.result == {"error": "路网不存在"}
