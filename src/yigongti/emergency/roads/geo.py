"""The road network as GeoJSON for the browser's map (``static/emergency/map.js``): no tiles, only vector data.

One FeatureCollection: the county's outline (the convex hull of its nodes, a ``Polygon`` the map registers as its
base), one ``MultiLineString`` per road class (edges chained into polylines between junctions, so that the
county's ~28,000 edges travel as a few thousand lines), the places (county seat, townships, villages, with their
population), the stations and the landmarks. Coordinates are rounded to 5 decimals (about a metre).

The collection's foreign member ``properties`` carries the network's id, version, name, bbox and counts;
``network_geojson`` is cached by version (stations are few and read each time: the ETag covers them)."""

from __future__ import annotations

import hashlib
from collections import defaultdict

import numpy as np
from django.core.cache import cache
from django.utils import translation

from ..models import Landmark, Place, RoadClass, RoadEdge, RoadNetwork, RoadNode, Station
from .generate import RANK

ROUND = 5


def _chains(a: np.ndarray, b: np.ndarray) -> list[list[int]]:
    """Split an undirected edge set into polylines that end at junctions and dead ends."""
    adj: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for e, (u, v) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        adj[u].append((v, e))
        adj[v].append((u, e))
    used = [False] * len(a)
    chains: list[list[int]] = []

    def walk(start: int, nbr: int, e: int) -> list[int]:
        chain = [start]
        cur_e, nxt = e, nbr
        while True:
            used[cur_e] = True
            chain.append(nxt)
            links = adj[nxt]
            if len(links) != 2:
                return chain
            n2, e2 = links[0] if links[1][1] == cur_e else links[1]
            if used[e2]:
                return chain
            cur_e, nxt = e2, n2

    for node, links in adj.items():
        if len(links) != 2:
            for nbr, e in links:
                if not used[e]:
                    chains.append(walk(node, nbr, e))
    for e in range(len(a)):  # loops made only of degree-2 nodes
        if not used[e]:
            chains.append(walk(int(a[e]), int(b[e]), e))
    return chains


def _hull(lon: np.ndarray, lat: np.ndarray) -> list[list[float]]:
    if len(lon) < 3:
        return []
    from scipy.spatial import ConvexHull, QhullError

    pts = np.column_stack([lon, lat])
    try:
        ring = pts[ConvexHull(pts).vertices]
    except QhullError:
        return []
    ring = np.vstack([ring, ring[:1]])
    return np.round(ring, ROUND).tolist()


def _roads(network: RoadNetwork, min_class: str | None) -> tuple[list[dict], list[list[float]], dict]:
    nodes = np.array(list(RoadNode.objects.filter(network=network).values_list("pk", "lon", "lat")),
                     dtype=float).reshape(-1, 3)
    ids = nodes[:, 0].astype(np.int64)
    order = np.argsort(ids)
    ids, lon, lat = ids[order], nodes[order, 1], nodes[order, 2]
    rows = list(RoadEdge.objects.filter(network=network).values_list("source_id", "target_id", "road_class",
                                                                       "speed_kmh"))
    features = []
    counts: dict[str, int] = {}
    floor = RANK.get(min_class or "", 0)
    by_class: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    for s, t, c, sp in rows:
        by_class[c].append((s, t, sp))
    labels = dict(RoadClass.choices)
    for cls in sorted(by_class, key=lambda c: RANK.get(c, 0)):
        items = by_class[cls]
        counts[cls] = len(items)
        if RANK.get(cls, 0) < floor:
            continue
        arr = np.array([(s, t) for s, t, _sp in items], dtype=np.int64)
        a, b = np.searchsorted(ids, arr[:, 0]), np.searchsorted(ids, arr[:, 1])
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        _u, first = np.unique(lo * len(ids) + hi, return_index=True)  # a pair stored both ways is one road
        lo, hi = lo[first], hi[first]
        lines = [np.round(np.column_stack([lon[c], lat[c]]), ROUND).tolist() for c in _chains(lo, hi)]
        features.append({"type": "Feature", "geometry": {"type": "MultiLineString", "coordinates": lines},
                         "properties": {"layer": "roads", "road_class": cls, "label": str(labels.get(cls, cls)),
                                        "rank": RANK.get(cls, 0), "edges": len(lo),
                                        "speed_kmh": round(float(np.mean([sp for _s, _t, sp in items])), 1)}})
    return features, _hull(lon, lat), {"nodes": len(ids), "edges": len(rows), "by_class": counts}


def _point(lon: float, lat: float, **props) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(lon, ROUND), round(lat, ROUND)]},
            "properties": props}


def _static_part(network: RoadNetwork, min_class: str | None) -> dict:
    key = f"em:geojson:{network.pk}:{network.version}:{min_class or ''}:{translation.get_language()}"
    part = cache.get(key)
    if part is None:
        roads, hull, counts = _roads(network, min_class)
        places = [_point(p.lon, p.lat, layer="places", level=p.region.level, name=p.region.name, code=p.region.code,
                         population=p.population, node=p.node_id)
                  for p in Place.objects.filter(network=network).select_related("region").order_by("region__code")]
        marks = [_point(m.lon, m.lat, layer="landmarks", id=m.pk, name=m.name, node=m.node_id)
                 for m in Landmark.objects.filter(network=network).order_by("pk")]
        boundary = [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [hull]},
                     "properties": {"layer": "boundary", "name": network.name}}] if hull else []
        part = {"features": boundary + roads + places + marks, "counts": counts}
        cache.set(key, part, 24 * 3600)
    return part


def _stations() -> list[dict]:
    return [_point(s.lon, s.lat, layer="stations", id=s.pk, name=s.name, kind=s.kind, node=s.node_id)
            for s in Station.objects.filter(active=True).order_by("name")]


def network_etag(network: RoadNetwork, *, min_class: str | None = None) -> str:
    stations = list(Station.objects.filter(active=True).order_by("pk").values_list("pk", "name", "lon", "lat",
                                                                                      "kind"))
    digest = hashlib.sha1(repr((network.pk, network.version, min_class, stations,
                                   translation.get_language())).encode()).hexdigest()[:20]
    return f'"{digest}"'


def network_geojson(network: RoadNetwork, *, min_class: str | None = None) -> dict:
    """The network as one GeoJSON FeatureCollection (see the module's docstring)."""
    if min_class is not None and min_class not in RANK:
        min_class = None
    part = _static_part(network, min_class)
    return {"type": "FeatureCollection", "features": part["features"] + _stations(),
            "properties": {"network_id": network.pk, "version": network.version, "name": network.name,
                           "source": network.source, "bbox": network.bbox, "counts": part["counts"],
                           "min_class": min_class or ""}}
