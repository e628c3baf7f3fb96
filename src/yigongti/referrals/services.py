"""Use cases of two-way referral: the only code that writes the referral tables (the demo bulk-loads).

Each use case takes one typed input (``inputs.py``), checks the actor's right (``permissions``), validates
with the pure functions of ``validation.py`` and ``workflow.py`` over facts it looked up (``queries.py``), and
writes in one transaction. Every transition locks the row (SELECT … FOR UPDATE), checks the move against
``workflow.TRANSITIONS`` and the actor's right to make it, records a ``ReferralEvent`` (who, when, why) and an
audit event; notifications go out after commit. The worker's SLA timer is ``sla.py``, the follow-ups are
``follow_ups.py`` (both re-exported here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.carelevel import GRASSROOTS_LEVELS
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound, collect
from yigongti.core.jobs import schedule
from yigongti.core.notify import notify
from yigongti.core.scoping import scope_for
from yigongti.core.validation import PLANNED, check_date
from yigongti.encounters.models import Encounter
from yigongti.orgs.models import Department, Facility, Staff, User
from yigongti.orgs.permissions import allows, can, check
from yigongti.residents.models import Resident

from . import queries, validation, workflow
from .follow_ups import may_follow_up, record_follow_up  # noqa: F401  (re-exported: the pages and the API)
from .guidelines import SOURCE, STARTER_RULES
from .inputs import AcceptInput, CompleteInput, RedirectInput, ReferralInput
from .models import (
    PRIORITY,
    CareLevel,
    CenterMember,
    Direction,
    DischargeMode,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    GuidelineRule,
    Referral,
    ReferralCenter,
    ReferralEvent,
    Status,
    TreatmentResult,
    Urgency,
    level_of_facility,
)
from .permissions import at_origin, at_target, center_ids_of, is_center_member  # noqa: F401  (re-exported for pages)
from .queries import active_rules, center_for, center_users, facility_doctors
from .sla import escalate_if_unanswered  # noqa: F401  (re-exported: the worker)
from .validation import ICD10_RE  # noqa: F401  (re-exported)

ESCALATE_JOB = "referral_escalate"
OUTCOMES = DischargeMode.choices
RESULTS = TreatmentResult.choices
MOVES = workflow.MOVES
AFTER_UP_DAYS = 14  # 《国家基本公共卫生服务规范（第三版）》: follow up a referred patient within two weeks


# ---- the referral center ---------------------------------------------------------------------------

def setup_center(community, *, actor: Actor, members=(), supervisors=(), **sla) -> ReferralCenter:
    """Create (or update) the community's referral center at its lead hospital and set its staff."""
    check(actor, "referrals.setup_center", community)
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


# ---- guideline rules ---------------------------------------------------------------------------------

def install_starter_rules(*, actor: Actor) -> int:
    """Load the starter guideline rules: add those not there yet (by name), bring the starter rules already
    loaded up to date, and retire starter rules that the starter set no longer has (rules written by the
    community are left alone). Returns how many were added."""
    check(actor, "referrals.rules")
    names = {row[0] for row in STARTER_RULES}
    have = {r.name: r for r in GuidelineRule.objects.all()}
    new, changed = [], 0
    with transaction.atomic():
        for n, a, b, lv, treat, up, down, designated in STARTER_RULES:
            fields = {"icd10_from": a, "icd10_to": b, "level": lv, "treat_level": treat, "up_criteria": up,
                      "down_criteria": down, "designated": designated, "source": SOURCE}
            if n not in have:
                new.append(GuidelineRule(name=n, **fields))
            elif have[n].source == SOURCE:
                changed += GuidelineRule.objects.filter(pk=have[n].pk).update(**fields)
        GuidelineRule.objects.bulk_create(new)
        retired = GuidelineRule.objects.filter(source=SOURCE, active=True).exclude(name__in=names).update(active=False)
        if new or retired:
            audit.record(actor, "create", "guideline_rule", "", count=len(new), updated=changed, retired=retired)
    return len(new)


