"""Appending to and verifying the audit chain.

Each event's hash is an HMAC-SHA256, under a key kept outside the database, over the previous hash and a
canonical JSON of its fields (its sequence number and key id included). Altering, inserting or deleting an
event breaks the chain, and whoever can write the database but does not hold the key cannot recompute the
hashes after an edit. Events written before the chain was keyed keep their plain SHA-256 hashes (key id
"") and are sealed by the first keyed event, a ``seal`` whose MAC covers the last legacy hash.

The head row is locked for each append (SELECT … FOR UPDATE on PostgreSQL; SQLite serialises writers
itself). Every ``YIGONGTI_AUDIT_ANCHOR_EVERY`` events, and from the worker every few minutes, the head
(seq, hash, time) is appended to a witness file outside the database, so a cut-off tail is noticed even
when the head row was moved back with it. Operations (keys, rotation, witness, retention, the database
role): docs/audit.md.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import hashlib
import hmac
import json
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import connection as default_connection
from django.db import transaction
from django.db.models.signals import post_migrate
from django.utils import timezone

from . import jobs
from .actor import Actor, actor_of
from .models import AuditEvent, AuditHead

__all__ = ["Actor", "compute_hash", "record", "verify_chain"]

log = logging.getLogger(__name__)

GENESIS = "0" * 64
LEGACY = ""  # key id of the events hashed with plain SHA-256 before the chain was keyed
RETENTION_DAYS = 183  # at least six months (等保 2.0): nothing in the platform deletes events
ANCHOR_JOB = "audit.anchor"


# ---------------------------------------------------------------------------------------------- keys


def key_id_of(secret: bytes) -> str:
    """A short public name for a key, derived from it: events say which key signed them without
    revealing it, and a wrong key shows up as an unknown id rather than as thousands of bad hashes."""
    return hashlib.sha256(b"yigongti-audit-key-id:" + secret).hexdigest()[:8]


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, bytes]

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]


def _key_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def _check_strength(secret: str, where: str) -> bytes:
    if len(secret) < 32:
        raise ImproperlyConfigured(f"审计密钥太短（{where}）：至少 32 个字符")
    return secret.encode()


def _create_key_file(path: Path) -> None:
    """Write the key to a private temporary file and link it into place, so that two processes starting
    at once never read a half-written file and exactly one key wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write("# yigongti audit HMAC keys: the last line signs new events, earlier lines verify old ones\n")
            fh.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_keyring() -> Keyring:
    """The current key (``YIGONGTI_AUDIT_KEY``; without it the last line of the key file, generated 0600 on
    first use) and the retired keys still needed to verify older events (``YIGONGTI_AUDIT_RETIRED_KEYS``,
    and the earlier lines of the key file when the file is used)."""
    env_key = getattr(settings, "YIGONGTI_AUDIT_KEY", "") or ""
    path = Path(getattr(settings, "YIGONGTI_AUDIT_KEY_FILE", settings.DATA_DIR / "audit_key"))
    file_keys: list[str] = []
    if not env_key:  # a key from the environment replaces the file altogether
        if not path.exists():
            _create_key_file(path)
        file_keys = _key_lines(path.read_text())
        if not file_keys:
            raise ImproperlyConfigured(f"审计密钥文件 {path} 中没有密钥")
    keys: dict[str, bytes] = {}
    for secret in [*getattr(settings, "YIGONGTI_AUDIT_RETIRED_KEYS", []), *file_keys]:
        raw = _check_strength(secret, str(path))
        keys[key_id_of(raw)] = raw
    current = _check_strength(env_key, "YIGONGTI_AUDIT_KEY") if env_key else file_keys[-1].encode()
    keys[key_id_of(current)] = current
    return Keyring(key_id_of(current), keys)


_KEYRING: Keyring | None = None


def keyring() -> Keyring:
    global _KEYRING
    if _KEYRING is None:
        _KEYRING = load_keyring()
    return _KEYRING


def _forget_keys(setting, **kwargs):
    global _KEYRING
    if setting.startswith("YIGONGTI_AUDIT_") or setting == "DATA_DIR":
        _KEYRING = None


setting_changed.connect(_forget_keys, dispatch_uid="yigongti.audit.keys")


