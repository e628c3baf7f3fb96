"""Remote consultation (远程会诊): a township or village doctor asks the community's consultation center for a
county specialist's opinion on a resident — a question, a summary, attachments; the center schedules it (the
specialist, the time, the link of the county's own video-meeting service) or returns it; the specialist writes
the opinion, which goes back to the requesting doctor's inbox; the requester may cancel while it is open.

The consultation grants the specialist the resident's shared record while it is open and for
``GRANT_DAYS_AFTER`` days after the opinion (``grants_record``, pure); every read through it is audited as
``via_consultation`` (``queries/consultations.py``), as referrals do.

    requested → scheduled (again: rescheduled) → answered
    requested → answered (an opinion in writing, without a meeting)
    requested, scheduled → declined (the center returns it, with a reason) / cancelled (the requester, a reason)

Every move locks the row, checks ``TRANSITIONS``, writes an audit event and tells the other side; the
outside channels get a line without names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import Field, field_validator

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yigongti.core.notify import notify
from yigongti.core.scoping import scope_for
from yigongti.encounters.models import Encounter
from yigongti.orgs.models import Department, Role, User
from yigongti.orgs.permissions import check
from yigongti.referrals.inputs import Input
from yigongti.residents.models import Resident

from . import attachments
from .models import CatalogItem, Center, CenterKind, CenterMember, Consultation, ConsultationStatus, Urgency
from .permissions import member_of

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

S = ConsultationStatus
GRANT_DAYS_AFTER = 7  # the specialist may still read the shared record a week after the opinion (follow-up questions)
ATTACHMENT_TYPES = ("image/jpeg", "image/png", "application/pdf")
KIND_REQUESTED = "tm_consultation_requested"
KIND_SCHEDULED = "tm_consultation_scheduled"
KIND_ANSWERED = "tm_consultation_answered"
KIND_CLOSED = "tm_consultation_closed"


# ---- the rules, as data -----------------------------------------------------------------------------------

class Move(NamedTuple):
    starts: frozenset[str]
    target: str
    label: StrOrPromise
    verb: str
    needs_reason: bool = False


OPEN = frozenset({S.REQUESTED, S.SCHEDULED})
TRANSITIONS: dict[str, Move] = {
    "schedule": Move(OPEN, S.SCHEDULED, gettext_lazy("安排会诊"), "telemedicine.schedule_consultation"),
    "answer": Move(OPEN, S.ANSWERED, gettext_lazy("出具会诊意见"), "telemedicine.answer_consultation"),
    "decline": Move(OPEN, S.DECLINED, gettext_lazy("退回"), "telemedicine.schedule_consultation", needs_reason=True),
    "cancel": Move(OPEN, S.CANCELLED, gettext_lazy("取消"), "telemedicine.cancel_consultation", needs_reason=True),
}
CLOSED = frozenset({m.target for m in TRANSITIONS.values()}) - {S.SCHEDULED}


def check_move(status: str, action: str) -> str:
    """The status ``action`` leads to, or Conflict saying why not (pure)."""
    move = TRANSITIONS.get(action)
    if move is None:
        raise InvalidInput("unknown_action", _("未知的操作"))
    if status not in move.starts:
        raise Conflict("transition_not_allowed", _("会诊当前状态为“%(status)s”，不能%(action)s")
                       % {"status": S(status).label, "action": move.label})
    return move.target


def allowed_actions(status: str) -> list[str]:
    return [a for a, m in TRANSITIONS.items() if status in m.starts]


def grants_record(status: str, answered_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether the consultation still grants its specialist the resident's shared record: while it is open, and
    for ``GRANT_DAYS_AFTER`` days after the opinion; a cancelled or returned request grants nothing."""
    if status in OPEN:
        return True
    return status == S.ANSWERED and answered_at is not None and now <= answered_at + dt.timedelta(days=GRANT_DAYS_AFTER)


def due_at(requested_at: dt.datetime, center: Center, urgency: str) -> dt.datetime:
    """When the center should have answered, by its turnaround target for the urgency."""
    return requested_at + dt.timedelta(minutes=center.tat_minutes(urgency))


