"""Laboratory results (检验结果): the one place where a result becomes a ``LabResult`` row, whether it came from
an analyser or the county LIS over HL7 (``hl7/ingest.py``) or was typed in at a township's small analyser
(``enter_results``, 手工录入).

A result names its analyte by code (OBX-3); the value is converted to the catalogue's unit by the analyte's
``unit_factors`` (a unit the catalogue does not know is refused, never guessed), flagged against the reference
range (the catalogue's, else the one sent), stored, and handed to the critical-value loop
(``services.critical.raise_lab_critical``) in the same transaction. When every result of the order is final the
order is reported and the ordering doctor is told; a preliminary result puts it in progress.

The HL7 error queue's fix-and-replay (``replay_message``) and discard (``discard_message``) are here too: they
are the lab center's writes."""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput, NotFound, collect
from yigongti.core.notify import notify
from yigongti.orgs.permissions import check

from . import registry, workflow
from .models import (
    Analyte,
    Center,
    CenterKind,
    CenterMember,
    Hl7Message,
    LabResult,
    MessageStatus,
    Order,
    OrderEvent,
    OrderStatus,
    ResultFlag,
)

FINAL = ("F", "C")
ABNORMAL_FLAGS = ("A", "AA", "H", "HH", "L", "LL", "POS", ">", "<")
MAX_VALUE = Decimal("1e9")
FOUR = Decimal("0.0001")


class ResultProblem(InvalidInput):
    """A result that cannot be stored; ``hl7_code`` and ``location`` fill the ACK's ERR segment."""

    def __init__(self, code: str, message: str, *, hl7_code: str = "207", location: str = "", field: str | None = None):
        super().__init__(code, message, field=field)
        self.hl7_code, self.location = hl7_code, location


@dataclass(frozen=True)
class ResultIn:
    """One result as received or typed: the analyte code, the value as text (and as a number when it is one),
    its unit, the reference range sent with it, its status (F final, C corrected, P preliminary)."""

    code: str
    value: str
    number: Decimal | None = None
    unit: str = ""
    ref_range: str = ""
    status: str = "F"
    flags: str = ""
    observed_at: dt.datetime | None = None
    location: str = ""  # where it was in the message (ERR-2), "" for manual entry


# ---- pure rules -----------------------------------------------------------------------------------------

def norm_unit(u: str) -> str:
    return (u or "").strip().replace("µ", "u").replace("μ", "u").replace("×", "x").replace("*", "^").lower()


def unit_factor(received: str, unit: str, factors: Mapping[str, Any]) -> Decimal | None:
    """The factor from the received unit to the catalogue's (1 for the same unit), ``None`` when unknown. An
    empty unit is accepted only for an analyte without one."""
    if norm_unit(received) == norm_unit(unit):
        return Decimal(1)
    for name, factor in (factors or {}).items():
        if norm_unit(name) == norm_unit(received):
            try:
                return Decimal(str(factor))
            except InvalidOperation:
                return None
    return None


def flag_for(value: Decimal | None, low: Decimal | None, high: Decimal | None, sent_flags: str = "") -> str:
    """N / L / H against the range; a text result is A when the sender flagged it abnormal, else N."""
    if value is None:
        return ResultFlag.ABNORMAL if sent_flags.strip().upper() in ABNORMAL_FLAGS else ResultFlag.NORMAL
    if low is not None and value < low:
        return ResultFlag.LOW
    if high is not None and value > high:
        return ResultFlag.HIGH
    return ResultFlag.NORMAL


def next_status(current: str, statuses: Iterable[str]) -> str | None:
    """The order's move after these results: ``sign`` when all are final, ``start`` when some are not (and the
    order has not started), ``None`` when it stays where it is (already reported: a correction)."""
    final = all(s in FINAL for s in statuses)
    if current in workflow.DONE or current == OrderStatus.CANCELLED:
        return None
    if final:
        return "sign"
    return "start" if current in (OrderStatus.ORDERED, OrderStatus.ACQUIRED) else None