def rotate_key() -> tuple[str, str]:
    """Append a new key to the key file (the old ones stay, to verify older events) and record the change
    under the new key. Not possible when the key comes from the environment: there the operator moves the
    old key to ``YIGONGTI_AUDIT_RETIRED_KEYS`` and sets a new one."""
    global _KEYRING
    if getattr(settings, "YIGONGTI_AUDIT_KEY", ""):
        raise ImproperlyConfigured("审计密钥来自环境变量 YIGONGTI_AUDIT_KEY：请把旧密钥移到 "
                                   "YIGONGTI_AUDIT_RETIRED_KEYS，再设置新密钥并重启服务")
    old = keyring()
    path = Path(settings.YIGONGTI_AUDIT_KEY_FILE)
    ends_cleanly = path.read_bytes().endswith(b"\n")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    with os.fdopen(fd, "a") as fh:
        fh.write(("" if ends_cleanly else "\n") + secrets.token_urlsafe(48) + "\n")
    _KEYRING = None
    new = keyring()
    record(Actor.system("cli"), "key_rotate", "audit_chain", "", previous_key=old.current_id, key=new.current_id)
    return old.current_id, new.current_id


# --------------------------------------------------------------------------------------------- hashes


def _canonical(ev, *, keyed: bool) -> bytes:
    body = {
        "seq": ev.seq,
        "at": ev.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": ev.actor_id,
        "actor": ev.actor,
        "role": ev.role,
        "facility_id": ev.facility_id,
        "action": ev.action,
        "object_type": ev.object_type,
        "object_id": ev.object_id,
        "detail": ev.detail,
        "ip": ev.ip,
        "user_agent": ev.user_agent,
    }
    if keyed:
        body["key_id"] = ev.key_id
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def legacy_hash(prev_hash: str, ev) -> str:
    """The pre-key hash (plain SHA-256): anyone can recompute it, which is why it is no longer written."""
    return hashlib.sha256(prev_hash.encode() + _canonical(ev, keyed=False)).hexdigest()


def keyed_hash(key: bytes, prev_hash: str, ev) -> str:
    return hmac.digest(key, prev_hash.encode() + _canonical(ev, keyed=True), "sha256").hex()


def compute_hash(prev_hash: str, ev, ring: Keyring | None = None) -> str | None:
    """The hash ``ev`` should carry, under the key its ``key_id`` names (None when that key is unknown)."""
    if ev.key_id == LEGACY:
        return legacy_hash(prev_hash, ev)
    key = (ring or keyring()).keys.get(ev.key_id)
    return keyed_hash(key, prev_hash, ev) if key is not None else None


_actor_of = actor_of  # the name bench/_wsgi_variants.py uses


def _anchor_every() -> int:
    return max(int(getattr(settings, "YIGONGTI_AUDIT_ANCHOR_EVERY", 100)), 1)


_pending: contextvars.ContextVar[list[AuditEvent] | None] = contextvars.ContextVar("audit_pending", default=None)