def check_video_url(url: str) -> str:
    """A link of the county's meeting service: http(s) only (no javascript:, no file:)."""
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 200:
        raise InvalidInput("invalid_url", _("视频会议链接应为 http:// 或 https:// 开头的网址"), field="video_url")
    return url


# ---- inputs -------------------------------------------------------------------------------------------------

def _blank(v: Any) -> Any:
    return None if isinstance(v, str) and not v.strip() else v


class ConsultationInput(Input):
    resident: int
    question: str = Field(..., max_length=2000, description="会诊目的/问题")
    summary: str = Field("", max_length=8000, description="病情摘要")
    item: int | None = Field(None, description="会诊项目（按专科，来自会诊中心目录）")
    specialty: int | None = Field(None, description="专科（科室 id），缺省取会诊项目的专科")
    urgency: str = Field(Urgency.ROUTINE, description="routine 常规 / urgent 加急 / emergency 急诊")
    encounter: int | None = Field(None, description="本次就诊（可选）")
    idempotency_key: str = Field("", max_length=64)

    _blanks = field_validator("item", "specialty", "encounter", mode="before")(_blank)


class ScheduleInput(Input):
    specialist: int = Field(..., description="会诊专家（账号 id）")
    scheduled_at: dt.datetime = Field(..., description="会诊时间")
    video_url: str = Field("", max_length=200, description="县里会议系统的视频会议链接")


MESSAGES = {"resident": gettext_lazy("请选择患者"), "question": gettext_lazy("请填写会诊目的（不超过 2000 字）"),
            "summary": gettext_lazy("病情摘要过长"), "item": gettext_lazy("会诊项目无效"),
            "specialty": gettext_lazy("专科无效"), "encounter": gettext_lazy("就诊记录无效"),
            "specialist": gettext_lazy("请选择会诊专家"), "scheduled_at": gettext_lazy("请填写会诊时间"),
            "video_url": gettext_lazy("视频会议链接过长")}


def _parse(cls, data):
    try:
        return cls.parse(data)
    except InvalidInput as e:
        errors = {k: [str(MESSAGES.get(k, _("格式无效")))] for k in e.errors}
        first = next(iter(errors))
        raise InvalidInput("invalid_input", errors[first][0], field=first, errors=errors) from None


# ---- requesting ---------------------------------------------------------------------------------------------

def resident_in_scope(actor: Actor, pk: int) -> Resident:
    resident = Resident.objects.filter(merged_into__isnull=True, pk=pk).first()
    if resident is None or (actor.user is not None and not scope_for(actor.user).contains(resident.area_code)):
        audit.record(actor, "denied", "resident", pk, attempted="telemedicine.request_consultation")
        raise NotFound(_("居民档案不存在或不在您的管辖范围内"))
    return resident


def consultation_center(user) -> Center | None:
    """The consultation center of the user's community."""
    facility = getattr(user, "facility", None)
    community = facility.community_id if facility is not None else None
    return Center.objects.filter(community_id=community, kind=CenterKind.CONSULTATION, active=True).first()


def _existing(user: User, key: str) -> Consultation | None:
    return Consultation.objects.filter(requested_by=user, idempotency_key=key).first() if key else None


