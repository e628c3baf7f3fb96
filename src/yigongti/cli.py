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
@click.option("--accounts-file", default=None,
              help="Where to write the demo logins (default: demo-logins.tsv in YIGONGTI_DATA_DIR).")
@click.option("--today", "today", default=None, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The day the demo's activity runs up to (default: the real date).")
def generate(population: int, seed: int, reset: bool, accounts_file: str | None, today):
    """Generate the demo county (deterministic by --seed and --today); migrates first."""
    _django()
    from django.core.management import call_command

    from yigongti.demo.build import build_demo

    call_command("migrate", interactive=False, verbosity=0)

    logins = build_demo(population=population, seed=seed, reset=reset, progress=True,
                        today=today.date() if today else None)
    # the printout sends the reader to the accounts file for the other recovery codes: always write one
    from django.conf import settings

    _print_logins(logins, accounts_file or str(settings.DATA_DIR / "demo-logins.tsv"))


def _print_logins(logins, accounts_file: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="演示账号 (demo logins) — 密码每次生成时随机产生")
    # What one types in full never wraps or shortens; the role and the place give way on a narrow terminal.
    table.add_column("角色")
    table.add_column("账号", no_wrap=True, min_width=19)
    table.add_column("密码", no_wrap=True, min_width=14)
    table.add_column("所在")
    table.add_column("备用验证码 (2FA)", no_wrap=True, min_width=13)
    for row in logins:
        codes = row.get("recovery_codes") or []
        table.add_row(row["role"], row["username"], row["password"] or "—", row["where"],
                      f"{codes[0]} (+{len(codes) - 1})" if codes else "—")
    Console().print(table)
    if any(row.get("recovery_codes") for row in logins):
        Console().print("这些账号登录时还需第二步验证：输入一个备用码（每个只能用一次，其余见账号文件），"
                        "或把账号文件中的 TOTP 密钥加入身份验证器应用。\n"
                        "These accounts also need a second factor: type a recovery code (one use each; the rest are "
                        "in the accounts file) or add the TOTP secret from that file to an authenticator app.")
    if accounts_file:
        with open(accounts_file, "w", encoding="utf-8") as fh:
            fh.write("role\tusername\tpassword\twhere\ttotp_secret\trecovery_codes\n")
            for row in logins:
                fh.write(f"{row['role']}\t{row['username']}\t{row['password']}\t{row['where']}\t"
                         f"{row.get('totp_secret', '')}\t{' '.join(row.get('recovery_codes') or [])}\n")
        os.chmod(accounts_file, 0o600)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=None, type=int,
              help="gunicorn worker processes (default YIGONGTI_WEB_WORKERS, else 2×cores+1).")
@click.option("--threads", default=None, type=int,
              help="threads per worker (default YIGONGTI_WEB_THREADS, else 1: sync workers).")
@click.option("--dev", is_flag=True, help="Django's development server with auto-reload.")
def serve(host: str, port: int, workers: int | None, dev: bool, threads: int | None = None):
    """Serve the platform (gunicorn, static files through WhiteNoise)."""
    os.environ.setdefault("YIGONGTI_PROCESS", "web")  # before settings load: web queries get a statement timeout
    _django()
    if dev:
        from django.core.management import call_command

        call_command("runserver", f"{host}:{port}")
        return
    from django.db import connections
    from django.urls import get_resolver
    from gunicorn.app.wsgiapp import run

    # Import the URLconf here, before gunicorn forks: every app's views and API schemas and the name-matching
    # tables (~1.2 s) are then inherited by the workers instead of being paid by each one's first request.
    get_resolver().url_patterns  # noqa: B018 (the import is the point)
    connections.close_all()  # no connection may be shared across the fork
    # A request is CPU-bound Python (templates, ORM) with short database waits, and every person-level read
    # appends to the audit chain under one row lock. Threads in a process share its GIL, so a thread holding
    # that lock waits for its siblings' Python before it can commit, and every other search queues behind it
    # (measured: 3 workers × 4 threads served 8 req/s with 1.2 backends waiting on the lock; 4 single-threaded
    # workers 29 req/s, 0.06 waiting — bench/README.md, "Holding load"). So: single-threaded (sync) workers,
    # 2 × cores + 1 of them to overlap the database waits.
    workers = workers or int(os.environ.get("YIGONGTI_WEB_WORKERS") or (os.cpu_count() or 1) * 2 + 1)
    threads = threads or int(os.environ.get("YIGONGTI_WEB_THREADS") or 1)
    sys.argv = ["gunicorn", "yigongti.wsgi:application", "--bind", f"{host}:{port}", "--workers", str(workers),
                "--threads", str(threads), "--access-logfile", "-", "--timeout", "120"]
    run()


@main.command()
@click.option("--population", default=30_000, show_default=True,
              help="Residents in the demo (the full county is 450000; it takes longer to load).")
