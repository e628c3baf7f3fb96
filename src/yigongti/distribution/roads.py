"""The county roads (``emergency.roads``) seen from the distribution center: where each facility is on the road
graph (the ``Place`` of its region, or of the nearest region above it), and the travel-time matrix between the
center and the day's villages."""

from __future__ import annotations

import itertools

import numpy as np

from yigongti.core.errors import InvalidInput
from yigongti.emergency.models import Place
from yigongti.emergency.roads.graph import RoadGraph, road_graph
from yigongti.orgs.models import Facility, Region


def nodes_of(graph: RoadGraph, facilities: list[Facility]) -> dict[int, int]:
    """Facility pk → RoadNode id: its region's Place on the active network, else the nearest ancestor's."""
    places = {p.region_id: p for p in Place.objects.filter(network_id=graph.network_id)}
    out: dict[int, int] = {}
    for f in facilities:
        region: Region | None = f.region
        while region is not None and region.pk not in places:
            region = region.parent
        if region is None:
            raise InvalidInput("no_place", f"路网上没有“{f.name}”的位置")
        place = places[region.pk]
        node = place.node_id if place.node_id and graph.has(place.node_id) else graph.nearest(place.lon, place.lat)
        out[f.pk] = int(node)
    return out


def matrix(center: Facility, stops: list[Facility], graph: RoadGraph | None = None) \
        -> tuple[RoadGraph, list[int], np.ndarray]:
    """The graph, the node of the center then of each stop, and the seconds between them (index 0 = center)."""
    graph = graph or road_graph()
    nodes = nodes_of(graph, [center, *stops])
    order = [nodes[center.pk]] + [nodes[f.pk] for f in stops]
    m = graph.time_matrix(order, order)
    if not np.isfinite(m).all():
        bad = [stops[j - 1].name for j in range(1, len(order)) if not np.isfinite(m[0, j]) or not np.isfinite(m[j, 0])]
        raise InvalidInput("unreachable", "以下机构与配送中心之间没有道路：" + "、".join(bad[:5]))
    return graph, order, m


def leg_paths(graph: RoadGraph, nodes: list[int]) -> tuple[list[list[float]], list[float]]:
    """The route over the roads through these nodes as [lon, lat] points, and each leg's metres."""
    points: list[list[float]] = []
    legs: list[float] = []
    for a, b in itertools.pairwise(nodes):
        path = graph.route_indices(a, b)
        legs.append(graph.path_length_m(path))
        pts = [[round(float(graph.lon[i]), 5), round(float(graph.lat[i]), 5)] for i in path]
        points.extend(pts if not points else pts[1:])
    return points, legs
