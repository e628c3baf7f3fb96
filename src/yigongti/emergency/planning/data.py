"""What a planning run reads from the database, as plain arrays: the villages (demand: their ``Place.population``),
the sites (today's stations — stations on one road node are one site — and the candidates: township centers and
the county seat), the receiving hospital, and the road travel times from every site to every village (one
Dijkstra per site over the routing graph, ``roads.graph.road_graph()``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from django.db.models import Count
from django.db.models.functions import ExtractHour
from django.utils import timezone

from yigongti.orgs.models import RegionLevel

from ..models import Call, CallEvent, EventKind, Place, RoadNetwork, Station, Vehicle, VehicleStatus
from ..roads.graph import active_network as active_network  # the one definition, re-exported


class TimesGraph(Protocol):
    def times_from(self, node_id: int) -> Any: ...


@dataclass
class Site:
    name: str
    kind: str  # station | candidate
    node_id: int
    lon: float
    lat: float
    vehicles: int = 0
    station_ids: list[int] = field(default_factory=list)
    region_code: str = ""

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "node": self.node_id, "lon": round(self.lon, 6),
                "lat": round(self.lat, 6), "vehicles": self.vehicles, "stations": self.station_ids,
                "region": self.region_code}


@dataclass
class PlanningInput:
    network_id: int
    villages: list[dict]  # name, code, township, lon, lat, population, node
    population: np.ndarray
    sites: list[Site]
    times: np.ndarray  # villages × sites, seconds
    to_hospital_s: np.ndarray | None  # villages: from the receiving hospital (roads taken as two-way)
    hospital_to_site_s: dict[int, float]
    hospital: str = ""
    calls_per_year: float | None = None  # from the county's calls of the last year, when there are any
    hourly: list[float] | None = None
    actual: dict | None = None  # the county's recorded year (response and out times), to set the simulation by

    @property
    def existing(self) -> list[int]:
        return [j for j, s in enumerate(self.sites) if s.kind == "station"]

    @property
    def candidates(self) -> list[int]:
        return [j for j, s in enumerate(self.sites) if s.kind == "candidate"]


def _lookup(graph: TimesGraph, result: Any, nodes: list[int]) -> np.ndarray:
    """Seconds to ``nodes`` out of ``times_from``'s answer: a mapping by node id, or an array by the graph's index."""
    if hasattr(result, "take"):  # roads.graph.NodeTimes: one vectorised look-up
        return np.asarray(result.take(nodes), dtype=float)
    if isinstance(result, Mapping):
        return np.array([float(result.get(n, np.inf)) for n in nodes])
    arr = np.asarray(result, dtype=float)
    index = getattr(graph, "index", None)
    if index is None:
        return arr[np.asarray(nodes)]
    pos = [index.get(n, -1) if isinstance(index, Mapping) else index(n) for n in nodes]
    return np.array([arr[p] if p is not None and p >= 0 else np.inf for p in pos])


def travel_matrix(graph: TimesGraph, site_nodes: list[int], target_nodes: list[int]) -> np.ndarray:
    """``m[i, j]``: seconds from ``site_nodes[j]`` to ``target_nodes[i]`` (one Dijkstra per distinct site node)."""
    if hasattr(graph, "time_matrix"):  # roads.graph.RoadGraph: one multi-source run
        unique = list(dict.fromkeys(site_nodes))
        block = np.asarray(graph.time_matrix(unique, target_nodes), dtype=float).T
        col = {n: k for k, n in enumerate(unique)}
        m = block[:, [col[n] for n in site_nodes]]
        m[np.asarray(target_nodes)[:, None] == np.asarray(site_nodes)[None, :]] = 0.0
        return m
    m = np.full((len(target_nodes), len(site_nodes)), np.inf)
    done: dict[int, np.ndarray] = {}
    for j, node in enumerate(site_nodes):
        if node not in done:
            done[node] = _lookup(graph, graph.times_from(node), target_nodes)
        m[:, j] = done[node]
    m[np.asarray(target_nodes)[:, None] == np.asarray(site_nodes)[None, :]] = 0.0
    return m


def _stations(network: RoadNetwork) -> list[Site]:
    counts = dict(Vehicle.objects.filter(active=True).exclude(status=VehicleStatus.MAINTENANCE)
                  .values_list("station_id").annotate(n=Count("id")).values_list("station_id", "n"))
    by_node: dict[int, Site] = {}
    stations = Station.objects.filter(active=True, node__network=network).select_related("facility__region")
    for st in stations.order_by("kind", "name"):
        assert st.node_id is not None
        site = by_node.get(st.node_id)
        if site is None:
            site = by_node[st.node_id] = Site(st.name, "station", st.node_id, st.lon, st.lat,
                                              region_code=st.facility.region.code)
        else:
            site.name = f"{site.name} / {st.name}"
        site.vehicles += counts.get(st.pk, 0)
        site.station_ids.append(st.pk)
    return list(by_node.values())


def _hospital(network: RoadNetwork, sites: list[Site]) -> tuple[str, int | None]:
    """The receiving hospital: the county sub-center's node (the county hospital), else the command center's,
    else the county seat."""
    for kind in ("sub_center", "command"):
        st = Station.objects.filter(active=True, kind=kind, node__network=network).select_related("facility").first()
        if st is not None:
            return st.facility.name, st.node_id
    seat = Place.objects.filter(network=network, region__level=RegionLevel.COUNTY, node__isnull=False).first()
    if seat is not None:
        return str(seat.region), seat.node_id
    return "", None


def _county_calls(villages: list[Place], now: dt.datetime) -> tuple[float | None, list[float] | None]:
    codes = {p.region.code[:6] for p in villages}
    if len(codes) != 1:
        return None, None
    rows = (Call.objects.filter(area_code__startswith=codes.pop(), rang_at__gte=now - dt.timedelta(days=365),
                                rang_at__lt=now, merged_into__isnull=True)
            .annotate(h=ExtractHour("rang_at", tzinfo=timezone.get_current_timezone()))
            .values("h").annotate(n=Count("id")).values_list("h", "n"))
    hourly = [0.0] * 24
    for h, n in rows:
        hourly[int(h)] = float(n)
    total = sum(hourly)
    if total < 100:  # too few to give a diurnal curve: the model's default
        return None, None
    return total, hourly


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def county_actuals(area: str, now: dt.datetime) -> dict | None:
    """The last year's recorded response times (ring → first on scene) and out times (dispatch order → wheels
    rolling of each mission) of the county's calls, from their CallEvents; None with fewer than 30 responses."""
    calls = Call.objects.filter(area_code__startswith=area, rang_at__gte=now - dt.timedelta(days=365),
                                rang_at__lt=now, merged_into__isnull=True)
    rang = dict(calls.values_list("pk", "rang_at"))
    if not rang:
        return None
    events = CallEvent.objects.filter(call__in=calls, kind__in=[EventKind.ON_SCENE, EventKind.DISPATCH_ORDER,
                                                                EventKind.WHEELS_ROLLING])
    on_scene: dict[int, dt.datetime] = {}
    per_mission: dict[int, dict[str, dt.datetime]] = {}
    for call_id, mission_id, kind, at in events.values_list("call_id", "mission_id", "kind", "at"):
        if kind == EventKind.ON_SCENE:
            if call_id not in on_scene or at < on_scene[call_id]:
                on_scene[call_id] = at
        elif mission_id is not None:
            per_mission.setdefault(mission_id, {})[kind] = at
    response = [(at - rang[c]).total_seconds() for c, at in on_scene.items() if c in rang and at >= rang[c]]
    out = [(m[EventKind.WHEELS_ROLLING] - m[EventKind.DISPATCH_ORDER]).total_seconds() for m in per_mission.values()
           if EventKind.WHEELS_ROLLING in m and EventKind.DISPATCH_ORDER in m]
    if len(response) < 30:
        return None
    return {"calls": len(rang), "responses": len(response), "response_p50_s": round(_percentile(response, 50), 1),
            "response_p90_s": round(_percentile(response, 90), 1),
            "response_p95_s": round(_percentile(response, 95), 1),
            "response_mean_s": round(float(np.mean(response)), 1),
            "out_3min_rate": round(float(np.mean(np.asarray(out) <= 180.0)), 4) if out else None}


