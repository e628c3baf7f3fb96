"""Use cases of two-way referral: the only code that writes the referral tables (the demo bulk-loads).

Every transition is one function here that locks the row (SELECT … FOR UPDATE), checks the move
against ``workflow.TRANSITIONS`` and the actor's right to make it, records a ``ReferralEvent`` (who,
when, why) and an audit event, all in one transaction; notifications go out after commit."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from yigongti.core import audit
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound, collect
from yigongti.core.jobs import schedule
from yigongti.core.notify import notify
from yigongti.core.scoping import scope_for
from yigongti.encounters.models import Encounter
from yigongti.orgs.models import Department, Facility, Staff, User
from yigongti.residents.models import Resident

from . import workflow
from .guidelines import SOURCE, STARTER_RULES
from .models import (
    LEVEL_RANK,
    PRIORITY,
    CareLevel,
    CenterMember,
    Direction,
    FollowUp,
    FollowUpStatus,
    GuidelineRule,
    Referral,
    ReferralCenter,
    ReferralEvent,
    Status,
    Urgency,
    level_of_facility,
)

ICD10_RE = re.compile(r"^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?$")
ESCALATE_JOB = "referral_escalate"
OUTCOMES = [("cured", "治愈"), ("improved", "好转"), ("down", "好转，转回基层"), ("up", "转上级医院"),
            ("discharged_self", "自动出院"), ("died", "死亡"), ("other", "其他")]


# ---- the referral center ---------------------------------------------------------------------------

def setup_center(actor, community, *, members=(), supervisors=(), **sla) -> ReferralCenter:
    """Create (or update) the community's referral center at its lead hospital and set its staff."""
    with transaction.atomic():
        center, _ = ReferralCenter.objects.update_or_create(
            community=community, defaults={"facility": community.lead_facility, **sla})
        for user in members:
            CenterMember.objects.update_or_create(center=center, user=user, defaults={"is_supervisor": False})
        for user in supervisors:
            CenterMember.objects.update_or_create(center=center, user=user, defaults={"is_supervisor": True})
        audit.record(actor, "update", "referral_center", center.pk, members=[u.pk for u in members],
                     supervisors=[u.pk for u in supervisors])
    return center


def is_center_member(user, center_id: int | None) -> bool:
    return bool(center_id) and center_id in center_ids_of(user)


def center_ids_of(user) -> set[int]:
    cached = getattr(user, "_referral_centers", None)
    if cached is None:
        cached = set(CenterMember.objects.filter(user_id=user.pk).values_list("center_id", flat=True))
        user._referral_centers = cached
    return cached


def center_for(facility: Facility) -> ReferralCenter | None:
    if facility.community_id is None:
        return None
    return ReferralCenter.objects.filter(community_id=facility.community_id).select_related("facility").first()


# ---- guideline rules ---------------------------------------------------------------------------------

def install_starter_rules(actor) -> int:
    """Load the starter guideline rules that are not there yet (by name); returns how many were added."""
    have = set(GuidelineRule.objects.values_list("name", flat=True))
    new = [GuidelineRule(name=n, icd10_from=a, icd10_to=b, level=lv, up_criteria=up, down_criteria=down, source=SOURCE)
           for n, a, b, lv, up, down in STARTER_RULES if n not in have]
    GuidelineRule.objects.bulk_create(new)
    if new:
        audit.record(actor, "create", "guideline_rule", "", count=len(new))
    return len(new)


def active_rules() -> list[workflow.Rule]:
    return [workflow.Rule(r.pk, r.name, r.icd10_from, r.icd10_to, r.level, r.up_criteria, r.down_criteria)
            for r in GuidelineRule.objects.filter(active=True)]


def check_guideline(icd10: str, direction: str, from_facility: Facility, to_level: str) -> workflow.Advice:
    return workflow.advise((icd10 or "").strip().upper(), direction, level_of_facility(from_facility), to_level,
                           active_rules())


# ---- submitting ------------------------------------------------------------------------------------

