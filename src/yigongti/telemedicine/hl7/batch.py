"""Group commit for the MLLP listener: the messages that arrive together on several connections are applied in
ONE transaction with set-based statements, then each connection gets its own ACK.

``ingest_many(items) -> acks`` takes the plain case — a new ORU^R01 whose orders are lab orders waiting for
their first results, with known analytes and units — for a whole batch at once: one look-up of the control ids,
one locked read of the orders (only the columns the apply reads), one INSERT of the message rows,
one of the results, one UPDATE of the orders, one INSERT of their events, the inbox rows and one append of the
audit events (one lock of the audit chain's head and one WAL flush per batch instead of one per message). A
critical value is opened in the batch's transaction too, by the critical-value service (``services.critical``),
as the one-message path opens it: the value, its events, the order's flag, the doctor's inbox row, the
escalation job. Everything else goes through ``ingest``, one message at a time, after the batch has committed: a
duplicate or a re-sent copy from the error queue, a correction of results already stored, bad content (the
error queue and its AE/AR), two messages for one order in the batch. If the batch itself fails, nothing of it
is kept and every message of it is applied singly, so a batch never changes what a message's ACK says — only
how fast it comes.

``Batcher`` is the listener side: connection threads hand their message in and wait; one applier thread per
process drains whatever has queued (up to ``max_batch``) into ``ingest_many``. With one sender in original
acknowledgement mode a batch is one message; with many connections (the LIS and each township's analyser) the
batches grow with the load."""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.models import Notification
from yigongti.core.notify import public_text
from yigongti.encounters.models import Encounter

from .. import critical as rules
from .. import lab, workflow
from ..models import (
    CenterKind,
    CriticalValue,
    Hl7Message,
    LabResult,
    MessageStatus,
    Order,
    OrderEvent,
    OrderStatus,
    ResultFlag,
)
from ..services import critical as loop
from . import parse
from .ack import build_ack
from .ingest import _key, _result_rows, actor_for, ingest

log = logging.getLogger("yigongti.hl7")
# what the apply reads of an order and its relations (inbox texts, the rules' facts, the doctor to tell); the
# encounter's department only for the rules' patient groups (``_Facts``). The narrow lock is checked by
# tests/telemedicine/test_hl7_batch_critical.py (its statements must not grow with the batch).
RELATED = ("item", "resident", "center", "ordered_by__staff", "facility")
FIELDS = ("accession_no", "kind", "status", "item", "resident", "center", "facility", "ordered_by", "encounter",
          "started_at", "reported_at", "critical", "clinical_question", "urgency", "area_code", "item__name",
          "resident__name", "resident__birth_date", "resident__sex", "center__community", "center__ack_minutes",
          "center__ack_emergency_minutes", "facility__parent", "ordered_by__is_active", "ordered_by__username",
          "ordered_by__staff__phone")


class _Single(Exception):
    """This message leaves the batch for ``ingest``."""


@dataclass
class _Planned:
    index: int
    raw: str
    peer: str
    header: parse.Header
    groups: list[tuple[Order, list[lab.ResultIn]]] = field(default_factory=list)
    results: list[LabResult] = field(default_factory=list)
    critical: list[tuple[LabResult, rules.Verdict]] = field(default_factory=list)
    row: Hl7Message | None = None


def _parsed(raw: str) -> tuple[parse.Header, parse.OruMessage]:
    msg = parse.read(raw)
    return parse.header_of(msg), parse.parse_oru(msg)


def _orders(candidates: set[str]) -> dict[str, Order]:
    return {o.accession_no: o for o in Order.objects.select_for_update(of=("self",)).select_related(*RELATED)
            .only(*FIELDS).filter(accession_no__in=sorted(candidates)).order_by("pk")}


def _pick(group: parse.OrderResults, orders: dict[str, Order]) -> Order:
    """The group's order as ``lab.lock_order`` finds it (placer, else filler), if the plain path can take it."""
    order = next((orders[a] for a in group.accession_candidates if a in orders), None)
    if order is None or order.kind != CenterKind.LAB or order.status not in (OrderStatus.ORDERED,
                                                                              OrderStatus.ACQUIRED):
        raise _Single  # unknown (AE), not a lab order, cancelled, or a correction of stored results
    return order


