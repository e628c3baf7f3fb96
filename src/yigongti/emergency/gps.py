"""Vehicle positions from outside our walls: a pluggable GPS adapter and the demo's simulator.

An adapter yields ``Fix`` es (the terminal's device id, lon/lat, time, speed); ``ingest`` matches each to its
vehicle (``Vehicle.gps_device_id``, else the call sign) and records it through ``services.missions
.record_position``, as the system actor ``gps``. A real county plugs in its GPS platform's feed with
``register_adapter("name", factory)`` and ``YIGONGTI_GPS_ADAPTER = "name"``; vehicles whose crews report from the
phone use ``POST /api/v1/emergency/vehicles/{id}/position`` instead.

The simulator moves every vehicle on a mission along its road route (H1's ``road_graph().route()``; a straight
line when there is no road network or no route) towards where its status says it is going: the call's place
while 出车, the destination hospital while 转运, its station while 返站. ``yigongti emergency gps-simulate`` runs
it (``gps_commands.py``)."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.utils import timezone

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError

from .models import EventKind, Mission, MissionStatus, Place, Station, Vehicle, VehicleStatus

log = logging.getLogger(__name__)
DEFAULT_SPEED_KMH = 45.0
ARRIVED_M = 30.0


@dataclass(frozen=True)
class Fix:
    device_id: str
    lon: float
    lat: float
    at: dt.datetime
    speed_kmh: float | None = None


class GpsAdapter(Protocol):
    def fixes(self) -> Iterable[Fix]:
        """The fixes received since the last call."""
        ...


ADAPTERS: dict[str, Callable[[], GpsAdapter]] = {}


def register_adapter(name: str, factory: Callable[[], GpsAdapter]) -> None:
    ADAPTERS[name] = factory


def adapter(name: str | None = None) -> GpsAdapter:
    """The configured adapter (``YIGONGTI_GPS_ADAPTER``, default the simulator)."""
    name = name or getattr(settings, "YIGONGTI_GPS_ADAPTER", "") or "simulator"
    if name not in ADAPTERS:
        raise KeyError(f"unknown GPS adapter {name!r}; known: {', '.join(sorted(ADAPTERS))}")
    return ADAPTERS[name]()


@dataclass
class IngestResult:
    recorded: int = 0
    unknown: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def ingest(fixes: Iterable[Fix], *, actor: Actor | None = None) -> IngestResult:
    """Record each fix on its vehicle; unknown devices and refused fixes (bad coordinates, future time) are
    counted, never raised, so one bad terminal does not stop the feed."""
    from .services.missions import record_position

    actor = actor or Actor.system("gps")
    out = IngestResult()
    vehicles: dict[str, Vehicle] = {}
    for v in Vehicle.objects.filter(active=True).select_related("station"):
        vehicles[v.call_sign] = v
        if v.gps_device_id:
            vehicles[v.gps_device_id] = v
    for fix in fixes:
        found = vehicles.get(fix.device_id)
        if found is None:
            out.unknown.append(fix.device_id)
            continue
        try:
            record_position(actor, found, fix.lon, fix.lat, fix.at, fix.speed_kmh)
            out.recorded += 1
        except DomainError as e:
            out.refused.append(f"{fix.device_id}: {e.message}")
    return out


# ---- geometry ------------------------------------------------------------------------------------------------

def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance between two (lon, lat) points in metres."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(min(h, 1.0)))


def along(points: list[tuple[float, float]], metres: float) -> tuple[float, float]:
    """The point ``metres`` along the polyline (its end when the polyline is shorter)."""
    if not points:
        raise ValueError("empty route")
    left = max(metres, 0.0)
    for a, b in itertools.pairwise(points):
        seg = distance_m(a, b)
        if left <= seg and seg > 0:
            f = left / seg
            return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f
        left -= seg
    return points[-1]


@dataclass
class Route:
    points: list[tuple[float, float]]
    length_m: float
    speed_kmh: float
    on_roads: bool
    done_m: float = 0.0

    @property
    def left_m(self) -> float:
        return max(self.length_m - self.done_m, 0.0)


def plan_route(start: tuple[float, float], start_node: int | None, goal: tuple[float, float],
               goal_node: int | None, *, graph=None) -> Route:
    """The road route between two points (through the graph's nearest nodes), or the straight line."""
    if graph is None:
        try:
            from .roads.graph import road_graph

            graph = road_graph()
        except Exception:  # no road network (yet): straight lines
            graph = None
    if graph is not None:
        try:
            a = start_node if start_node is not None and graph.has(start_node) else graph.nearest(*start)
            b = goal_node if goal_node is not None and graph.has(goal_node) else graph.nearest(*goal)
            points = graph.route(a, b)
            if len(points) >= 1:
                points = [start, *points, goal]
                length = sum(distance_m(p, q) for p, q in itertools.pairwise(points))
                eta = graph.eta_s(a, b)
                speed = (length / eta * 3.6) if eta and math.isfinite(eta) and eta > 0 else DEFAULT_SPEED_KMH
                return Route(points, length, min(max(speed, 10.0), 110.0), True)
        except Exception:
            log.debug("no road route from %s to %s; straight line", start, goal, exc_info=True)
    length = distance_m(start, goal)
    return Route([start, goal], length, DEFAULT_SPEED_KMH, False)


# ---- the simulator -------------------------------------------------------------------------------------------

def _facility_point(facility_id: int | None) -> tuple[tuple[float, float], int | None] | None:
    """Where a facility is: its ambulance station, else its region's place on the map."""
    if facility_id is None:
        return None
    station = Station.objects.filter(facility_id=facility_id).first()
    if station is not None:
        return (station.lon, station.lat), station.node_id
    from yigongti.orgs.models import Facility

    facility = Facility.objects.filter(pk=facility_id).select_related("region").first()
    place = Place.objects.filter(region=facility.region).first() if facility else None
    return ((place.lon, place.lat), place.node_id) if place is not None else None


def _call_point(call) -> tuple[tuple[float, float], int | None] | None:
    if call.lon is not None and call.lat is not None:
        return (call.lon, call.lat), call.node_id
    if call.landmark_id:
        lm = call.landmark
        return (lm.lon, lm.lat), lm.node_id
    if call.region_id:
        place = Place.objects.filter(region_id=call.region_id).first()
        if place is not None:
            return (place.lon, place.lat), place.node_id
    return None


def goal_of(vehicle: Vehicle, mission: Mission | None) -> tuple[tuple[float, float], int | None] | None:
    """Where the vehicle is heading in its status (None: it stays where it is)."""
    if vehicle.status == VehicleStatus.DISPATCHED and mission is not None:
        return _call_point(mission.call)
    if vehicle.status == VehicleStatus.TRANSPORTING and mission is not None:
        return _facility_point(mission.destination_id) or _facility_point(
            mission.call.from_facility_id if mission.call.from_facility_id else None)
    if vehicle.status == VehicleStatus.RETURNING:
        return (vehicle.station.lon, vehicle.station.lat), vehicle.station.node_id
    return None


# With ``auto_steps``, reaching the goal records the step a geofence would (source "gps").
ARRIVAL_STEP = {VehicleStatus.DISPATCHED: EventKind.ON_SCENE, VehicleStatus.TRANSPORTING: EventKind.ARRIVE_HOSPITAL,
                VehicleStatus.RETURNING: EventKind.AVAILABLE}


class Simulator:
    """Moves the vehicles on a mission along their routes: ``tick(seconds)`` advances each one by its route's
    speed × seconds × ``speedup`` and returns one fix per moving vehicle (at ``now``). With ``auto_steps`` a
    vehicle reaching its goal records 到达现场 / 到达医院 / 恢复待命 as a geofence would."""

    def __init__(self, *, speedup: float = 1.0, graph=None, clock: Callable[[], dt.datetime] = timezone.now,
                 auto_steps: bool = False):
        self.speedup = speedup
        self.graph = graph
        self.clock = clock
        self.auto_steps = auto_steps
        self.routes: dict[int, tuple[str, Route]] = {}  # vehicle → (what it is heading for, the route)
        self.stepped: list[str] = []  # "A1:on_scene" for each step the geofence recorded

    def fixes(self) -> Iterable[Fix]:  # the adapter's side: one tick of 5 s
        return self.tick(5.0)

    def tick(self, seconds: float) -> list[Fix]:
        now = self.clock()
        out = []
        active = {m.vehicle_id: m for m in Mission.objects.filter(status=MissionStatus.ACTIVE)
                  .select_related("call__landmark")}
        for v in Vehicle.objects.filter(active=True, lon__isnull=False).select_related("station"):
            fix = self._move(v, active.get(v.pk), seconds, now)
            if fix is not None:
                out.append(fix)
        return out

    def _move(self, v: Vehicle, mission: Mission | None, seconds: float, now: dt.datetime) -> Fix | None:
        goal = goal_of(v, mission)
        if goal is None:
            self.routes.pop(v.pk, None)
            return None
        (glon, glat), gnode = goal
        tag = f"{v.status}:{mission.pk if mission else 0}"
        here = (float(v.lon or 0), float(v.lat or 0))
        current = self.routes.get(v.pk)
        if current is None or current[0] != tag:
            route = plan_route(here, v.node_id, (glon, glat), gnode, graph=self.graph)
            self.routes[v.pk] = (tag, route)
        else:
            route = current[1]
        if route.left_m <= ARRIVED_M:
            if self.auto_steps and mission is not None and v.status in ARRIVAL_STEP:
                self._arrive(v, mission, now)
            return None
        route.done_m = min(route.done_m + route.speed_kmh / 3.6 * seconds * self.speedup, route.length_m)
        lon, lat = along(route.points, route.done_m)
        return Fix(v.gps_device_id or v.call_sign, lon, lat, now, round(route.speed_kmh, 1))

    def _arrive(self, v: Vehicle, mission: Mission, now: dt.datetime) -> None:
        from .services.missions import step

        kind = ARRIVAL_STEP[VehicleStatus(v.status)]
        try:
            step(Actor.system("gps"), mission, kind, at=now, source="gps")
        except DomainError as e:
            log.info("geofence step %s of %s refused: %s", kind, v.call_sign, e.message)
            return
        self.stepped.append(f"{v.call_sign}:{kind}")


def run(*, seconds: float, interval: float = 5.0, speedup: float = 1.0, sleep: Callable[[float], None] | None = None,
        on_tick: Callable[[IngestResult], None] | None = None, auto_steps: bool = False) -> Iterator[IngestResult]:
    """Run the simulator for ``seconds`` of wall time, one tick each ``interval`` seconds (``sleep`` None: no
    waiting, as many ticks as fit — for tests and a quick fill of the trails)."""
    sim = Simulator(speedup=speedup, auto_steps=auto_steps)
    ticks = max(int(seconds // interval), 1)
    for _ in range(ticks):
        result = ingest(sim.tick(interval))
        if on_tick is not None:
            on_tick(result)
        yield result
        if sleep is not None:
            sleep(interval)


def register() -> None:
    register_adapter("simulator", Simulator)
