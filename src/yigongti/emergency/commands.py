"""``yigongti emergency …``: the county 120 command center's commands (registered by yigongti.cli).

``roads generate`` builds the demo's (or a test county's) road network from a seed; ``roads import`` reads a
local OpenStreetMap extract. Both make the new network the active one and move stations and vehicles onto it.
Other helpers' subcommands join the group from their own modules (``gps_commands.py``)."""

from __future__ import annotations

import csv

import click


def _django():
    from yigongti.cli import _django as setup

    setup()


@click.group("emergency")
def emergency():
    """County 120 command center (县域120急救指挥)."""


@emergency.group("roads")
def roads():
    """The county road network: generate (demo) or import (OpenStreetMap)."""


def _county(code: str | None):
    from yigongti.orgs.models import Region, RegionLevel

    qs = Region.objects.filter(level=RegionLevel.COUNTY)
    if code:
        county = qs.filter(code=code.ljust(12, "0")[:12]).first() or qs.filter(name=code).first()
        if county is None:
            raise click.BadParameter(f"没有这个县：{code}", param_hint="--county")
        return county
    counties = [c for c in qs.order_by("code") if c.children.exists()]
    if len(counties) == 1:
        return counties[0]
    if not counties:
        raise click.ClickException("数据库中还没有带乡镇的县级区划（先运行 yigongti generate 或导入区划）")
    raise click.BadParameter("有多个县，请用 --county 指定区划代码", param_hint="--county")


def _resident_populations(county) -> dict[str, int]:
    """Residents per village in the master index (the demo's), so the map's populations match the records."""
    from django.db.models import Count

    from yigongti.residents.models import Resident

    rows = (Resident.objects.filter(village__code__startswith=county.prefix).values("village__code")
            .annotate(n=Count("id")))
    return {r["village__code"]: r["n"] for r in rows}


def _read_places(path: str | None) -> tuple[dict[str, tuple[float, float]], dict[str, int]]:
    """A CSV of code,lon,lat[,population] (header row) for the places the OSM names do not give."""
    positions: dict[str, tuple[float, float]] = {}
    populations: dict[str, int] = {}
    if not path:
        return positions, populations
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            code = (row.get("code") or "").strip()
            if not code:
                continue
            try:
                if row.get("lon") and row.get("lat"):
                    positions[code] = (float(row["lon"]), float(row["lat"]))
                if (row.get("population") or "").strip():
                    populations[code] = int(row["population"])
            except ValueError as e:
                raise click.BadParameter(f"{code}: {e}", param_hint="--places") from e
    return positions, populations


def _summary(net) -> None:
    from .models import RoadEdge

    click.echo(f"路网 #{net.pk} {net.name}（版本 {net.version}）：{net.nodes.count()} 个节点，"
               f"{RoadEdge.objects.filter(network=net).count()} 条路段，{net.places.count()} 个地点，"
               f"{net.landmarks.count()} 个地标；已设为在用路网")


@roads.command("generate")
@click.option("--county", default=None, help="County region code or name (default: the only county).")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--target-nodes", default=20000, show_default=True, type=click.IntRange(100, 2_000_000))
@click.option("--populations/--no-populations", default=True, show_default=True,
              help="Village populations from the resident index (else generated).")
def generate(county: str | None, seed: int, target_nodes: int, populations: bool):
    """Generate a plausible county road network, deterministic from --seed."""
    _django()
    from yigongti.core.actor import Actor

    from .roads import services

    region = _county(county)
    pops = _resident_populations(region) if populations else {}
    net = services.generate(Actor(), region, seed=seed, target_nodes=target_nodes, populations=pops or None)
    _summary(net)


@roads.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--county", default=None, help="County region code or name (default: the only county).")
@click.option("--name", default="", help="Name of the network.")
@click.option("--places", "places_csv", default=None, type=click.Path(exists=True, dir_okay=False),
              help="CSV code,lon,lat[,population] placing regions the OSM place names do not.")
def import_(path: str, county: str | None, name: str, places_csv: str | None):
    """Import the county's roads from a local OpenStreetMap file (.osm, .osm.pbf)."""
    _django()
    from yigongti.core.actor import Actor
    from yigongti.core.errors import DomainError

    from .roads import services

    region = _county(county)
    positions, pops = _read_places(places_csv)
    try:
        net, report = services.import_file(Actor(), path, county=region, name=name, positions=positions,
                                           populations=pops or None)
    except DomainError as e:
        raise click.ClickException(e.message) from e
    _summary(net)
    click.echo(f"按名称匹配地点 {len(report.matched)} 个；未匹配 {len(report.unmatched)} 个（放在所属乡镇或县城）"
               + (f"：{', '.join(report.unmatched[:20])}{' …' if len(report.unmatched) > 20 else ''}"
                  if report.unmatched else ""))
    if report.dropped_nodes:
        click.echo(f"丢弃与主路网不连通的节点 {report.dropped_nodes} 个")


try:  # the crew helper's GPS simulator joins the group
    from .gps_commands import gps_simulate

    emergency.add_command(gps_simulate)
except ImportError as e:  # pragma: no cover (present in the tree; guarded only for partial checkouts)
    if getattr(e, "name", "") != "yigongti.emergency.gps_commands":
        raise