def record(who, action: str, object_type: str, object_id: object = "", **detail) -> AuditEvent:
    """Append one event. ``who`` is a request, a user or an Actor.

    Three statements (lock the head, insert, move the head) and an HMAC; every N-th event also appends
    the head to the witness file once the transaction has committed (no query). Inside ``batch()`` the event
    is appended when the block ends (the returned event has no ``seq`` yet)."""
    actor = actor_of(who)
    ev = AuditEvent(
        actor_id=actor.user_id,
        actor=actor.username,
        role=actor.role,
        facility_id=actor.facility_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        detail=json.loads(json.dumps(detail, ensure_ascii=False, default=str)),
        ip=actor.ip,
        user_agent=actor.user_agent,
    )
    pending = _pending.get()
    if pending is not None:
        pending.append(ev)
        return ev
    _append([ev])
    return ev


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Append the events recorded in the block together when it ends (also when it raises): the same events,
    with consecutive sequence numbers, under one lock of the head and one move of it instead of one each — a
    home page that reads three panels of patients writes its three events in one transaction. Nested, the
    outermost block appends."""
    if _pending.get() is not None:
        yield
        return
    pending: list[AuditEvent] = []
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
        if pending:
            _append(pending)


def _append(events: list[AuditEvent]) -> None:
    ring = keyring()
    # no savepoint: a failure here propagates and the caller's whole transaction rolls back anyway
    with transaction.atomic(savepoint=False):
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        seq, prev = head.last_seq, head.last_hash
        for ev in events:
            seq += 1
            ev.seq, ev.at, ev.prev_hash, ev.key_id = seq, timezone.now(), prev, ring.current_id
            ev.hash = keyed_hash(ring.current, ev.prev_hash, ev)
            prev = ev.hash
        if len(events) == 1:
            events[0].save(force_insert=True)
        else:
            AuditEvent.objects.bulk_create(events)  # one INSERT for the batch (append-only: never an update)
        AuditHead.objects.filter(pk=1).update(last_seq=seq, last_hash=prev)
    every = _anchor_every()
    for ev in events:
        if ev.seq % every == 0:
            transaction.on_commit(functools.partial(_anchor_quietly, ev.seq, ev.hash, ev.at))


def seal_legacy(event_model=AuditEvent, head_model=AuditHead) -> object | None:
    """Close the unkeyed prefix of the chain with a keyed ``seal`` event whose MAC covers the last legacy
    hash: from then on, re-hashing an old event with plain SHA-256 breaks the seal. Run once by migration
    0004 (with the historical models); does nothing if the chain is empty or already keyed."""
    last = event_model.objects.order_by("-seq").first()
    if last is None or last.key_id != LEGACY:
        return None
    ring = keyring()
    intact, prev = True, GENESIS
    for ev in event_model.objects.order_by("seq").iterator(chunk_size=5000):
        intact = intact and ev.prev_hash == prev and legacy_hash(prev, ev) == ev.hash
        prev = ev.hash
    seal = event_model(
        seq=last.seq + 1, at=timezone.now(), actor_id=None, actor="migration", role="", facility_id=None,
        action="seal", object_type="audit_chain", object_id="", ip="", user_agent="",
        detail={"legacy_through": last.seq, "legacy_head": last.hash, "legacy_intact": intact},
        prev_hash=last.hash, key_id=ring.current_id)
    seal.hash = keyed_hash(ring.current, seal.prev_hash, seal)
    seal.save(force_insert=True)
    head_model.objects.update_or_create(pk=1, defaults={"last_seq": seal.seq, "last_hash": seal.hash})
    return seal


# -------------------------------------------------------------------------------- append-only tables

TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS core_auditevent_no_update BEFORE UPDATE ON core_auditevent "
        "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS core_auditevent_no_delete BEFORE DELETE ON core_auditevent "
        "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP "
        "USING ERRCODE = 'insufficient_privilege'; END $$",
        "DROP TRIGGER IF EXISTS core_auditevent_no_change ON core_auditevent",
        "CREATE TRIGGER core_auditevent_no_change BEFORE UPDATE OR DELETE ON core_auditevent "
        "FOR EACH ROW EXECUTE FUNCTION core_auditevent_append_only()",
        "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent",
        "CREATE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON core_auditevent "
        "FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_append_only()",
    ],
}
DROP_TRIGGERS = {
    "sqlite": ["DROP TRIGGER IF EXISTS core_auditevent_no_update",
               "DROP TRIGGER IF EXISTS core_auditevent_no_delete"],
    "postgresql": ["DROP TRIGGER IF EXISTS core_auditevent_no_change ON core_auditevent",
                   "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent"],
}


def install_triggers(conn=None) -> None:
    conn = conn or default_connection
    with conn.cursor() as cur:
        for sql in TRIGGERS.get(conn.vendor, []):
            cur.execute(sql)


def drop_triggers(conn=None) -> None:
    conn = conn or default_connection
    with conn.cursor() as cur:
        for sql in DROP_TRIGGERS.get(conn.vendor, []):
            cur.execute(sql)


def triggers_present(conn=None) -> bool | None:
    """Whether the append-only triggers are in place (None on a database we have none for)."""
    conn = conn or default_connection
    with conn.cursor() as cur:
        if conn.vendor == "sqlite":
            cur.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'core_auditevent'")
            return cur.fetchone()[0] >= 2
        if conn.vendor == "postgresql":
            cur.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'core_auditevent'::regclass "
                        "AND NOT tgisinternal AND tgenabled <> 'D'")
            return cur.fetchone()[0] >= 2
    return None


def _reinstall_triggers(sender, using="default", **kwargs):
    """SQLite drops a table's triggers when a migration rebuilds the table: put them back after every
    migrate (idempotent)."""
    if getattr(sender, "name", "") != "yigongti.core":
        return
    from django.db import connections

    conn = connections[using]
    if "core_auditevent" in conn.introspection.table_names():
        install_triggers(conn)


post_migrate.connect(_reinstall_triggers, dispatch_uid="yigongti.audit.triggers")


def app_role_sql(role: str, database: str, owner: str = "") -> list[str]:
    """GRANTs for the PostgreSQL role the application runs as: every table's rows but not the audit
    events', which it may only insert and read; it owns nothing, so it cannot drop the triggers either."""
    q = default_connection.ops.quote_name
    r = q(role)
    sql = [
        f"GRANT CONNECT ON DATABASE {q(database)} TO {r}",
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON core_auditevent FROM {r}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON django_migrations FROM {r}",
    ]
    for_owner = f" FOR ROLE {q(owner)}" if owner else ""
    sql += [
        f"ALTER DEFAULT PRIVILEGES{for_owner} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES{for_owner} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {r}",
    ]
    return sql