def _build(order: Order, rows: Sequence[lab.ResultIn], message_index: int, cat: lab.Catalogue,
           now: dt.datetime) -> list[LabResult]:
    """The new results of one order, as ``lab.apply_results`` would store them (a problem leaves the batch)."""
    analytes = lab._analytes_for(order, {r.code for r in rows}, cat)
    seen: set[str] = set()
    out = []
    for row in rows:
        analyte = analytes.get(row.code)
        if analyte is None or row.code in seen or (getattr(analyte, "panel_defined", False)
                                                   and not getattr(analyte, "in_panel", False)):
            raise _Single
        seen.add(row.code)
        try:
            value, text, low, high = lab._converted(row, analyte)
        except lab.ResultProblem:
            raise _Single from None
        out.append(LabResult(order=order, analyte=analyte, value=value, value_text=text[:60], unit=analyte.unit,
                             received_value=row.value[:60], received_unit=row.unit[:20], ref_low=low, ref_high=high,
                             flag=lab.flag_for(value, low, high, row.flags), observed_at=row.observed_at or now,
                             source="hl7"))
    return out


class _Facts:
    """What the critical-value rules ask of the batch's patients, read once for the batch and only when a rule
    asks (the patient groups for a rule that names one, earlier values for a first-only rule), as
    ``services.critical.raise_lab_critical`` reads them."""

    def __init__(self, orders: list[Order]):
        self.orders = orders
        self._groups: dict[int, frozenset[str]] | None = None
        self._had: set[tuple[int, int]] | None = None
        self.raised: set[tuple[int, int]] = set()  # (resident, analyte) of the batch's own critical values

    def groups(self, order: Order) -> frozenset[str]:
        if self._groups is None:
            from yigongti.residents.models import ResidentTag

            tags: dict[int, list[str]] = {}
            for rid, tag in ResidentTag.objects.filter(resident_id__in={o.resident_id for o in self.orders}
                                                       ).values_list("resident_id", "tag"):
                tags.setdefault(rid, []).append(tag)
            encounters = {o.encounter_id for o in self.orders if o.encounter_id}
            departments: dict[int | None, str] = dict(
                Encounter.objects.filter(pk__in=encounters).values_list("pk", "department__name")) if encounters else {}
            self._groups = {o.pk: loop.patient_groups(tags.get(o.resident_id, []),
                                                      departments.get(o.encounter_id) or "", o.clinical_question)
                            for o in self.orders}
        return self._groups[order.pk]

    def had(self, key: tuple[int, int]) -> bool:
        """Whether the patient already had a critical value of the analyte (``key``: resident, analyte)."""
        if self._had is None:
            self._had = set(CriticalValue.objects.filter(resident_id__in={o.resident_id for o in self.orders},
                                                         result__isnull=False)
                            .values_list("resident_id", "result__analyte_id"))
        return key in self._had or key in self.raised


def _verdict(result: LabResult, order: Order, cat: lab.Catalogue, facts: _Facts) -> rules.Verdict | None:
    """The rules' verdict on this result, as ``services.critical.raise_lab_critical`` reaches it (a critical
    value of the batch counts as "had before" for the messages after it, as it would one message at a time)."""
    candidates = list(cat.rules.get((order.center.community_id, result.analyte_id), ()))
    if not candidates:
        return None
    on = timezone.localdate(result.observed_at)
    groups = facts.groups(order) if any(r.patient_group for r in candidates) else frozenset()
    patient = rules.Patient(rules.age_in_days(order.resident.birth_date, on), order.resident.sex, groups)
    facilities = [order.facility_id] + ([order.facility.parent_id] if order.facility.parent_id else [])
    value = Decimal(result.value) if result.value is not None else None
    analyte = result.analyte
    key = (order.resident_id, result.analyte_id)
    before = any(r.first_only for r in candidates) and facts.had(key)
    verdict = rules.evaluate(value, result.value_text, result.unit or analyte.unit, candidates, patient, on,
                             facilities, analyte.unit_factors or {}, had_critical_before=before)
    if verdict is not None:
        facts.raised.add(key)
        result.flag = ResultFlag.CRITICAL_LOW if verdict.flag == "LL" else ResultFlag.CRITICAL_HIGH
    return verdict


