"""Writing a road network to the database (shared by the generator and the OpenStreetMap import), and moving the
fleet onto it.

A network arrives as plain arrays (``NetworkData``): node positions, undirected or one-way edges with class,
length and speed, and the places and landmarks already snapped to node indices. ``write_network`` bulk-inserts it
in one transaction, makes it the active network (the others of the county stop routing) and snaps every station
and vehicle to its nearest node, so that ``road_graph()`` of every process reloads on its next call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction

from yigongti.orgs.models import Region

from ..models import Landmark, Place, RoadEdge, RoadNetwork, RoadNode, Station, Vehicle
from .geometry import planar

BATCH = 5000


@dataclass
class PlaceData:
    code: str  # the Region's code
    node: int  # index into NetworkData.lon
    lon: float
    lat: float
    population: int = 0
    elevation_m: float = 0.0


@dataclass
class LandmarkData:
    name: str
    code: str  # the Region it is in
    node: int
    lon: float
    lat: float


@dataclass
class NetworkData:
    lon: np.ndarray
    lat: np.ndarray
    ext_id: np.ndarray
    edge_a: np.ndarray  # node indices
    edge_b: np.ndarray
    edge_class: list[str]
    edge_length_m: np.ndarray
    edge_speed_kmh: np.ndarray
    edge_name: list[str]
    edge_oneway: np.ndarray  # bool
    places: list[PlaceData] = field(default_factory=list)
    landmarks: list[LandmarkData] = field(default_factory=list)

    @property
    def bbox(self) -> list[float]:
        return [round(float(self.lon.min()), 6), round(float(self.lat.min()), 6),
                round(float(self.lon.max()), 6), round(float(self.lat.max()), 6)]


def write_network(data: NetworkData, *, county: Region, name: str, source: str, seed: int | None = None,
                  source_file: str = "") -> RoadNetwork:
    """Insert the network, make it the county's active one, snap stations and vehicles onto it."""
    regions = {r.code: r.pk for r in Region.objects.filter(code__in={p.code for p in data.places}
                                                                   | {m.code for m in data.landmarks})}
    with transaction.atomic():
        net = RoadNetwork.objects.create(name=name, source=source, seed=seed, source_file=source_file, active=True,
                                         version=f"{source[:3]}-{seed if seed is not None else 'x'}-"
                                                 f"{len(data.lon)}-{uuid.uuid4().hex[:10]}",
                                         bbox=data.bbox)
        nodes = RoadNode.objects.bulk_create(
            [RoadNode(network=net, ext_id=int(e), lon=round(float(x), 7), lat=round(float(y), 7))
             for e, x, y in zip(data.ext_id, data.lon, data.lat, strict=True)], batch_size=BATCH)
        ids = [n.pk for n in nodes]
        if any(i is None for i in ids):  # a backend without RETURNING: read them back in insertion order
            ids = list(RoadNode.objects.filter(network=net).order_by("pk").values_list("pk", flat=True))
        RoadEdge.objects.bulk_create(
            [RoadEdge(network=net, source_id=ids[int(a)], target_id=ids[int(b)], road_class=c, name=nm,
                      length_m=round(float(ln), 1), speed_kmh=round(float(sp), 1), oneway=bool(ow))
             for a, b, c, nm, ln, sp, ow in zip(data.edge_a, data.edge_b, data.edge_class, data.edge_name,
                                                data.edge_length_m, data.edge_speed_kmh, data.edge_oneway,
                                                strict=True)], batch_size=BATCH)
        Place.objects.bulk_create(
            [Place(network=net, region_id=regions[p.code], lon=p.lon, lat=p.lat, node_id=ids[p.node],
                   population=max(0, int(p.population)), elevation_m=round(p.elevation_m, 1))
             for p in data.places if p.code in regions], batch_size=BATCH)
        Landmark.objects.bulk_create(
            [Landmark(network=net, name=m.name[:80], region_id=regions[m.code], lon=m.lon, lat=m.lat,
                      node_id=ids[m.node]) for m in data.landmarks if m.code in regions], batch_size=BATCH)
        _deactivate_others(net, county)
        if source == "generated":
            move_stations_to_places(net)
        snap_fleet(net, lon=data.lon, lat=data.lat, ids=np.asarray(ids, dtype=np.int64))
    return net


def _deactivate_others(net: RoadNetwork, county: Region) -> None:
    """Networks of the same county (a Place in its subtree), or with no places at all, stop routing."""
    prefix = county.prefix
    same = set(Place.objects.filter(region__code__startswith=prefix).exclude(network=net)
               .values_list("network_id", flat=True).distinct())
    empty = set(RoadNetwork.objects.filter(active=True, places__isnull=True).exclude(pk=net.pk)
                .values_list("pk", flat=True))
    RoadNetwork.objects.filter(pk__in=same | empty, active=True).update(active=False)


def move_stations_to_places(net: RoadNetwork) -> int:
    """On a generated network, a station stands at its facility's township (or village) Place, and a vehicle
    parked at the station's old position moves with it: the generated county's coordinates are its own."""
    places = {p.region_id: (p.lon, p.lat) for p in Place.objects.filter(network=net)}
    moved = []
    vehicles = []
    for s in Station.objects.filter(active=True).select_related("facility__region"):
        region: Region | None = s.facility.region
        while region is not None and region.pk not in places:
            region = region.parent
        if region is None:
            continue
        old = (s.lon, s.lat)
        s.lon, s.lat = places[region.pk]
        moved.append(s)
        for v in Vehicle.objects.filter(station=s, active=True):
            if v.lon is None or v.lat is None or (abs(v.lon - old[0]) < 1e-6 and abs(v.lat - old[1]) < 1e-6):
                v.lon, v.lat = s.lon, s.lat
                vehicles.append(v)
    Station.objects.bulk_update(moved, ["lon", "lat"])
    Vehicle.objects.bulk_update(vehicles, ["lon", "lat"])
    return len(moved)


def snap_fleet(net: RoadNetwork, *, lon: np.ndarray | None = None, lat: np.ndarray | None = None,
               ids: np.ndarray | None = None) -> int:
    """Point every active station and vehicle at the network's nearest node; returns how many rows moved."""
    from scipy.spatial import cKDTree

    if lon is None or lat is None or ids is None:
        rows = np.array(list(RoadNode.objects.filter(network=net).values_list("pk", "lon", "lat")), dtype=float)
        if not len(rows):
            return 0
        ids, lon, lat = rows[:, 0].astype(np.int64), rows[:, 1], rows[:, 2]
    lat0 = float(np.mean(lat))
    tree = cKDTree(planar(lon, lat, lat0))

    def nearest(x: float, y: float) -> int:
        return int(ids[int(tree.query(planar([x], [y], lat0)[0])[1])])

    stations = list(Station.objects.filter(active=True))
    for s in stations:
        s.node_id = nearest(s.lon, s.lat)
    Station.objects.bulk_update(stations, ["node"])
    by_station = {s.pk: s for s in stations}
    vehicles = list(Vehicle.objects.filter(active=True))
    for v in vehicles:
        if v.lon is not None and v.lat is not None:
            v.node_id = nearest(v.lon, v.lat)
        elif v.station_id in by_station:
            v.node_id = by_station[v.station_id].node_id
    Vehicle.objects.bulk_update(vehicles, ["node"])
    return len(stations) + len(vehicles)