def request_consultation(data: ConsultationInput | Mapping[str, Any], idempotency_key: str = "",
                         files: Sequence[Any] = (), *, actor: Actor) -> Consultation:
    """申请远程会诊: a doctor asks the community's consultation center about a resident in the doctor's scope, with
    the question, a summary and files (JPEG, PNG, PDF). The center's members are told. A retry with the same
    idempotency key returns the first request."""
    inp = _parse(ConsultationInput, data)
    user = actor.user
    if user is None or not user.facility_id:
        raise Forbidden(_("只有医疗机构的医生可以申请远程会诊"), code="no_facility")
    key = (idempotency_key or inp.idempotency_key or "").strip()[:64]
    if done := _existing(user, key):
        return done
    resident = resident_in_scope(actor, inp.resident)
    check(actor, "telemedicine.request_consultation", resident)
    errors: dict[str, list[str]] = {}
    if not inp.question.strip():
        errors["question"] = [_("请填写会诊目的")]
    if inp.urgency not in Urgency.values:
        errors["urgency"] = [_("紧急程度无效")]
    center = consultation_center(user)
    item = None
    if inp.item:
        item = CatalogItem.objects.filter(pk=inp.item, active=True, center__kind=CenterKind.CONSULTATION,
                                          center__community_id=user.facility.community_id).first()
        if item is None:
            errors["item"] = [_("会诊项目不存在或未启用")]
        else:
            center = item.center
    if center is None:
        raise InvalidInput("no_center", _("本医共体尚未设立远程会诊中心"))
    specialty = None
    if inp.specialty:
        specialty = Department.objects.filter(pk=inp.specialty).first()
        if specialty is None:
            errors["specialty"] = [_("专科无效")]
    elif item is not None:
        specialty = item.specialty
    encounter = None
    if inp.encounter:
        encounter = Encounter.objects.filter(pk=inp.encounter, resident=resident).first()
        if encounter is None:
            errors["encounter"] = [_("就诊记录不存在或不属于该患者")]
    uploads = [attachments.Upload.of(f) for f in files if f]
    if len(uploads) > attachments.MAX_FILES:
        errors["files"] = [_("一次最多上传 %(n)s 个文件") % {"n": attachments.MAX_FILES}]
    for upload in uploads:
        try:
            attachments.check(upload, ATTACHMENT_TYPES)
        except InvalidInput as e:
            errors.setdefault("files", [f"{upload.name}：{e.message}"])
    if errors:
        first = next(iter(errors))
        raise InvalidInput("invalid_input", errors[first][0], field=first, errors=errors)
    try:
        return _create(actor, inp, key, center, item, specialty, resident, encounter, uploads)
    except IntegrityError:
        if done := _existing(user, key):
            return done
        raise


def _create(actor: Actor, inp: ConsultationInput, key: str, center: Center, item: CatalogItem | None,
            specialty: Department | None, resident: Resident, encounter: Encounter | None,
            uploads: list[attachments.Upload]) -> Consultation:
    from .services.orders import next_accession

    user, now = actor.user, timezone.now()
    with transaction.atomic():
        c = None
        for _attempt in range(20):
            try:
                with transaction.atomic():  # a savepoint: a lost race for the number retries with the next one
                    c = Consultation.objects.create(
                        accession_no=next_accession(CenterKind.CONSULTATION), center=center, item=item,
                        resident=resident, area_code=resident.area_code, encounter=encounter,
                        facility=user.facility, requested_by=user, specialty=specialty,
                        question=inp.question.strip(), summary=inp.summary.strip(), urgency=inp.urgency,
                        requested_at=now, idempotency_key=key)
                break
            except IntegrityError:
                if key and _existing(user, key):
                    raise
        if c is None:
            raise Conflict("accession_busy", _("会诊单号生成冲突，请重试"))
        files = [attachments.store(u, ATTACHMENT_TYPES, user=user, consultation=c) for u in uploads]
        audit.record(actor, "create", "consultation", c.pk, resident=resident.pk, center=center.pk,
                     urgency=c.urgency, accession=c.accession_no, attachments=[a.pk for a in files])
        members = [m.user for m in CenterMember.objects.filter(center=center, user__is_active=True)
                   .select_related("user")]
        urgent = c.urgency != Urgency.ROUTINE
        notify(members, KIND_REQUESTED, f"{'【' + c.get_urgency_display() + '】' if urgent else ''}"
               f"{user.facility.name}申请远程会诊：{resident.name}（{c.accession_no}）", c.question[:200],
               url_of(c), urgent=c.urgency == Urgency.EMERGENCY, public_title=_("您有一份新的远程会诊申请待安排"))
    return c


def url_of(c: Consultation) -> str:
    return reverse("telemedicine:consultation", args=[c.pk])


