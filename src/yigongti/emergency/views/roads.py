"""The road network's pages: its GeoJSON for every map (``emergency:roads_geojson``: cached by the network's
version, with an ETag, so a board reloading every few seconds fetches the county's roads once), the network page
(``emergency:roads``: the map, counts by road class, the networks kept) and the OpenStreetMap upload
(``emergency:roads_import``, for the bureau and the community's managers)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, NotFound
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.permissions import can

from ..models import RoadNetwork
from ..roads import services
from ..roads.geo import network_etag, network_geojson
from ..roads.graph import active_network


def _network(request: HttpRequest) -> RoadNetwork:
    raw = request.GET.get("network", "")
    net = RoadNetwork.objects.filter(pk=int(raw)).first() if raw.isdigit() else active_network()
    if net is None:
        raise NotFound(_("尚未生成或导入路网"))
    return net


@login_required
@domain_errors_as_pages
def roads_geojson(request: HttpRequest) -> HttpResponse:
    net = _network(request)
    min_class = request.GET.get("min_class") or None
    etag = network_etag(net, min_class=min_class)
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers={"ETag": etag, "Cache-Control": "public, max-age=60"})
    key = f"em:geojson:body:{etag}:{translation.get_language()}"
    body = cache.get(key)
    if body is None:
        data = network_geojson(net, min_class=min_class)
        data["properties"]["labels"] = {"population": _("人口")}
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        cache.set(key, body, 3600)
    resp = HttpResponse(body, content_type="application/geo+json")
    resp["ETag"] = etag
    # roads, places and stations are public reference data, not a person's: let the browser keep it and revalidate
    resp["Cache-Control"] = "public, max-age=60"
    return resp


@login_required
@domain_errors_as_pages
def roads_page(request: HttpRequest) -> HttpResponse:
    return render(request, "emergency/roads.html", {**services.overview(), "can_import": can(
        request.user, "emergency.import_roads")})


@login_required
@require_POST
@domain_errors_as_pages
def roads_import(request: HttpRequest) -> HttpResponse:
    try:
        net = services.import_upload(Actor.from_request(request), request.FILES.get("file"),
                                     name=request.POST.get("name", ""))
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    else:
        messages.success(request, _("已导入路网“%(name)s”，共%(n)s个节点") % {"name": net.name,
                                                                             "n": net.nodes.count()})
    return redirect(reverse("emergency:roads"))


urlpatterns = [
    path("roads/", roads_page, name="roads"),
    path("roads/geojson/", roads_geojson, name="roads_geojson"),
    path("roads/import/", roads_import, name="roads_import"),
]
