"""WSGI entry point for bench/http_load.py's A/B experiments on the audit append (not for production).

Selected by YGT_BENCH_VARIANT, served by gunicorn with exactly the arguments ``yigongti serve`` uses:

  noaudit  — ``yigongti.core.audit.record`` does nothing: the upper bound of what removing the
             audit write would buy (NOT an option for the platform; it only measures the cost).
  oneshot  — a proposed drop-in for ``audit.record`` that appends the event in ONE SQL statement
             in autocommit: the row lock on the chain head is taken and released inside PostgreSQL
             (lock → compute sha256 → insert → update head → commit), so no Python code, GIL hand-off
             or network round trip runs while the lock is held. The hash is the same
             ``sha256(prev_hash + canonical_json)`` as ``compute_hash``: the canonical JSON is built in
             Python around the seq value (keys are sorted, "seq" sits between "role" and
             "user_agent"), and PostgreSQL splices in seq and prev_hash. ``verify_chain`` checks the
             result (http_load.py runs it after the experiment). Difference from the current code:
             ``at`` is taken just before the lock instead of under it, so two concurrent events may
             carry timestamps out of seq order by the lock wait (micro- to milliseconds).
"""

from __future__ import annotations

import json
import os

from yigongti.wsgi import application  # noqa: F401  (sets Django up)

VARIANT = os.environ.get("YGT_BENCH_VARIANT", "")


def _install_noaudit():
    from yigongti.core import audit

    audit.record = lambda *a, **k: None


def _install_oneshot():
    import datetime as dt

    from django.db import connection, transaction
    from django.utils import timezone

    from yigongti.core import audit
    from yigongti.core.models import AuditEvent

    original = audit.record
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    other = [f for f in fields if f.attname not in ("seq", "prev_hash", "hash")]
    sql = (
        "WITH old AS (SELECT last_seq, last_hash FROM core_audithead WHERE id = 1 FOR UPDATE), "
        "upd AS (UPDATE core_audithead h SET last_seq = old.last_seq + 1, "
        "  last_hash = encode(sha256(convert_to(old.last_hash || %s || (old.last_seq + 1)::text || %s, 'UTF8')), "
        "  'hex') "
        "  FROM old WHERE h.id = 1 RETURNING h.last_seq AS seq, old.last_hash AS prev_hash, h.last_hash AS hash) "
        f"INSERT INTO core_auditevent (seq, prev_hash, hash, {', '.join(f.column for f in other)}) "
        f"SELECT upd.seq, upd.prev_hash, upd.hash, {', '.join(['%s'] * len(other))} FROM upd "
        "RETURNING id, seq, prev_hash, hash"
    )

    def record(who, action, object_type, object_id="", **detail):
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return original(who, action, object_type, object_id, **detail)
        actor = audit._actor_of(who)
        ev = AuditEvent(at=timezone.now(), actor_id=actor.user_id, actor=actor.username, role=actor.role,
                        facility_id=actor.facility_id, action=action, object_type=object_type,
                        object_id=str(object_id)[:64],
                        detail=json.loads(json.dumps(detail, ensure_ascii=False, default=str)),
                        ip=actor.ip, user_agent=actor.user_agent)
        body = {
            "at": ev.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "actor_id": ev.actor_id,
            "actor": ev.actor, "role": ev.role, "facility_id": ev.facility_id, "action": ev.action,
            "object_type": ev.object_type, "object_id": ev.object_id, "detail": ev.detail, "ip": ev.ip,
            "user_agent": ev.user_agent, "seq": 0,
        }
        canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        marker = ',"seq":0,'
        assert canonical.count(marker) == 1
        pre, post = canonical.split(marker)
        pre, post = pre + ',"seq":', "," + post
        values = [f.get_db_prep_save(getattr(ev, f.attname), connection) for f in other]
        with connection.cursor() as cur:  # autocommit: one statement = one transaction
            cur.execute(sql, [pre, post, *values])
            row = cur.fetchone()
        if row is None:  # no head row yet: the original creates it
            return original(who, action, object_type, object_id, **detail)
        ev.pk, ev.seq, ev.prev_hash, ev.hash = row
        return ev

    with transaction.atomic():  # make sure the head row exists
        from yigongti.core.models import AuditHead

        AuditHead.objects.get_or_create(pk=1)
    audit.record = record


if VARIANT == "noaudit":
    _install_noaudit()
elif VARIANT == "oneshot":
    _install_oneshot()
elif VARIANT:
    raise SystemExit(f"unknown YGT_BENCH_VARIANT {VARIANT!r}")