def check_guideline(icd10: str, direction: str, from_facility: Facility, to_level: str, *, meets_up: bool = False,
                    pregnancy_risk: str = "") -> workflow.Advice:
    return workflow.advise((icd10 or "").strip().upper(), direction, level_of_facility(from_facility), to_level,
                           active_rules(), meets_up=meets_up, pregnancy_risk=pregnancy_risk)


def guideline_advice(user: User | None, icd10: str, direction: str, to_level: str, *, meets_up: bool = False,
                     pregnancy_risk: str = "", ecg_changes: bool = False, major_trauma: bool = False
                     ) -> tuple[workflow.Advice, str]:
    """The guideline's advice on a referral being written from the user's facility (the form's live check and
    the API), and why an up-referral belongs to the green channel ("" when it does not, and for a down-referral)."""
    facility = user.facility if user is not None else None
    if facility is None:
        raise InvalidInput("no_facility", _("账号未关联医疗机构"))
    if to_level not in CareLevel.values:
        raise InvalidInput("invalid_level", _("层级无效"), field="to_level")
    advice = check_guideline(icd10, direction, facility, to_level, meets_up=meets_up,
                             pregnancy_risk=pregnancy_risk)
    green = "" if direction == Direction.DOWN else workflow.green_channel(icd10, ecg_changes=ecg_changes,
                                                                          major_trauma=major_trauma)
    return advice, green


def destination_level(direction: str, to_facility: str = "", to_external: str = "", to_level: str = "") -> str:
    """The level of the destination a referral form names: the chosen facility's, an outside hospital's (the
    city by default), a down-referral's township; the county otherwise."""
    if to_facility.isdigit():
        target = Facility.objects.filter(pk=int(to_facility)).first()
        if target is not None:
            return level_of_facility(target)
    elif to_external:
        return validation.external_level(to_level)
    elif direction == Direction.DOWN:
        return CareLevel.TOWNSHIP
    return CareLevel.COUNTY


# ---- submitting ------------------------------------------------------------------------------------

def _summary(resident: Resident, today: dt.date) -> dict:
    """A snapshot of the last year's encounters, sent with the referral (it does not change later)."""
    rows = (Encounter.objects.filter(resident=resident, admit_date__gte=today - dt.timedelta(days=365))
            .select_related("facility", "department").order_by("-admit_date", "-id")[:10])
    return {"taken": today.isoformat(), "encounters": [
        {"date": e.admit_date.isoformat(), "facility": e.facility.name,
         "department": e.department.name if e.department else "",
         "type": e.get_type_display(), "icd10": e.main_icd10, "diagnosis": e.main_diagnosis,
         "discharge": e.discharge_date.isoformat() if e.discharge_date else ""} for e in rows]}


def _resident_for_referral(user, resident_id: int | None, source: Referral | None) -> Resident:
    resident = Resident.objects.filter(merged_into__isnull=True, pk=resident_id).first() if resident_id else None
    if resident is None:
        raise InvalidInput("unknown_resident", _("请选择患者"), field="resident")
    through_referral = source is not None and source.resident_id == resident.pk
    if not (scope_for(user).contains(resident.area_code) or through_referral):
        raise NotFound(_("居民档案不存在或不在您的管辖范围内"))
    return resident


def _destination(inp: ReferralInput | RedirectInput, direction: str, origin: Facility
                 ) -> tuple[Facility | None, str, str, validation.Facts]:
    """(facility, external hospital, level, facts) of where the patient is sent."""
    origin_level = level_of_facility(origin)
    if inp.to_facility:
        target = Facility.objects.filter(pk=inp.to_facility, is_active=True).first()
        ok = target is not None and target.community_id == origin.community_id
        level = level_of_facility(target) if ok and target else ""
        return (target if ok else None), "", level, validation.Facts(origin_level, level, ok)
    if inp.to_external and direction == Direction.UP:
        level = validation.external_level(inp.to_level)
        return None, inp.to_external[:100], level, validation.Facts(origin_level, level, outside_county=True)
    return None, "", "", validation.Facts(origin_level)