def _summary(resident: Resident, today: dt.date) -> dict:
    """A snapshot of the last year's encounters, sent with the referral (it does not change later)."""
    rows = (Encounter.objects.filter(resident=resident, admit_date__gte=today - dt.timedelta(days=365))
            .select_related("facility", "department").order_by("-admit_date", "-id")[:10])
    return {"taken": today.isoformat(), "encounters": [
        {"date": e.admit_date.isoformat(), "facility": e.facility.name, "department": e.department.name if e.department else "",
         "type": e.get_type_display(), "icd10": e.main_icd10, "diagnosis": e.main_diagnosis,
         "discharge": e.discharge_date.isoformat() if e.discharge_date else ""} for e in rows]}


def _resident_for_referral(user, resident_id, source: Referral | None) -> Resident:
    qs = Resident.objects.filter(merged_into__isnull=True)
    resident = qs.filter(pk=resident_id).first() if str(resident_id or "").isdigit() else None
    if resident is None:
        raise InvalidInput("unknown_resident", "请选择患者", field="resident")
    through_referral = source is not None and source.resident_id == resident.pk
    if not (scope_for(user).contains(resident.area_code) or through_referral):
        raise NotFound("居民档案不存在或不在您的管辖范围内")
    return resident


def _target(data: dict, direction: str, origin: Facility, errors: dict) -> tuple[Facility | None, str, str]:
    """(facility, external hospital, level) of where the patient is sent."""
    to_id, external = data.get("to_facility"), (data.get("to_external") or "").strip()
    origin_rank = LEVEL_RANK[level_of_facility(origin)]
    if to_id:
        target = Facility.objects.filter(pk=to_id, is_active=True).select_related("region").first() if str(
            to_id).isdigit() else Facility.objects.filter(code=str(to_id)).first()
        if target is None or target.community_id != origin.community_id:
            errors["to_facility"] = ["接收机构须是本医共体的成员机构"]
            return None, "", ""
        level = level_of_facility(target)
        if direction == Direction.UP and LEVEL_RANK[level] <= origin_rank:
            errors["to_facility"] = ["上转的接收机构须高于本机构层级"]
        if direction == Direction.DOWN and LEVEL_RANK[level] >= origin_rank:
            errors["to_facility"] = ["下转的接收机构须是下级基层机构"]
        return target, "", level
    if external and direction == Direction.UP:
        level = data.get("to_level") or CareLevel.CITY
        if level not in (CareLevel.CITY, CareLevel.PROVINCE):
            errors["to_level"] = ["县外医院的层级应为市级或省级"]
        return None, external[:100], level
    errors["to_facility"] = ["请选择接收机构"]
    return None, "", ""


def _parse_dates(values) -> list[dt.date]:
    out = []
    for v in values or []:
        if isinstance(v, dt.date):
            out.append(v)
        elif str(v).strip():
            out.append(dt.date.fromisoformat(str(v).strip()))
    return sorted(set(out))


