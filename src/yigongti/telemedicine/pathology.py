"""Pathology (病理): the specimen's way from the township's operating room to the county's pathology center, and
the report with its photographs.

    collected (采集, at the ordering facility) → sent (送检) → received (接收, at the center) → sectioned (制片)
    → reported (报告);  collected, sent, received → rejected (拒收, with the reason: a new specimen is needed)

``SPECIMEN_MOVES`` is the table (pure); every move is one service call (``telemedicine.track_specimen``; the
sending moves belong to the ordering facility, the laboratory moves to the center's members) that locks the
specimen, writes an ``OrderEvent`` and an audit event. Collecting the first specimen marks the order acquired
(``services.orders.mark_acquired``); receiving one starts the order's clock at the center (``in_progress``).
``report_pathology`` signs the report through ``services.orders.sign_report`` (gross and microscopic findings,
the diagnosis) and marks the sectioned specimens reported in the same transaction; ``attach_image`` adds a
photograph (JPEG/PNG) to the order. Whole-slide images through Orthanc's WSI plugin are linked by
``Specimen.slide_study`` when a scanner sends them (not built here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import Field, field_validator

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yigongti.core.notify import notify
from yigongti.orgs.permissions import allows, check
from yigongti.referrals.inputs import Input

from . import attachments, registry, workflow
from .models import CenterKind, Order, OrderEvent, OrderStatus, Specimen, SpecimenStatus
from .permissions import member_of

if TYPE_CHECKING:
    from .models import Attachment, Report

SS = SpecimenStatus
IMAGE_TYPES = attachments.IMAGES
KIND_REJECTED = "tm_specimen_rejected"
ORIGIN, CENTER = "origin", "center"


class Move(NamedTuple):
    starts: frozenset[str]
    target: str
    label: Any
    side: str  # who makes it: the ordering facility ("origin") or the center's members ("center")
    stamp: str = ""  # the Specimen field that records when
    needs_reason: bool = False


SPECIMEN_MOVES: dict[str, Move] = {
    "send": Move(frozenset({SS.COLLECTED}), SS.SENT, gettext_lazy("送检"), ORIGIN, "sent_at"),
    "receive": Move(frozenset({SS.COLLECTED, SS.SENT}), SS.RECEIVED, gettext_lazy("接收"), CENTER, "received_at"),
    "section": Move(frozenset({SS.RECEIVED}), SS.SECTIONED, gettext_lazy("制片"), CENTER, "sectioned_at"),
    "report": Move(frozenset({SS.SECTIONED}), SS.REPORTED, gettext_lazy("报告"), CENTER, "reported_at"),
    "reject": Move(frozenset({SS.COLLECTED, SS.SENT, SS.RECEIVED}), SS.REJECTED, gettext_lazy("拒收"), CENTER,
                   needs_reason=True),
}
IN_LAB = frozenset({SS.RECEIVED, SS.SECTIONED})
WAITING = frozenset({SS.COLLECTED, SS.SENT})


def check_move(status: str, action: str) -> Move:
    """The move, or Conflict saying why it cannot happen from ``status`` (pure)."""
    move = SPECIMEN_MOVES.get(action)
    if move is None:
        raise InvalidInput("unknown_action", _("未知的操作"))
    if status not in move.starts:
        raise Conflict("transition_not_allowed", _("标本当前状态为“%(status)s”，不能%(action)s")
                       % {"status": SS(status).label, "action": move.label})
    return move


def allowed_moves(status: str) -> list[str]:
    return [a for a, m in SPECIMEN_MOVES.items() if status in m.starts]


def specimen_no(accession_no: str, n: int) -> str:
    """``{accession}-{n}``: the label on the container (the order's barcode and the container's number)."""
    return f"{accession_no}-{n}"


# ---- inputs -------------------------------------------------------------------------------------------------

class SpecimenInput(Input):
    specimen_type: str = Field(..., min_length=1, max_length=40, description="标本类型（如 胃黏膜活检组织）")
    site: str = Field("", max_length=60, description="取材部位")
    container_count: int = Field(1, ge=1, le=20, description="容器数")
    fixative: str = Field("10%中性福尔马林", max_length=30, description="固定液")
    collected_at: dt.datetime | None = Field(None, description="采集（离体）时间，缺省为现在")

    @field_validator("collected_at", mode="before")
    @classmethod
    def _blank(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v


class PathologyReportInput(Input):
    gross: str = Field("", max_length=4000, description="大体所见")
    microscopic: str = Field("", max_length=8000, description="镜下所见")
    diagnosis: str = Field(..., max_length=2000, description="病理诊断")
    template: int | None = None

    @field_validator("template", mode="before")
    @classmethod
    def _blank(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v


MESSAGES = {"specimen_type": gettext_lazy("请填写标本类型"), "site": gettext_lazy("取材部位过长"),
            "container_count": gettext_lazy("容器数应为 1–20"), "fixative": gettext_lazy("固定液过长"),
            "collected_at": gettext_lazy("时间格式应为 YYYY-MM-DDTHH:MM"), "diagnosis": gettext_lazy("请填写病理诊断"),
            "gross": gettext_lazy("大体所见过长"), "microscopic": gettext_lazy("镜下所见过长")}


def _parse(cls, data):
    try:
        return cls.parse(data)
    except InvalidInput as e:
        errors = {k: [str(MESSAGES.get(k, _("格式无效")))] for k in e.errors}
        first = next(iter(errors))
        raise InvalidInput("invalid_input", errors[first][0], field=first, errors=errors) from None


# ---- the specimen's way -------------------------------------------------------------------------------------

def _pathology_order(pk) -> Order:
    order = Order.objects.select_related("center", "item", "resident", "facility").filter(pk=pk).first()
    if order is None:
        raise NotFound(_("申请单不存在"))
    if order.kind != CenterKind.PATHOLOGY:
        raise InvalidInput("not_pathology", _("该申请单不是病理检查"))
    return order


def _side_ok(actor: Actor, side: str, center_id: int) -> bool:
    """The center's moves are its members' (the ordering side sends, it does not receive its own specimen)."""
    if actor.user is None:
        return True
    return side != CENTER or member_of(actor.user, center_id)


def register_specimen(order_pk: int, data: SpecimenInput | Mapping[str, Any], *, actor: Actor) -> Specimen:
    """标本采集登记: the ordering facility labels a container of the order (``{accession}-{n}``); the first one
    marks the order acquired. A specimen may be added after a rejection (a new sample)."""
    order = _pathology_order(order_pk)
    check(actor, "telemedicine.track_specimen", Specimen(order=order))
    check(actor, "telemedicine.acquire", order)
    inp = _parse(SpecimenInput, data)
    now = timezone.now()
    at = inp.collected_at or now
    at = at if timezone.is_aware(at) else timezone.make_aware(at)
    if at > now + dt.timedelta(minutes=5):
        raise InvalidInput("invalid_input", _("采集时间不能晚于现在"), field="collected_at")
    if at < order.ordered_at - dt.timedelta(days=7):
        raise InvalidInput("invalid_input", _("采集时间不能早于申请前 7 天"), field="collected_at")
    if order.status not in workflow.OPEN:
        raise Conflict("order_closed", _("申请单已%(status)s，不能再登记标本") % {"status": order.get_status_display()})
    from .services.orders import mark_acquired

    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)  # numbers the containers one at a time
        n = (Specimen.objects.filter(order=locked).count()) + 1
        specimen = Specimen.objects.create(
            order=locked, specimen_no=specimen_no(locked.accession_no, n), specimen_type=inp.specimen_type.strip(),
            site=inp.site.strip(), container_count=inp.container_count, fixative=inp.fixative.strip(),
            collected_at=at)
        OrderEvent.objects.create(order=locked, kind="specimen_collected", at=at, by=actor.user,
                                  note=f"{specimen.specimen_no} {specimen.specimen_type} {specimen.site}".strip())
        audit.record(actor, "create", "specimen", specimen.pk, order=locked.pk, resident=locked.resident_id,
                     specimen_no=specimen.specimen_no)
        if locked.status == OrderStatus.ORDERED:
            mark_acquired(locked, actor=actor, at=at)
    return specimen


def _specimen(pk) -> Specimen:
    s = Specimen.objects.select_related("order__center", "order__facility", "order__resident").filter(pk=pk).first()
    if s is None:
        raise NotFound(_("标本不存在或无权访问"))
    return s


def move_specimen(pk: int, action: str, note: str = "", *, actor: Actor) -> Specimen:
    """One step of the specimen's way (``SPECIMEN_MOVES``): 送检 by the ordering facility; 接收, 制片, 报告 and 拒收
    (with the reason, told to the ordering doctor) by the pathology center."""
    current = _specimen(pk)
    check(actor, "telemedicine.track_specimen", current)
    move = check_move(current.status, action)
    if not _side_ok(actor, move.side, current.order.center_id):
        audit.record(actor, "denied", "specimen", current.pk, attempted=f"specimen.{action}")
        raise Forbidden(_("只有病理中心人员可以%(action)s标本") % {"action": move.label}, code="permission_denied")
    if move.needs_reason and not (note or "").strip():
        raise InvalidInput("reason_required", _("请填写拒收理由"), field="reason")
    if action == "report" and current.order.status not in workflow.DONE:
        raise Conflict("not_reported", _("病理报告尚未签发"))
    now = timezone.now()
    with transaction.atomic():
        s = Specimen.objects.select_for_update().select_related("order").get(pk=current.pk)
        move = check_move(s.status, action)
        s.status = move.target
        fields = ["status"]
        if move.stamp:
            setattr(s, move.stamp, now)
            fields.append(move.stamp)
        if action == "reject":
            s.reject_reason = note.strip()[:500]
            fields.append("reject_reason")
        s.save(update_fields=fields)
        OrderEvent.objects.create(order=s.order, kind=f"specimen_{move.target}", at=now, by=actor.user,
                                  note=f"{s.specimen_no} {note}".strip()[:500])
        audit.record(actor, "update", "specimen", s.pk, move=action, order=s.order_id, note=note[:200])
        if action == "receive":
            _start(s.order, now)
        if action == "reject":
            order = current.order
            notify([order.ordered_by], KIND_REJECTED,
                   _("病理标本被拒收：%(name)s（%(no)s）") % {"name": order.resident.name, "no": s.specimen_no},
                   s.reject_reason, _order_url(order), public_title=_("您送检的一份病理标本被拒收，请重新采集"))
    return s


def _start(order: Order, now: dt.datetime) -> None:
    """The first specimen received at the center: the order is in the laboratory (its clock at the center
    starts). A transition of the order's own table, written here with the specimen's event."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.status not in (OrderStatus.ORDERED, OrderStatus.ACQUIRED):
        return
    locked.status = workflow.check_move(locked.status, "start")
    locked.started_at = now
    locked.acquired_at = locked.acquired_at or now
    locked.save(update_fields=["status", "started_at", "acquired_at"])