def _existing(user: User, key: str) -> Referral | None:
    return Referral.objects.filter(referred_by=user, idempotency_key=key).first() if key else None


def submit_referral(data: ReferralInput | Mapping[str, Any], idempotency_key: str = "", *, actor: Actor) -> Referral:
    """转诊: refer a patient up (to the county hospital or further, through the referral center) or down (to a
    township center or village clinic with a follow-up plan). A retry with the same idempotency key returns the
    first referral instead of creating another. ``draft`` saves without submitting."""
    check(actor, "referrals.create")
    inp = ReferralInput.parse(data)
    user = actor.user
    if user is None or not user.facility_id:  # the system has no sending facility
        raise Forbidden(_("只有医疗机构的医生可以发起转诊"), code="no_facility")
    key = (idempotency_key or inp.idempotency_key or "").strip()[:64]
    if done := _existing(user, key):
        return done
    origin = user.facility
    if inp.direction not in Direction.values:
        raise InvalidInput("invalid_direction", _("转诊方向无效"), field="direction")
    source = None
    if inp.source_referral:
        source = Referral.objects.filter(pk=inp.source_referral, to_facility=origin).first()
    resident = _resident_for_referral(user, inp.resident, source)
    target, external, to_level, facts = _destination(inp, inp.direction, origin)
    center = center_for(origin) if inp.direction == Direction.UP else None
    facts = validation.Facts(facts.origin_level, facts.target_level, facts.target_in_community, facts.outside_county,
                             has_center=center is not None or inp.direction == Direction.DOWN,
                             source_ok=source is not None or not inp.source_referral,
                             source_ready=source is None or source.status in workflow.REFER_DOWN_FROM)
    errors, checked = validation.validate_referral(inp, facts)
    collect(errors)
    advice = check_guideline(inp.icd10, inp.direction, origin, to_level, meets_up=inp.meets_up_criteria,
                             pregnancy_risk=inp.pregnancy_risk)
    if advice.warning and not inp.override_reason:
        raise InvalidInput("guideline_warning", advice.warning, field="override_reason")
    if advice.warning and translation.get_language() != settings.LANGUAGE_CODE:
        with translation.override(settings.LANGUAGE_CODE):  # the sheet keeps the guideline's words in Chinese
            advice = check_guideline(inp.icd10, inp.direction, origin, to_level, meets_up=inp.meets_up_criteria,
                                     pregnancy_risk=inp.pregnancy_risk)
    return _create(actor, inp, key, resident, source, target, external, to_level, center, checked, advice)


def _create(actor: Actor, inp: ReferralInput, key: str, resident: Resident, source: Referral | None,
            target: Facility | None, external: str, to_level: str, center: ReferralCenter | None,
            checked: validation.Checked, advice: workflow.Advice) -> Referral:
    user, origin, now = actor.user, actor.user.facility, timezone.now()
    urgency = checked.urgency
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                direction=inp.direction, status=Status.DRAFT, urgency=urgency, priority=PRIORITY[urgency],
                resident=resident, area_code=resident.area_code, center=center, from_facility=origin,
                from_level=level_of_facility(origin), referred_by=user, to_facility=target, to_external=external,
                to_level=to_level, icd10=inp.icd10, diagnosis=inp.diagnosis[:60], reason=inp.reason,
                exams=inp.exams, medications=inp.medications, summary=_summary(resident, timezone.localdate()),
                guideline_rule_id=advice.rule.id if advice.rule else None, guideline_warning=advice.warning[:200],
                override_reason=inp.override_reason if advice.warning else "",
                meets_up_criteria=advice.meets_up, pregnancy_risk=inp.pregnancy_risk,
                ecg_changes=inp.ecg_changes, major_trauma=inp.major_trauma,
                routine_reason=inp.routine_reason if checked.green_reason and urgency != Urgency.GREEN else "",
                insurance_filing_no=inp.insurance_filing_no[:40] if external else "",
                insurance_target_code=inp.insurance_target_code.upper()[:20] if external else "",
                source_referral=source, rehab_plan=inp.rehab_plan, medication_plan=inp.medication_plan,
                idempotency_key=key)
            FollowUp.objects.bulk_create([FollowUp(referral=referral, due_date=d)
                                          for d in sorted(set(inp.follow_up_dates))])
            ReferralEvent.objects.create(referral=referral, at=now, actor=user, action="create",
                                         to_status=Status.DRAFT, note=inp.override_reason or inp.routine_reason)
            audit.record(actor, "create", "referral", referral.pk, resident=resident.pk, direction=inp.direction,
                         urgency=urgency, guideline_override=bool(advice.warning), meets_up=advice.meets_up,
                         green_channel=checked.green_reason)
            if not inp.draft:
                _submitted(actor, referral, now, "")
    except IntegrityError:
        if done := _existing(user, key):
            return done  # a concurrent retry of the same submission won the insert
        raise
    return referral