def submit_referral(actor, user, data: dict, idempotency_key: str = "") -> Referral:
    """转诊: refer a patient up (to the county hospital or further, through the referral center) or down (to a
    township center or village clinic with a follow-up plan). A retry with the same ``idempotency_key`` returns
    the first referral instead of creating another. ``data["draft"]`` saves without submitting."""
    key = (idempotency_key or "").strip()[:64]
    if key and (done := Referral.objects.filter(referred_by=user, idempotency_key=key).first()):
        return done
    if not user.facility_id:
        raise Forbidden("只有医疗机构的医生可以发起转诊", code="no_facility")
    origin = user.facility
    direction = data.get("direction") or Direction.UP
    errors: dict[str, list[str]] = {}
    if direction not in Direction.values:
        raise InvalidInput("invalid_direction", "转诊方向无效", field="direction")
    urgency = data.get("urgency") or Urgency.ROUTINE
    if urgency not in Urgency.values:
        errors["urgency"] = ["紧急程度无效"]
    source = None
    if data.get("source_referral"):
        source = Referral.objects.filter(pk=data["source_referral"], to_facility=origin).first()
        if source is None:
            errors["source_referral"] = ["原转诊单不存在或不是转入本机构的"]
    resident = _resident_for_referral(user, data.get("resident"), source)
    icd10 = (data.get("icd10") or "").strip().upper()
    if not ICD10_RE.match(icd10):
        errors["icd10"] = ["请填写有效的 ICD-10 编码（如 I63.9）"]
    reason = (data.get("reason") or "").strip()
    if not reason:
        errors["reason"] = ["请填写转诊理由"]
    target, external, to_level = _target(data, direction, origin, errors)
    center = None
    if direction == Direction.UP:
        center = center_for(origin)
        if center is None:
            errors["to_facility"] = ["本医共体尚未设置转诊服务中心"]
    try:
        dates = _parse_dates(data.get("follow_up_dates"))
    except ValueError:
        errors["follow_up_dates"] = ["随访日期格式应为 YYYY-MM-DD"]
        dates = []
    if direction == Direction.DOWN:
        if not dates:
            errors["follow_up_dates"] = ["请至少安排一次随访日期"]
        if not (data.get("rehab_plan") or data.get("medication_plan")):
            errors["rehab_plan"] = ["请填写康复计划或用药方案"]
    collect(errors)
    advice = check_guideline(icd10, direction, origin, to_level)
    override = (data.get("override_reason") or "").strip()
    if advice.warning and not override:
        raise InvalidInput("guideline_warning", advice.warning, field="override_reason")
    now = timezone.now()
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                direction=direction, status=Status.DRAFT, urgency=urgency, priority=PRIORITY[urgency],
                resident=resident, area_code=resident.area_code, center=center, from_facility=origin,
                from_level=level_of_facility(origin), referred_by=user, to_facility=target, to_external=external,
                to_level=to_level, icd10=icd10, diagnosis=(data.get("diagnosis") or "").strip()[:60], reason=reason,
                exams=data.get("exams") or "", medications=data.get("medications") or "",
                summary=_summary(resident, timezone.localdate()),
                guideline_rule_id=advice.rule.id if advice.rule else None, guideline_warning=advice.warning[:200],
                override_reason=override if advice.warning else "", source_referral=source,
                rehab_plan=data.get("rehab_plan") or "", medication_plan=data.get("medication_plan") or "",
                idempotency_key=key)
            FollowUp.objects.bulk_create([FollowUp(referral=referral, due_date=d) for d in dates])
            ReferralEvent.objects.create(referral=referral, at=now, actor=user, action="create",
                                         to_status=Status.DRAFT, note=override)
            audit.record(actor, "create", "referral", referral.pk, resident=resident.pk, direction=direction,
                         urgency=urgency, guideline_override=bool(advice.warning))
            if not data.get("draft"):
                _submitted(actor, user, referral, now, "")
    except IntegrityError:
        if key and (done := Referral.objects.filter(referred_by=user, idempotency_key=key).first()):
            return done  # a concurrent retry of the same submission won the insert
        raise
    return referral


def _submitted(actor, user, r: Referral, now: dt.datetime, note: str) -> None:
    """Move a (locked or new) draft to submitted: SLA clock, event, audit, timer, alerts."""
    old = r.status
    r.status, r.submitted_at = Status.SUBMITTED, now
    if r.center_id:
        r.due_at = now + dt.timedelta(minutes=r.center.sla_minutes(r.urgency))
    r.save(update_fields=["status", "submitted_at", "due_at"])
    ReferralEvent.objects.create(referral=r, at=now, actor=user, action="submit", from_status=old,
                                 to_status=r.status, note=note)
    audit.record(actor, "update", "referral", r.pk, move="submit", to=r.status)
    url = reverse("referrals:detail", args=[r.pk])
    if r.center_id:
        schedule(ESCALATE_JOB, r.due_at, {"referral": r.pk}, key=f"referral:{r.pk}")
        green = r.urgency == Urgency.GREEN
        title = f"{'【绿色通道】' if green else ''}{r.from_facility.name} 上转 {r.resident.name}（{r.icd10} {r.diagnosis}）"
        notify(center_users(r.center_id), "referral_submitted", title, r.reason[:200], url,
               urgent=r.urgency != Urgency.ROUTINE)
    else:
        notify(facility_doctors(r.to_facility_id), "referral_down",
               f"{r.from_facility.name} 下转 {r.resident.name}（{r.icd10} {r.diagnosis}），请接收并随访",
               r.reason[:200], url)


def center_users(center_id: int, supervisors: bool = False) -> list[User]:
    qs = User.objects.filter(referral_centers__center_id=center_id, is_active=True)
    if supervisors:
        qs = qs.filter(referral_centers__is_supervisor=True)
    return list(qs.select_related("staff"))


