from __future__ import annotations

import datetime as dt

from ninja import Field, Schema


class ReferralIn(Schema):
    resident: int
    direction: str = Field("up", description="up 上转 / down 下转")
    urgency: str = Field("routine", description="routine / urgent / green（绿色通道）")
    to_facility: int | None = Field(None, description="本医共体内的接收机构 id")
    to_external: str = Field("", description="县外合作医院名称（上转至市、省级）")
    to_level: str = ""
    icd10: str
    diagnosis: str = ""
    reason: str
    exams: str = ""
    medications: str = ""
    override_reason: str = Field("", description="指南建议留在本级时，继续转诊的理由")
    source_referral: int | None = None
    rehab_plan: str = ""
    medication_plan: str = ""
    follow_up_dates: list[dt.date] = []
    draft: bool = False
    idempotency_key: str = Field("", description="客户端生成的唯一键；缺省时使用 Idempotency-Key 请求头")


class FollowUpOut(Schema):
    id: int
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
    outcome: str


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


class AcceptIn(Schema):
    department: int | None = None
    doctor: int | None = None
    appointment_at: dt.datetime | None = None
    bed: str = ""
    note: str = ""


class RedirectIn(Schema):
    to_facility: int | None = None
    to_external: str = ""
    to_level: str = ""
    department: int | None = None
    appointment_at: dt.datetime | None = None
    reason: str


class ReasonIn(Schema):
    reason: str


class CompleteIn(Schema):
    outcome: str
    note: str = ""


class FollowUpIn(Schema):
    note: str
    status: str = "done"


class GuidelineOut(Schema):
    rule: str | None
    level: str | None
    warning: str


class RuleOut(Schema):
    id: int
    name: str
    icd10_from: str
    icd10_to: str
    level: str
    up_criteria: str
    down_criteria: str
    active: bool