# ---- the catalogue as the ingest reads it, cached per process (PostgreSQL) ----------------------------------
#
# The analytes, which item each belongs to and the critical-value rules are read for every message but change a
# few times a year. On PostgreSQL they are kept per process under a fingerprint (an md5 over the three small
# tables, one cheap statement per message): any change — a save, a bulk_create, an update, another process's
# write, a rolled-back test — changes the fingerprint, so a cached copy is never used once it is stale. On SQLite
# (development, one writer) nothing is cached: ``catalogue()`` returns None and the callers query as before.


@dataclass(frozen=True)
class Catalogue:
    analytes: Mapping[str, Analyte]  # by code (shared read-only instances: never save them)
    panel_items: frozenset[int]  # catalogue items that list their analytes
    in_panel: frozenset[tuple[int, int]]  # (item id, analyte id)
    rules: Mapping[tuple[int, int], tuple[Any, ...]]  # (community id, analyte id) -> critical.Rule, in pk order


_catalogue: dict[str, Catalogue] = {}
_catalogue_lock = threading.Lock()


def _fingerprint_sql() -> str:
    from .models import CriticalRule

    tables = [Analyte._meta.db_table, Analyte.panels.through._meta.db_table, CriticalRule._meta.db_table]
    parts = " || '|' || ".join(f"coalesce((SELECT string_agg(t::text, ',' ORDER BY t.id) FROM {t} t), '')"
                               for t in tables)
    return f"SELECT md5({parts})"


def _load_catalogue() -> Catalogue:
    from .models import CriticalRule
    from .services.critical import _rule

    through = Analyte.panels.through
    links = list(through.objects.values_list("catalogitem_id", "analyte_id"))
    rules: dict[tuple[int, int], list[Any]] = {}
    for r in CriticalRule.objects.order_by("pk"):
        rules.setdefault((r.community_id, r.analyte_id), []).append(_rule(r))
    return Catalogue(analytes={a.code: a for a in Analyte.objects.all()},
                     panel_items=frozenset(i for i, _a in links), in_panel=frozenset(links),
                     rules={k: tuple(v) for k, v in rules.items()})