def add_attachments(pk: int, files: Sequence[Any], *, actor: Actor) -> list:
    """补充资料: the requesting side adds files to an open request."""
    c = _get(pk)
    check(actor, "telemedicine.cancel_consultation", c, message=_("只有申请机构的医生可以补充会诊资料"))
    uploads = [attachments.Upload.of(f) for f in files if f]
    if not uploads:
        raise InvalidInput("file_missing", _("请选择要上传的文件"), field="files")
    for upload in uploads:
        attachments.check(upload, ATTACHMENT_TYPES)
    with transaction.atomic():
        c = _lock(pk)
        if c.status not in OPEN:
            raise Conflict("closed", _("会诊已结束，不能再补充资料"))
        files = [attachments.store(u, ATTACHMENT_TYPES, user=actor.user, consultation=c) for u in uploads]
        audit.record(actor, "update", "consultation", c.pk, move="attach", attachments=[a.pk for a in files])
    return files


# ---- moves --------------------------------------------------------------------------------------------------

def _get(pk) -> Consultation:
    c = Consultation.objects.select_related("center", "resident", "facility").filter(pk=pk).first()
    if c is None:
        raise NotFound(_("会诊不存在或无权访问"))
    return c


def _lock(pk) -> Consultation:
    c = (Consultation.objects.select_for_update(of=("self",)).select_related("center", "resident", "facility")
         .filter(pk=pk).first())
    if c is None:
        raise NotFound(_("会诊不存在或无权访问"))
    return c


def specialist_choices(center: Center):
    """Who may be invited: the doctors of the center's hospital and the center's own members, active."""
    from django.db.models import Q

    return (User.objects.filter(Q(facility_id=center.facility_id) | Q(diagnosis_centers__center=center),
                                role=Role.DOCTOR, is_active=True)
            .select_related("staff__department").distinct().order_by("staff__department__name", "username"))


def schedule_consultation(pk: int, data: ScheduleInput | Mapping[str, Any], *, actor: Actor) -> Consultation:
    """安排会诊: the center names the specialist, the time and the meeting link (again to reschedule). The
    requester and the specialist are told."""
    c = _get(pk)
    check(actor, "telemedicine.schedule_consultation", c)
    inp = _parse(ScheduleInput, data)
    specialist = specialist_choices(c.center).filter(pk=inp.specialist).first()
    errors: dict[str, list[str]] = {}
    if specialist is None:
        errors["specialist"] = [_("会诊专家须为会诊中心所在医院的在岗医生")]
    when = inp.scheduled_at if timezone.is_aware(inp.scheduled_at) else timezone.make_aware(inp.scheduled_at)
    now = timezone.now()
    if when < now - dt.timedelta(minutes=10):
        errors["scheduled_at"] = [_("会诊时间不能早于现在")]
    elif when > now + dt.timedelta(days=90):
        errors["scheduled_at"] = [_("会诊时间不能晚于 90 天后")]
    try:
        video = check_video_url(inp.video_url)
    except InvalidInput as e:
        errors["video_url"] = [e.message]
        video = ""
    if errors:
        first = next(iter(errors))
        raise InvalidInput("invalid_input", errors[first][0], field=first, errors=errors)
    with transaction.atomic():
        c = _lock(pk)
        rescheduled = c.status == S.SCHEDULED
        c.status = check_move(c.status, "schedule")
        c.specialist, c.scheduled_at, c.video_url = specialist, when, video
        c.save(update_fields=["status", "specialist", "scheduled_at", "video_url"])
        audit.record(actor, "update", "consultation", c.pk, move="reschedule" if rescheduled else "schedule",
                     specialist=specialist.pk, scheduled_at=when.isoformat())
        local = timezone.localtime(when).strftime("%m-%d %H:%M")
        notify([c.requested_by, specialist], KIND_SCHEDULED,
               _("远程会诊已安排：%(name)s（%(no)s），%(when)s，专家 %(who)s")
               % {"name": c.resident.name, "no": c.accession_no, "when": local, "who": specialist},
               c.question[:200], url_of(c), public_title=_("您有一场远程会诊已安排，时间 %(when)s") % {"when": local})
    return c