@click.option("--seed", default=1, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
def demo(population: int, seed: int, host: str, port: int):
    """Migrate, generate the demo county and serve it; prints the demo logins."""
    os.environ.setdefault("YIGONGTI_ECG_SIMULATOR", "1")  # the crews of the demo have no ECG machine to upload from
    _django()
    from django.core.management import call_command

    from yigongti.demo.build import build_demo

    call_command("migrate", interactive=False, verbosity=0)
    logins = build_demo(population=population, seed=seed, reset=True, progress=True)
    _print_logins(logins, accounts_file=os.path.join(os.environ.get("YIGONGTI_DATA_DIR", "var"), "demo-logins.tsv"))
    click.echo(f"\n打开 http://{host}:{port} 并用上面的账号登录 (open the URL and log in with an account above)\n")
    from yigongti.telemedicine.hl7.commands import start_demo_children, stop_children

    children = start_demo_children(host)  # the HL7 listener and the worker (escalation timers), stopped with us
    try:
        ctx = click.get_current_context()
        ctx.invoke(serve, host=host, port=port, workers=None, dev=False)
    finally:
        stop_children(children)


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
    from yigongti.core.actor import Actor
    from yigongti.core.errors import DomainError
    from yigongti.orgs.models import Region
    from yigongti.orgs.services import create_account, facility_by_code

    try:
        facility = facility_by_code(facility_code) if facility_code else None
        region = Region.objects.filter(code=region_code).first() if region_code else None
        if region_code and region is None:
            raise click.ClickException(f"区划代码 {region_code} 不存在")
        user, password = create_account(actor=Actor.system("cli"), username=username, role=role, facility=facility,
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
@click.option("--witness", "witnesses", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Also compare with an anchors export brought back from write-once storage (repeatable).")
def audit_verify(witnesses: tuple[str, ...]):
    """Check the keyed chain against the witness; exits 1 if anything was edited, deleted, inserted or cut off."""
    _django()
    from pathlib import Path

    from rich.progress import Progress

    from yigongti.core.audit import verify_chain
    from yigongti.core.models import AuditEvent

    with Progress(transient=True) as bar:
        task = bar.add_task("校验审计链", total=AuditEvent.objects.count())
        result = verify_chain(progress=lambda n: bar.advance(task, n), witnesses=[Path(w) for w in witnesses])
    for note in result.notes:
        click.echo(f"! {note}", err=True)
    if result.ok:
        click.echo(f"审计链完整：已校验 {result.checked} 条事件，与 {result.anchors_checked} 个见证锚点一致")
        return
    for f in result.findings:
        click.echo(f"✗ [{f.label}] {f.message}", err=True)
    kinds = "、".join(sorted({f.label for f in result.findings}))
    click.echo(f"审计链被破坏（{kinds}）：{len(result.findings)} 处问题（已校验 {result.checked} 条）", err=True)
    sys.exit(1)


@audit.command("anchor")
def audit_anchor():
    """Append the chain's head (seq, hash, time) to the append-only witness file now."""
    _django()
    from yigongti.core.audit import anchor_now, witness_path

    line = anchor_now()
    if line is None:
        click.echo(f"链头未变化（或链为空），未写入：{witness_path()}")
    else:
        click.echo(f"已锚定事件 {line['seq']} 到 {witness_path()}")


@audit.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="File to write (JSON lines).")
@click.option("--events", is_flag=True, help="Export the events themselves instead of the anchors.")
@click.option("--since", default=0, show_default=True, help="Only what comes after this sequence number.")
def audit_export(out: str, events: bool, since: int):
    """Signed JSON lines of the anchors (or of the events), for write-once storage; `verify --witness` reads them."""
    _django()
    import json

    from yigongti.core.audit import export_lines

    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    n = 0
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for line in export_lines("events" if events else "anchors", since):
            fh.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    click.echo(f"已导出 {n - 1} 行（另加签名行）到 {out}")


@audit.command("rotate-key")
def audit_rotate_key():
    """Start signing new events with a new key; the old key stays in the key file to verify older ones."""
    _django()
    from django.core.exceptions import ImproperlyConfigured

    from yigongti.core.audit import anchor_now, rotate_key

    anchor_now()
    try:
        old, new = rotate_key()
    except ImproperlyConfigured as e:
        raise click.ClickException(str(e)) from None
    anchor_now()
    click.echo(f"审计密钥已更换：{old} → {new}（请重启 serve 和 worker 进程）")


@audit.command("grant-app-role")
@click.argument("role")
@click.option("--owner", default="", help="Role that owns the tables and runs migrations (default: the current one).")
@click.option("--execute", is_flag=True, help="Run the statements (as the owner) instead of printing them.")
def audit_grant_app_role(role: str, owner: str, execute: bool):
    """PostgreSQL: grants for the role the application runs as — no UPDATE, DELETE or TRUNCATE on audit events."""
    _django()
    from django.db import connection

    from yigongti.core.audit import app_role_sql

    if connection.vendor != "postgresql":
        raise click.ClickException("只适用于 PostgreSQL（SQLite 没有角色，靠触发器保证只追加）")
    statements = app_role_sql(role, connection.settings_dict["NAME"], owner)
    if not execute:
        click.echo("\n".join(s + ";" for s in statements))
        return
    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)
    click.echo(f"已为角色 {role} 授权：可读写业务表，审计事件只能读取和追加")


from yigongti.indicators.commands import indicators as _indicators  # noqa: E402
from yigongti.indicators.commands import worker as _worker  # noqa: E402

main.add_command(_indicators)
main.add_command(_worker)

from yigongti.insurance.commands import drg as _drg  # noqa: E402

main.add_command(_drg)

from yigongti.telemedicine.hl7.commands import hl7 as _hl7  # noqa: E402

main.add_command(_hl7)

from yigongti.emergency.commands import emergency as _emergency  # noqa: E402

main.add_command(_emergency)


@main.group()
def empi():
    """The resident master index (EMPI)."""


@empi.command("link")
@click.option("--input", "input_path", required=True, help="CSV, Parquet or Excel file of records.")
@click.option("--output", "output_path", required=True,
              help="clusters.parquet or .csv: record_id, person_id, match_score.")
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
