"""Importing a real county's roads from a local OpenStreetMap extract (.osm, .osm.pbf, .osm.bz2) with pyosmium.
Nothing is downloaded: the operator brings the file (an extract cut for the county, e.g. with osmium-tool).

Every way tagged ``highway`` of a drivable kind becomes edges between its consecutive nodes (so the map keeps the
roads' shapes); its class follows China's OSM tagging (motorway → 高速, trunk → 国道, primary → 省道,
secondary → 县道, tertiary → 乡道, unclassified/track → 村道, residential/living_street → 城区道路), its speed
is ``maxspeed`` when tagged, else the class's. ``oneway=yes`` (and motorways, roundabouts) run one way;
``oneway=-1`` runs against the way's direction. Only the largest connected piece is kept (islands cut by the
extract's edge would route nowhere).

The county's townships and villages are placed by OSM ``place=*`` nodes matched by name (``大塘村`` or
``大塘``); a region with no match sits at its township's place (or, failing that, the seat) and is reported;
``positions`` (region code → lon, lat) from the operator overrides both. Named schools, hospitals, markets,
town halls and bus stations become landmarks."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import osmium
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from yigongti.core.errors import InvalidInput
from yigongti.orgs.models import Region, RegionLevel

from ..models import RoadNetwork
from .generate import SPEED, short_name
from .geometry import haversine_m, planar
from .store import LandmarkData, NetworkData, PlaceData, write_network

HIGHWAY_CLASS = {
    "motorway": "expressway", "motorway_link": "expressway",
    "trunk": "national", "trunk_link": "national",
    "primary": "provincial", "primary_link": "provincial",
    "secondary": "county", "secondary_link": "county",
    "tertiary": "township", "tertiary_link": "township",
    "unclassified": "village", "track": "village", "road": "village",
    "residential": "street", "living_street": "street", "service": "street",
}
PLACE_KINDS = {"city", "town", "township", "village", "hamlet", "suburb", "neighbourhood", "county",
               "isolated_dwelling", "quarter"}
LANDMARK_AMENITIES = {"school", "hospital", "clinic", "marketplace", "townhall", "bus_station", "police",
                      "kindergarten", "college", "doctors", "fire_station"}


@dataclass
class ImportReport:
    nodes: int = 0
    edges: int = 0
    dropped_nodes: int = 0
    matched: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    landmarks: int = 0


def _speed(tag: str | None, cls: str) -> float:
    if tag:
        head = tag.split(";")[0].strip().lower()
        try:
            if head.endswith("mph"):
                return float(head[:-3].strip()) * 1.609
            return float(head.split()[0])
        except (ValueError, IndexError):
            pass
    return SPEED[cls]


def read_osm(path: str) -> tuple[dict, list, list]:
    """(node id → (lon, lat) of road nodes, ways as (refs, class, name, speed, oneway), named points as
    (kind, tags-dict, lon, lat))."""
    locations: dict[int, tuple[float, float]] = {}
    ways = []
    points = []
    for obj in osmium.FileProcessor(path).with_locations():
        if isinstance(obj, osmium.osm.Node):
            tags = obj.tags
            if "name" in tags and ("place" in tags or "amenity" in tags):
                points.append((dict(tags), obj.location.lon, obj.location.lat))
        elif isinstance(obj, osmium.osm.Way):
            hw = obj.tags.get("highway")
            cls = HIGHWAY_CLASS.get(hw or "")
            if cls is None:
                continue
            refs = []
            for nr in obj.nodes:
                if not nr.location.valid():
                    continue
                locations[nr.ref] = (nr.location.lon, nr.location.lat)
                refs.append(nr.ref)
            if len(refs) < 2:
                continue
            ow = obj.tags.get("oneway", "")
            oneway = 1 if ow in ("yes", "true", "1") or hw == "motorway" or obj.tags.get("junction") == "roundabout" \
                else (-1 if ow == "-1" else 0)
            if ow == "no":
                oneway = 0
            name = obj.tags.get("name") or obj.tags.get("ref") or ""
            ways.append((refs, cls, name, _speed(obj.tags.get("maxspeed"), cls), oneway))
    return locations, ways, points


def osm_network(path: str, regions: list[tuple[str, str, str, str | None]], *,
                positions: dict[str, tuple[float, float]] | None = None,
                populations: dict[str, int] | None = None) -> tuple[NetworkData, ImportReport]:
    """The network of an OSM file as arrays, with ``regions`` (code, name, level, parent code) placed."""
    if not os.path.exists(path):
        raise InvalidInput("no_file", f"找不到文件：{path}")
    try:
        locations, ways, points = read_osm(path)
    except RuntimeError as e:  # libosmium's parse errors
        raise InvalidInput("bad_osm", f"无法读取OpenStreetMap文件：{e}") from e
    if not ways:
        raise InvalidInput("no_roads", "文件中没有可通行的道路（highway）")
    ext = np.fromiter(locations.keys(), dtype=np.int64, count=len(locations))
    ext.sort()
    lonlat = np.array([locations[int(i)] for i in ext])
    a_list, b_list, cls_list, name_list, speed_list, ow_list = [], [], [], [], [], []
    for refs, cls, name, speed, oneway in ways:
        idx = np.searchsorted(ext, np.asarray(refs, dtype=np.int64))
        if oneway == -1:
            idx = idx[::-1]
        keep = idx[1:] != idx[:-1]
        a, b = idx[:-1][keep], idx[1:][keep]
        a_list.append(a)
        b_list.append(b)
        cls_list += [cls] * len(a)
        name_list += [name[:80]] * len(a)
        speed_list.append(np.full(len(a), speed))
        ow_list.append(np.full(len(a), oneway != 0))
    ea, eb = np.concatenate(a_list), np.concatenate(b_list)
    n = len(ext)
    _k, labels = connected_components(coo_matrix((np.ones(len(ea)), (ea, eb)), shape=(n, n)), directed=False)
    big = labels == np.bincount(labels).argmax()
    used = np.zeros(n, dtype=bool)
    used[ea] = used[eb] = True
    keep_node = big & used
    renumber = np.full(n, -1, dtype=np.int64)
    renumber[keep_node] = np.arange(int(keep_node.sum()))
    keep_edge = keep_node[ea] & keep_node[eb]
    ea, eb = renumber[ea[keep_edge]], renumber[eb[keep_edge]]
    lon, lat = lonlat[keep_node, 0], lonlat[keep_node, 1]
    length = haversine_m(lon[ea], lat[ea], lon[eb], lat[eb])
    report = ImportReport(nodes=len(lon), edges=len(ea), dropped_nodes=int(used.sum() - keep_node.sum()))

    lat0 = float(np.mean(lat))
    tree = cKDTree(planar(lon, lat, lat0))

    def snap(x: float, y: float) -> int:
        return int(tree.query(planar([x], [y], lat0)[0])[1])

    # places: by name from OSM place nodes
    named: dict[str, tuple[float, float, int]] = {}
    for tags, x, y in points:
        if tags.get("place") in PLACE_KINDS:
            pop = int(tags["population"]) if str(tags.get("population", "")).isdigit() else 0
            for key in {tags["name"], short_name(tags["name"]), tags["name"].removesuffix("村")}:
                named.setdefault(key, (x, y, pop))
    positions = positions or {}
    populations = populations or {}
    seat_xy = (float(np.median(lon)), float(np.median(lat)))
    where: dict[str, tuple[float, float, int]] = {}
    # townships first (the county falls back to the first of them found: the seat's 镇 comes first), villages last
    order = sorted(regions, key=lambda r: {"township": 0, "county": 1, "village": 2}.get(r[2], 3))
    for code, name, level, parent in order:
        if code in positions:
            x, y = positions[code]
            where[code] = (x, y, 0)
            report.matched.append(code)
            continue
        hit = named.get(name) or named.get(short_name(name)) or named.get(name.removesuffix("村"))
        if hit is not None:
            where[code] = hit
            report.matched.append(code)
        else:
            fallback = where.get(parent or "") or where.get(regions[0][0])
            if level == RegionLevel.COUNTY:
                fallback = next((where[c] for c in report.matched if c in where), None)
            x, y = (fallback[0], fallback[1]) if fallback else seat_xy
            where[code] = (x, y, 0)
            report.unmatched.append(code)
    places = []
    for code, _name, _level, _parent in regions:
        x, y, pop = where[code]
        node = snap(x, y)
        places.append(PlaceData(code, node, float(x), float(y), populations.get(code, pop)))
    # a township's and the county's population: the sum of theirs when not given
    by_code = {p.code: p for p in places}
    for level in (RegionLevel.TOWNSHIP, RegionLevel.COUNTY):
        for code, _name, lv, _parent in regions:
            if lv == level and code not in populations and not by_code[code].population:
                by_code[code].population = sum(by_code[c].population for c, _n, _l, p in regions if p == code)

    township_codes = [c for c, _n, lv, _p in regions if lv == RegionLevel.TOWNSHIP] or [regions[0][0]]
    t_xy = np.array([[where[c][0], where[c][1]] for c in township_codes])
    t_tree = cKDTree(planar(t_xy[:, 0], t_xy[:, 1], lat0))
    landmarks = []
    for tags, x, y in points:
        if tags.get("amenity") in LANDMARK_AMENITIES:
            code = township_codes[int(t_tree.query(planar([x], [y], lat0)[0])[1])]
            landmarks.append(LandmarkData(tags["name"], code, snap(x, y), float(x), float(y)))
    report.landmarks = len(landmarks)
    data = NetworkData(lon=lon, lat=lat, ext_id=ext[keep_node], edge_a=ea, edge_b=eb,
                       edge_class=[c for c, k in zip(cls_list, keep_edge, strict=True) if k],
                       edge_length_m=np.maximum(length, 0.1), edge_speed_kmh=np.concatenate(speed_list)[keep_edge],
                       edge_name=[nm for nm, k in zip(name_list, keep_edge, strict=True) if k],
                       edge_oneway=np.concatenate(ow_list)[keep_edge], places=places, landmarks=landmarks)
    return data, report


def county_regions(county: Region) -> list[tuple[str, str, str, str | None]]:
    rows = Region.objects.filter(code__startswith=county.prefix, level__in=[
        RegionLevel.TOWNSHIP, RegionLevel.VILLAGE]).order_by("code").values_list("code", "name", "level",
                                                                                 "parent__code")
    return [(county.code, county.name, RegionLevel.COUNTY, None), *rows]


def import_osm_report(path: str, *, county: Region, name: str = "",
                      positions: dict[str, tuple[float, float]] | None = None,
                      populations: dict[str, int] | None = None) -> tuple[RoadNetwork, ImportReport]:
    """Import the county's roads from a local OSM file; it becomes the active network. Also returns which regions
    were placed by name and which were not."""
    data, report = osm_network(path, county_regions(county), positions=positions, populations=populations)
    net = write_network(data, county=county, name=name or f"{county.name}路网（OpenStreetMap）", source="osm",
                        source_file=os.path.basename(path)[:255])
    return net, report


def import_osm(path: str, *, county: Region, name: str = "", positions: dict[str, tuple[float, float]] | None = None,
               populations: dict[str, int] | None = None) -> RoadNetwork:
    """Import the county's roads from a local OSM file; it becomes the active network."""
    return import_osm_report(path, county=county, name=name, positions=positions, populations=populations)[0]