def _plan(items: Sequence[tuple[str, str]], now: dt.datetime, cat: lab.Catalogue) -> tuple[list[_Planned], list[int]]:
    """The messages the plain path takes (their orders locked) and the indexes of the others."""
    parsed: list[tuple[int, parse.Header, parse.OruMessage]] = []
    single: list[int] = []
    keys: set[tuple[str, str, str]] = set()
    for i, (raw, _peer) in enumerate(items):
        try:
            header, oru = _parsed(raw)
        except parse.MessageError:
            single.append(i)
            continue
        key = (header.sending_facility, header.sending_application, header.control_id)
        if key in keys:
            single.append(i)  # the second copy in one batch: answered as a duplicate after the first
            continue
        keys.add(key)
        parsed.append((i, header, oru))
    if not parsed:
        return [], single
    known = set(Hl7Message.objects.filter(control_id__in={h.control_id for _i, h, _o in parsed},
                                          replay_of__isnull=True)
                .values_list("sending_facility", "sending_application", "control_id"))
    candidates = {a for _i, _h, oru in parsed for g in oru.orders for a in g.accession_candidates}
    orders = _orders(candidates)
    used: set[int] = set()
    planned: list[_Planned] = []
    for i, header, oru in parsed:
        try:
            if (header.sending_facility, header.sending_application, header.control_id) in known:
                raise _Single  # a duplicate, or a copy of a queued message re-sent
            p = _Planned(i, items[i][0], items[i][1], header)
            for group in oru.orders:
                order = _pick(group, orders)
                if order.pk in used:
                    raise _Single
                rows = _result_rows(group)
                if not rows or any(r.status not in lab.FINAL for r in rows):
                    raise _Single  # preliminary results: the order starts rather than reports
                p.groups.append((order, rows))
                p.results += _build(order, rows, i, cat, now)
            used.update(o.pk for o, _r in p.groups)
            planned.append(p)
        except _Single:
            single.append(i)
    if planned:
        facts = _Facts([o for p in planned for o, _r in p.groups])
        for p in planned:
            for r in p.results:
                if (verdict := _verdict(r, r.order, cat, facts)) is not None:
                    p.critical.append((r, verdict))
    return planned, single


def _write(planned: list[_Planned], now: dt.datetime) -> None:
    """The batch's rows, a few statements for all of it (inside the caller's transaction and audit batch)."""
    from ..services.orders import REPORT_KIND, order_url

    rows = Hl7Message.objects.bulk_create([
        Hl7Message(received_at=now, message_type=p.header.message_type, raw=p.raw, peer=p.peer[:60],
                   status=MessageStatus.APPLIED, ack_code="AA", order=p.groups[0][0], **_key(p.header))
        for p in planned])
    results: list[LabResult] = []
    for p, row in zip(planned, rows, strict=True):
        p.row = row
        for r in p.results:
            r.message = row
        results += p.results
    LabResult.objects.bulk_create(results)
    orders: list[Order] = []
    events: list[OrderEvent] = []
    notes: list[Notification] = []
    for p in planned:
        actor = actor_for(p.peer)
        for order, rows_in in p.groups:
            raised = [_open_critical(r, verdict, actor, now) for r, verdict in p.critical if r.order is order]
            order.status = workflow.check_move(order.status, "sign")
            order.started_at = order.started_at or now
            order.reported_at = now
            orders.append(order)
            count = len(rows_in)
            events.append(OrderEvent(order=order, kind="reported", at=now, by=None,
                                     note=_("收到 %(n)d 项检验结果（%(src)s）") % {"n": count, "src": "HL7"}))
            audit.record(actor, "create", "lab_result", order.pk, results=count, source="hl7", to=order.status,
                         critical=bool(raised))
            if order.ordered_by.is_active:
                mark = "【危急值】" if order.critical else ""
                notes.append(Notification(recipient=order.ordered_by, kind=REPORT_KIND, url=order_url(order)[:300],
                                          title=f"{mark}{order.item.name}结果已出：{order.resident.name}"
                                                f"（{order.accession_no}）"[:200]))
        audit.record(actor, "create", "hl7_message", p.row.pk if p.row else "", status=MessageStatus.APPLIED,
                     order=p.groups[0][0].pk)
    # every order moves to the same status at the same time: one UPDATE (``bulk_update`` would build a CASE per
    # row and field, ~1.5 ms of CPU per order); a started order keeps its start, as in memory
    for status in {o.status for o in orders}:
        Order.objects.filter(pk__in=[o.pk for o in orders if o.status == status]).update(
            status=status, reported_at=now, started_at=Coalesce(F("started_at"), Value(now, DateTimeField())))
    OrderEvent.objects.bulk_create(events)
    Notification.objects.bulk_create(notes)
    _send_outside(notes)