def load_input(network: RoadNetwork, graph: TimesGraph, *, now: dt.datetime | None = None) -> PlanningInput:
    places = list(Place.objects.filter(network=network, node__isnull=False).select_related("region__parent"))
    villages = [p for p in places if p.region.level == RegionLevel.VILLAGE and p.population > 0]
    sites = _stations(network)
    taken = {s.node_id for s in sites}
    for p in sorted(places, key=lambda p: (p.region.level != RegionLevel.COUNTY, p.region.code)):
        if p.region.level in (RegionLevel.COUNTY, RegionLevel.TOWNSHIP) and p.node_id not in taken:
            assert p.node_id is not None
            taken.add(p.node_id)
            sites.append(Site(str(p.region), "candidate", p.node_id, p.lon, p.lat, region_code=p.region.code))
    targets = [int(p.node_id) for p in villages if p.node_id is not None]
    times = travel_matrix(graph, [s.node_id for s in sites], targets) if villages and sites else np.zeros((0, 0))
    hospital_name, hospital_node = _hospital(network, sites)
    to_hospital = None
    back: dict[int, float] = {}
    if hospital_node is not None and villages:
        answer = graph.times_from(hospital_node)
        to_hospital = _lookup(graph, answer, targets)
        site_times = _lookup(graph, answer, [s.node_id for s in sites])
        back = {j: float(t) for j, t in enumerate(site_times) if np.isfinite(t)}
    now = now or timezone.now()
    calls, hourly = _county_calls(villages, now)
    codes = {p.region.code[:6] for p in villages}
    actual = county_actuals(codes.pop(), now) if len(codes) == 1 else None
    return PlanningInput(
        network_id=network.pk,
        villages=[{"name": str(p.region), "code": p.region.code,
                   "township": str(p.region.parent) if p.region.parent_id else "", "lon": round(p.lon, 6),
                   "lat": round(p.lat, 6), "population": p.population, "node": p.node_id} for p in villages],
        population=np.array([p.population for p in villages], dtype=float), sites=sites, times=times,
        to_hospital_s=to_hospital, hospital_to_site_s=back, hospital=hospital_name, calls_per_year=calls,
        hourly=hourly, actual=actual)
