"""纳入管理 and 结案: put a resident aged 35+ with a confirmed hypertension or type-2 diabetes diagnosis under
management (one managed enrolment per resident and condition), and end it with a reason.

Nothing is enrolled automatically: ``candidates`` lists the residents of the reader's area whose encounters carry
an I10–I15 or E11 diagnosis and who are not managed yet, and the doctor enrols them (or enters a diagnosis made
elsewhere). Writes check ``chronic.enrol`` / ``chronic.end`` on the resident, run in one transaction, are
audited, and refresh the resident's due list (``familydoctor.due.refresh_resident``) after commit."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, collect
from yigongti.core.scoping import scope_for
from yigongti.encounters.models import Encounter
from yigongti.orgs.models import Facility
from yigongti.orgs.permissions import Category, check, check_read
from yigongti.residents.models import Resident

from .. import rules
from ..models import Condition, Enrolment, EnrolmentEndReason, EnrolmentStatus

log = logging.getLogger(__name__)

# ICD-10 of the two conditions: primary hypertension and hypertensive diseases I10–I15, type-2 diabetes E11.
ICD10_PREFIXES: dict[str, tuple[str, ...]] = {
    Condition.HYPERTENSION: ("I10", "I11", "I12", "I13", "I14", "I15"),
    Condition.DIABETES: ("E11",),
}
DEFAULT_ICD10: dict[str, str] = {Condition.HYPERTENSION: "I10", Condition.DIABETES: "E11.9"}


def condition_of_icd10(code: str) -> str | None:
    code = (code or "").strip().upper()
    for condition, prefixes in ICD10_PREFIXES.items():
        if code.startswith(prefixes):
            return condition
    return None


def age_on(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def after_commit_refresh(resident_id: int) -> None:
    """Recompute the resident's due items once the write is committed (H7's engine; absent until it exists)."""
    def run() -> None:
        try:
            from yigongti.familydoctor.due import refresh_resident
        except ImportError:
            return
        try:
            refresh_resident(resident_id)
        except Exception:  # the due list is rebuilt nightly anyway; never fail the write for it
            log.exception("due refresh failed for resident %s", resident_id)

    transaction.on_commit(run)


def _icd_condition_q(condition: str, field: str) -> Q:
    q = Q()
    for p in ICD10_PREFIXES[condition]:
        q |= Q(**{f"{field}__startswith": p})
    return q


def _encounter_q(condition: str) -> Q:
    return _icd_condition_q(condition, "main_icd10") | _icd_condition_q(condition, "diagnoses__icd10")


def enrol(actor: Actor, resident: Resident, condition: str, *, enrolled_on: dt.date | None = None,
          diagnosed_on: dt.date | None = None, facility: Facility | None = None,
          encounter: Encounter | None = None, icd10: str = "") -> Enrolment:
    """纳入管理. The resident must be 35 or older on ``enrolled_on`` (the 规范's population), the dates not in the
    future nor before birth, the diagnosis not after the enrolment; the managing facility is the enrolling
    user's (a village clinic or township center) unless given; the village is the resident's."""
    check(actor, "chronic.enrol", resident)
    today = timezone.localdate()
    enrolled_on = enrolled_on or today
    errors: dict[str, list[str]] = {}
    if condition not in Condition.values:
        errors["condition"] = [_("病种无效")]
    if enrolled_on > today:
        errors["enrolled_on"] = [_("纳入管理日期不能晚于今天")]
    elif enrolled_on < resident.birth_date:
        errors["enrolled_on"] = [_("纳入管理日期不能早于出生日期")]
    elif age_on(resident.birth_date, enrolled_on) < rules.standard().enrol_min_age:
        errors["resident"] = [_("纳入管理的居民应年满%(n)s岁") % {"n": rules.standard().enrol_min_age}]
    if encounter is not None:
        if encounter.resident_id != resident.pk:
            errors["encounter"] = [_("该就诊记录不属于此居民")]
        diagnosed_on = diagnosed_on or encounter.admit_date
        if not icd10 and condition_of_icd10(encounter.main_icd10) == condition:
            icd10 = encounter.main_icd10
    if diagnosed_on is not None and diagnosed_on > enrolled_on:
        errors["diagnosed_on"] = [_("确诊日期不能晚于纳入管理日期")]
    if diagnosed_on is not None and diagnosed_on < resident.birth_date:
        errors["diagnosed_on"] = [_("确诊日期不能早于出生日期")]
    icd10 = (icd10 or "").strip().upper()[:16]
    if icd10 and condition in Condition.values and condition_of_icd10(icd10) != condition:
        errors["icd10"] = [_("诊断编码与病种不符（高血压 I10–I15，2型糖尿病 E11）")]
    user = actor.user
    facility = facility or (user.facility if user is not None else None)
    if facility is None:
        errors["facility"] = [_("请选择管理机构")]
    collect(errors)
    assert facility is not None
    staff = getattr(user, "staff", None) if user is not None else None
    try:
        with transaction.atomic():
            e = Enrolment.objects.create(
                resident=resident, condition=condition, diagnosed_on=diagnosed_on,
                diagnosis_icd10=icd10 or DEFAULT_ICD10[condition], source_encounter=encounter,
                enrolled_on=enrolled_on, facility=facility, village=resident.village, doctor=staff,
                next_due=enrolled_on, created_by=user)
            audit.record(actor, "create", "chronic_enrolment", e.pk, resident=resident.pk, condition=condition,
                         encounter=encounter.pk if encounter else None)
    except IntegrityError:
        raise Conflict("already_enrolled", _("该居民已在此病种管理中")) from None
    after_commit_refresh(resident.pk)
    return e


def end_enrolment(actor: Actor, enrolment: Enrolment, *, reason: str, on: dt.date | None = None) -> Enrolment:
    """结案 (died, moved, lost to follow-up, diagnosis excluded). Its follow-ups stay."""
    check(actor, "chronic.end", enrolment)
    today = timezone.localdate()
    on = on or today
    errors: dict[str, list[str]] = {}
    if reason not in EnrolmentEndReason.values:
        errors["reason"] = [_("请选择结案原因")]
    if on > today or on < enrolment.enrolled_on:
        errors["on"] = [_("结案日期应在纳入管理日期和今天之间")]
    collect(errors)
    with transaction.atomic():
        locked = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        if locked.status != EnrolmentStatus.MANAGED:
            raise Conflict("already_ended", _("该管理已结案"))
        locked.status, locked.ended_on, locked.end_reason = EnrolmentStatus.ENDED, on, reason
        locked.next_due = None
        locked.save(update_fields=["status", "ended_on", "end_reason", "next_due"])
        audit.record(actor, "update", "chronic_enrolment", locked.pk, move="end", reason=reason)
    after_commit_refresh(locked.resident_id)
    return locked


@dataclass
class Candidate:
    resident_id: int
    name: str
    sex: str
    age: int
    phone: str
    area_code: str
    condition: str
    encounter_id: int
    icd10: str
    diagnosis: str
    seen_on: dt.date
    facility: str

    @property
    def condition_label(self) -> str:
        return str(Condition(self.condition).label)


def candidate_encounters(user, condition: str, *, village: str = "", today: dt.date | None = None
                         ) -> QuerySet[Encounter]:
    """Encounters of the user's area with the condition's diagnosis, of residents 35+ not managed for it."""
    today = today or timezone.localdate()
    born_by = years_before(today, rules.standard().enrol_min_age)
    managed = Enrolment.objects.filter(resident=OuterRef("resident_id"), condition=condition,
                                       status=EnrolmentStatus.MANAGED)
    qs = Encounter.objects.filter(resident__isnull=False, resident__merged_into__isnull=True,
                                  resident__birth_date__lte=born_by)
    qs = scope_for(user).filter(qs, "resident__area_code")
    if village:
        qs = qs.filter(resident__area_code=village)
    return qs.filter(_encounter_q(condition)).filter(~Exists(managed)).distinct()


def candidates(actor: Actor, *, condition: str = "", village: str = "", limit: int = 200,
               today: dt.date | None = None) -> list[Candidate]:
    """Residents 35+ of the reader's area with an I10–I15 / E11 diagnosis in an encounter and not managed yet for
    that condition: one row per resident and condition (the latest such encounter), newest first; audited."""
    check_read(actor, Category.PUBLIC_HEALTH)
    from yigongti.core.personal import mask_phone

    today = today or timezone.localdate()
    conditions = [condition] if condition in Condition.values else list(Condition.values)
    out: list[Candidate] = []
    for c in conditions:
        rows = (candidate_encounters(actor.user, c, village=village, today=today)
                .order_by("-admit_date", "-id")
                .values("id", "resident_id", "resident__name", "resident__sex", "resident__birth_date",
                        "resident__phone", "resident__area_code", "main_icd10", "main_diagnosis", "admit_date",
                        "facility__name")[: limit * 3])
        seen: set[int] = set()
        for v in rows:
            if v["resident_id"] in seen:
                continue
            seen.add(v["resident_id"])
            out.append(Candidate(
                v["resident_id"], v["resident__name"], v["resident__sex"],
                age_on(v["resident__birth_date"], today), mask_phone(v["resident__phone"]),
                v["resident__area_code"], c, v["id"], v["main_icd10"], v["main_diagnosis"], v["admit_date"],
                v["facility__name"]))
            if len(seen) >= limit:
                break
    out.sort(key=lambda r: r.seen_on, reverse=True)
    out = out[:limit]
    audit.record(actor, "view", "chronic_candidates", "", condition=condition, village=village,
                 residents=sorted({r.resident_id for r in out}))
    return out