# ------------------------------------------------------------------------------------------- witness


def witness_path() -> Path:
    return Path(getattr(settings, "YIGONGTI_AUDIT_WITNESS", settings.DATA_DIR / "audit_witness.jsonl"))


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _line_mac(key: bytes, body: dict) -> str:
    payload = json.dumps({k: v for k, v in body.items() if k != "mac"}, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, b"anchor:" + payload.encode(), hashlib.sha256).hexdigest()


def signed(body: dict, ring: Keyring | None = None) -> dict:
    ring = ring or keyring()
    body = {**body, "key_id": ring.current_id}
    body["mac"] = _line_mac(ring.current, body)
    return body


def _append_only(path: Path) -> None:
    """Ask the kernel to refuse anything but appends to the file (root only; harmless elsewhere)."""
    if not getattr(settings, "YIGONGTI_AUDIT_WITNESS_CHATTR", True) or not sys.platform.startswith("linux"):
        return
    if os.geteuid() != 0:
        return
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(["chattr", "+a", str(path)], capture_output=True, timeout=5, check=False)


def append_witness(line: dict, path: Path | None = None) -> None:
    path = path or witness_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n").encode())
    finally:
        os.close(fd)
    if new:
        _append_only(path)


def _chain_id() -> str:
    """The chain a witness line belongs to: the hash of its first event (a new database is a new chain)."""
    return AuditEvent.objects.filter(seq=1).values_list("hash", flat=True).first() or ""


def anchor_event(seq: int, digest: str, at: dt.datetime, path: Path | None = None) -> dict:
    line = signed({"type": "anchor", "seq": seq, "hash": digest, "at": _iso(at),
                   "written": _iso(timezone.now()), "chain": _chain_id()})
    append_witness(line, path)
    return line


def note_reset(reason: str, using: str = "default") -> dict | None:
    """Before a deliberate wipe of the whole database (the demo's reset): a signed line in the witness with
    the chain's last state, after which verification starts the witness afresh."""
    last = AuditEvent.objects.using(using).order_by("-seq").values("seq", "hash", "at").first()
    if last is None:
        return None
    first = AuditEvent.objects.using(using).filter(seq=1).values_list("hash", flat=True).first() or ""
    line = signed({"type": "reset", "reason": reason, "seq": last["seq"], "hash": last["hash"],
                   "at": _iso(last["at"]), "written": _iso(timezone.now()), "chain": first})
    append_witness(line)
    return line


def _anchor_quietly(seq: int, digest: str, at: dt.datetime) -> None:
    try:
        anchor_event(seq, digest, at)
    except Exception:  # a full disk must not fail the request whose event was already committed
        log.exception("could not append to the audit witness %s", witness_path())