def _submitted(actor: Actor, r: Referral, now: dt.datetime, note: str) -> None:
    """Move a (locked or new) draft to submitted: SLA clock, event, audit, timer, alerts, and for an up-referral
    from the grassroots the follow-up two weeks later."""
    old = r.status
    r.status, r.submitted_at = Status.SUBMITTED, now
    if r.center is not None:
        r.due_at = now + dt.timedelta(minutes=r.center.sla_minutes(r.urgency))
    elif (center := center_for(r.from_facility)) is not None:  # a down-referral: the receiving clinic's SLA
        r.due_at = now + dt.timedelta(hours=center.sla_down_hours)
    r.save(update_fields=["status", "submitted_at", "due_at"])
    ReferralEvent.objects.create(referral=r, at=now, actor=actor.user, action="submit", from_status=old,
                                 to_status=r.status, note=note)
    audit.record(actor, "update", "referral", r.pk, move="submit", to=r.status)
    if r.due_at:
        schedule(ESCALATE_JOB, r.due_at, {"referral": r.pk}, key=f"referral:{r.pk}")
    url = reverse("referrals:detail", args=[r.pk])
    if r.direction == Direction.UP:
        if r.from_level in GRASSROOTS_LEVELS:
            FollowUp.objects.get_or_create(referral=r, kind=FollowUpKind.AFTER_UP, defaults={
                "due_date": timezone.localdate(now) + dt.timedelta(days=AFTER_UP_DAYS)})
        green = r.urgency == Urgency.GREEN
        title = (f"{'【绿色通道】' if green else ''}{r.from_facility.name} 上转 {r.resident.name}"
                 f"（{r.icd10} {r.diagnosis}）")
        if r.center_id:
            notify(center_users(r.center_id), "referral_submitted", title, r.reason[:200], url,
                   urgent=r.urgency != Urgency.ROUTINE)
    else:
        notify(facility_doctors(r.to_facility_id), "referral_down",
               f"{r.from_facility.name} 下转 {r.resident.name}（{r.icd10} {r.diagnosis}），请接收并随访",
               r.reason[:200], url)


# ---- transitions -------------------------------------------------------------------------------------

def may_refer_down(user, r: Referral) -> bool:
    """Whether the receiving doctor may send this up-referred patient back down now (for showing the button;
    ``submit_referral`` checks the permission and the source's status again)."""
    return (r.direction == Direction.UP and user.facility_id is not None and r.to_facility_id == user.facility_id
            and r.status in workflow.REFER_DOWN_FROM and can(user, "referrals.create") and not r.followers.exists())


def may(user, r: Referral, action: str) -> bool:
    """Whether the user may make this move now (for showing buttons; the services check again)."""
    move = workflow.TRANSITIONS.get(action)
    return (move is not None and move.by_person and r.status in move.starts
            and can(user, move.verb, r))


class _Refused(Exception):
    """Raised inside a move's transaction so that the refusal is recorded after it rolls back."""


