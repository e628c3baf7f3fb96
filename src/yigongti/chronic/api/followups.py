"""/api/v1/chronic/follow-ups: record a follow-up (the rules' decision comes back with it) and list a patient's.
422 ``unlikely_values``: readings possible but unlikely — send again with ``confirm_unlikely: true``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Router, Schema, Status

from yigongti.core.actor import Actor

from .. import rules
from ..queries import patients as q
from ..services import followups as services

router = Router(tags=["两病随访"])


class MedicationIn(Schema):
    name: str = Field(max_length=60)
    dose: str = Field("", max_length=20)
    frequency: str = Field("", max_length=20)


class FollowUpIn(Schema):
    patient: int = Field(description="慢病管理记录（enrolment）ID")
    visit_date: dt.date | None = Field(None, description="默认今天；不能早于纳入管理日期，不能晚于今天")
    mode: str = Field("clinic", description="clinic 门诊 / home 家庭 / phone 电话")
    sbp: str | int | None = Field(None, description="收缩压 mmHg（高血压必填）")
    dbp: str | int | None = Field(None, description="舒张压 mmHg（高血压必填）")
    heart_rate: str | int | None = None
    fbg: str | float | None = Field(None, description="空腹血糖 mmol/L（糖尿病必填）")
    hba1c: str | float | None = None
    weight_kg: str | float | None = None
    height_cm: str | float | None = None
    symptoms: list[str] = []
    danger_signs: list[str] = Field([], description="危急情况代码（见 GET /follow-ups/rules）")
    smoking_per_day: int | None = None
    drinking_per_day: int | None = None
    exercise_per_week: int | None = None
    exercise_minutes: int | None = None
    salt: str = ""
    staple_grams: int | None = None
    adherence: str = ""
    adverse_reaction: bool = False
    adverse_note: str = ""
    new_complication: bool = False
    complication_note: str = ""
    pregnant: bool = False
    hypoglycaemia: str = ""
    medication: list[MedicationIn] = []
    advice: str = ""
    confirm_unlikely: bool = False
    idempotency_key: str = Field("", max_length=64)


class FollowUpOut(Schema):
    id: int
    patient: int = Field(alias="enrolment_id")
    resident_id: int
    visit_date: dt.date
    mode: str
    sbp: int | None
    dbp: int | None
    heart_rate: int | None
    fbg: Decimal | None
    hba1c: Decimal | None
    weight_kg: Decimal | None
    bmi: Decimal | None
    symptoms: list[str]
    danger_signs: list[str]
    adverse_reaction: bool
    new_complication: bool
    control: str
    decision: str
    reasons: list[str]
    next_visit_on: dt.date
    referral_suggested: bool
    referral_id: int | None
    unlikely_confirmed: bool


@router.post("", response={201: FollowUpOut})
def record(request, payload: FollowUpIn):
    actor = Actor.from_request(request)
    e = q.get_enrolment(actor, payload.patient)
    data = payload.dict(exclude={"patient", "confirm_unlikely", "idempotency_key"})
    if data["visit_date"] is None:
        data.pop("visit_date")
    key = payload.idempotency_key or request.META.get("HTTP_IDEMPOTENCY_KEY", "")
    return Status(201, services.record_follow_up(actor, e, data, confirm_unlikely=payload.confirm_unlikely,
                                                 idempotency_key=key))


@router.get("", response=list[FollowUpOut])
def list_follow_ups(request, patient: int):
    """A patient's follow-ups, newest first."""
    actor = Actor.from_request(request)
    return q.follow_ups_of(actor, q.get_enrolment(actor, patient))


class SignOut(Schema):
    code: str
    label: str
    label_en: str
    conditions: list[str]


class RulesOut(Schema):
    edition: str
    source: str
    danger_signs: list[SignOut]
    symptoms: list[SignOut]
    reasons: dict[str, str]


@router.get("/rules", response=RulesOut)
def rules_in_force(request):
    """The edition of the 规范 in force, its danger-sign and symptom codes and the reason codes' labels."""
    s = rules.standard()
    return {"edition": s.edition, "source": s.source, "danger_signs": s.danger_signs, "symptoms": s.symptoms,
            "reasons": {k: str(v) for k, v in rules.REASONS.items()}}