def read_witness(path: Path) -> list[dict]:
    if not path.exists():
        return []
    lines = []
    with path.open(encoding="utf-8") as fh:
        for n, raw in enumerate(fh, 1):
            raw = raw.strip()
            if not raw:
                continue
            try:
                item = json.loads(raw)
            except ValueError:
                item = {"type": "unreadable", "line": n}
            if isinstance(item, dict):
                item.setdefault("_source", f"{path.name}:{n}")
                lines.append(item)
    return lines


def anchor_now(path: Path | None = None) -> dict | None:
    """Append the current head to the witness unless it is already the last anchor there."""
    path = path or witness_path()
    last = AuditEvent.objects.order_by("-seq").values("seq", "hash", "at").first()
    if last is None:
        return None
    anchors = [a for a in read_witness(path)[-20:] if a.get("type") == "anchor"]
    if anchors and anchors[-1].get("seq") == last["seq"] and anchors[-1].get("hash") == last["hash"]:
        return None
    return anchor_event(last["seq"], last["hash"], last["at"], path)


@jobs.job_handler(ANCHOR_JOB)
def anchor_job(job) -> dict:
    line = anchor_now()
    return {"seq": line["seq"]} if line else {}


@jobs.recurring
def schedule_anchor(now: dt.datetime | None = None) -> None:
    """The next anchoring slot (every ``YIGONGTI_AUDIT_ANCHOR_MINUTES``), queued once."""
    minutes = max(int(getattr(settings, "YIGONGTI_AUDIT_ANCHOR_MINUTES", 10)), 1)
    now = now or timezone.now()
    slot = now.replace(minute=now.minute - now.minute % minutes, second=0, microsecond=0)
    due = slot + dt.timedelta(minutes=minutes)
    jobs.schedule(ANCHOR_JOB, due, key=due.strftime("%Y%m%d%H%M"))


VERIFY_JOB = "audit.verify"


@jobs.job_handler(VERIFY_JOB)
def verify_job(job) -> dict:
    """The nightly check: verify the whole chain; if anything is wrong, tell every auditor (urgent)."""
    result = verify_chain()
    record(Actor.system("worker"), "verify", "audit_chain", "", ok=result.ok, checked=result.checked,
           anchors=result.anchors_checked, findings=sorted(result.kinds))
    if not result.ok:
        from django.contrib.auth import get_user_model

        from . import notify

        auditors = get_user_model()._default_manager.filter(role="auditor", is_active=True)
        lines = [f"[{f.label}] {f.message}" for f in result.findings[:20]]
        notify.notify(list(auditors), "audit_chain", "审计链校验发现问题：" + "、".join(sorted(
            {f.label for f in result.findings})), "\n".join(lines), url="/audit/", urgent=True)
    return {"ok": result.ok, "checked": result.checked, "findings": [f.message for f in result.findings[:20]]}


@jobs.recurring
def schedule_verification(now: dt.datetime | None = None) -> None:
    """Tonight's verification at 03:30 local time, queued once per night."""
    local = timezone.localtime(now or timezone.now())
    night = (local + dt.timedelta(days=1)).replace(hour=3, minute=30, second=0, microsecond=0)
    jobs.schedule(VERIFY_JOB, night, key=night.strftime("%Y-%m-%d"))


# -------------------------------------------------------------------------------------------- export