def _move(actor: Actor, pk: int, action: str, note: str = "", apply: Callable[[Referral], None] | None = None
          ) -> Referral:
    move = workflow.TRANSITIONS[action]
    if problem := workflow.missing_reason(action, note):
        raise InvalidInput("reason_required", problem, field="reason")
    try:
        return _locked_move(actor, pk, action, note, apply)
    except _Refused as refused:
        check(actor, move.verb, refused.args[0])  # records the denial and raises Forbidden
        raise


def _locked_move(actor: Actor, pk: int, action: str, note: str, apply: Callable[[Referral], None] | None
                 ) -> Referral:
    user, move = actor.user, workflow.TRANSITIONS[action]
    with transaction.atomic():
        try:
            # No joins in the locking query: on PostgreSQL a waiter re-reads only the locked row after the
            # winner commits, so joined columns (who answered) would be stale. Related rows load after the lock.
            r = Referral.objects.select_for_update().get(pk=pk)
        except Referral.DoesNotExist:
            raise NotFound(_("转诊单不存在或无权访问")) from None
        if move.verb and not allows(actor, move.verb, r):
            raise _Refused(r)
        try:
            target = workflow.check_move(
                r.status, action, str(r.answered_by) if r.answered_by_id else "",
                timezone.localtime(r.answered_at).strftime("%m-%d %H:%M") if r.answered_at else "")
        except workflow.MoveNotAllowed as e:
            raise Conflict(e.code, e.message) from None
        now = timezone.now()
        if action == "submit":
            _submitted(actor, r, now, note)
            return r
        old, r.status = r.status, target
        if move.answers:
            r.answered_at, r.answered_by = now, user
        elif action == "arrive":
            r.arrived_at = now
        if move.closes:
            r.closed_at = now
        if apply:
            apply(r)
        r.save()
        ReferralEvent.objects.create(referral=r, at=now, actor=user, action=action, from_status=old, to_status=target,
                                     note=note)
        audit.record(actor, "update", "referral", r.pk, move=action, to=target, note=note[:200])
    return r


def submit_draft(pk: int, *, actor: Actor) -> Referral:
    return _move(actor, pk, "submit")


def _department(facility_id: int | None, dept_id: int | None, errors: dict) -> Department | None:
    if not dept_id:
        return None
    d = Department.objects.filter(pk=dept_id, facility_id=facility_id).first() if facility_id else None
    if d is None:
        errors["department"] = [_("科室不属于接收机构")]
    return d


def _doctor(facility_id: int | None, staff_id: int | None, errors: dict) -> Staff | None:
    if not staff_id:
        return None
    s = Staff.objects.filter(pk=staff_id, work_facility_id=facility_id).first()
    if s is None:
        errors["doctor"] = [_("医生不在接收机构")]
    return s


def _when(value: dt.datetime | None, errors: dict) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = value if timezone.is_aware(value) else timezone.make_aware(value)
    except (ValueError, OverflowError):
        errors["appointment_at"] = [_("时间无效")]
        return None
    check_date(parsed, errors, "appointment_at", PLANNED, _("预约时间"))
    return None if "appointment_at" in errors else parsed


def _booking(r: Referral, dept: Department | None, when: dt.datetime | None, bed: str, errors: dict,
             external: bool) -> None:
    """A slot and a bed are chosen from the receiving department's capacity (a hospital outside the county
    keeps its own: the center types what it arranged)."""
    if external or "appointment_at" in errors:
        return
    if dept is None:
        if when is not None or bed:
            errors["department"] = [_("请先选择接收科室，再从其可预约时间和空床中选择")]
        return
    cap = queries.capacity_of(dept, exclude=r.pk)
    if problem := validation.appointment_problem(when, cap.slots):
        errors["appointment_at"] = [problem]
    if bed and bed not in cap.beds:
        errors["bed"] = [_("%(dept)s没有空床“%(bed)s”，请从空床中选择") % {"dept": dept.name, "bed": bed}]