def facility_doctors(facility_id: int | None, limit: int = 20) -> list[User]:
    if facility_id is None:
        return []
    return list(User.objects.filter(facility_id=facility_id, is_active=True,
                                    role__in=["doctor", "village_doctor", "nurse"]).select_related("staff")[:limit])


# ---- transitions -------------------------------------------------------------------------------------

def _at_origin(user, r: Referral) -> bool:
    return r.referred_by_id == user.pk or (user.facility_id is not None and user.facility_id == r.from_facility_id)


def _at_target(user, r: Referral) -> bool:
    if r.to_facility_id is None:  # a hospital outside the county: the center records for it
        return is_center_member(user, r.center_id)
    return user.facility_id is not None and user.facility_id == r.to_facility_id


def _answers(user, r: Referral) -> bool:
    return is_center_member(user, r.center_id) if r.center_id else _at_target(user, r)


MAY: dict[str, Callable[[User, Referral], bool]] = {
    "submit": _at_origin,
    "accept": _answers,
    "redirect": lambda u, r: r.center_id is not None and is_center_member(u, r.center_id),
    "decline": _answers,
    "arrive": _at_target,
    "complete": _at_target,
    "cancel": lambda u, r: _at_origin(u, r) or is_center_member(u, r.center_id),
}


def may(user, r: Referral, action: str) -> bool:
    """Whether the user may make this move now (for showing buttons; the services check again)."""
    return r.status in workflow.TRANSITIONS[action][0] and action in MAY and MAY[action](user, r)


def _move(actor, user, pk: int, action: str, note: str = "", apply: Callable[[Referral], None] | None = None) -> Referral:
    with transaction.atomic():
        try:
            # No joins in the locking query: on PostgreSQL a waiter re-reads only the locked row after the
            # winner commits, so joined columns (who answered) would be stale. Related rows load after the lock.
            r = Referral.objects.select_for_update().get(pk=pk)
        except Referral.DoesNotExist:
            raise NotFound("转诊单不存在或无权访问") from None
        if user is not None and not MAY[action](user, r):
            audit.record(actor, "denied", "referral", r.pk, attempted=action)
            raise Forbidden(f"您不能{workflow.ACTION_LABELS[action]}这张转诊单", code="referral_forbidden")
        try:
            target = workflow.check_move(
                r.status, action, str(r.answered_by) if r.answered_by_id else "",
                timezone.localtime(r.answered_at).strftime("%m-%d %H:%M") if r.answered_at else "")
        except workflow.MoveNotAllowed as e:
            raise Conflict(e.code, e.message) from None
        now = timezone.now()
        if action == "submit":
            _submitted(actor, user, r, now, note)
            return r
        old, r.status = r.status, target
        if action in workflow.ANSWERS:
            r.answered_at, r.answered_by = now, user
        elif action == "arrive":
            r.arrived_at = now
        if target in (Status.DECLINED, Status.COMPLETED, Status.CANCELLED, Status.EXPIRED):
            r.closed_at = now
        if apply:
            apply(r)
        r.save()
        ReferralEvent.objects.create(referral=r, at=now, actor=user, action=action, from_status=old, to_status=target,
                                     note=note)
        audit.record(actor, "update", "referral", r.pk, move=action, to=target, note=note[:200])
    return r


def submit_draft(actor, user, pk: int) -> Referral:
    return _move(actor, user, pk, "submit")


def _department(facility_id, dept_id, errors) -> Department | None:
    if not dept_id:
        return None
    d = Department.objects.filter(pk=dept_id, facility_id=facility_id).first() if str(dept_id).isdigit() else None
    if d is None:
        errors["department"] = ["科室不属于接收机构"]
    return d


def _doctor(facility_id, staff_id, errors) -> Staff | None:
    if not staff_id:
        return None
    s = Staff.objects.filter(pk=staff_id, work_facility_id=facility_id).first() if str(staff_id).isdigit() else None
    if s is None:
        errors["doctor"] = ["医生不在接收机构"]
    return s


