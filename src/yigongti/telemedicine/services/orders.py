"""Use cases of an order (申请单): place it (with its accession number and the mutual-recognition decision),
cancel it, mark its data acquired, start reading it, sign its report (critical findings go to the critical-value
loop), review the report. The only writers of ``Order``, ``OrderEvent`` and ``Report``.

Each transition locks the order (SELECT … FOR UPDATE), checks the move against ``workflow.TRANSITIONS``, writes
an ``OrderEvent`` and an audit event; the ordering doctor is told through ``core.notify`` when a report is
signed (the outside channels after commit, without names)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import Field, field_validator

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yigongti.core.notify import notify
from yigongti.core.scoping import scope_for
from yigongti.encounters.models import Encounter
from yigongti.orgs.models import User
from yigongti.orgs.permissions import check
from yigongti.referrals.inputs import Input
from yigongti.residents.models import Resident

from .. import workflow
from ..models import (
    PRIORITY,
    CatalogItem,
    CenterKind,
    CenterMember,
    Consultation,
    CriticalFinding,
    Device,
    Order,
    OrderEvent,
    OrderStatus,
    Recognition,
    RecognitionDecision,
    Report,
    ReportTemplate,
    Urgency,
)

REPORT_KIND = "tm_report"
EMERGENCY_KIND = "tm_order_emergency"


def _blank_to_none(v: Any) -> Any:
    return None if isinstance(v, str) and not v.strip() else v


class OrderInput(Input):
    resident: int
    item: int
    urgency: str = Field(Urgency.ROUTINE, description="routine 常规 / urgent 加急 / emergency 急诊")
    clinical_question: str = Field("", description="临床问题/申请目的")
    encounter: int | None = Field(None, description="本次就诊（可选）")
    repeat_reason: str = Field("", description="近期已有同项目结果（互认有效期内）时，重复检查的理由")
    prior_order: int | None = Field(None, description="重复检查时所对照的既往结果（申请单 id，缺省取最近一份）")
    idempotency_key: str = Field("", description="客户端生成的唯一键；缺省时使用 Idempotency-Key 请求头")

    _blanks = field_validator("encounter", "prior_order", mode="before")(_blank_to_none)


class ReportInput(Input):
    conclusion: str = Field(..., description="结论/诊断")
    findings: str = Field("", description="所见")
    structured: dict[str, Any] = Field(default_factory=dict, description="结构化所见（键值）")
    template: int | None = Field(None, description="所用报告模板 id")
    critical_findings: list[str] = Field(default_factory=list, description="危急值（CriticalFinding 编码）")
    critical_note: str = Field("", description="危急值说明")

    _blanks = field_validator("template", mode="before")(_blank_to_none)


# ---- accession numbers -------------------------------------------------------------------------------

def _last_accession(kind: str, prefix: str) -> str | None:
    model = Consultation if kind == CenterKind.CONSULTATION else Order
    return (model.objects.filter(accession_no__startswith=prefix).order_by("-accession_no")
            .values_list("accession_no", flat=True).first())


def next_accession(kind: str, day: dt.date | None = None) -> str:
    """The next free accession number of this kind today (Asia/Shanghai): ``{kind letter}{yymmdd}{seq}``
    (E 心电, R 影像, L 检验, P 病理, C 会诊). Unique by the table's constraint: a writer that loses a race
    retries with the next one."""
    day = day or timezone.localdate()
    prefix = workflow.accession_prefix(kind, day)
    return workflow.accession(kind, day, workflow.next_seq(_last_accession(kind, prefix), prefix))


# ---- placing an order -------------------------------------------------------------------------------

def _resident_in_scope(actor: Actor, pk: int) -> Resident:
    resident = Resident.objects.filter(merged_into__isnull=True, pk=pk).first()
    if resident is None or (actor.user is not None and not scope_for(actor.user).contains(resident.area_code)):
        raise NotFound(_("居民档案不存在或不在您的管辖范围内"))
    return resident


def _item_for(user: User, pk: int) -> CatalogItem:
    item = CatalogItem.objects.select_related("center").filter(pk=pk, active=True, center__active=True).first()
    facility = user.facility
    if item is None or facility is None or facility.community_id != item.center.community_id:
        raise InvalidInput("unknown_item", _("检查检验项目不存在或未启用"), field="item")
    if item.center.kind == CenterKind.CONSULTATION:
        raise InvalidInput("use_consultation", _("远程会诊请通过“远程会诊申请”提交"), field="item")
    return item


def recent_results(resident: Resident, item: CatalogItem, now: dt.datetime | None = None):
    """Reported orders of this item for this resident within the item's mutual-recognition window (any facility
    of the community), newest first. Empty for items not on the recognised list."""
    if not item.recognised or not item.validity_days:
        return Order.objects.none()
    since = (now or timezone.now()) - dt.timedelta(days=item.validity_days)
    return (Order.objects.filter(resident=resident, item=item, status__in=workflow.DONE, reported_at__gte=since)
            .select_related("facility", "report").order_by("-reported_at"))


def _existing(user: User, key: str) -> Order | None:
    return Order.objects.filter(ordered_by=user, idempotency_key=key).first() if key else None


def place_order(data: OrderInput | Mapping[str, Any], idempotency_key: str = "", *, actor: Actor) -> Order:
    """开具检查检验申请: an order for a resident in the doctor's scope, of an item from a center of the doctor's
    community, with its accession number and report deadline (the center's turnaround target for the urgency).
    When the resident has a result of the same recognised item within its validity window, the doctor must give
    a reason to repeat it (recorded as a ``Recognition``; "recognised, not repeated" is
    ``recognition.recognise_result`` and places no order). A retry with the same idempotency key returns the
    first order."""
    inp = OrderInput.parse(data)
    user = actor.user
    if user is None or not user.facility_id:
        raise Forbidden(_("只有医疗机构的医生可以开具检查检验申请"), code="no_facility")
    key = (idempotency_key or inp.idempotency_key or "").strip()[:64]
    if done := _existing(user, key):
        return done
    resident = _resident_in_scope(actor, inp.resident)
    check(actor, "telemedicine.order", resident)
    item = _item_for(user, inp.item)
    if inp.urgency not in Urgency.values:
        raise InvalidInput("invalid_urgency", _("紧急程度无效"), field="urgency")
    encounter = None
    if inp.encounter:
        encounter = Encounter.objects.filter(pk=inp.encounter, resident=resident).first()
        if encounter is None:
            raise InvalidInput("unknown_encounter", _("就诊记录不存在或不属于该患者"), field="encounter")
    recent = list(recent_results(resident, item)[:5])
    prior = None
    if recent:
        prior = next((o for o in recent if o.pk == inp.prior_order), recent[0])
        if not inp.repeat_reason:
            raise InvalidInput("recent_result", _("该患者 %(when)s 已在%(where)s做过%(item)s"
                                                  "（互认有效期 %(days)s 天内），请互认该结果，或填写重复检查的理由")
                               % {"when": timezone.localtime(prior.reported_at).strftime("%Y-%m-%d"),
                                  "where": prior.facility.name, "item": item.name, "days": item.validity_days},
                               field="repeat_reason")
    try:
        return _create(actor, inp, key, resident, item, encounter, prior)
    except IntegrityError:
        if done := _existing(user, key):
            return done  # a concurrent retry of the same order won the insert
        raise


def _create(actor: Actor, inp: OrderInput, key: str, resident: Resident, item: CatalogItem,
            encounter: Encounter | None, prior: Order | None) -> Order:
    user, center, now = actor.user, item.center, timezone.now()
    with transaction.atomic():
        recognition = None
        if prior is not None:
            recognition = Recognition.objects.create(
                resident=resident, area_code=resident.area_code, item=item, prior_order=prior,
                decision=RecognitionDecision.REPEATED, reason=inp.repeat_reason, facility=user.facility,
                decided_by=user, decided_at=now)
        order = None
        for _attempt in range(20):
            try:
                with transaction.atomic():  # a savepoint: losing the accession race retries with the next number
                    order = Order.objects.create(
                        accession_no=next_accession(center.kind), center=center, item=item, kind=center.kind,
                        resident=resident, area_code=resident.area_code, encounter=encounter,
                        facility=user.facility, ordered_by=user, clinical_question=inp.clinical_question,
                        urgency=inp.urgency, priority=PRIORITY[inp.urgency], ordered_at=now,
                        due_at=workflow.due_at(now, center.tat_minutes(inp.urgency)), recognition=recognition,
                        idempotency_key=key)
                break
            except IntegrityError:
                if key and _existing(user, key):
                    raise
        if order is None:
            raise Conflict("accession_busy", _("申请单号生成冲突，请重试"))
        OrderEvent.objects.create(order=order, kind="ordered", at=now, by=user, note=inp.clinical_question[:200])
        audit.record(actor, "create", "telemedicine_order", order.pk, resident=resident.pk, item=item.code,
                     urgency=inp.urgency, accession=order.accession_no,
                     repeated=recognition.pk if recognition else None)
        if inp.urgency == Urgency.EMERGENCY:
            readers = User.objects.filter(diagnosis_centers__center=center, is_active=True)
            notify(list(readers), EMERGENCY_KIND, f"【急诊】{user.facility.name} {item.name} {order.accession_no}",
                   inp.clinical_question[:200], reverse("telemedicine:order", args=[order.pk]), urgent=True,
                   public_title=_("您有一份急诊检查申请"))
    return order


# ---- transitions -------------------------------------------------------------------------------------

def _lock(pk: int | Order) -> Order:
    order_pk = pk.pk if isinstance(pk, Order) else pk
    order = (Order.objects.select_for_update(of=("self",)).select_related("center", "item", "resident", "facility")
             .filter(pk=order_pk).first())
    if order is None:
        raise NotFound(_("申请单不存在"))
    return order


def _order(pk: int | Order) -> Order:
    if isinstance(pk, Order):
        return pk
    order = Order.objects.select_related("center", "item", "resident", "facility").filter(pk=pk).first()
    if order is None:
        raise NotFound(_("申请单不存在"))
    return order


def _move(order: Order, action: str) -> str:
    try:
        return workflow.check_move(order.status, action)
    except workflow.MoveNotAllowed as e:
        raise Conflict(e.code, e.message) from None


def _event(actor: Actor, order: Order, kind: str, at: dt.datetime, note: str = "", **detail: Any) -> None:
    OrderEvent.objects.create(order=order, kind=kind, at=at, by=actor.user, note=note[:500])
    audit.record(actor, "update", "telemedicine_order", order.pk, move=kind, to=order.status, **detail)


def cancel_order(pk: int | Order, reason: str, *, actor: Actor) -> Order:
    """取消申请: the ordering facility withdraws an order before it is read, with a reason."""
    check(actor, "telemedicine.cancel_order", _order(pk))
    if not (reason or "").strip():
        raise InvalidInput("reason_required", _("请填写取消理由"), field="reason")
    with transaction.atomic():
        order = _lock(pk)
        order.status = _move(order, "cancel")
        order.cancelled_reason = reason.strip()
        order.save(update_fields=["status", "cancelled_reason"])
        _event(actor, order, "cancelled", timezone.now(), reason)
    return order


def mark_acquired(order: int | Order, *, actor: Actor, at: dt.datetime | None = None,
                  device: Device | None = None) -> Order:
    """登记采集: the ECG was recorded, the study arrived, the specimen was collected. Called by the modules that
    receive the data (inside their transaction is fine); an order already past this step is left as it is."""
    check(actor, "telemedicine.acquire", _order(order))
    with transaction.atomic():
        o = _lock(order)
        if o.status == OrderStatus.CANCELLED:
            raise Conflict("cancelled", _("申请单已取消，不能上传检查数据"))
        if o.status != OrderStatus.ORDERED:
            if device is not None and o.device_id is None:
                Order.objects.filter(pk=o.pk).update(device=device)
            return o
        o.status = _move(o, "acquire")
        o.acquired_at = at or timezone.now()
        o.device = device or o.device
        o.save(update_fields=["status", "acquired_at", "device"])
        _event(actor, o, "acquired", o.acquired_at, device=device.pk if device else None)
    return o


def start_reading(pk: int | Order, *, actor: Actor) -> Order:
    """开始阅片/检验: a reader takes the order from the worklist (the clock of the read starts)."""
    check(actor, "telemedicine.report", _order(pk))
    with transaction.atomic():
        order = _lock(pk)
        if order.status == OrderStatus.IN_PROGRESS:
            return order
        order.status = _move(order, "start")
        order.started_at = timezone.now()
        order.save(update_fields=["status", "started_at"])
        _event(actor, order, "started", order.started_at)
    return order


def _findings(order: Order, codes: list[str]) -> list[CriticalFinding]:
    codes = [c.strip() for c in codes if c and c.strip()]
    if not codes:
        return []
    found = {f.code: f for f in CriticalFinding.objects.filter(code__in=codes, active=True)}
    unknown = [c for c in codes if c not in found or found[c].kind != order.kind]
    if unknown:
        raise InvalidInput("unknown_finding", _("危急值项目无效：%(codes)s") % {"codes": "、".join(unknown)},
                           field="critical_findings")
    return [found[c] for c in dict.fromkeys(codes)]


def _template(order: Order, pk: int | None) -> ReportTemplate | None:
    if not pk:
        return None
    template = ReportTemplate.objects.filter(pk=pk, center_id=order.center_id).first()
    if template is None:
        raise InvalidInput("unknown_template", _("报告模板无效"), field="template")
    return template


def order_url(order: Order) -> str:
    return reverse("telemedicine:order", args=[order.pk])


def sign_report(pk: int | Order, data: ReportInput | Mapping[str, Any], *, actor: Actor) -> Report:
    """签发报告: a reader of the order's center writes the findings and the conclusion (from a template or not)
    and marks critical findings from the center's list; each goes to the critical-value loop
    (``services.critical.raise_finding``). The ordering doctor is told the report is back."""
    inp = ReportInput.parse(data)
    check(actor, "telemedicine.report", _order(pk))
    if not inp.conclusion.strip():
        raise InvalidInput("conclusion_required", _("请填写结论"), field="conclusion")
    if actor.user is None:
        raise Forbidden(_("报告须由中心的报告医生签发"), code="no_reader")
    with transaction.atomic():
        order = _lock(pk)
        order.status = _move(order, "sign")
        findings = _findings(order, inp.critical_findings)
        template = _template(order, inp.template)
        now = timezone.now()
        report = Report.objects.create(order=order, findings=inp.findings, structured=inp.structured,
                                       conclusion=inp.conclusion.strip(), template=template, reader=actor.user,
                                       signed_at=now, critical=bool(findings))
        order.reported_at, order.started_at = now, order.started_at or now
        order.critical = order.critical or bool(findings)
        order.save(update_fields=["status", "reported_at", "started_at", "critical"])
        _event(actor, order, "reported", now, inp.conclusion[:200], critical=[f.code for f in findings])
        if findings:
            from . import critical  # the critical-value loop (its own module)

            for finding in findings:
                critical.raise_finding(order, finding, actor=actor, note=inp.critical_note)
        _tell_ordering_doctor(order, report)
    return report


def _tell_ordering_doctor(order: Order, report: Report) -> None:
    mark = "【危急值】" if report.critical else ""
    notify([order.ordered_by], REPORT_KIND,
           f"{mark}{order.item.name}报告已出：{order.resident.name}（{order.accession_no}）",
           report.conclusion[:200], order_url(order), urgent=report.critical,
           public_title=_("您有一份新的检查检验报告"))


def review_report(pk: int | Order, note: str = "", *, actor: Actor) -> Report:
    """审核报告: a second reader of the center (not the one who signed) confirms the report."""
    order = _order(pk)
    report = Report.objects.select_related("order").filter(order=order).first()
    if report is None:
        raise Conflict("not_reported", _("申请单尚未出具报告"))
    check(actor, "telemedicine.review", report)
    with transaction.atomic():
        order = _lock(order)
        order.status = _move(order, "review")
        now = timezone.now()
        Report.objects.filter(pk=report.pk).update(reviewer=actor.user, reviewed_at=now, review_note=note.strip())
        order.reviewed_at = now
        order.save(update_fields=["status", "reviewed_at"])
        _event(actor, order, "reviewed", now, note)
    report.refresh_from_db()
    return report


def readers_of(center_id: int) -> list[User]:
    return [m.user for m in CenterMember.objects.filter(center_id=center_id, user__is_active=True)
            .select_related("user")]