def catalogue() -> Catalogue | None:
    """The current catalogue (None on SQLite: no cache there)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute(_fingerprint_sql())
        key = cur.fetchone()[0]
    found = _catalogue.get(key)
    if found is None:
        found = _load_catalogue()
        with _catalogue_lock:
            _catalogue.clear()
            _catalogue[key] = found
    return found


def _analytes_for(order: Order, codes: set[str], cat: Catalogue | None) -> dict[str, Analyte]:
    """The analytes sent, each annotated ``in_panel`` / ``panel_defined`` for the ordered item."""
    if cat is None:  # one query: whether each belongs to the ordered item (and whether the item has any)
        through = Analyte.panels.through
        return {a.code: a for a in Analyte.objects.filter(code__in=codes).annotate(
            in_panel=Exists(through.objects.filter(analyte_id=OuterRef("pk"), catalogitem_id=order.item_id)),
            panel_defined=Exists(through.objects.filter(catalogitem_id=order.item_id)))}
    out = {}
    for code in codes:
        shared = cat.analytes.get(code)
        if shared is None:
            continue
        a = copy.copy(shared)  # the annotations are per order
        a.in_panel = (order.item_id, a.pk) in cat.in_panel  # type: ignore[attr-defined]
        a.panel_defined = order.item_id in cat.panel_items  # type: ignore[attr-defined]
        out[code] = a
    return out


def _parse_range(text: str) -> tuple[Decimal | None, Decimal | None]:
    from .hl7.parse import parse_range

    return parse_range(text)


# ---- applying results (the HL7 ingest and manual entry) -----------------------------------------------------

def _problem(code: str, message: str, row: ResultIn, hl7_code: str, field_no: int = 5) -> ResultProblem:
    where = f"{row.location}^{field_no}" if row.location else ""
    return ResultProblem(code, message, hl7_code=hl7_code, location=where, field=f"value_{row.code}")


def _converted(row: ResultIn, analyte: Analyte) -> tuple[Decimal | None, str, Decimal | None, Decimal | None]:
    """(value in our unit, text, reference low, high in our unit)."""
    if row.number is None:
        low, high = analyte.ref_low, analyte.ref_high
        return None, row.value, low, high
    if not row.unit and analyte.unit:
        raise _problem("unit_missing", _("指标 %(code)s 的结果缺少单位（应为 %(unit)s）")
                       % {"code": row.code, "unit": analyte.unit}, row, "101", 6)
    factor = unit_factor(row.unit, analyte.unit, analyte.unit_factors)
    if factor is None:
        raise _problem("unit_unknown", _("指标 %(code)s 的单位“%(got)s”无法换算为 %(unit)s")
                       % {"code": row.code, "got": row.unit, "unit": analyte.unit or "（无单位）"}, row, "103", 6)
    value = (row.number * factor).quantize(FOUR)
    if abs(value) >= MAX_VALUE:
        raise _problem("value_out_of_range", _("指标 %(code)s 的结果 %(v)s 超出可记录范围")
                       % {"code": row.code, "v": row.value}, row, "102")
    low, high = analyte.ref_low, analyte.ref_high
    if low is None and high is None and row.ref_range:
        sent_low, sent_high = _parse_range(row.ref_range)
        low = (sent_low * factor).quantize(FOUR) if sent_low is not None else None
        high = (sent_high * factor).quantize(FOUR) if sent_high is not None else None
    return value, "", low, high


def apply_results(order: Order, rows: Sequence[ResultIn], *, actor: Actor, source: str = "hl7",
                  message: Hl7Message | None = None, now: dt.datetime | None = None) -> list[LabResult]:
    """Store the results of one (locked) order and run them through the critical-value loop. Call inside the
    caller's transaction: a ResultProblem leaves nothing behind when the caller rolls back."""
    from .services.critical import raise_lab_critical

    now = now or timezone.now()
    if order.kind != CenterKind.LAB:
        raise ResultProblem("not_lab_order", _("申请单 %(no)s 不是检验申请") % {"no": order.accession_no},
                            hl7_code="204", location="OBR^1^2")
    if order.status == OrderStatus.CANCELLED:
        raise ResultProblem("cancelled", _("申请单 %(no)s 已取消，不能接收结果") % {"no": order.accession_no},
                            hl7_code="207", location="OBR^1^2")
    codes = {r.code for r in rows}
    cat = catalogue()
    analytes = _analytes_for(order, codes, cat)
    fresh = order.status in (OrderStatus.ORDERED, OrderStatus.ACQUIRED)  # no results yet: nothing to update
    existing = {} if fresh else {r.analyte_id: r for r in LabResult.objects.filter(order=order,
                                                                                    analyte__code__in=codes)}
    saved: list[LabResult] = []
    seen: set[str] = set()
    for row in rows:
        analyte = analytes.get(row.code)
        if analyte is None:
            raise _problem("unknown_analyte", _("未知的检验指标编码：%(code)s") % {"code": row.code}, row, "103", 3)
        if getattr(analyte, "panel_defined", False) and not getattr(analyte, "in_panel", False):
            raise _problem("analyte_not_in_item", _("指标 %(code)s 不属于申请项目“%(item)s”")
                           % {"code": row.code, "item": order.item.name}, row, "103", 3)
        if row.code in seen:
            raise _problem("analyte_repeated", _("指标 %(code)s 在同一申请单中出现两次") % {"code": row.code},
                           row, "205", 3)
        seen.add(row.code)
        value, text, low, high = _converted(row, analyte)
        result = existing.get(analyte.pk) or LabResult(order=order, analyte=analyte)
        result.value, result.value_text, result.unit = value, text[:60], analyte.unit
        result.received_value, result.received_unit = row.value[:60], row.unit[:20]
        result.ref_low, result.ref_high = low, high
        result.flag = flag_for(value, low, high, row.flags)
        result.observed_at = row.observed_at or now
        result.source = source
        result.message = message
        result.entered_by = actor.user if source == "manual" else None
        if result.pk is not None:
            result.save()
        saved.append(result)
    LabResult.objects.bulk_create([r for r in saved if r.pk is None])  # PostgreSQL returns the ids
    critical = []
    for result in saved:
        cv = raise_lab_critical(result, actor=actor, catalogue=cat, new=fresh)
        if cv is not None:
            critical.append(cv)
    _advance(order, [r.status for r in rows], now, actor=actor, critical=bool(critical), count=len(saved),
             source=source)
    return saved