def export_lines(what: str = "anchors", since: int = 0) -> Iterator[dict]:
    """Signed JSON lines for write-once storage: the witness's anchors plus the current head, or the
    events themselves; the last line signs the count and a digest of every line before it."""
    ring = keyring()
    digest = hashlib.sha256()
    count = 0

    def out(item: dict) -> dict:
        nonlocal count
        digest.update(json.dumps(item, ensure_ascii=False, sort_keys=True).encode() + b"\n")
        count += 1
        return item

    if what == "events":
        for ev in _events(since):
            yield out({"type": "event", "seq": ev.seq, "at": _iso(ev.at), "actor_id": ev.actor_id, "actor": ev.actor,
                       "role": ev.role, "facility_id": ev.facility_id, "action": ev.action,
                       "object_type": ev.object_type, "object_id": ev.object_id, "detail": ev.detail, "ip": ev.ip,
                       "user_agent": ev.user_agent, "prev_hash": ev.prev_hash, "hash": ev.hash, "key_id": ev.key_id})
    else:
        for a in read_witness(witness_path()):
            if a.get("type") == "reset" or (a.get("type") == "anchor" and int(a.get("seq") or 0) > since):
                yield out({k: v for k, v in a.items() if k != "_source"})
        last = AuditEvent.objects.order_by("-seq").values("seq", "hash", "at").first()
        if last is not None:
            yield out(signed({"type": "anchor", "seq": last["seq"], "hash": last["hash"], "at": _iso(last["at"]),
                              "written": _iso(timezone.now()), "chain": _chain_id()}, ring))
    yield signed({"type": "export", "what": what, "lines": count, "sha256": digest.hexdigest(),
                  "written": _iso(timezone.now())}, ring)


# -------------------------------------------------------------------------------------------- verify

KINDS = {
    "edited": "被篡改",
    "deleted": "被删除",
    "inserted": "被插入",
    "truncated": "被截断",
    "key_mismatch": "密钥不符",
}


@dataclass
class Finding:
    kind: str  # one of KINDS
    first: int
    last: int
    message: str

    @property
    def label(self) -> str:
        return KINDS[self.kind]


@dataclass
class VerifyResult:
    checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    anchors_checked: int = 0
    notes: list[str] = field(default_factory=list)
    last_seq: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def problems(self) -> list[str]:
        return [f.message for f in self.findings]

    @property
    def kinds(self) -> set[str]:
        return {f.kind for f in self.findings}

    def add(self, kind: str, first: int, last: int, message: str) -> None:
        self.findings.append(Finding(kind, first, last, message))


def _span(first: int, last: int) -> str:
    return f"事件 {first}" if first == last else f"事件 {first}–{last}（共 {last - first + 1} 条）"


_FIELDS = ("id", "seq", "at", "actor_id", "actor", "role", "facility_id", "action", "object_type", "object_id",
           "detail", "ip", "user_agent", "prev_hash", "hash", "key_id")


class _Row:
    """An event as read for verification and export: plain attributes, no model instance (3× faster)."""

    __slots__ = _FIELDS

    def __init__(self, values):
        for name, value in zip(_FIELDS, values, strict=True):
            setattr(self, name, value)


def _events(since: int = 0, batch: int = 5000) -> Iterator:
    last = since
    while True:
        chunk = list(AuditEvent.objects.filter(seq__gt=last).order_by("seq").values_list(*_FIELDS)[:batch])
        if not chunk:
            return
        for values in chunk:
            yield _Row(values)
        last = chunk[-1][1]


def _with_next(items: Iterable) -> Iterator[tuple]:
    it = iter(items)
    try:
        cur = next(it)
    except StopIteration:
        return
    for nxt in it:
        yield cur, nxt
        cur = nxt
    yield cur, None


class _Runs:
    """Consecutive events with the same problem are reported as one range, not 43,000 lines."""

    def __init__(self, result: VerifyResult):
        self.result = result
        self.open: dict[str, list] = {}

    def add(self, kind: str, seq: int, flag: bool = False, extra: str = "") -> None:
        run = self.open.get(kind)
        if run and run[1] == seq - 1 and run[3] == extra:
            run[1] = seq
            run[2] += flag
            return
        self.close(kind)
        self.open[kind] = [seq, seq, int(flag), extra]

    def close(self, kind: str | None = None) -> None:
        for k in [kind] if kind else list(self.open):
            run = self.open.pop(k, None)
            if run is None:
                continue
            first, last, flagged, extra = run
            span = _span(first, last)
            if k == "edited":
                msg = f"{span}的签名与内容不符：内容或哈希被改写（篡改）"
                if flagged:
                    msg += f"；其中 {flagged} 条的哈希是不用密钥重算的普通 SHA-256"
            elif k == "key_mismatch":
                msg = (f"{span}由密钥 {extra} 签名，当前密钥环中没有这把密钥"
                       "（配置了错误的密钥，或缺少轮换前的旧密钥）")
            elif k == "legacy":
                msg = (f"{span}是无密钥的旧式 SHA-256 哈希，却没有被密钥封存"
                       "（可能被改写后降级重算）")
                k = "key_mismatch"
            else:  # inserted
                msg = f"{span}不属于原链：被插入（其后事件的前序哈希绕过了它）"
            self.result.add(k, first, last, msg)