def _order_url(order: Order) -> str:
    from django.urls import reverse

    return reverse("telemedicine:order", args=[order.pk])


# ---- the report ---------------------------------------------------------------------------------------------

def report_pathology(order_pk: int, data: PathologyReportInput | Mapping[str, Any], *, actor: Actor) -> Report:
    """签发病理报告: the pathologist's gross and microscopic findings and the diagnosis, signed through the order's
    report (``sign_report``; the ordering doctor is told), and the sectioned specimens marked reported."""
    from .services.orders import sign_report

    order = _pathology_order(order_pk)
    check(actor, "telemedicine.report", order)
    inp = _parse(PathologyReportInput, data)
    if not inp.diagnosis.strip():
        raise InvalidInput("invalid_input", _("请填写病理诊断"), field="diagnosis")
    if not Specimen.objects.filter(order=order, status__in=IN_LAB).exists():
        raise Conflict("no_specimen", _("没有已接收的标本，不能签发病理报告"))
    findings = "\n".join(x for x in (f"【大体所见】{inp.gross.strip()}" if inp.gross.strip() else "",
                                     f"【镜下所见】{inp.microscopic.strip()}" if inp.microscopic.strip() else "") if x)
    with transaction.atomic():
        structured = {"gross": inp.gross.strip(), "microscopic": inp.microscopic.strip()}
        report = sign_report(order.pk, {"conclusion": inp.diagnosis.strip(), "findings": findings,
                                        "structured": structured, "template": inp.template}, actor=actor)
        now = timezone.now()
        done = Specimen.objects.filter(order=order, status=SS.SECTIONED)
        ids, done_nos = [], []
        for pk, no in done.values_list("pk", "specimen_no"):
            ids.append(pk)
            done_nos.append(no)
        done.update(status=SS.REPORTED, reported_at=now)
        OrderEvent.objects.bulk_create([OrderEvent(order=order, kind="specimen_reported", at=now, by=actor.user,
                                                   note=no) for no in done_nos])
        audit.record(actor, "update", "specimen", "", move="report", order=order.pk, ids=ids)
    return report


