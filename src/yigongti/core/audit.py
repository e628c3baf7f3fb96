"""Appending to and verifying the audit chain.

Each event's hash is SHA-256 over the previous hash and a canonical JSON of its fields, so
altering, inserting or deleting any event breaks every hash after it. The head row is locked
for each append (SELECT … FOR UPDATE on PostgreSQL; SQLite serialises writers itself).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from .models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _canonical(ev: AuditEvent) -> bytes:
    body = {
        "seq": ev.seq,
        "at": ev.at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
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
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def compute_hash(prev_hash: str, ev: AuditEvent) -> str:
    return hashlib.sha256(prev_hash.encode() + _canonical(ev)).hexdigest()


@dataclass
class Actor:
    """Who did it and from where; built from a request, or for the CLI and workers."""

    user_id: int | None = None
    username: str = "system"
    role: str = ""
    facility_id: int | None = None
    ip: str = ""
    user_agent: str = ""

    @classmethod
    def from_request(cls, request) -> Actor:
        user = getattr(request, "user", None)
        meta = request.META
        ip = meta.get("REMOTE_ADDR", "")
        if request.is_secure() and meta.get("HTTP_X_FORWARDED_FOR"):
            ip = meta["HTTP_X_FORWARDED_FOR"].split(",")[0].strip()
        return cls.from_user(user, ip=ip, user_agent=meta.get("HTTP_USER_AGENT", "")[:300])

    @classmethod
    def from_user(cls, user, *, ip: str = "", user_agent: str = "") -> Actor:
        if user is None or not getattr(user, "is_authenticated", False):
            return cls(ip=ip, user_agent=user_agent, username="anonymous")
        return cls(user.pk, user.get_username(), user.role, user.facility_id, ip, user_agent)


def _actor_of(who) -> Actor:
    if isinstance(who, Actor):
        return who
    if hasattr(who, "META"):
        return Actor.from_request(who)
    return Actor.from_user(who)


def record(who, action: str, object_type: str, object_id: object = "", **detail) -> AuditEvent:
    """Append one event. ``who`` is a request, a user or an Actor."""
    actor = _actor_of(who)
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        ev = AuditEvent(
            seq=head.last_seq + 1,
            at=timezone.now(),
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
            prev_hash=head.last_hash,
        )
        ev.hash = compute_hash(ev.prev_hash, ev)
        ev.save(force_insert=True)
        AuditHead.objects.filter(pk=1).update(last_seq=ev.seq, last_hash=ev.hash)
    return ev


@dataclass
class VerifyResult:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _events(batch: int = 5000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        chunk = list(AuditEvent.objects.filter(seq__gt=last).order_by("seq")[:batch])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].seq


def verify_chain(progress=None) -> VerifyResult:
    """Walk the chain from the start; report every gap, altered event and broken link."""
    result = VerifyResult()
    prev_hash, expected_seq = GENESIS, 1
    for ev in _events():
        if ev.seq != expected_seq:
            result.problems.append(f"事件 {expected_seq}–{ev.seq - 1} 缺失（被删除）")
        if ev.prev_hash != prev_hash:
            result.problems.append(f"事件 {ev.seq} 的前序哈希与链不符")
        if compute_hash(ev.prev_hash, ev) != ev.hash:
            result.problems.append(f"事件 {ev.seq} 的内容被篡改（哈希不符）")
        prev_hash, expected_seq = ev.hash, ev.seq + 1
        result.checked += 1
        if progress:
            progress(1)
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and head.last_seq != expected_seq - 1:
        result.problems.append(f"链尾事件缺失：记录到 {head.last_seq}，实际到 {expected_seq - 1}")
    elif head is not None and head.last_seq and head.last_hash != prev_hash:
        result.problems.append("链尾哈希与记录不符")
    return result