def verify_chain(progress: Callable[[int], None] | None = None, witnesses: Iterable[Path] = ()) -> VerifyResult:
    """Walk the chain from the start and compare it with the witness file(s); report every edited,
    deleted, inserted or cut-off event and every event signed by a key we do not hold."""
    result = VerifyResult()
    ring = keyring()
    runs = _Runs(result)
    head0 = AuditHead.objects.filter(pk=1).values("last_seq", "last_hash").first()
    anchors = _load_anchors(result, ring, [witness_path(), *witnesses])
    seen_hash: dict[int, str] = {}  # authentic seq → stored hash, to compare with the anchors

    prev_hash = GENESIS  # the stored hash of the last event that belongs to the chain
    expected = 1
    shift = 0  # events inserted so far: the authentic ones after them sit that many places later
    trouble = False  # the event before this one was already reported
    legacy_from: int | None = None
    first_hash = ""
    last_seq = 0
    for ev, nxt in _with_next(_events()):
        result.checked += 1
        last_seq = ev.seq
        if progress:
            progress(1)
        if ev.seq == 1:
            first_hash = ev.hash
        if ev.seq > expected:
            runs.close()
            result.add("deleted", expected, ev.seq - 1, f"{_span(expected, ev.seq - 1)}缺失（被删除）")
            trouble = True
        expected = ev.seq + 1

        if ev.key_id == LEGACY:
            good = legacy_hash(ev.prev_hash, ev) == ev.hash
            if legacy_from is None:
                legacy_from = ev.seq
        elif ev.key_id not in ring.keys:
            runs.add("key_mismatch", ev.seq, extra=ev.key_id)
            prev_hash, trouble = ev.hash, True
            continue
        else:
            key = ring.keys[ev.key_id]
            good = hmac.compare_digest(keyed_hash(key, ev.prev_hash, ev), ev.hash)
            if not good and shift:  # renumbered by an insertion before it?
                ev.seq -= shift
                good = hmac.compare_digest(keyed_hash(key, ev.prev_hash, ev), ev.hash)
                ev.seq += shift
        linked = ev.prev_hash == prev_hash

        if good:
            runs.close("edited")
            runs.close("inserted")
            if ev.key_id != LEGACY and legacy_from is not None:
                if not (ev.action == "seal" and linked):
                    _unsealed(result, legacy_from, ev.seq - 1)
                legacy_from = None
            if not linked and not trouble:
                result.add("edited", ev.seq, ev.seq, f"事件 {ev.seq} 的前序哈希与链不符（链被改接）")
            seen_hash[ev.seq - shift] = ev.hash
            prev_hash, trouble = ev.hash, False
            continue

        # The stored hash does not match the content under its key.
        if nxt is not None and nxt.prev_hash == prev_hash:
            runs.close("edited")
            runs.add("inserted", ev.seq)
            shift += 1
            continue  # not part of the chain: the next event links past it
        runs.close("inserted")
        runs.add("edited", ev.seq, flag=ev.key_id != LEGACY and legacy_hash(ev.prev_hash, ev) == ev.hash)
        seen_hash[ev.seq - shift] = ev.hash
        prev_hash, trouble = ev.hash, True
    runs.close()
    if legacy_from is not None:
        _unsealed(result, legacy_from, last_seq)
    result.last_seq = last_seq

    # The head row: events cannot legitimately disappear from behind it.
    if head0 is not None and head0["last_seq"] > last_seq:
        result.add("truncated", last_seq + 1, head0["last_seq"],
                   f"链尾被截断：链头记录到事件 {head0['last_seq']}，数据库中只到事件 {last_seq}")
    head1 = AuditHead.objects.filter(pk=1).values("last_seq", "last_hash").first()
    if head1 is not None and last_seq > head1["last_seq"]:
        result.add("inserted", head1["last_seq"] + 1, last_seq,
                   f"{_span(head1['last_seq'] + 1, last_seq)}在链头之后：被插入")

    _compare_anchors(result, anchors, first_hash, seen_hash, last_seq)
    if triggers_present() is False:
        result.notes.append("数据库中缺少审计表的只追加触发器（运行 yigongti migrate 可恢复）")
    return result