def _get(pk: int) -> Referral:
    r = Referral.objects.filter(pk=pk).select_related("from_facility").first()
    if r is None:
        raise NotFound(_("转诊单不存在或无权访问"))
    return r


def accept_referral(pk: int, data: AcceptInput | Mapping[str, Any] | None = None, *, actor: Actor,
                    **fields: Any) -> Referral:
    """接收: the referral center (or, for a down-referral, the receiving clinic) accepts and books the visit: a
    free appointment slot and a free bed of the receiving department."""
    inp = AcceptInput.parse(data if data is not None else fields)
    r = _get(pk)
    check(actor, "referrals.accept", r)
    errors: dict[str, list[str]] = {}
    dept = _department(r.to_facility_id, inp.department, errors)
    doc = _doctor(r.to_facility_id, inp.doctor, errors)
    when = _when(inp.appointment_at, errors)
    _booking(r, dept, when, inp.bed, errors, external=r.to_facility_id is None)
    collect(errors)

    def apply(x: Referral) -> None:
        x.to_department, x.to_doctor, x.appointment_at, x.bed = dept, doc, when, inp.bed[:40]

    r = _move(actor, pk, "accept", inp.note, apply)
    _tell_parties(r, "referral_accepted", f"转诊已接收：{r.resident.name} → {r.to_name}"
                  f"{' ' + r.to_department.name if r.to_department is not None else ''}"
                  f"{timezone.localtime(r.appointment_at).strftime(' %m-%d %H:%M') if r.appointment_at else ''}")
    return r


def redirect_referral(pk: int, data: RedirectInput | Mapping[str, Any] | None = None, *, actor: Actor,
                      **fields: Any) -> Referral:
    """改派: the center sends the patient to another facility (or a partner hospital outside the county)."""
    inp = RedirectInput.parse(data if data is not None else fields)
    errors: dict[str, list[str]] = {}
    if problem := workflow.missing_reason("redirect", inp.reason):
        errors["reason"] = [problem]
    r = _get(pk)
    check(actor, "referrals.redirect", r)
    target, external, level, facts = _destination(inp, r.direction, r.from_facility)
    errors.update(validation.destination_errors(r.direction, inp, facts, r.icd10, r.pregnancy_risk))
    dept = _department(target.pk, inp.department, errors) if target else None
    when = _when(inp.appointment_at, errors)
    if target is not None:
        _booking(r, dept, when, "", errors, external=False)
    collect(errors)

    def apply(x: Referral) -> None:
        x.to_facility, x.to_external, x.to_level, x.to_department = target, external, level, dept
        x.appointment_at, x.decline_reason = when, inp.reason
        x.insurance_filing_no = inp.insurance_filing_no[:40] if external else ""
        x.insurance_target_code = inp.insurance_target_code.upper()[:20] if external else ""

    r = _move(actor, pk, "redirect", inp.reason, apply)
    _tell_parties(r, "referral_redirected", f"转诊已改派：{r.resident.name} → {r.to_name}（{inp.reason[:40]}）")
    return r


def decline_referral(pk: int, *, actor: Actor, reason: str) -> Referral:
    """拒绝: with a reason the referring doctor reads."""
    reason = (reason or "").strip()

    def apply(x: Referral) -> None:
        x.decline_reason = reason

    r = _move(actor, pk, "decline", reason, apply)
    _tell_parties(r, "referral_declined", f"转诊未被接收：{r.resident.name}（{reason[:60]}）")
    return r


def arrive_referral(pk: int, note: str = "", *, actor: Actor) -> Referral:
    """到达: the receiving department checks the patient in."""
    return _move(actor, pk, "arrive", note)


def no_show_referral(pk: int, note: str = "", *, actor: Actor) -> Referral:
    """未到诊: the patient never came; the referral ends in its own state (not expired, not cancelled)."""
    r = _move(actor, pk, "no_show", note or "患者未按预约到诊")
    notify([r.referred_by], "referral_no_show", f"转诊患者未到诊：{r.resident.name} → {r.to_name}", note[:200],
           reverse("referrals:detail", args=[r.pk]))
    return r


