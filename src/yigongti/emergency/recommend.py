"""Which ambulance to send (派车推荐): the available vehicles ranked by road travel time to the incident, not by
straight-line distance.

One Dijkstra from the incident over the reversed road graph gives every vehicle's ETA at once
(``RoadGraph.times_to``). A vehicle that does not meet the call's special needs (负压、新生儿、监护) ranks after
every one that does; a vehicle on its way back to its station (返站) is offered too, flagged. The ranking itself
is a pure function over plain rows (``rank_candidates``) so that the planning simulation and the bench use the
same rule.

Where the call is: its road node, else its coordinates, else its landmark (chosen, or typed in the address),
else its region's Place (a village, else its township), else the region of its area code. A call whose location
is not known at all still gets the list (without ETAs), so that it can be dispatched."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.utils.translation import gettext as _

from yigongti.core.errors import InvalidInput
from yigongti.orgs.models import Region

from .models import Call, Landmark, Place, Vehicle, VehicleKind, VehicleStatus
from .roads.geometry import haversine_m
from .roads.graph import RoadGraph, road_graph

OFFERED = (VehicleStatus.AVAILABLE, VehicleStatus.RETURNING)
NEEDS = ("negative_pressure", "neonatal", "monitoring")
NEED_LABELS = {"negative_pressure": "负压", "neonatal": "新生儿转运", "monitoring": "监护"}


def meets(kind: str, equipment: Sequence[str], need: str) -> bool:
    """Whether a vehicle of this kind and equipment meets one special need."""
    if need == "negative_pressure":
        return kind == VehicleKind.NEGATIVE_PRESSURE
    if need == "neonatal":
        return kind == VehicleKind.NEONATAL or "incubator" in equipment
    if need == "monitoring":
        return kind in (VehicleKind.MONITORING, VehicleKind.NEONATAL) or "monitor" in equipment
    return True


@dataclass(frozen=True)
class Location:
    """Where the incident is, on the road graph, and how we know it."""

    node_id: int
    lon: float
    lat: float
    source: str  # node | coordinates | landmark | address_landmark | region | area_code
    label: str = ""


@dataclass
class Row:
    """A vehicle as the ranking sees it."""

    key: object
    eta_s: float | None
    straight_m: float | None
    needs_met: bool
    returning: bool = False
    missing: tuple[str, ...] = ()


@dataclass
class Candidate:
    vehicle: Vehicle
    eta_s: float | None  # None: no road to the incident, or its location unknown
    road_m: float | None
    straight_m: float | None
    straight_rank: int | None  # 1 = nearest as the crow flies
    rank: int  # 1 = recommended
    meets_needs: bool
    reason: str
    returning: bool = False
    node_id: int | None = None
    missing: list[str] = field(default_factory=list)

    @property
    def eta_min(self) -> float | None:
        return None if self.eta_s is None else round(self.eta_s / 60.0, 1)


def rank_candidates(rows: Sequence[Row]) -> list[tuple[Row, int, int | None]]:
    """Order rows: needs met first, then reachable, then by ETA (an available vehicle before a returning one at
    the same ETA), then straight distance. Returns (row, rank, straight_rank)."""
    by_straight = sorted((r for r in rows if r.straight_m is not None), key=lambda r: r.straight_m or 0.0)
    straight_rank = {id(r): k for k, r in enumerate(by_straight, start=1)}

    def key(r: Row):
        return (not r.needs_met, r.eta_s is None, r.eta_s if r.eta_s is not None else 0.0, r.returning,
                r.straight_m if r.straight_m is not None else float("inf"))

    ordered = sorted(rows, key=key)
    return [(r, k, straight_rank.get(id(r))) for k, r in enumerate(ordered, start=1)]


def locate(call: Call, graph: RoadGraph | None = None) -> Location | None:
    """The incident's place on the graph, or None when nothing about the call places it."""
    graph = graph or road_graph()
    if call.node_id is not None and graph.has(call.node_id):
        lon, lat = (call.lon, call.lat) if call.lon is not None and call.lat is not None \
            else graph.lonlat(call.node_id)
        return Location(call.node_id, lon, lat, "node", call.address)
    if call.lon is not None and call.lat is not None:
        return Location(graph.nearest(call.lon, call.lat), call.lon, call.lat, "coordinates", call.address)
    if call.landmark_id is not None:
        mark = Landmark.objects.filter(pk=call.landmark_id).first()
        if mark is not None:
            return _at(graph, mark.node_id, mark.lon, mark.lat, "landmark", mark.name)
    if call.address:
        mark = typed_landmark(call.address, graph.network_id)
        if mark is not None:
            return _at(graph, mark.node_id, mark.lon, mark.lat, "address_landmark", mark.name)
    region = call.region
    source = "region"
    if region is None and call.area_code:
        code = call.area_code.ljust(12, "0")[:12]
        region = Region.objects.filter(code=code).first()
        source = "area_code"
    while region is not None:
        place = Place.objects.filter(network_id=graph.network_id, region=region).first()
        if place is not None:
            return _at(graph, place.node_id, place.lon, place.lat, source, region.name)
        region = region.parent
    return None


def _at(graph: RoadGraph, node_id: int | None, lon: float, lat: float, source: str, label: str) -> Location:
    node = node_id if graph.has(node_id) else graph.nearest(lon, lat)
    return Location(int(node), lon, lat, source, label)  # type: ignore[arg-type]


def typed_landmark(text: str, network_id: int) -> Landmark | None:
    """The landmark of the network whose name the typed address contains (the longest such name)."""
    text = text.strip()
    if not text:
        return None
    exact = Landmark.objects.filter(network_id=network_id, name=text).first()
    if exact is not None:
        return exact
    marks = [m for m in Landmark.objects.filter(network_id=network_id).only("pk", "name", "lon", "lat", "node_id")
             if m.name and m.name in text]
    return max(marks, key=lambda m: len(m.name)) if marks else None