def _advance(order: Order, statuses: list[str], now: dt.datetime, *, actor: Actor, critical: bool, count: int,
             source: str) -> None:
    move = next_status(order.status, statuses)
    fields = []
    if move is not None:
        order.status = workflow.check_move(order.status, move)
        fields.append("status")
        order.started_at = order.started_at or now
        fields.append("started_at")
        if move == "sign":
            order.reported_at = now
            fields.append("reported_at")
    if critical and not order.critical:
        order.critical = True
        fields.append("critical")
    if fields:
        order.save(update_fields=fields)
    kind = {"sign": "reported", "start": "started"}.get(move or "", "results")
    OrderEvent.objects.create(order=order, kind=kind, at=now, by=actor.user,
                              note=_("收到 %(n)d 项检验结果（%(src)s）") % {"n": count, "src": source.upper()})
    audit.record(actor, "create", "lab_result", order.pk, results=count, source=source, to=order.status,
                 critical=critical)
    if move == "sign" or (move is None and order.status in workflow.DONE):
        from .services.orders import REPORT_KIND, order_url

        mark = "【危急值】" if order.critical else ""
        notify([order.ordered_by], REPORT_KIND,
               f"{mark}{order.item.name}结果已出：{order.resident.name}（{order.accession_no}）",
               "", order_url(order), urgent=False, public_title=_("您有一份新的检查检验报告"))


def lock_order(accession_candidates: Sequence[str]) -> Order | None:
    # the relations the critical-value loop reads too (services.critical uses this order, not a fresh fetch)
    related = ("item", "resident", "center", "ordered_by__staff", "facility")
    return (Order.objects.select_for_update(of=("self",)).select_related(*related)
            .filter(accession_no__in=list(accession_candidates)).first())


# ---- manual entry (手工录入) -----------------------------------------------------------------------------------

def _order(pk: int) -> Order:
    order = Order.objects.select_related("item", "resident", "center", "facility").filter(pk=pk).first()
    if order is None:
        raise NotFound(_("申请单不存在"))
    return order


def manual_rows(order: Order, rows: Iterable[Mapping[str, Any]], now: dt.datetime) -> list[ResultIn]:
    """The entry form's (or the API's) rows as results: ``{"analyte": code, "value": "4.2", "unit": ""}`` — an
    empty value is skipped, an empty unit is the catalogue's; every bad value is named at once."""
    analytes = {a.code: a for a in order.item.analytes.all()}
    out: list[ResultIn] = []
    errors: dict[str, list[str]] = {}
    for row in rows:
        code = str(row.get("analyte") or "").strip()
        value = str(row.get("value") if row.get("value") is not None else "").strip()
        if not value:
            continue
        analyte = analytes.get(code)
        if analyte is None:
            errors.setdefault(f"value_{code}", []).append(_("未知的检验指标编码：%(code)s") % {"code": code})
            continue
        number = None
        try:
            number = Decimal(value)
            if not number.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            if analyte.unit:  # a quantity: the value must be a number
                errors.setdefault(f"value_{code}", []).append(_("请填写数值"))
                continue
        unit = str(row.get("unit") or "").strip() or analyte.unit
        out.append(ResultIn(code=code, value=value, number=number, unit=unit if number is not None else "",
                            status="F", observed_at=now))
    collect(errors)
    if not out:
        raise InvalidInput("no_results", _("请至少填写一项结果"), field="results")
    return out


