"""/api/v1/emergency/roads: the road network (its versions, its GeoJSON), travel time and route between two
points, the nearest road node. Reads of reference data: any signed-in account."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from yigongti.core.errors import InvalidInput, NotFound

from ..models import RoadNetwork
from ..roads.geo import network_etag, network_geojson
from ..roads.graph import active_network, road_graph

router = Router(tags=["县域路网"])


class NetworkOut(Schema):
    id: int
    name: str
    source: str
    source_file: str
    seed: int | None
    active: bool
    version: str
    bbox: list[float]
    created_at: dt.datetime


class RouteQuery(Schema):
    from_lon: float = Field(..., ge=-180, le=180)
    from_lat: float = Field(..., ge=-90, le=90)
    to_lon: float = Field(..., ge=-180, le=180)
    to_lat: float = Field(..., ge=-90, le=90)
    network: int | None = None


class RouteOut(Schema):
    network_id: int
    from_node: int
    to_node: int
    reachable: bool
    eta_s: float | None
    road_m: float | None
    straight_m: float
    coordinates: list[list[float]]


class NearestOut(Schema):
    network_id: int
    node_id: int
    lon: float
    lat: float
    distance_m: float


@router.get("/networks", response=list[NetworkOut])
def networks(request):
    return list(RoadNetwork.objects.order_by("-created_at", "-pk")[:50])


@router.get("/geojson")
def geojson(request, network: int | None = None, min_class: str | None = None):
    """The network (default: the active one) as GeoJSON: outline, roads by class, places, stations, landmarks."""
    net = RoadNetwork.objects.filter(pk=network).first() if network else active_network()
    if net is None:
        raise NotFound(_("尚未生成或导入路网"))
    etag = network_etag(net, min_class=min_class)
    if request.headers.get("If-None-Match") == etag:
        return HttpResponse(status=304, headers={"ETag": etag})
    import json

    resp = HttpResponse(json.dumps(network_geojson(net, min_class=min_class), ensure_ascii=False,
                                   separators=(",", ":")), content_type="application/geo+json")
    resp["ETag"] = etag
    return resp


@router.get("/route", response=RouteOut)
def route(request, q: Query[RouteQuery]):
    """Fastest road route between two points (each snapped to its nearest road node)."""
    g = road_graph(q.network)
    a, b = g.nearest(q.from_lon, q.from_lat), g.nearest(q.to_lon, q.to_lat)
    path = g.route_indices(a, b)
    eta = g.eta_s(a, b) if path else None
    return {"network_id": g.network_id, "from_node": a, "to_node": b, "reachable": bool(path),
            "eta_s": round(eta, 1) if eta is not None else None,
            "road_m": round(g.path_length_m(path), 1) if path else None,
            "straight_m": round(g.straight_m(q.from_lon, q.from_lat, q.to_lon, q.to_lat), 1),
            "coordinates": [[round(float(g.lon[i]), 6), round(float(g.lat[i]), 6)] for i in path]}


@router.get("/nearest", response=NearestOut)
def nearest(request, lon: float, lat: float, network: int | None = None):
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput("bad_point", _("经纬度无效"))
    g = road_graph(network)
    node = g.nearest(lon, lat)
    x, y = g.lonlat(node)
    return {"network_id": g.network_id, "node_id": node, "lon": x, "lat": y,
            "distance_m": round(g.straight_m(lon, lat, x, y), 1)}