def attach_image(order_pk: int, upload: Any, *, actor: Actor) -> Attachment:
    """A photograph of the gross specimen or of a slide (JPEG/PNG), added to the order by the center's reader."""
    order = _pathology_order(order_pk)
    check(actor, "telemedicine.report", order)
    file = attachments.Upload.of(upload)
    attachments.check(file, IMAGE_TYPES)
    with transaction.atomic():
        a = attachments.store(file, IMAGE_TYPES, user=actor.user, order=order)
        audit.record(actor, "create", "attachment", a.pk, order=order.pk, resident=order.resident_id)
    return a


# ---- the order page's panel ---------------------------------------------------------------------------------

def panel(actor: Actor, order: Order) -> dict:
    """Context of ``telemedicine/kinds/_pathology.html``: the specimens with the moves this user may make, the
    photographs, whether the user may register a specimen, add photographs, write the pathology report."""
    from .models import Attachment

    user = actor.user
    specimens = list(Specimen.objects.filter(order=order).order_by("id"))
    member = user is None or member_of(user, order.center_id)
    for s in specimens:
        moves = [a for a in allowed_moves(s.status) if SPECIMEN_MOVES[a].side == ORIGIN or member]
        if "report" in moves and order.status not in workflow.DONE:
            moves.remove("report")
        setattr(s, "moves", [(a, SPECIMEN_MOVES[a].label) for a in moves  # noqa: B010  (a row's offer, not a field)
                             if allows(actor, "telemedicine.track_specimen", s)])
    images = list(Attachment.objects.filter(order=order).order_by("uploaded_at"))
    open_ = order.status in workflow.OPEN
    return {"specimens": specimens, "images": images,
            "may_collect": open_ and allows(actor, "telemedicine.acquire", order),
            "may_image": allows(actor, "telemedicine.report", order),
            "may_report_pathology": open_ and allows(actor, "telemedicine.report", order)
            and any(s.status in IN_LAB for s in specimens)}


def register() -> None:
    registry.KIND_PANELS[CenterKind.PATHOLOGY.value] = panel