def enter_results(order_pk: int, rows: Iterable[Mapping[str, Any]], *, actor: Actor) -> list[LabResult]:
    """手工录入: a township's small analyser has no interface; the nurse or doctor types its results in (or the
    lab center corrects one). Same mapping, flags and critical-value loop as HL7."""
    order = _order(order_pk)
    check(actor, "telemedicine.enter_results", order)
    now = timezone.now()
    results = manual_rows(order, rows, now)
    with transaction.atomic():
        locked = lock_order([order.accession_no])
        assert locked is not None
        return apply_results(locked, results, actor=actor, source="manual", now=now)


# ---- the error queue: fix and replay, discard ------------------------------------------------------------------

def lab_center_for(actor: Actor, message: Hl7Message) -> Center | None:
    """The lab center a message belongs to: its order's, else the lab center the actor reads for."""
    if message.order is not None:
        return Center.objects.filter(pk=message.order.center_id).first()
    if actor.user is None:
        return Center.objects.filter(kind=CenterKind.LAB).order_by("pk").first()
    member = (CenterMember.objects.filter(user_id=actor.user.pk, center__kind=CenterKind.LAB)
              .select_related("center").first())
    return member.center if member else None


def _queued(pk: int) -> Hl7Message:
    message = Hl7Message.objects.select_related("order").filter(pk=pk).first()
    if message is None:
        raise NotFound(_("HL7 消息不存在"))
    return message


def replay_message(pk: int, raw: str | None = None, *, actor: Actor) -> Hl7Message:
    """修正并重放: apply a message of the error queue again, as it was (its order has been placed since) or as a
    person fixed it. The fixed text is kept as a new message pointing to the original; the original is marked
    replayed. A fix that still fails changes nothing and says why."""
    from .hl7 import ingest

    message = _queued(pk)
    check(actor, "telemedicine.replay_message", lab_center_for(actor, message))
    if message.status != MessageStatus.ERROR:
        raise Conflict("not_in_queue", _("该消息不在待修正队列中（状态：%(s)s）") % {"s": message.get_status_display()})
    text = message.raw if raw is None or not raw.strip() else raw
    return ingest.replay(message, text, actor=actor)


def discard_message(pk: int, reason: str, *, actor: Actor) -> Hl7Message:
    """作废: a message that should never be applied (a test message, a result sent to the wrong platform)."""
    message = _queued(pk)
    check(actor, "telemedicine.replay_message", lab_center_for(actor, message))
    if not (reason or "").strip():
        raise InvalidInput("reason_required", _("请填写作废理由"), field="reason")
    with transaction.atomic():
        locked = Hl7Message.objects.select_for_update().get(pk=message.pk)
        if locked.status != MessageStatus.ERROR:
            raise Conflict("not_in_queue", _("该消息不在待修正队列中"))
        locked.status = MessageStatus.DISCARDED
        locked.error = f"{locked.error}\n{_('作废理由')}：{reason.strip()}".strip()
        locked.replayed_at, locked.replayed_by = timezone.now(), actor.user
        locked.save(update_fields=["status", "error", "replayed_at", "replayed_by"])
        audit.record(actor, "update", "hl7_message", locked.pk, status=locked.status, reason=reason.strip())
    return locked


# ---- the order page's panel ---------------------------------------------------------------------------------

def panel(actor: Actor, order: Order) -> dict:
    """Context of ``telemedicine/kinds/_lab.html`` on the order page: the results with their flags, the manual
    entry link when the actor may enter results."""
    from yigongti.orgs.permissions import allows

    from .queries.lab import results_of

    return {"results": results_of(order), "may_enter": order.status != OrderStatus.CANCELLED
            and actor.user is not None and allows(actor, "telemedicine.enter_results", order)}


def register() -> None:
    registry.KIND_PANELS[CenterKind.LAB.value] = panel