def answer_consultation(pk: int, opinion: str, *, actor: Actor) -> Consultation:
    """出具会诊意见: the invited specialist (or the center's director) writes the opinion; the requesting doctor is
    told. The shared record stays open to the specialist for ``GRANT_DAYS_AFTER`` days."""
    c = _get(pk)
    check(actor, "telemedicine.answer_consultation", c)
    if not (opinion or "").strip():
        raise InvalidInput("opinion_required", _("请填写会诊意见"), field="opinion")
    if len(opinion) > 8000:
        raise InvalidInput("opinion_too_long", _("会诊意见不超过 8000 字"), field="opinion")
    with transaction.atomic():
        c = _lock(pk)
        c.status = check_move(c.status, "answer")
        c.opinion, c.answered_at = opinion.strip(), timezone.now()
        if c.specialist_id is None:
            c.specialist = actor.user
        c.save(update_fields=["status", "opinion", "answered_at", "specialist"])
        audit.record(actor, "update", "consultation", c.pk, move="answer", resident=c.resident_id)
        notify([c.requested_by], KIND_ANSWERED,
               _("远程会诊意见已出具：%(name)s（%(no)s）") % {"name": c.resident.name, "no": c.accession_no},
               c.opinion[:200], url_of(c), urgent=c.urgency == Urgency.EMERGENCY,
               public_title=_("您申请的一次远程会诊已出具意见"))
    return c


def _close(pk: int, action: str, reason: str, actor: Actor) -> Consultation:
    c = _get(pk)
    check(actor, TRANSITIONS[action].verb, c)
    if not (reason or "").strip():
        raise InvalidInput("reason_required", _("请填写理由"), field="reason")
    with transaction.atomic():
        c = _lock(pk)
        c.status = check_move(c.status, action)
        c.closed_reason = reason.strip()[:500]
        c.save(update_fields=["status", "closed_reason"])
        audit.record(actor, "update", "consultation", c.pk, move=action, reason=c.closed_reason)
        told: list[User | None] = [c.requested_by] if action == "decline" else [
            c.specialist, *User.objects.filter(diagnosis_centers__center_id=c.center_id, is_active=True)]
        what = _("已退回") if action == "decline" else _("已取消")
        notify([u for u in told if u is not None and u.pk != getattr(actor.user, "pk", None)], KIND_CLOSED,
               _("远程会诊%(what)s：%(name)s（%(no)s）")
               % {"what": what, "name": c.resident.name, "no": c.accession_no},
               c.closed_reason, url_of(c), public_title=_("一次远程会诊%(what)s") % {"what": what})
    return c


def decline_consultation(pk: int, reason: str, *, actor: Actor) -> Consultation:
    """退回: the center returns a request it cannot take (wrong specialty, the patient should be referred), with a
    reason the requester reads."""
    return _close(pk, "decline", reason, actor)


def cancel_consultation(pk: int, reason: str, *, actor: Actor) -> Consultation:
    """取消: the requesting facility withdraws an open request, with a reason."""
    return _close(pk, "cancel", reason, actor)


def may(user, c: Consultation) -> dict[str, bool]:
    """Which moves the page offers this user (the services decide)."""
    from yigongti.orgs.permissions import can

    return {a: c.status in m.starts and can(user, m.verb, c) for a, m in TRANSITIONS.items()} | {
        "attach": c.status in OPEN and can(user, "telemedicine.cancel_consultation", c),
        "member": member_of(user, c.center_id)}


def register() -> None:
    """The resident page's panel of consultations and the home page's."""
    from yigongti.orgs import home
    from yigongti.residents import panels

    from .queries.consultations import home_panel, resident_panel

    panels.register("consultations", gettext_lazy("远程会诊"), order=45, rows=resident_panel)
    home.register("telemedicine.consultations", home_panel, order=18)