def _when(value, errors, field="appointment_at") -> dt.datetime | None:
    if not value:
        return None
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        errors[field] = ["时间格式应为 YYYY-MM-DDTHH:MM"]
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def accept_referral(actor, user, pk: int, *, department=None, doctor=None, appointment_at=None, bed: str = "",
                    note: str = "") -> Referral:
    """接收: the referral center (or, for a down-referral, the receiving clinic) accepts and arranges the visit."""
    r = Referral.objects.filter(pk=pk).only("to_facility_id").first()
    if r is None:
        raise NotFound("转诊单不存在或无权访问")
    errors: dict[str, list[str]] = {}
    dept = _department(r.to_facility_id, department, errors)
    doc = _doctor(r.to_facility_id, doctor, errors)
    when = _when(appointment_at, errors)
    collect(errors)

    def apply(x: Referral) -> None:
        x.to_department, x.to_doctor, x.appointment_at, x.bed = dept, doc, when, (bed or "")[:40]

    r = _move(actor, user, pk, "accept", note, apply)
    _tell_parties(r, "referral_accepted", f"转诊已接收：{r.resident.name} → {r.to_name}"
                  f"{' ' + r.to_department.name if r.to_department_id else ''}"
                  f"{timezone.localtime(r.appointment_at).strftime(' %m-%d %H:%M') if r.appointment_at else ''}")
    return r


def redirect_referral(actor, user, pk: int, *, to_facility=None, to_external: str = "", to_level: str = "",
                      department=None, appointment_at=None, reason: str = "") -> Referral:
    """改派: the center sends the patient to another facility (or a partner hospital outside the county)."""
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = ["请填写改派理由"]
    r = Referral.objects.filter(pk=pk).select_related("from_facility").first()
    if r is None:
        raise NotFound("转诊单不存在或无权访问")
    target, external, level = _target({"to_facility": to_facility, "to_external": to_external, "to_level": to_level},
                                      r.direction, r.from_facility, errors)
    dept = _department(target.pk, department, errors) if target else None
    when = _when(appointment_at, errors)
    collect(errors)

    def apply(x: Referral) -> None:
        x.to_facility, x.to_external, x.to_level, x.to_department = target, external, level, dept
        x.appointment_at, x.decline_reason = when, reason

    r = _move(actor, user, pk, "redirect", reason, apply)
    _tell_parties(r, "referral_redirected", f"转诊已改派：{r.resident.name} → {r.to_name}（{reason[:40]}）")
    return r