def offered_vehicles() -> list[Vehicle]:
    return list(Vehicle.objects.filter(active=True, status__in=OFFERED).select_related("station"))


def vehicle_node(graph: RoadGraph, v: Vehicle) -> int | None:
    if v.node_id is not None and graph.has(v.node_id):
        return v.node_id
    if v.lon is not None and v.lat is not None:
        return graph.nearest(v.lon, v.lat)
    station = v.station
    if station.node_id is not None and graph.has(station.node_id):
        return station.node_id
    return graph.nearest(station.lon, station.lat)


def vehicle_lonlat(v: Vehicle) -> tuple[float, float]:
    if v.lon is not None and v.lat is not None:
        return v.lon, v.lat
    return v.station.lon, v.station.lat


def recommend(call: Call, *, limit: int = 5, vehicles: Iterable[Vehicle] | None = None,
              graph: RoadGraph | None = None) -> list[Candidate]:
    """The offered vehicles (available, or returning — flagged) ranked for the call; at most ``limit``. Without a
    road network (none generated or imported yet) they are ranked by straight-line distance, and say so."""
    pool = [v for v in (offered_vehicles() if vehicles is None else vehicles) if v.status in OFFERED]
    if not pool:
        return []
    if graph is None:
        try:
            graph = road_graph()
        except InvalidInput:
            return _by_straight_line(call, pool, limit)
    needs = _needs(call)
    where = locate(call, graph)
    nodes = [vehicle_node(graph, v) for v in pool]
    times = graph.times_to(where.node_id, predecessors=True) if where is not None else None
    rows = []
    for v, node in zip(pool, nodes, strict=True):
        eta = straight = None
        if where is not None and times is not None and node is not None:
            t = float(times.array[graph.index(node)])
            eta = t if np.isfinite(t) else None
            lon, lat = vehicle_lonlat(v)
            straight = float(haversine_m(lon, lat, where.lon, where.lat))
        rows.append(_row(v, node, eta, straight, needs))
    out = []
    for row, rank, s_rank in rank_candidates(rows)[:limit]:
        v, node = row.key  # type: ignore[misc]
        road_m = None
        if times is not None and row.eta_s is not None and node is not None:
            road_m = graph.path_length_m(graph.path_to_target(times, graph.index(node)))
        out.append(_candidate(row, rank, s_rank, road_m, _reason(row, rank, s_rank, road_m, where)))
    return out


def _needs(call: Call) -> tuple[str, ...]:
    return tuple(n for n in (call.special_needs or []) if n in NEEDS)


def _row(v: Vehicle, node: int | None, eta: float | None, straight: float | None, needs: tuple[str, ...]) -> Row:
    missing = tuple(n for n in needs if not meets(v.kind, v.equipment or [], n))
    return Row(key=(v, node), eta_s=eta, straight_m=straight, needs_met=not missing,
               returning=v.status == VehicleStatus.RETURNING, missing=missing)


def _candidate(row: Row, rank: int, s_rank: int | None, road_m: float | None, reason: str) -> Candidate:
    v: Vehicle
    node: int | None
    v, node = row.key  # type: ignore[misc]
    return Candidate(vehicle=v, eta_s=row.eta_s, road_m=road_m, straight_m=row.straight_m, straight_rank=s_rank,
                     rank=rank, meets_needs=row.needs_met, reason=reason, returning=row.returning, node_id=node,
                     missing=list(row.missing))


def _by_straight_line(call: Call, pool: list[Vehicle], limit: int) -> list[Candidate]:
    point = (call.lon, call.lat) if call.lon is not None and call.lat is not None else None
    if point is None and call.landmark_id is not None:
        mark = Landmark.objects.filter(pk=call.landmark_id).first()
        point = (mark.lon, mark.lat) if mark is not None else None
    needs = _needs(call)
    rows = []
    for v in pool:
        lon, lat = vehicle_lonlat(v)
        rows.append(_row(v, None, None, float(haversine_m(lon, lat, *point)) if point else None, needs))
    out = []
    for row, rank, s_rank in rank_candidates(rows)[:limit]:
        parts = [_("尚未生成或导入路网，按直线距离排序")]
        if row.straight_m is not None:
            parts.append(_("直线%(km).1f公里") % {"km": row.straight_m / 1000})
        if row.missing:
            parts.append(_("不满足：%(needs)s") % {"needs": "、".join(NEED_LABELS[n] for n in row.missing)})
        if row.returning:
            parts.append(_("返站途中"))
        out.append(_candidate(row, rank, s_rank, None, "；".join(parts)))
    return out


def _reason(row: Row, rank: int, s_rank: int | None, road_m: float | None, where: Location | None) -> str:
    parts = []
    if where is None:
        parts.append(_("呼救地点未明，无法按路程排序"))
    elif row.eta_s is None:
        parts.append(_("无道路可达"))
    else:
        parts.append(_("路程%(km).1f公里，约%(min).0f分钟") % {"km": (road_m or 0) / 1000, "min": row.eta_s / 60})
        if s_rank is not None and s_rank > 1 and rank == 1:
            parts.append(_("直线不是最近，但走公路最快"))
        elif s_rank == 1 and rank > 1 and row.needs_met:
            parts.append(_("直线最近，但走公路更慢"))
    if row.missing:
        parts.append(_("不满足：%(needs)s") % {"needs": "、".join(NEED_LABELS[n] for n in row.missing)})
    if row.returning:
        parts.append(_("返站途中"))
    return "；".join(parts)
