"""The road network's use cases: generating (the demo, the CLI) and importing (the CLI, the bureau's upload page)
a county's network, and the overview the roads page shows."""

from __future__ import annotations

import os
import tempfile

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.core.uploads import max_upload_bytes
from yigongti.orgs.models import Region, RegionLevel
from yigongti.orgs.permissions import check

from ..models import Place, RoadClass, RoadEdge, RoadNetwork
from .generate import generate_network
from .graph import active_network
from .osm import ImportReport, import_osm_report

OSM_SUFFIXES = (".osm.pbf", ".osm.bz2", ".osm.gz", ".osm", ".pbf")


def county_of(actor: Actor) -> Region:
    """The county the actor works in (their facility's county), else the county that has places."""
    facility = getattr(actor.user, "facility", None)
    region = getattr(facility, "region", None)
    while region is not None and region.level != RegionLevel.COUNTY:
        region = region.parent
    if region is None:
        code = Place.objects.filter(region__level=RegionLevel.COUNTY).values_list("region_id", flat=True).first()
        region = Region.objects.filter(pk=code).first() if code else None
    if region is None:
        raise InvalidInput("no_county", _("无法确定所在县"))
    return region


def generate(actor: Actor, county: Region, *, seed: int, target_nodes: int = 20000,
             populations: dict[str, int] | None = None) -> RoadNetwork:
    check(actor, "emergency.import_roads", county)
    net = generate_network(county, seed=seed, target_nodes=target_nodes, populations=populations)
    audit.record(actor, "generate_roads", "RoadNetwork", net.pk, seed=seed, target_nodes=target_nodes)
    return net


def import_file(actor: Actor, path: str, *, county: Region, name: str = "",
                positions: dict[str, tuple[float, float]] | None = None,
                populations: dict[str, int] | None = None) -> tuple[RoadNetwork, ImportReport]:
    check(actor, "emergency.import_roads", county)
    net, report = import_osm_report(path, county=county, name=name, positions=positions, populations=populations)
    audit.record(actor, "import_roads", "RoadNetwork", net.pk, file=os.path.basename(path), nodes=report.nodes,
                 edges=report.edges, unmatched=len(report.unmatched))
    return net, report


def import_upload(actor: Actor, upload, *, name: str = "") -> RoadNetwork:
    """An OSM extract uploaded from the roads page."""
    check(actor, "emergency.import_roads", None)
    if upload is None:
        raise InvalidInput("no_file", _("请选择OpenStreetMap文件（.osm 或 .osm.pbf）"), field="file")
    filename = (upload.name or "").lower()
    suffix = next((s for s in OSM_SUFFIXES if filename.endswith(s)), None)
    if suffix is None:
        raise InvalidInput("bad_type", _("只支持 .osm、.osm.pbf、.osm.bz2 文件"), field="file")
    if upload.size and upload.size > max_upload_bytes():
        raise InvalidInput("too_large", _("文件过大"), field="file")
    county = county_of(actor)
    fd, path = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        return import_file(actor, path, county=county, name=name.strip()[:80])[0]
    finally:
        os.unlink(path)


def overview() -> dict:
    """The active network and the ones kept, with counts by road class."""
    net = active_network()
    networks = list(RoadNetwork.objects.annotate(n_places=Count("places")).order_by("-created_at", "-pk")[:10])
    by_class: list[tuple[str, int, float]] = []
    if net is not None:
        labels = dict(RoadClass.choices)
        rows = (RoadEdge.objects.filter(network=net).values("road_class")
                .annotate(n=Count("id"), m=Sum("length_m")).order_by("-m"))
        by_class = [(str(labels.get(r["road_class"], r["road_class"])), r["n"], round((r["m"] or 0) / 1000, 1))
                    for r in rows]
    return {"network": net, "networks": networks, "by_class": by_class,
            "node_count": net.nodes.count() if net else 0,
            "place_count": net.places.count() if net else 0,
            "landmark_count": net.landmarks.count() if net else 0}
