"""The ``yigongti`` command."""

from __future__ import annotations

import os
import sys

import click


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yigongti.settings")
    import django

    django.setup()


@click.group()
def main():
    """医共体平台 — compact county medical community platform."""


@main.command()
def migrate():
    """Create or upgrade the database schema."""
    _django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)


@main.command()
@click.option("--population", default=450_000, show_default=True, help="Residents to generate.")
@click.option("--seed", default=1, show_default=True)
@click.option("--reset/--no-reset", default=True, show_default=True, help="Delete an earlier demo first.")
@click.option("--accounts-file", default=None, help="Also write the demo logins to this file.")
def generate(population: int, seed: int, reset: bool, accounts_file: str | None):
    """Generate the demo county (deterministic by --seed); migrates first."""
    _django()
    from django.core.management import call_command

    from yigongti.demo.build import build_demo

    call_command("migrate", interactive=False, verbosity=0)

    logins = build_demo(population=population, seed=seed, reset=reset, progress=True)
    _print_logins(logins, accounts_file)


def _print_logins(logins, accounts_file: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="演示账号 (demo logins) — 密码每次生成时随机产生")
    for col in ("角色", "账号", "密码", "所在"):
        table.add_column(col)
    for row in logins:
        table.add_row(row["role"], row["username"], row["password"], row["where"])
    Console().print(table)
    if accounts_file:
        with open(accounts_file, "w", encoding="utf-8") as fh:
            for row in logins:
                fh.write(f"{row['role']}\t{row['username']}\t{row['password']}\t{row['where']}\n")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=None, type=int, help="gunicorn worker processes (default 2×cores+1).")
@click.option("--dev", is_flag=True, help="Django's development server with auto-reload.")
def serve(host: str, port: int, workers: int | None, dev: bool):
    """Serve the platform (gunicorn, static files through WhiteNoise)."""
    _django()
    if dev:
        from django.core.management import call_command

        call_command("runserver", f"{host}:{port}")
        return
    from gunicorn.app.wsgiapp import run

    workers = workers or (os.cpu_count() or 1) * 2 + 1
    sys.argv = ["gunicorn", "yigongti.wsgi:application", "--bind", f"{host}:{port}", "--workers", str(workers),
                "--threads", "2", "--access-logfile", "-", "--timeout", "120"]
    run()


@main.command()
@click.option("--population", default=30_000, show_default=True,
              help="Residents in the demo (the full county is 450000; it takes longer to load).")
@click.option("--seed", default=1, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
def demo(population: int, seed: int, host: str, port: int):
    """Migrate, generate the demo county and serve it; prints the demo logins."""
    _django()
    from django.core.management import call_command

    from yigongti.demo.build import build_demo

    call_command("migrate", interactive=False, verbosity=0)
    logins = build_demo(population=population, seed=seed, reset=True, progress=True)
    _print_logins(logins, accounts_file=os.path.join(os.environ.get("YIGONGTI_DATA_DIR", "var"), "demo-logins.tsv"))
    click.echo(f"\n打开 http://{host}:{port} 并用上面的账号登录 (open the URL and log in with an account above)\n")
    ctx = click.get_current_context()
    ctx.invoke(serve, host=host, port=port, workers=None, dev=False)


@main.command()
@click.argument("username")
@click.option("--role", required=True, help="city, bureau, community_manager, facility_admin, doctor, nurse, "
              "village_doctor, pharmacist, insurance_officer, dispatcher, public_health, auditor")
@click.option("--facility", "facility_code", default=None, help="Facility code the account works at.")
@click.option("--region", "region_code", default=None, help="12-digit region code (bureau, city).")
@click.option("--superuser", is_flag=True, help="Also give access to the admin site.")
@click.option("--can-unmask", is_flag=True, help="Privilege to see full ID numbers and phones (audited).")
def createuser(username, role, facility_code, region_code, superuser, can_unmask):
    """Create an account; prints a generated password once."""
    _django()
    from yigongti.core.audit import Actor
    from yigongti.core.errors import DomainError
    from yigongti.orgs.models import Region
    from yigongti.orgs.services import create_account, facility_by_code

    try:
        facility = facility_by_code(facility_code) if facility_code else None
        region = Region.objects.filter(code=region_code).first() if region_code else None
        if region_code and region is None:
            raise click.ClickException(f"区划代码 {region_code} 不存在")
        user, password = create_account(Actor(username="cli"), username=username, role=role, facility=facility,
                                         region=region, can_unmask=can_unmask)
    except DomainError as e:
        raise click.ClickException(e.message) from None
    if superuser:
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    click.echo(f"账号 {username} 已创建，密码：{password}")


@main.group()
def audit():
    """The audit trail."""


@audit.command("verify")
def audit_verify():
    """Check the hash chain; exits 1 if any event was altered or deleted."""
    _django()
    from rich.progress import Progress

    from yigongti.core.audit import verify_chain
    from yigongti.core.models import AuditEvent

    with Progress() as bar:
        task = bar.add_task("校验审计链", total=AuditEvent.objects.count())
        result = verify_chain(progress=lambda n: bar.advance(task, n))
    if result.ok:
        click.echo(f"审计链完整：已校验 {result.checked} 条事件")
        return
    for p in result.problems:
        click.echo(f"✗ {p}", err=True)
    click.echo(f"审计链被破坏：{len(result.problems)} 处问题（已校验 {result.checked} 条）", err=True)
    sys.exit(1)


from yigongti.indicators.commands import indicators as _indicators, worker as _worker  # noqa: E402

main.add_command(_indicators)
main.add_command(_worker)


@main.group()
def empi():
    """The resident master index (EMPI)."""


@empi.command("link")
@click.option("--input", "input_path", required=True, help="CSV, Parquet or Excel file of records.")
@click.option("--output", "output_path", required=True, help="clusters.parquet or .csv: record_id, person_id, match_score.")
@click.option("--errors", "errors_path", default=None, help="Error report (default: beside the output).")
def empi_link(input_path: str, output_path: str, errors_path: str | None):
    """Link a whole file of records into persons, in batch (no database needed)."""
    from yigongti.residents.matching.cli import link_command

    summary = link_command(input_path, output_path, errors_path, progress=True)
    if not summary["ok"]:
        raise click.ClickException(f"{summary['error']}（错误报告：{summary['errors_path']}）")


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def manage(ctx):
    """Run a Django management command (e.g. ``yigongti manage createsuperuser``)."""
    _django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["yigongti", *ctx.args])


if __name__ == "__main__":
    main()