def complete_referral(pk: int, data: CompleteInput | Mapping[str, Any] | None = None, *, actor: Actor,
                      **fields: Any) -> Referral:
    """完成: close with the 离院方式 of the 病案首页 and a treatment result."""
    inp = CompleteInput.parse(data if data is not None else fields)
    outcome, result, errors = validation.completion(inp.outcome, inp.treatment_result)
    collect(errors, "outcome_required")

    def apply(x: Referral) -> None:
        x.outcome, x.treatment_result, x.outcome_note = outcome, result, inp.note

    r = _move(actor, pk, "complete", inp.note, apply)
    label = DischargeMode(outcome).label + (f"，{TreatmentResult(result).label}" if result else "")
    notify([r.referred_by], "referral_completed", f"转诊已完成：{r.resident.name}（{label}）",
           inp.note[:200], reverse("referrals:detail", args=[r.pk]))
    return r


def cancel_referral(pk: int, *, actor: Actor, reason: str) -> Referral:
    return _move(actor, pk, "cancel", (reason or "").strip())


def expire_referral(pk: int, note: str) -> Referral:
    return _move(Actor.system("worker"), pk, "expire", note)


def _tell_parties(r: Referral, kind: str, title: str) -> None:
    users = [r.referred_by]
    if r.to_doctor_id:
        users += list(User.objects.filter(staff_id=r.to_doctor_id))
    notify(users, kind, title, r.decline_reason[:200], reverse("referrals:detail", args=[r.pk]))


# ---- the daily sweep -------------------------------------------------------------------------------

def expire_stale(now: dt.datetime | None = None, unanswered_hours: int = 72, no_show_days: int = 7) -> int:
    """Close referrals nobody answered in three days, and record as no-shows the accepted ones whose patient
    never came in a week. A down-referral whose follow-ups are pending is never closed: its patient is at home
    and the plan stands (it was escalated instead)."""
    now = now or timezone.now()
    pending_plan = FollowUp.objects.filter(status=FollowUpStatus.PLANNED, kind=FollowUpKind.PLAN).values("referral_id")
    keep = {"direction": Direction.DOWN, "pk__in": pending_plan}
    stale = list(Referral.objects.filter(status=Status.SUBMITTED, submitted_at__lt=now - dt.timedelta(
        hours=unanswered_hours)).exclude(**keep).values_list("pk", flat=True))
    no_show = list(Referral.objects.filter(status__in=[Status.ACCEPTED, Status.REDIRECTED],
                                           answered_at__lt=now - dt.timedelta(days=no_show_days))
                   .exclude(**keep).values_list("pk", flat=True))
    for pk in stale:
        expire_referral(pk, f"提交后 {unanswered_hours} 小时无人处理，自动关闭")
    for pk in no_show:
        _move(Actor.system("worker"), pk, "no_show", f"接收后 {no_show_days} 天患者未到达，记为未到诊")
    return len(stale) + len(no_show)


# ---- one door for the pages -------------------------------------------------------------------------

def perform(pk: int, action: str, data: Mapping[str, Any], *, actor: Actor) -> Referral:
    """Make the move ``action`` with the fields of a form (the page's one door onto the moves above)."""
    if action == "submit":
        return submit_draft(pk, actor=actor)
    if action == "accept":
        return accept_referral(pk, AcceptInput.parse(data), actor=actor)
    if action == "redirect":
        return redirect_referral(pk, RedirectInput.parse(data), actor=actor)
    if action == "complete":
        return complete_referral(pk, CompleteInput.parse(data), actor=actor)
    if action == "decline":
        return decline_referral(pk, actor=actor, reason=data.get("reason", ""))
    if action == "cancel":
        return cancel_referral(pk, actor=actor, reason=data.get("reason", ""))
    if action == "arrive":
        return arrive_referral(pk, data.get("note", ""), actor=actor)
    if action == "no_show":
        return no_show_referral(pk, data.get("note", ""), actor=actor)
    raise NotFound(_("未知的转诊操作"))