def _open_critical(result: LabResult, verdict: rules.Verdict, actor, now: dt.datetime) -> CriticalValue:
    """The critical-value loop of one stored result, opened by its service as ``raise_lab_critical`` opens it."""
    analyte = result.analyte
    value = Decimal(result.value) if result.value is not None else None
    text = rules.describe(analyte.name, value, result.value_text, result.unit or analyte.unit, verdict)
    # the service's own opening (its only writer of CriticalValue), in the batch's transaction and audit batch
    return loop.open_loop(result.order, actor=actor, kind=result.order.kind, description=text, now=now, result=result,
                      rule_id=verdict.rule.id)


def _send_outside(notes: list[Notification]) -> None:
    """The outside channels of the inbox rows, after commit (as ``core.notify.notify`` sends them)."""
    from yigongti.core.notify import Message, notifiers

    outside = public_text(notes[0].kind, _("您有一份新的检查检验报告")) if notes else ""
    messages = [Message(n.recipient.username, getattr(getattr(n.recipient, "staff", None), "phone", "") or "",
                        n.kind, outside, "", n.url, False) for n in notes]

    def send():
        for m in messages:
            for n in notifiers():
                try:
                    n.send(m)
                except Exception:  # a failing gateway must not undo the work; the inbox has it
                    log.exception("notifier %s failed", type(n).__name__)

    if messages:
        transaction.on_commit(send)


def ingest_many(items: Sequence[tuple[str, str]]) -> list[str]:
    """Apply a batch of (raw message, peer); return each one's ACK text, in order."""
    acks: list[str | None] = [None] * len(items)
    single = list(range(len(items)))
    cat = lab.catalogue() if connection.vendor == "postgresql" else None
    if cat is not None:
        now = timezone.now()
        try:
            with transaction.atomic(), audit.batch():
                planned, single = _plan(items, now, cat)
                if planned:
                    _write(planned, now)
            for p in planned:
                acks[p.index] = build_ack(p.header, "AA", "")
        except Exception:  # the batch as a whole failed: every message of it goes singly, as if alone
            log.exception("HL7 batch of %d failed; applying its messages one at a time", len(items))
            single = list(range(len(items)))
    for i in sorted(single):
        acks[i] = ingest(*items[i])
    return [a or "" for a in acks]


class Batcher:
    """Hands the messages of many connection threads to one applier thread, in batches."""

    def __init__(self, apply=ingest_many, *, max_batch: int = 64, on_exit=None):
        self.apply, self.max_batch, self.on_exit = apply, max_batch, on_exit
        self._queue: queue.Queue[tuple[str, str, list, threading.Event] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="hl7-applier", daemon=True)
        self._thread.start()

    def __call__(self, raw: str, peer: str) -> str:
        slot: list[str] = []
        done = threading.Event()
        self._queue.put((raw, peer, slot, done))
        done.wait()
        return slot[0]

    def close(self) -> None:
        """End the applier thread (after the batch it is applying), which then runs ``on_exit``."""
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            try:
                acks = self.apply([(raw, peer) for raw, peer, _s, _d in batch])
            except Exception:  # never leave a sender waiting
                log.exception("HL7 applier failed")
                acks = [build_ack(None, "AE", "内部错误，请重发", error_code=parse.INTERNAL)] * len(batch)
            for (_raw, _peer, slot, done), ack in zip(batch, acks, strict=True):
                slot.append(ack)
                done.set()
        if self.on_exit is not None:
            self.on_exit()
