from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from .inputs import AcceptInput, CompleteInput, RedirectInput, ReferralInput

# The request bodies are the services' own typed inputs (inputs.py): one definition for the page and the API.
ReferralIn = ReferralInput
AcceptIn = AcceptInput
RedirectIn = RedirectInput
CompleteIn = CompleteInput


class FollowUpOut(Schema):
    id: int
    kind: str
    is_overdue: bool
    due_date: dt.date
    status: str
    note: str
    done_at: dt.datetime | None


class ReferralOut(Schema):
    id: int
    direction: str
    status: str
    urgency: str
    resident_id: int
    resident_name: str = Field(alias="resident.name")
    from_facility_id: int
    to_facility_id: int | None
    to_external: str
    to_level: str
    to_department_id: int | None
    appointment_at: dt.datetime | None
    icd10: str
    diagnosis: str
    reason: str
    guideline_warning: str
    override_reason: str
    submitted_at: dt.datetime | None
    due_at: dt.datetime | None
    answered_at: dt.datetime | None
    arrived_at: dt.datetime | None
    closed_at: dt.datetime | None
    escalated_at: dt.datetime | None
    decline_reason: str
    outcome: str = Field(description="离院方式（病案首页）1/2/3/4/5/9")
    treatment_result: str
    number: str
    meets_up_criteria: bool
    pregnancy_risk: str
    ecg_changes: bool
    major_trauma: bool
    routine_reason: str
    bed: str
    insurance_filing_no: str
    insurance_target_code: str


class ReferralDetailOut(ReferralOut):
    exams: str
    medications: str
    summary: dict
    rehab_plan: str
    medication_plan: str
    follow_ups: list[FollowUpOut]

    @staticmethod
    def resolve_follow_ups(obj) -> list:
        return list(obj.follow_ups.all())


class ReferralPage(Schema):
    items: list[ReferralOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None


class ReasonIn(Schema):
    reason: str


class FollowUpIn(Schema):
    note: str
    status: str = "done"


class GuidelineOut(Schema):
    rule: str | None
    level: str | None = Field(description="稳定期管理层级")
    treat_level: str | None = Field(None, description="达上转指征时诊治层级")
    warning: str
    note: str = ""
    meets_up: bool = False
    green_channel: str = Field("", description="默认走绿色通道的理由（空：不属于绿色通道病种）")


class SlotsOut(Schema):
    department: int
    slots: list[dt.datetime]
    beds: list[str]
    beds_total: int
    occupied: int


class RuleOut(Schema):
    id: int
    name: str
    icd10_from: str
    icd10_to: str
    level: str
    treat_level: str
    designated: str
    up_criteria: str
    down_criteria: str
    active: bool
