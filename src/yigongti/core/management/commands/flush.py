"""``flush`` that respects the append-only audit table.

Django's ``flush`` empties every table (DELETE on SQLite, TRUNCATE on PostgreSQL), which the audit
table's triggers refuse. Outside the test suite that refusal stands while the log holds events: nothing
wipes the audit log inside its retention (docs/audit.md) unless the caller says so with
``--include-audit-log`` — the demo's ``--reset``, which wipes the whole database by design. Then a signed
``reset`` line goes to the witness file first (the last seq and hash before the wipe), so that
verification knows the new chain started deliberately and the record of the wipe stays outside the
database. Inside tests (``django.core.mail.outbox`` exists once the test environment is set up) the
triggers are simply dropped for the flush and put back after it."""

from __future__ import annotations

from django.core import mail
from django.core.management.base import CommandError
from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections

from yigongti.core.audit import drop_triggers, install_triggers, note_reset


class Command(DjangoFlush):
    help = DjangoFlush.help + " The audit log is kept unless --include-audit-log is given."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--include-audit-log", action="store_true",
                            help="Also empty the audit log (a signed reset line is appended to the witness).")

    def handle(self, **options):
        conn = connections[options.get("database") or "default"]
        if "core_auditevent" not in conn.introspection.table_names():
            return super().handle(**options)
        testing = hasattr(mail, "outbox")
        if not testing:
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM core_auditevent LIMIT 1")
                has_events = cur.fetchone() is not None
            if has_events and not options.get("include_audit_log"):
                raise CommandError("审计日志只追加：flush 会清空审计事件，已拒绝（审计事件至少保留六个月，"
                                   "见 docs/audit.md）；确需清空整个数据库请加 --include-audit-log")
            if has_events:
                note_reset("flush", using=conn.alias)
        drop_triggers(conn)
        try:
            return super().handle(**options)
        finally:
            install_triggers(conn)
