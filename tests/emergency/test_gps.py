"""The GPS adapter and the simulator: fixes are matched to vehicles by terminal id or call sign and recorded;
unknown terminals and bad fixes are counted, not raised; a dispatched vehicle moves along its road route (on the
grid's roads, not across the fields) towards the call, a returning one towards its station; without a road network
it goes in a straight line."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from django.utils import timezone

from tests.cast import as_
from tests.emergency.conftest import LAT0, LON0, STEP
from tests.emergency.test_missions import send
from yigongti.emergency import gps
from yigongti.emergency.models import CallEvent, EventKind, Vehicle, VehiclePosition
from yigongti.emergency.services import missions

pytestmark = pytest.mark.django_db


def on_grid_road(lon: float, lat: float) -> bool:
    i, j = (lon - LON0) / STEP, (lat - LAT0) / STEP
    return abs(i - round(i)) < 1e-6 or abs(j - round(j)) < 1e-6


def to_call(ems, sign="A1", target=(7, 8)):
    m = send(ems, sign)
    node = ems.node(*target)
    type(m.call).objects.filter(pk=m.call_id).update(lon=node.lon, lat=node.lat, node=node)
    return m, node


def test_ingest_matches_terminals_and_call_signs_and_counts_the_rest(ems):
    Vehicle.objects.filter(pk=ems.vehicles["B1"].pk).update(gps_device_id="T-B1")
    now = timezone.now()
    result = gps.ingest([gps.Fix("T-B1", 112.19, 25.39, now, 30.0), gps.Fix("A2", 112.13, 25.33, now),
                         gps.Fix("NOPE", 112.1, 25.3, now), gps.Fix("A1", 999.0, 25.3, now),
                         gps.Fix("A3", 112.1, 25.3, now + dt.timedelta(hours=1))])
    assert result.recorded == 2 and result.unknown == ["NOPE"] and len(result.refused) == 2
    b1 = Vehicle.objects.get(pk=ems.vehicles["B1"].pk)
    assert (b1.lon, b1.lat) == (112.19, 25.39)
    assert VehiclePosition.objects.count() == 2


def test_a_dispatched_vehicle_moves_along_the_roads_towards_the_call(ems):
    _m, goal = to_call(ems)
    sim = gps.Simulator(speedup=10)
    start = gps.distance_m((ems.vehicles["A1"].lon, ems.vehicles["A1"].lat), (goal.lon, goal.lat))
    seen = []
    for _ in range(12):
        result = gps.ingest(sim.tick(5.0))
        assert result.recorded == 1  # only A1 is on a mission
        v = Vehicle.objects.get(pk=ems.vehicles["A1"].pk)
        seen.append((v.lon, v.lat))
        assert on_grid_road(v.lon, v.lat), (v.lon, v.lat)
    route = sim.routes[ems.vehicles["A1"].pk][1]
    assert route.on_roads and route.length_m >= 7000 - 1  # 3 km east + 4 km north on a 1 km grid
    end = gps.distance_m(seen[-1], (goal.lon, goal.lat))
    assert end < start and len(set(seen)) == len(seen)


def test_the_vehicle_stops_at_the_goal_and_heads_home_when_returning(ems):
    m, goal = to_call(ems, target=(5, 4))
    sim = gps.Simulator(speedup=50)
    for _ in range(10):
        gps.ingest(sim.tick(5.0))
    v = Vehicle.objects.get(pk=ems.vehicles["A1"].pk)
    assert gps.distance_m((v.lon, v.lat), (goal.lon, goal.lat)) <= gps.ARRIVED_M + 1
    assert sim.tick(5.0) == []  # arrived: no more fixes until the status changes
    crew = as_(ems.crew_a1)
    for kind in (EventKind.ON_SCENE, EventKind.LEAVE_SCENE, EventKind.ARRIVE_HOSPITAL, EventKind.HANDOVER):
        missions.step(crew, m, kind)
    fixes = sim.tick(5.0)
    assert len(fixes) == 1
    home = (ems.command.lon, ems.command.lat)
    assert gps.distance_m((fixes[0].lon, fixes[0].lat), home) < gps.distance_m((goal.lon, goal.lat), home)


def test_without_a_road_network_the_vehicle_goes_in_a_straight_line(ems):
    class NoRoads:
        def has(self, node):
            return False

        def nearest(self, lon, lat):
            raise RuntimeError("no roads")

    to_call(ems, target=(8, 8))
    sim = gps.Simulator(graph=NoRoads())
    fix = sim.tick(60.0)[0]
    route = sim.routes[ems.vehicles["A1"].pk][1]
    assert not route.on_roads and len(route.points) == 2
    # on the diagonal from (4, 4) to (8, 8)
    assert abs((fix.lon - LON0) / STEP - (fix.lat - LAT0) / STEP) < 1e-6
    assert abs(gps.distance_m(route.points[0], (fix.lon, fix.lat)) - 45 / 3.6 * 60) < 1


def test_along_walks_a_polyline():
    pts = [(112.0, 25.0), (112.01, 25.0), (112.01, 25.01)]
    first = gps.distance_m(pts[0], pts[1])
    assert gps.along(pts, 0) == pts[0]
    lon, lat = gps.along(pts, first + 10)
    assert lon == pytest.approx(112.01) and lat > 25.0
    assert gps.along(pts, 1e9) == pts[-1]


def test_the_adapter_registry(ems):
    gps.register()
    assert isinstance(gps.adapter("simulator"), gps.Simulator)
    with pytest.raises(KeyError):
        gps.adapter("nonexistent")


def test_the_gps_simulate_command(ems):
    to_call(ems)
    from yigongti.emergency.gps_commands import gps_simulate

    result = CliRunner().invoke(gps_simulate, ["--seconds", "15", "--interval", "5", "--no-wait"])
    assert result.exit_code == 0, result.output
    assert "3 fixes recorded" in result.output
    assert VehiclePosition.objects.filter(vehicle=ems.vehicles["A1"]).count() == 3


def test_the_geofence_records_the_arrival_on_scene_once(ems):
    m, _goal = to_call(ems, target=(5, 4))
    sim = gps.Simulator(speedup=50, auto_steps=True)
    for _ in range(12):
        gps.ingest(sim.tick(5.0))
    on_scene = CallEvent.objects.get(mission=m, kind=EventKind.ON_SCENE)
    assert on_scene.source == "gps" and on_scene.by is None
    assert sim.stepped == ["A1:on_scene"]
    assert Vehicle.objects.get(pk=ems.vehicles["A1"].pk).status == "on_scene"
    assert CallEvent.objects.filter(mission=m).count() == 1
