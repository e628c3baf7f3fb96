"""随访: record one hypertension or diabetes follow-up and let the 规范's rules (``rules.classify_and_decide``)
decide the next step.

``record_follow_up`` checks ``chronic.follow_up`` on the enrolment, parses and checks the form (impossible vital
signs refused with the field named, unlikely ones only with ``confirm_unlikely``; a visit dated before the
enrolment or in the future refused), then in one transaction, with the enrolment's row locked: writes the
follow-up with the decision, updates the ledger state kept on the enrolment (last readings, control, streak of
uncontrolled visits, next due), and on a referral decision suggests one through the referral service (a draft up
to the county that the doctor reviews and submits from the referral page; for an urgent one the follow-up page
offers to submit it now). Then the family-doctor fulfilment records the delivered service
(``familydoctor.services.fulfilment.record_from_source``) and the resident's due list is refreshed after commit.

A retry of the same form (same ``idempotency_key``, same visit date, same user) returns the first follow-up.
The model has no column for the key: it is kept in the follow-up's audit event, and a retry is the same user's
follow-up of the same visit date, recorded within ``RETRY_WINDOW``, whose audit event carries the key."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, DomainError, InvalidInput, collect
from yigongti.core.models import AuditEvent
from yigongti.orgs.permissions import can, check

from .. import rules
from ..models import (
    Adherence,
    Condition,
    Decision,
    Enrolment,
    EnrolmentStatus,
    FollowUp,
    VisitMode,
)
from ..validation import number, vital_problems
from .enrolment import DEFAULT_ICD10, after_commit_refresh, age_on

log = logging.getLogger(__name__)

RETRY_WINDOW = dt.timedelta(hours=12)
VITALS = ("sbp", "dbp", "heart_rate", "fbg", "weight_kg", "height_cm", "hba1c")
COUNTS = {"smoking_per_day": 200, "drinking_per_day": 50, "exercise_per_week": 21, "exercise_minutes": 600,
          "staple_grams": 2000}
SALT = ("light", "medium", "heavy")
HYPOGLYCAEMIA = ("none", "rare", "frequent")
TRUE = {"1", "true", "on", "yes", "y"}


class Unlikely(InvalidInput):
    """Unlikely readings not confirmed yet: the form asks "确认读数" and sends again with ``confirm_unlikely``."""


def _get(data: Mapping[str, Any], key: str, default: Any = "") -> Any:
    v = data.get(key, default)
    return default if v is None else v


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    if hasattr(data, "getlist"):
        return [v for v in data.getlist(key) if v not in ("", None)]
    v = data.get(key) or []
    return [v] if isinstance(v, str) else list(v)


def _bool(data: Mapping[str, Any], key: str) -> bool:
    v = data.get(key, False)
    return v if isinstance(v, bool) else str(v).strip().lower() in TRUE


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _medication(data: Mapping[str, Any], errors: dict[str, list[str]]) -> list[dict[str, str]]:
    raw = data.get("medication")
    if raw in (None, ""):
        names = _list(data, "med_name")
        doses = _list(data, "med_dose") if hasattr(data, "getlist") else []
        freqs = _list(data, "med_frequency") if hasattr(data, "getlist") else []
        raw = [{"name": n, "dose": doses[i] if i < len(doses) else "",
                "frequency": freqs[i] if i < len(freqs) else ""} for i, n in enumerate(names)]
    if not isinstance(raw, list) or not all(isinstance(m, Mapping) for m in raw):
        errors["medication"] = [_("用药情况格式无效")]
        return []
    out = []
    for m in raw[:20]:
        name = str(m.get("name") or "").strip()[:60]
        if name:
            out.append({"name": name, "dose": str(m.get("dose") or "").strip()[:20],
                        "frequency": str(m.get("frequency") or "").strip()[:20]})
    return out


def parse(enrolment: Enrolment, data: Mapping[str, Any], *, today: dt.date
          ) -> tuple[dict[str, Any], dict[str, str]]:
    """The follow-up's fields, cleaned, and the warnings (unlikely readings) to confirm. Every bad field is
    named at once (``InvalidInput``)."""
    errors: dict[str, list[str]] = {}
    visit_date = _date(_get(data, "visit_date")) if _get(data, "visit_date") else today
    if visit_date is None:
        errors["visit_date"] = [_("日期格式应为 YYYY-MM-DD")]
    elif visit_date > today:
        errors["visit_date"] = [_("随访日期不能晚于今天")]
    elif visit_date < enrolment.enrolled_on:
        errors["visit_date"] = [_("随访日期不能早于纳入管理日期（%(d)s）") % {"d": enrolment.enrolled_on}]
    mode = str(_get(data, "mode") or VisitMode.CLINIC)
    if mode not in VisitMode.values:
        errors["mode"] = [_("随访方式无效")]
    vitals = {k: data.get(k) for k in VITALS}
    bad, warnings = vital_problems(vitals)
    for k, msg in bad.items():
        errors[k] = [msg]
    values: dict[str, Any] = {}
    for k in VITALS:
        if k not in bad:
            try:
                values[k] = number(vitals[k])
            except ValueError:
                values[k] = None
    for k in ("sbp", "dbp", "heart_rate"):
        if values.get(k) is not None:
            values[k] = int(values[k])
    if enrolment.condition == Condition.HYPERTENSION:
        for k, label in (("sbp", _("收缩压")), ("dbp", _("舒张压"))):
            if values.get(k) is None and k not in errors:
                errors[k] = [_("高血压随访须填写%(f)s") % {"f": label}]
    elif values.get("fbg") is None and "fbg" not in errors:
        errors["fbg"] = [_("糖尿病随访须填写空腹血糖")]
    if (values.get("sbp") is None) != (values.get("dbp") is None) and not ({"sbp", "dbp"} & errors.keys()):
        errors["dbp" if values.get("dbp") is None else "sbp"] = [_("收缩压和舒张压应同时填写")]
    for k, top in COUNTS.items():
        raw = _get(data, k)
        if raw in ("", None):
            values[k] = None
            continue
        try:
            n = number(raw)
        except ValueError:
            n = None
        if n is None or n != n.to_integral_value() or not (0 <= n <= top):
            errors[k] = [_("应为 0–%(n)s 的整数") % {"n": top}]
        else:
            values[k] = int(n)
    for k, allowed in (("salt", SALT), ("adherence", Adherence.values), ("hypoglycaemia", HYPOGLYCAEMIA)):
        v = str(_get(data, k)).strip()
        if v and v not in allowed:
            errors[k] = [_("选项无效")]
        values[k] = v
    signs = [str(c) for c in _list(data, "danger_signs")]
    if unknown := [c for c in signs if c not in rules.danger_sign_codes()]:
        errors["danger_signs"] = [_("未知的危急情况：%(c)s") % {"c": ", ".join(unknown)}]
    symptoms = [str(c) for c in _list(data, "symptoms")]
    if unknown := [c for c in symptoms if c not in rules.symptom_codes()]:
        errors["symptoms"] = [_("未知的症状：%(c)s") % {"c": ", ".join(unknown)}]
    pregnant = _bool(data, "pregnant")
    if pregnant and enrolment.resident.sex != "F":
        errors["pregnant"] = [_("男性患者不能标记妊娠")]
    medication = _medication(data, errors)
    collect(errors)
    assert visit_date is not None
    weight, height = values.get("weight_kg"), values.get("height_cm")
    bmi = None
    if weight is not None and height is not None:
        bmi = (weight / (height / 100) ** 2).quantize(Decimal("0.1"), ROUND_HALF_UP)
        if not (Decimal(10) <= bmi <= Decimal(80)):
            collect({"weight_kg": [_("体重与身高算得的体质指数 %(b)s 不可能，请核对") % {"b": bmi}]})
    cleaned = {**values, "visit_date": visit_date, "mode": mode, "bmi": bmi, "danger_signs": signs,
               "symptoms": symptoms, "pregnant": pregnant, "medication": medication,
               "adverse_reaction": _bool(data, "adverse_reaction"),
               "adverse_note": str(_get(data, "adverse_note")).strip()[:200],
               "new_complication": _bool(data, "new_complication"),
               "complication_note": str(_get(data, "complication_note")).strip()[:200],
               "advice": str(_get(data, "advice")).strip()[:300]}
    return cleaned, warnings


def preview(enrolment: Enrolment, data: Mapping[str, Any], *, today: dt.date | None = None
            ) -> tuple[rules.Outcome, dict[str, str]]:
    """What the rules would decide for the form as typed (the page's live check; nothing is written)."""
    today = today or timezone.localdate()
    cleaned, warnings = parse(enrolment, data, today=today)
    return _decide(enrolment, cleaned), warnings


def _previous_streak(enrolment: Enrolment, visit_date: dt.date) -> int:
    """Uncontrolled visits in a row just before ``visit_date``: the enrolment's streak for a visit after the last
    one; counted from the history for a visit entered late (a paper record typed in afterwards)."""
    if enrolment.last_visit_on is None or visit_date >= enrolment.last_visit_on:
        return enrolment.uncontrolled_streak
    n = 0
    for reasons in (FollowUp.objects.filter(enrolment=enrolment, visit_date__lt=visit_date)
                    .order_by("-visit_date", "-id").values_list("reasons", flat=True)[:10]):
        if not set(reasons or ()) & {"bp_uncontrolled", "bp_uncontrolled_elderly", "fbg_uncontrolled",
                                      "adverse_reaction"}:
            break
        n += 1
    return n


def _decide(enrolment: Enrolment, c: Mapping[str, Any], previous: int | None = None) -> rules.Outcome:
    reading = rules.Reading(condition=enrolment.condition, sbp=c.get("sbp"), dbp=c.get("dbp"), fbg=c.get("fbg"),
                            heart_rate=c.get("heart_rate"), adverse_reaction=c["adverse_reaction"],
                            new_complication=c["new_complication"], pregnant=c["pregnant"],
                            danger_signs=tuple(c["danger_signs"]))
    return rules.classify_and_decide(reading, age=age_on(enrolment.resident.birth_date, c["visit_date"]),
                                     previous_uncontrolled=(_previous_streak(enrolment, c["visit_date"])
                                                            if previous is None else previous),
                                     visit_date=c["visit_date"])


def _retry(actor: Actor, enrolment: Enrolment, visit_date: dt.date, key: str) -> FollowUp | None:
    """The follow-up this user already recorded with this key (recently, for this visit), if any: the key lives in
    the follow-up's audit event (the model has no column for it)."""
    if not key or actor.user is None:
        return None
    since = timezone.now() - RETRY_WINDOW
    mine = list(FollowUp.objects.filter(enrolment=enrolment, visit_date=visit_date, recorded_by=actor.user,
                                        recorded_at__gte=since).values_list("pk", flat=True))
    if not mine:
        return None
    hit = (AuditEvent.objects.filter(object_type="chronic_follow_up", object_id__in=[str(pk) for pk in mine],
                                     action="create", detail__key=key).values_list("object_id", flat=True).first())
    return FollowUp.objects.filter(pk=int(hit)).first() if hit else None


def _suggest_referral(actor: Actor, enrolment: Enrolment, fu: FollowUp, outcome: rules.Outcome):
    """A draft up-referral to the county for the doctor to review (None when the actor may not refer, e.g. a
    nurse, or the referral service refuses: the follow-up still says a referral is suggested)."""
    if actor.user is None or not can(actor.user, "referrals.create"):
        return None
    from yigongti.referrals.queries import center_for
    from yigongti.referrals.services import submit_referral

    origin = actor.user.facility
    center = center_for(origin) if origin is not None else None
    community = getattr(origin, "community", None)
    target = center.facility_id if center is not None else getattr(community, "lead_facility_id", None)
    why = "；".join(str(rules.REASONS[r]) for r in outcome.reasons if r in rules.REASONS)
    bp = f"BP {fu.sbp}/{fu.dbp} mmHg" if fu.sbp and fu.dbp else ""
    fbg = f"FBG {fu.fbg} mmol/L" if fu.fbg is not None else ""
    reason = f"{_('慢病随访')} {fu.visit_date}：{' '.join(x for x in (bp, fbg) if x)}。{why}"
    data = {"resident": enrolment.resident_id, "direction": "up",
            "urgency": "urgent" if outcome.urgent else "routine", "to_facility": target,
            "icd10": enrolment.diagnosis_icd10 or DEFAULT_ICD10[enrolment.condition],
            "diagnosis": str(Condition(enrolment.condition).label), "reason": reason[:500],
            "medications": "；".join(f"{m['name']} {m['dose']} {m['frequency']}".strip() for m in fu.medication),
            "meets_up_criteria": True, "draft": True}
    try:
        with transaction.atomic():
            return submit_referral(data, f"chronic-followup:{fu.pk}", actor=actor)
    except (DomainError, DatabaseError) as e:
        log.info("chronic follow-up %s: referral not drafted: %s", fu.pk, e)
        return None


def _fulfil(actor: Actor, fu: FollowUp) -> None:
    """Count the follow-up as a delivered family-doctor service (H2's fulfilment; absent until it exists)."""
    try:
        from yigongti.familydoctor.models import DeliverySource, ServiceKind
        from yigongti.familydoctor.services.fulfilment import record_from_source
    except ImportError:
        return
    staff = getattr(actor.user, "staff", None) if actor.user is not None else None
    try:
        with transaction.atomic():
            record_from_source(resident=fu.resident, kind=ServiceKind.FOLLOW_UP, on=fu.visit_date, by=staff,
                               facility=fu.facility, source=DeliverySource.CHRONIC, source_id=f"followup:{fu.pk}",
                               note=str(Condition(fu.enrolment.condition).label))
    except (DomainError, DatabaseError) as e:
        log.warning("chronic follow-up %s: delivery not recorded: %s", fu.pk, e)


def record_follow_up(actor: Actor, enrolment: Enrolment, data: Mapping[str, Any], *, confirm_unlikely: bool = False,
                     idempotency_key: str = "") -> FollowUp:
    """Record a follow-up of a managed patient and apply the 规范's decision (see the module docstring)."""
    check(actor, "chronic.follow_up", enrolment)
    today = timezone.localdate()
    cleaned, warnings = parse(enrolment, data, today=today)
    key = (idempotency_key or "").strip()[:64]
    if done := _retry(actor, enrolment, cleaned["visit_date"], key):
        return done
    if warnings and not confirm_unlikely:
        first = next(iter(warnings))
        raise Unlikely("unlikely_values", warnings[first], field=first, errors={k: [v] for k, v in warnings.items()})
    user = actor.user
    facility = (user.facility if user is not None and user.facility_id else None) or enrolment.facility
    with transaction.atomic():
        locked = (Enrolment.objects.select_for_update().select_related("resident").get(pk=enrolment.pk))
        if locked.status != EnrolmentStatus.MANAGED:
            raise Conflict("enrolment_ended", _("该患者已结案，不能再录入随访"))
        if done := _retry(actor, locked, cleaned["visit_date"], key):  # a concurrent retry won the lock
            return done
        previous = _previous_streak(locked, cleaned["visit_date"])
        outcome = _decide(locked, cleaned, previous)
        fu = FollowUp.objects.create(
            enrolment=locked, resident_id=locked.resident_id, facility=facility,
            by=getattr(user, "staff", None) if user is not None else None, recorded_by=user,
            control=outcome.control, decision=outcome.decision, reasons=outcome.reasons,
            next_visit_on=outcome.next_visit_on, unlikely_confirmed=bool(warnings),
            referral_suggested=outcome.refer, **cleaned)
        fu.enrolment = locked
        if cleaned["visit_date"] >= (locked.last_visit_on or dt.date.min):
            locked.last_visit_on = fu.visit_date
            locked.last_sbp, locked.last_dbp = fu.sbp, fu.dbp
            locked.last_fbg = fu.fbg
            locked.last_control = outcome.control
            locked.uncontrolled_streak = rules.next_streak(previous, outcome)
            locked.next_due = outcome.next_visit_on
            locked.save(update_fields=["last_visit_on", "last_sbp", "last_dbp", "last_fbg", "last_control",
                                       "uncontrolled_streak", "next_due"])
        if outcome.refer:
            referral = _suggest_referral(actor, locked, fu, outcome)
            if referral is not None:
                fu.referral = referral
                fu.save(update_fields=["referral"])
        audit.record(actor, "create", "chronic_follow_up", fu.pk, enrolment=locked.pk, resident=locked.resident_id,
                     decision=outcome.decision, reasons=outcome.reasons, confirmed=bool(warnings), key=key,
                     referral=fu.referral_id)
        _fulfil(actor, fu)
    after_commit_refresh(locked.resident_id)
    return fu


def submit_suggested_referral(actor: Actor, fu: FollowUp):
    """The follow-up page's "submit now" for an urgent referral: submit the drafted referral."""
    from yigongti.referrals.models import Status
    from yigongti.referrals.services import submit_draft

    if fu.referral is None or fu.decision not in (Decision.URGENT, Decision.REFER):
        raise InvalidInput("no_referral", _("此次随访没有待提交的转诊单"), field="referral")
    if fu.referral.status != Status.DRAFT:
        return fu.referral
    return submit_draft(fu.referral.pk, actor=actor)
