"""``ingest(raw, peer) -> ack``: one HL7 v2 message applied whole or not at all, and its acknowledgement.

An ORU^R01 is read (``parse``), its orders found by accession number (OBR-2 placer, else OBR-3 filler), its
results stored through ``lab.apply_results`` (units, flags, the critical-value loop) and the message recorded,
all in ONE transaction: AA. A message that cannot be applied rolls back entirely and is kept in the error queue
(``Hl7Message`` status ``error``) with its reason, answered AE (bad content: an unknown accession, item code or
unit) or AR (not a message we take: not HL7, not ORU^R01, no control id), so a person can fix and replay it
(``replay``). The same control id from the same sender is applied once: a repeat gets AA and changes nothing,
also when both copies arrive at the same moment on two connections (the unique constraint decides)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, InvalidInput

from .. import lab
from ..models import Hl7Message, MessageStatus, Order
from . import parse
from .ack import build_ack

log = logging.getLogger("yigongti.hl7")
SKIPPED_STATUSES = ("D", "X", "W", "I")  # deleted, cannot be obtained, wrong, pending: nothing to store


def actor_for(peer: str = "") -> Actor:
    """The system actor of the interface, with the sender's address in the audit trail."""
    return Actor(username="hl7", ip=peer.rsplit(":", 1)[0] if peer else "")


class _Duplicate(Exception):
    def __init__(self, message: Hl7Message):
        self.message = message


def _key(h: parse.Header) -> dict:
    return {"sending_facility": h.sending_facility, "sending_application": h.sending_application,
            "control_id": h.control_id}


def _result_rows(group: parse.OrderResults) -> list[lab.ResultIn]:
    default = group.result_status.upper() if group.result_status.upper() in ("F", "C", "P") else "F"
    return [lab.ResultIn(code=o.code, value=o.value, number=o.number, unit=o.unit, ref_range=o.ref_range,
                         status=o.status or default, flags=o.flags, observed_at=o.observed_at,
                         location=f"OBX^{o.position}")
            for o in group.observations if o.status not in SKIPPED_STATUSES]


def apply(oru: parse.OruMessage, row: Hl7Message, *, actor: Actor, now: dt.datetime) -> Order:
    """Apply every OBR group of the message (inside the caller's transaction); the first order is returned."""
    first: Order | None = None
    for group in oru.orders:
        order = lab.lock_order(group.accession_candidates)
        if order is None:
            raise parse.Invalid(f"未找到申请单 {' / '.join(group.accession_candidates)}（OBR-2/OBR-3）",
                                parse.UNKNOWN_KEY, f"OBR^{group.position}^2")
        rows = _result_rows(group)
        if rows:
            lab.apply_results(order, rows, actor=actor, source="hl7", message=row, now=now)
        first = first or order
    assert first is not None
    return first


def _claim(h: parse.Header, raw: str, peer: str, now: dt.datetime) -> tuple[Hl7Message, bool]:
    """The message's row, locked, and whether it is new (else the error-queue row of an earlier copy being
    re-sent, changed but not saved). A copy of an applied message raises _Duplicate."""
    earlier = Hl7Message.objects.select_for_update().filter(replay_of__isnull=True, **_key(h)).first()
    if earlier is not None:
        if earlier.status != MessageStatus.ERROR:
            raise _Duplicate(earlier)
        earlier.raw, earlier.peer, earlier.received_at = raw, peer[:60], now
        earlier.status, earlier.ack_code, earlier.error = MessageStatus.APPLIED, "AA", ""
        return earlier, False
    return Hl7Message.objects.create(received_at=now, message_type=h.message_type, raw=raw, peer=peer[:60],
                                     status=MessageStatus.APPLIED, ack_code="AA", **_key(h)), True


def _duplicate_ack(h: parse.Header, earlier: Hl7Message) -> str:
    when = timezone.localtime(earlier.received_at).strftime("%Y-%m-%d %H:%M:%S")
    return build_ack(h, "AA", f"重复消息：控制号 {h.control_id} 已于 {when} 处理，未重复应用")


def _reason(e: Exception) -> tuple[str, str, str, str]:
    """(ack code, text, table 0357 code, location) of a failure."""
    if isinstance(e, parse.MessageError):
        return e.ack, e.reason, e.hl7_code, e.location
    if isinstance(e, lab.ResultProblem):
        return "AE", e.message, e.hl7_code, e.location
    if isinstance(e, DomainError):
        return "AE", e.message, parse.INTERNAL, ""
    return "AE", f"内部错误：{type(e).__name__}", parse.INTERNAL, ""


def _order_named(raw: str) -> Order | None:
    """The order a failed message was about, when it can be told (shown in the error queue)."""
    try:
        oru = parse.parse_oru(raw)
    except parse.MessageError:
        return None
    return Order.objects.filter(accession_no__in=oru.orders[0].accession_candidates).first()


