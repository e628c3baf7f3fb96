"""``yigongti indicators …`` and ``yigongti worker`` (registered by yigongti.cli)."""

from __future__ import annotations

import json
import os
import sys
import time

import click


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yigongti.settings")
    import django

    django.setup()


@click.group("indicators")
def indicators():
    """National monitoring indicators and hospital KPIs."""


@indicators.command("compute")
@click.option("--encounters", "encounters", required=True,
              help="Parquet file or directory (e.g. partitioned by month).")
@click.option("--settlements", default=None, help="Parquet of insurance settlements: adds N08–N11.")
@click.option("--facilities", default=None,
              help="Parquet/CSV of facility_id, facility_county, facility_level, open_beds: adds bed occupancy.")
@click.option("--out", required=True, help="result.parquet (or .csv): county, month, indicator, numerator, "
              "denominator, value, note.")
@click.option("--threads", default=None, type=int, help="DuckDB threads (default: all cores).")
@click.option("--memory-limit", default=None, help="DuckDB memory limit, e.g. 2GB (default: 80% of RAM; a "
              "city-year needs about 250 MB).")
def compute(encounters, settlements, facilities, out, threads, memory_limit):
    """Compute the encounter-based (and settlement-based) indicators on DuckDB over Parquet, by county and month."""
    from yigongti.core.errors import InvalidInput
    from yigongti.indicators.engine import compute_parquet, missing_inputs, write_long_form

    t0 = time.perf_counter()
    try:
        rows = compute_parquet(encounters, settlements, facilities, threads=threads, memory_limit=memory_limit)
    except InvalidInput as e:
        click.echo(e.message, err=True)
        sys.exit(2)
    write_long_form(rows, out)
    for code, reason in missing_inputs(encounters).items():  # unknown, not zero: say why
        click.echo(f"{code} 无值：{reason}", err=True)
    click.echo(f"{len(rows)} 行指标结果写入 {out}（{time.perf_counter() - t0:.1f} 秒）", err=True)


@indicators.command("refresh")
@click.option("--month", "months", multiple=True, help="YYYY-MM (repeatable); default every month with data.")
def refresh(months):
    """Rebuild the monthly fact table the dashboard reads."""
    _django()
    from yigongti.indicators.services import refresh_facts

    click.echo(json.dumps(refresh_facts(list(months) or None), ensure_ascii=False))


@indicators.command("export")
@click.option("--out", "out_dir", required=True, help="Directory for encounters/settlements/facilities.parquet.")
def export(out_dir):
    """Snapshot the live database as Parquet in the city-scale schema."""
    _django()
    from yigongti.indicators.snapshot import export_parquet

    click.echo(json.dumps(export_parquet(out_dir), ensure_ascii=False))


@indicators.command("import")
@click.argument("kind", type=click.Choice(["settlements", "population", "deaths"]))
@click.argument("path")
def import_file(kind, path):
    """Import settlements, population by age band or deaths (CSV, .xlsx, Parquet); prints the row errors."""
    _django()
    from yigongti.core.actor import Actor
    from yigongti.encounters.services import import_rows

    report = import_rows(kind, path, path, actor=Actor.system("cli"))
    for e in report.errors[:200]:
        click.echo(f"第 {e.row} 行 {e.field}: {e.message}", err=True)
    click.echo(f"共 {report.total} 行，导入 {report.imported} 行，拒绝 {report.total - report.imported} 行")
    sys.exit(0 if report.ok else 2)


@indicators.command("report")
@click.option("--period", required=True, help="2026-10, 2026-Q3, 2026 or 2026-10-ytd")
@click.option("--area", default="", help="e.g. county:431127000000 (default: the first county with a community)")
@click.option("--out", "out_dir", default=".", help="Directory for the .xlsx and .pdf")
def report(period, area, out_dir):
    """Write the monthly report (月通报) as Excel and PDF."""
    _django()
    from yigongti.indicators.reports import write_reports

    for path in write_reports(period, area, out_dir):
        click.echo(path)


@click.command("worker")
@click.option("--once", is_flag=True, help="Run the due jobs and exit.")
@click.option("--interval", default=30, show_default=True, help="Seconds between polls.")
def worker(once, interval):
    """Run background jobs (indicator refresh, month-end reports, …) claimed from the database."""
    _django()
    from yigongti.core.jobs import run_worker

    run_worker(once=once, interval=interval, echo=click.echo)