def decline_referral(actor, user, pk: int, *, reason: str) -> Referral:
    """拒绝: with a reason the referring doctor reads."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason_required", "请填写拒绝理由", field="reason")

    def apply(x: Referral) -> None:
        x.decline_reason = reason

    r = _move(actor, user, pk, "decline", reason, apply)
    _tell_parties(r, "referral_declined", f"转诊未被接收：{r.resident.name}（{reason[:60]}）")
    return r


def arrive_referral(actor, user, pk: int, note: str = "") -> Referral:
    """到达: the receiving department checks the patient in."""
    return _move(actor, user, pk, "arrive", note)


def complete_referral(actor, user, pk: int, *, outcome: str, note: str = "") -> Referral:
    """完成: close with an outcome (转归)."""
    if outcome not in dict(OUTCOMES):
        raise InvalidInput("outcome_required", "请选择转归", field="outcome")

    def apply(x: Referral) -> None:
        x.outcome, x.outcome_note = outcome, note or ""

    r = _move(actor, user, pk, "complete", note, apply)
    notify([r.referred_by], "referral_completed", f"转诊已完成：{r.resident.name}（{dict(OUTCOMES)[outcome]}）",
           note[:200], reverse("referrals:detail", args=[r.pk]))
    return r


def cancel_referral(actor, user, pk: int, *, reason: str) -> Referral:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason_required", "请填写取消理由", field="reason")
    return _move(actor, user, pk, "cancel", reason)


def expire_referral(pk: int, note: str) -> Referral:
    return _move(audit.Actor(username="worker"), None, pk, "expire", note)


def _tell_parties(r: Referral, kind: str, title: str) -> None:
    users = [r.referred_by]
    if r.to_doctor_id:
        users += list(User.objects.filter(staff_id=r.to_doctor_id))
    notify(users, kind, title, r.decline_reason[:200], reverse("referrals:detail", args=[r.pk]))


# ---- SLA escalation ----------------------------------------------------------------------------------

def escalate_if_unanswered(pk: int, now: dt.datetime | None = None) -> bool:
    """Run by the timer at the SLA moment: if nobody has answered yet, mark the referral overdue and alert
    the center's supervisors. Not a status change: the referral stays in the queue, now flagged."""
    now = now or timezone.now()
    with transaction.atomic():
        r = Referral.objects.select_for_update().filter(pk=pk).first()
        if r is None or r.status != Status.SUBMITTED or r.escalated_at is not None or r.center_id is None:
            return False
        if r.due_at and r.due_at > now:
            return False  # the timer ran early (a clock skew): the next pass will see it
        r.escalated_at = now
        r.save(update_fields=["escalated_at"])
        waited = int((now - r.submitted_at).total_seconds() // 60) if r.submitted_at else 0
        ReferralEvent.objects.create(referral=r, at=now, actor=None, action="escalate", from_status=r.status,
                                     to_status=r.status, note=f"超过响应时限未处理（已等待 {waited} 分钟），已升级至主管")
        audit.record(audit.Actor(username="worker"), "update", "referral", r.pk, move="escalate")
        notify(center_users(r.center_id, supervisors=True), "referral_overdue",
               f"转诊超时未处理：{r.get_urgency_display()} {r.from_facility.name} {r.resident.name}（已等待 {waited} 分钟）",
               r.reason[:200], reverse("referrals:detail", args=[r.pk]), urgent=True)
    return True


def expire_stale(now: dt.datetime | None = None, unanswered_hours: int = 72, no_show_days: int = 7) -> int:
    """Close referrals nobody answered in three days, and accepted ones whose patient never came in a week."""
    now = now or timezone.now()
    stale = list(Referral.objects.filter(status=Status.SUBMITTED, submitted_at__lt=now - dt.timedelta(
        hours=unanswered_hours)).values_list("pk", flat=True))
    no_show = list(Referral.objects.filter(status__in=[Status.ACCEPTED, Status.REDIRECTED],
                                           answered_at__lt=now - dt.timedelta(days=no_show_days))
                   .values_list("pk", flat=True))
    for pk in stale:
        expire_referral(pk, f"提交后 {unanswered_hours} 小时无人处理，自动关闭")
    for pk in no_show:
        expire_referral(pk, f"接收后 {no_show_days} 天患者未到达，自动关闭")
    return len(stale) + len(no_show)


# ---- down-referral follow-ups ------------------------------------------------------------------------

def record_follow_up(actor, user, referral_pk: int, follow_up_pk: int, *, note: str, status: str = FollowUpStatus.DONE
                     ) -> FollowUp:
    """随访: the receiving doctor records a planned follow-up of a down-referred patient."""
    note = (note or "").strip()
    if status not in (FollowUpStatus.DONE, FollowUpStatus.MISSED):
        raise InvalidInput("invalid_status", "随访结果无效", field="status")
    if not note:
        raise InvalidInput("note_required", "请填写随访记录", field="note")
    with transaction.atomic():
        r = Referral.objects.select_for_update().filter(pk=referral_pk).first()
        if r is None or not _at_target(user, r):
            raise NotFound("转诊单不存在或无权访问")
        if r.status not in (Status.ACCEPTED, Status.ARRIVED):
            raise Conflict("not_receiving", f"转诊单当前状态为“{r.get_status_display()}”，请先接收再登记随访")
        fu = FollowUp.objects.filter(pk=follow_up_pk, referral=r).first()
        if fu is None:
            raise NotFound("随访计划不存在")
        if fu.status != FollowUpStatus.PLANNED:
            raise Conflict("follow_up_done", "这次随访已登记")
        fu.status, fu.note, fu.done_at, fu.done_by = status, note, timezone.now(), user
        fu.save()
        ReferralEvent.objects.create(referral=r, at=fu.done_at, actor=user, action="follow_up",
                                     from_status=r.status, to_status=r.status, note=f"{fu.due_date:%Y-%m-%d} {note}")
        audit.record(actor, "update", "referral", r.pk, move="follow_up", follow_up=fu.pk)
    return fu