def _keep_error(h: parse.Header | None, raw: str, peer: str, text: str, code: str, now: dt.datetime,
                actor: Actor) -> Hl7Message | None:
    """Put the message in the error queue (or refresh its earlier copy there); ``None`` when a copy was applied
    meanwhile (then it is a duplicate after all)."""
    key = _key(h) if h is not None and h.control_id else {
        "sending_facility": h.sending_facility if h else "", "sending_application": h.sending_application if h else "",
        "control_id": f"?{uuid.uuid4().hex[:20]}"}  # unreadable: never lost, never taken for a duplicate
    fields = {"received_at": now, "message_type": h.message_type if h else "", "raw": raw, "peer": peer[:60],
              "status": MessageStatus.ERROR, "ack_code": code, "error": text, "order": _order_named(raw)}
    try:
        with transaction.atomic():
            earlier = Hl7Message.objects.select_for_update().filter(replay_of__isnull=True, **key).first()
            if earlier is not None and earlier.status != MessageStatus.ERROR:
                return None
            if earlier is not None:
                for name, value in fields.items():
                    setattr(earlier, name, value)
                earlier.save()
                row = earlier
            else:
                row = Hl7Message.objects.create(**key, **fields)
            audit.record(actor, "create", "hl7_message", row.pk, status=row.status, ack=code)
            return row
    except IntegrityError:  # a copy was applied on another connection at this moment
        return None


def ingest(raw: str, peer: str = "") -> str:
    """Apply one message; return the ACK text (segments separated by CR, no framing). Never raises for bad
    input: every failure is an AE/AR and a row in the error queue."""
    now = timezone.now()
    actor = actor_for(peer)
    header: parse.Header | None = None
    try:
        msg = parse.read(raw)
        header = parse.header_of(msg)
        oru = parse.parse_oru(msg)
        with transaction.atomic(), audit.batch():
            row, new = _claim(header, raw, peer, now)
            order = apply(oru, row, actor=actor, now=now)
            row.order = order
            if new:  # everything but the order was written by the INSERT
                Hl7Message.objects.filter(pk=row.pk).update(order=order)
            else:
                row.save(update_fields=["order", "raw", "peer", "received_at", "status", "ack_code", "error"])
            audit.record(actor, "create", "hl7_message", row.pk, status=row.status, order=order.pk)
        return build_ack(header, "AA", "")
    except _Duplicate as d:
        assert header is not None
        return _duplicate_ack(header, d.message)
    except IntegrityError:
        earlier = Hl7Message.objects.filter(replay_of__isnull=True, **_key(header)).first() if header else None
        if earlier is not None and earlier.status != MessageStatus.ERROR:
            assert header is not None
            return _duplicate_ack(header, earlier)
        code, text, hl7_code, location = "AE", "数据库约束冲突，请重发", parse.INTERNAL, ""
    except Exception as e:  # bad input of any kind: queue it, answer AE/AR
        if not isinstance(e, parse.MessageError | DomainError):
            log.exception("HL7 message from %s could not be applied", peer)
        code, text, hl7_code, location = _reason(e)
    if _keep_error(header, raw, peer, text, code, now, actor) is None and header is not None:
        earlier = Hl7Message.objects.filter(replay_of__isnull=True, **_key(header)).first()
        if earlier is not None:
            return _duplicate_ack(header, earlier)
    return build_ack(header, code, text, error_code=hl7_code, location=location)


def replay(message: Hl7Message, text: str, *, actor: Actor) -> Hl7Message:
    """Apply the (fixed) text of a queued message as a new message pointing to it; the original is marked
    replayed. InvalidInput with the reason when it still cannot be applied (nothing changes then)."""
    now = timezone.now()
    try:
        msg = parse.read(text)
        header = parse.header_of(msg)
        oru = parse.parse_oru(msg)
        with transaction.atomic():
            original = Hl7Message.objects.select_for_update().get(pk=message.pk)
            if original.status != MessageStatus.ERROR:
                raise InvalidInput("not_in_queue", "该消息已处理，不能再次重放")
            row = Hl7Message.objects.create(
                received_at=now, message_type=header.message_type, raw=text, peer="replay",
                status=MessageStatus.APPLIED, ack_code="AA", replay_of=original, replayed_by=actor.user, **_key(header))
            row.order = apply(oru, row, actor=actor, now=now)
            row.save(update_fields=["order"])
            original.status, original.replayed_at, original.replayed_by = MessageStatus.REPLAYED, now, actor.user
            original.save(update_fields=["status", "replayed_at", "replayed_by"])
            audit.record(actor, "update", "hl7_message", original.pk, status=original.status, replay=row.pk,
                         fixed=text != original.raw)
        return row
    except (parse.MessageError, lab.ResultProblem) as e:
        _, reason, _, location = _reason(e)
        where = f"（位置 {location}）" if location else ""
        raise InvalidInput("replay_failed", f"重放失败：{reason}{where}", field="raw") from None