def _unsealed(result: VerifyResult, first: int, last: int) -> None:
    result.add("key_mismatch", first, last,
               f"{_span(first, last)}是无密钥的旧式 SHA-256 哈希，却没有被密钥封存（被改写后降级重算）")


def _load_anchors(result: VerifyResult, ring: Keyring, paths: Iterable[Path]) -> list[dict]:
    """Every signed anchor line of the given witness files (the configured one and any exports brought
    back from write-once storage); a line with a bad signature, or an export whose digest does not
    match its lines, is a finding."""
    anchors: list[dict] = []
    wiped: set[str] = set()
    for path in paths:
        path = Path(path)
        if not path.exists():
            continue
        digest, count = hashlib.sha256(), 0
        for n, raw in enumerate(path.read_bytes().splitlines(), 1):
            where = f"见证文件 {path.name} 第 {n} 行"
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                line = None
            if not isinstance(line, dict) or line.get("type") not in ("anchor", "export", "reset"):
                result.add("edited", 0, 0, f"{where}无法读取（被改动）")
                continue
            key = ring.keys.get(str(line.get("key_id")))
            if key is None:
                result.add("key_mismatch", 0, 0, f"{where}由密钥 {line.get('key_id')} 签名，当前密钥环中没有这把密钥")
                continue
            if not hmac.compare_digest(_line_mac(key, line), str(line.get("mac", ""))):
                result.add("edited", 0, 0, f"{where}的签名不符（见证记录被改动）")
                continue
            if line["type"] == "reset":  # the database was deliberately wiped: that chain is history
                wiped.add(str(line.get("chain", "")))
                result.notes.append(f"{where}：{line.get('written', '')} 数据库被整体清空重建"
                                    f"（清空前链到事件 {line.get('seq')}），此前的锚点不再比对")
                digest.update(raw + b"\n")
                count += 1
                continue
            if line["type"] == "export":
                if line.get("lines") != count or line.get("sha256") != digest.hexdigest():
                    result.add("edited", 0, 0, f"{where}：导出文件的行数或摘要与内容不符（被删改）")
                digest, count = hashlib.sha256(), 0
                continue
            digest.update(raw + b"\n")
            count += 1
            try:
                line["seq"] = int(line["seq"])
            except (KeyError, TypeError, ValueError):
                continue
            anchors.append(line)
    return [a for a in anchors if str(a.get("chain", "")) not in wiped or not a.get("chain")]


def _compare_anchors(result: VerifyResult, anchors: list[dict], first_hash: str, seen_hash: dict[int, str],
                     last_seq: int) -> None:
    ours = [a for a in anchors if not first_hash or a.get("chain") in (first_hash, "")]
    foreign = [a for a in anchors if first_hash and a.get("chain") not in (first_hash, "")]
    if foreign:
        newest = max(foreign, key=lambda a: a["seq"])
        result.add("truncated", 1, newest["seq"],
                   f"见证文件记录的是另一条链（{len(foreign)} 个锚点，最远到事件 {newest['seq']}，"
                   f"{newest.get('at', '')}）：数据库中的链被整体替换或清空；若这是新建的数据库，"
                   "请把旧见证文件移走存档")
    result.anchors_checked = len(ours)
    beyond = [a for a in ours if a["seq"] > last_seq]
    if beyond:
        far = max(beyond, key=lambda a: a["seq"])
        result.add("truncated", last_seq + 1, far["seq"],
                   f"链尾被截断：见证文件在 {far.get('at', '')} 记录了事件 {far['seq']}，"
                   f"数据库中的链只到事件 {last_seq}")
    mismatched = sorted({a["seq"] for a in ours if a["seq"] in seen_hash and seen_hash[a["seq"]] != a.get("hash")})
    for seq in mismatched:
        result.add("edited", seq, seq, f"事件 {seq} 的哈希与见证文件记录的不同（链被重写）")
