"""Use cases of the critical-value loop (危急值): raise one (a lab value by the rules, an ECG or imaging finding
marked by the reader), acknowledge it with a read-back, record the clinical action, close it, escalate it when
nobody acknowledged in time, start the green-channel referral of a STEMI. The only writers of ``CriticalValue``
and ``CriticalEvent``; the rules themselves are in ``critical.py`` (pure).

``raise_lab_critical`` and ``raise_finding`` run inside the caller's transaction (the HL7 ingest, manual
results entry, ``sign_report``), whose service already checked its own verb: they are cheap (a handful of
queries, no network: the notifier's outside channels send after commit) and write the value, its first events,
the inbox rows and the escalation job. Every person-facing move locks nothing but wins by a conditional UPDATE on
the status (two acknowledgements: one wins, the other gets a Conflict)."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput, NotFound
from yigongti.core.jobs import schedule
from yigongti.core.notify import notify
from yigongti.encounters.models import EncounterType
from yigongti.orgs.models import Role, User
from yigongti.orgs.permissions import check
from yigongti.residents.models import ResidentTag

from .. import critical as rules
from ..models import (
    ActionKind,
    Center,
    CriticalEvent,
    CriticalFinding,
    CriticalRule,
    CriticalStatus,
    CriticalValue,
    LabResult,
    Order,
    ResultFlag,
)

log = logging.getLogger("yigongti.telemedicine.critical")

ESCALATE_JOB = "telemedicine.escalate"
NOTICE_KIND = "critical_value"
PUBLIC_TITLE = "您有一条危急值待确认"  # the outside channels: no name, no value, no diagnosis
PUBLIC_ESCALATED = "有危急值超时未确认，已升级至您"
PUBLIC_120 = "120预警：有居家患者危急值超时未确认"

# Patient groups a rule may name, and the words of the order's context that put the patient in one.
GROUP_WORDS: dict[str, tuple[str, ...]] = {
    "抗凝治疗": ("抗凝", "华法林", "warfarin", "INR监测"),
    "血液科": ("血液科", "白血病", "淋巴瘤", "化疗", "骨髓"),
    "透析": ("透析", "CKD5", "尿毒症"),
}


# ---- facts ---------------------------------------------------------------------------------------------


def patient_groups(tags: list[str], department: str, question: str) -> frozenset[str]:
    text = f"{department} {question}"
    groups = {g for g, words in GROUP_WORDS.items() if any(w in text for w in words)}
    return frozenset(groups | set(tags))


def _patient(order: Order, on: dt.date, with_groups: bool = True) -> rules.Patient:
    """The facts the rules ask of the patient; the groups (a query) only when some rule names one."""
    r = order.resident
    groups: frozenset[str] = frozenset()
    if with_groups:
        tags = list(ResidentTag.objects.filter(resident_id=r.pk).values_list("tag", flat=True))
        department = ""
        if order.encounter is not None and order.encounter.department is not None:
            department = order.encounter.department.name
        groups = patient_groups(tags, department, order.clinical_question)
    return rules.Patient(rules.age_in_days(r.birth_date, on), r.sex, groups)


def _rule(r: CriticalRule) -> rules.Rule:
    return rules.Rule(r.pk, str(r.analyte_id), r.unit, r.low, r.high, r.population, r.sex, r.patient_group,
                      r.first_only, r.effective_from, r.effective_to, r.facility_id)


def _at_home(order: Order) -> bool:
    """Not in a hospital bed now: no encounter, or one that is not an admission still open."""
    e = order.encounter if order.encounter_id else None
    return e is None or e.type != EncounterType.INPATIENT or e.discharge_date is not None


def _url(pk: int) -> str:
    try:
        return reverse("telemedicine:critical_detail", args=[pk])
    except NoReverseMatch:
        return ""


def recipients(order: Order, center: Center, level: int) -> list[User]:
    """Who is told at this level of the ladder (active accounts)."""
    active = User.objects.filter(is_active=True).select_related("staff")
    if level == 0:
        doctor = order.ordered_by
        if doctor is not None and doctor.is_active:
            return [doctor]
        return list(active.filter(facility_id=order.facility_id,
                                  role__in=[Role.DOCTOR, Role.VILLAGE_DOCTOR])[:10])
    if level == 1:
        facility = order.facility
        found = list(active.filter(facility_id=facility.pk, role=Role.FACILITY_ADMIN)[:5])
        if not found and facility.parent_id is not None:
            found = list(active.filter(facility_id=facility.parent_id, role=Role.FACILITY_ADMIN)[:5])
        return found
    if level == 2:
        if center.duty_doctor_id is not None and center.duty_doctor is not None and center.duty_doctor.is_active:
            return [center.duty_doctor]
        return list(active.filter(diagnosis_centers__center_id=center.pk,
                                  diagnosis_centers__is_supervisor=True)[:5])
    if level == 3:
        prefix = center.community.region.prefix
        return list(active.filter(Q(facility__region__code__startswith=prefix) | Q(region__code__startswith=prefix),
                                  role=Role.DISPATCHER)[:10])
    return []


# ---- raising -------------------------------------------------------------------------------------------


def open_loop(order: Order, *, actor: Actor, kind: str, description: str, now: dt.datetime,
          result: LabResult | None = None, rule_id: int | None = None,
          finding: CriticalFinding | None = None) -> CriticalValue:
    """Create the value, tell level 0, schedule the escalation (inside the caller's transaction)."""
    center = order.center
    told = recipients(order, center, 0)
    due = rules.ack_due(now, order.urgency, center.ack_minutes, center.ack_emergency_minutes)
    cv = CriticalValue.objects.create(
        order=order, result=result, rule_id=rule_id, finding=finding, kind=kind, description=description[:200],
        resident_id=order.resident_id, area_code=order.area_code, facility_id=order.facility_id,
        status=CriticalStatus.NOTIFIED, level=0, detected_at=now, reported_by=actor.user,
        notified_at=now if told else None, notified_to=told[0] if told else None, ack_due_at=due)
    events = [CriticalEvent(critical=cv, kind="detected", at=now, by=actor.user, level=0, note=description[:200])]
    events += [CriticalEvent(critical=cv, kind="notified", at=now, by=actor.user, to=u, level=0) for u in told]
    CriticalEvent.objects.bulk_create(events)
    if not order.critical:
        Order.objects.filter(pk=order.pk).update(critical=True)
        order.critical = True
    name = order.resident.name
    notify(told, NOTICE_KIND, _("危急值：%(name)s %(what)s，请立即复述确认") % {"name": name, "what": description},
           _("申请单 %(no)s；请在 %(min)s 分钟内确认并处置。")
           % {"no": order.accession_no, "min": int((due - now).total_seconds() // 60)},
           _url(cv.pk), urgent=True, public_title=PUBLIC_TITLE)
    schedule(ESCALATE_JOB, due, {"critical": cv.pk, "level": 0}, key=f"critical:{cv.pk}:0")
    audit.record(actor, "create", "critical_value", cv.pk, order=order.pk, resident=order.resident_id, kind=kind,
                 rule=rule_id, finding=finding.code if finding else "")
    return cv


def raise_lab_critical(result: LabResult, *, actor: Actor, catalogue=None, new: bool = False) -> CriticalValue | None:
    """Decide by the community's rules (and the ordering facility's overrides) whether this lab value is
    critical; if so, open the loop and return the value (None otherwise). Sets the result's flag to LL/HH.
    Runs inside the caller's transaction (the HL7 message or the manual entry is applied whole).
    ``catalogue``: ``lab.catalogue()`` of this transaction (the rules without a query); ``new``: the result was
    created just now (it cannot have a value yet)."""
    order = result.order if LabResult.order.is_cached(result) else None  # the caller's locked order (HL7, manual)
    if order is None or not Order.center.is_cached(order):
        order = (Order.objects.select_related("center__community__region", "resident", "facility", "ordered_by",
                                              "encounter__department").get(pk=result.order_id))
    now = timezone.now()
    on = timezone.localdate(result.observed_at or now)
    if catalogue is not None:
        candidates = list(catalogue.rules.get((order.center.community_id, result.analyte_id), ()))
    else:
        candidates = [_rule(r) for r in CriticalRule.objects.filter(community_id=order.center.community_id,
                                                                      analyte_id=result.analyte_id)]
    if not candidates:
        return None
    patient = _patient(order, on, with_groups=any(r.patient_group for r in candidates))
    facilities = [order.facility_id] + ([order.facility.parent_id] if order.facility.parent_id else [])
    chosen = rules.choose_rule(candidates, patient, on, facilities)
    before = bool(chosen and chosen.first_only and CriticalValue.objects.filter(
        resident_id=order.resident_id, result__analyte_id=result.analyte_id).exists())
    analyte = result.analyte
    value = Decimal(result.value) if result.value is not None else None
    verdict = rules.evaluate(value, result.value_text, result.unit or analyte.unit, candidates, patient, on,
                             facilities, analyte.unit_factors or {}, had_critical_before=before)
    if verdict is None:
        return None
    if not new and (done := CriticalValue.objects.filter(result_id=result.pk).first()) is not None:
        return done  # the same result applied twice
    flag = ResultFlag.CRITICAL_LOW if verdict.flag == "LL" else ResultFlag.CRITICAL_HIGH
    if result.flag != flag:
        LabResult.objects.filter(pk=result.pk).update(flag=flag)
        result.flag = flag
    text = rules.describe(analyte.name, value, result.value_text, result.unit or analyte.unit, verdict)
    return open_loop(order, actor=actor, kind=order.kind, description=text, now=now, result=result,
                 rule_id=verdict.rule.id)


def raise_finding(order: Order, finding: CriticalFinding, *, actor: Actor, note: str = "") -> CriticalValue:
    """Open the loop for a critical finding an ECG or imaging reader marked on the report (called by
    ``sign_report`` inside its transaction). A finding already raised on the order is returned as it is."""
    existing = CriticalValue.objects.filter(order_id=order.pk, finding_id=finding.pk).first()
    if existing is not None:
        return existing
    order = (Order.objects.select_related("center__community__region", "resident", "facility", "ordered_by",
                                          "encounter").get(pk=order.pk))
    text = finding.name + (f"：{note}" if note else "")
    return open_loop(order, actor=actor, kind=order.kind, description=text, now=timezone.now(), finding=finding)


# ---- the person's moves --------------------------------------------------------------------------------


def _get(pk: int) -> CriticalValue:
    cv = (CriticalValue.objects.select_related("order__center", "order__resident", "finding", "result", "facility")
          .filter(pk=pk).first())
    if cv is None:
        raise NotFound(_("危急值不存在或无权访问"))
    return cv


def _conflict(cv: CriticalValue, move: str) -> Conflict:
    fresh = CriticalValue.objects.filter(pk=cv.pk).values_list("status", flat=True).first() or cv.status
    label = CriticalStatus(fresh).label
    if move == "acknowledge" and fresh not in rules.UNACKNOWLEDGED:
        return Conflict("already_acknowledged", _("该危急值已被确认（当前状态：%(s)s）") % {"s": label})
    return Conflict("invalid_status", _("当前状态（%(s)s）不能执行此操作") % {"s": label})


def acknowledge(pk: int, read_back: str, *, actor: Actor) -> CriticalValue:
    """复述确认: the told clinician repeats the value (who, when, what was said). One acknowledgement wins."""
    cv = _get(pk)
    check(actor, "telemedicine.acknowledge_critical", cv)
    value = cv.result.value if cv.result is not None else None
    value = Decimal(value) if value is not None else None
    if problem := rules.read_back_problem(read_back, value, cv.result.value_text if cv.result else ""):
        message = (_("请复述危急值（患者、项目和结果）") if problem == "missing" else
                   _("复述的结果与危急值不一致（应为 %(v)s）") % {"v": rules.plain(value) if value is not None else ""})
        raise InvalidInput(f"read_back_{problem}", message, field="read_back")
    now = timezone.now()
    with transaction.atomic():
        won = CriticalValue.objects.filter(pk=pk, status__in=rules.UNACKNOWLEDGED).update(
            status=CriticalStatus.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=actor.user,
            read_back=read_back.strip()[:200])  # ack_due_at stays: 通报及时率 compares against it
        if not won:
            raise _conflict(cv, "acknowledge")
        timely = cv.ack_due_at is None or now <= cv.ack_due_at
        CriticalEvent.objects.create(critical=cv, kind="acknowledged", at=now, by=actor.user, level=cv.level,
                                     note=read_back.strip()[:200])
        audit.record(actor, "update", "critical_value", pk, move="acknowledge", timely=timely,
                     resident=cv.resident_id)
    cv.refresh_from_db()
    return cv


def record_action(pk: int, kind: str, note: str, ref: str = "", *, actor: Actor) -> CriticalValue:
    """处置: the clinical action taken (an order, a referral, a note, a call), after the acknowledgement."""
    cv = _get(pk)
    check(actor, "telemedicine.act_on_critical", cv)
    if kind not in ActionKind.values:
        raise InvalidInput("invalid_action", _("请选择处置方式"), field="kind")
    if not (note or "").strip():
        raise InvalidInput("note_required", _("请填写处置记录"), field="note")
    now = timezone.now()
    starts, to = rules.MOVES["action"]
    with transaction.atomic():
        first = CriticalValue.objects.filter(pk=pk, status=CriticalStatus.ACKNOWLEDGED).update(
            status=to, action_kind=kind, action_note=note.strip(), action_ref=ref[:40], action_at=now,
            action_by=actor.user)
        if not first and not CriticalValue.objects.filter(pk=pk, status__in=starts).exists():
            raise _conflict(cv, "action")
        CriticalEvent.objects.create(critical=cv, kind="action", at=now, by=actor.user, level=cv.level,
                                     note=f"{ActionKind(kind).label}：{note.strip()}"[:2000]
                                     + (f"（{ref}）" if ref else ""))
        audit.record(actor, "update", "critical_value", pk, move="action", action_kind=kind, ref=ref,
                     resident=cv.resident_id)
    cv.refresh_from_db()
    return cv


def close(pk: int, *, actor: Actor) -> CriticalValue:
    """闭环: close the loop once an action is recorded."""
    cv = _get(pk)
    check(actor, "telemedicine.act_on_critical", cv)
    now = timezone.now()
    starts, to = rules.MOVES["close"]
    with transaction.atomic():
        if not CriticalValue.objects.filter(pk=pk, status__in=starts).update(status=to, closed_at=now,
                                                                            closed_by=actor.user):
            if cv.status in (CriticalStatus.NOTIFIED, CriticalStatus.ESCALATED, CriticalStatus.ACKNOWLEDGED):
                raise Conflict("action_required", _("请先确认危急值并记录处置，再闭环"))
            raise _conflict(cv, "close")
        CriticalEvent.objects.create(critical=cv, kind="closed", at=now, by=actor.user, level=cv.level)
        audit.record(actor, "update", "critical_value", pk, move="close", resident=cv.resident_id)
    cv.refresh_from_db()
    return cv


def start_green_channel(pk: int, *, actor: Actor):
    """One click for a STEMI: a green-channel up-referral to the lead hospital (through the referral service,
    idempotent per critical value), recorded as the action."""
    from yigongti.referrals import services as referrals

    cv = _get(pk)
    check(actor, "telemedicine.act_on_critical", cv)
    if cv.finding is None or not cv.finding.stemi:
        raise InvalidInput("not_stemi", _("只有提示 STEMI 的危急值可以一键启动胸痛绿色通道"))
    if cv.status in rules.UNACKNOWLEDGED:
        raise Conflict("acknowledge_first", _("请先复述确认危急值，再启动绿色通道"))
    if cv.status == CriticalStatus.CLOSED:
        raise Conflict("closed", _("该危急值已闭环"))
    order = cv.order
    lead = order.center.facility
    referral = referrals.submit_referral({
        "resident": cv.resident_id, "direction": "up", "urgency": "green",
        "to_facility": lead.pk if lead.pk != actor.facility_id else None,
        "icd10": "I21.9", "diagnosis": "急性ST段抬高型心肌梗死", "ecg_changes": True, "meets_up_criteria": True,
        "reason": _("远程心电诊断中心报告危急值：%(what)s（申请单 %(no)s），启动胸痛中心绿色通道")
        % {"what": cv.description, "no": order.accession_no},
        "exams": _("心电图 %(no)s：%(what)s") % {"no": order.accession_no, "what": cv.description},
    }, f"critical:{cv.pk}:green", actor=actor)
    if cv.action_ref != str(referral.pk):
        record_action(pk, ActionKind.REFERRAL, _("启动胸痛中心绿色通道上转至%(to)s") % {"to": lead.name},
                      ref=str(referral.pk), actor=actor)
    return referral


# ---- escalation ----------------------------------------------------------------------------------------


def escalate_one(pk: int, now: dt.datetime | None = None) -> bool:
    """Move one overdue, unacknowledged value up the ladder (skipping a level nobody holds); False when it is
    no longer due (acknowledged meanwhile, another worker moved it)."""
    now = now or timezone.now()
    system = Actor.system("worker")
    with transaction.atomic():
        cv = (CriticalValue.objects.select_for_update(of=("self",))
              .select_related("order__center__community__region", "order__facility", "order__ordered_by",
                              "order__resident", "order__encounter", "order__center__duty_doctor")
              .filter(pk=pk).first())
        if cv is None or not rules.is_due(cv.status, cv.ack_due_at, now):
            return False
        order, center = cv.order, cv.order.center
        at_home = _at_home(order)
        level, told = cv.level, []
        skipped: list[int] = []
        while (step := rules.next_step(level, at_home)) is not None:
            level = step.level
            told = recipients(order, center, level)
            if told:
                break
            skipped.append(level)
        events = [CriticalEvent(critical=cv, kind="skipped", at=now, level=lv, note=rules.LADDER[lv].label)
                  for lv in skipped]
        if not told:  # the top of the ladder: stop the clock, the value stays open on every list
            CriticalValue.objects.filter(pk=pk).update(ack_due_at=None, level=max(cv.level, level))
            events.append(CriticalEvent(critical=cv, kind="unanswered", at=now, level=level,
                                        note="升级链已到最高级，仍未确认"))
            CriticalEvent.objects.bulk_create(events)
            return False
        due = now + dt.timedelta(minutes=center.escalate_minutes)
        nxt = rules.next_step(level, at_home)
        CriticalValue.objects.filter(pk=pk).update(status=CriticalStatus.ESCALATED, level=level, notified_to=told[0],
                                                   ack_due_at=due if nxt is not None else None)
        kind = "alert_120" if rules.LADDER[level].who == "alert_120" else "escalated"
        events += [CriticalEvent(critical=cv, kind=kind, at=now, to=u, level=level,
                                 note=rules.LADDER[level].label) for u in told]
        CriticalEvent.objects.bulk_create(events)
        r = order.resident
        if kind == "alert_120":
            # the dispatcher reads who and where, not the value or the diagnosis
            notify(told, "critical_120", _("120预警：%(name)s（%(facility)s 患者）危急值超时未确认，请联系患者")
                   % {"name": r.name, "facility": order.facility.name}, "", _url(pk), urgent=True,
                   public_title=PUBLIC_120)
        else:
            minutes = int((now - cv.detected_at).total_seconds() // 60)
            notify(told, NOTICE_KIND, _("危急值已升级：%(name)s %(what)s，%(min)s 分钟未确认")
                   % {"name": r.name, "what": cv.description, "min": minutes},
                   _("申请机构：%(f)s；申请单 %(no)s") % {"f": order.facility.name, "no": order.accession_no},
                   _url(pk), urgent=True, public_title=PUBLIC_ESCALATED)
        if nxt is not None:
            schedule(ESCALATE_JOB, due, {"critical": pk, "level": level}, key=f"critical:{pk}:{level}")
        audit.record(system, "update", "critical_value", pk, move="escalate", level=level, to=[u.pk for u in told])
    return True


def escalate_due(now: dt.datetime | None = None) -> int:
    """Escalate every overdue unacknowledged value (the worker's sweep); returns how many moved."""
    now = now or timezone.now()
    pks = list(CriticalValue.objects.filter(status__in=rules.UNACKNOWLEDGED, ack_due_at__lte=now)
               .order_by("ack_due_at").values_list("pk", flat=True)[:500])
    n = 0
    for pk in pks:
        try:
            n += escalate_one(pk, now)
        except Exception:  # one broken value must not stop the others' escalation
            log.exception("escalating critical value %s failed", pk)
    return n
