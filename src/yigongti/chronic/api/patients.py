"""/api/v1/chronic/patients: the managed patients of my area (list, one), enrolling one, and the candidates found in
encounters. Same queries and services as the pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.paging import page_dict, page_field, size_field
from yigongti.encounters.models import Encounter
from yigongti.residents.queries import get_resident_for

from ..queries import patients as q
from ..services import enrolment as services

router = Router(tags=["两病管理"])


class PatientOut(Schema):
    id: int
    resident_id: int
    name: str = Field(alias="resident.name")
    condition: str
    status: str
    diagnosed_on: dt.date | None
    diagnosis_icd10: str
    enrolled_on: dt.date
    facility_id: int
    village: str | None = Field(None, alias="village.code")
    last_visit_on: dt.date | None
    last_sbp: int | None
    last_dbp: int | None
    last_fbg: Decimal | None
    last_control: str
    uncontrolled_streak: int
    next_due: dt.date | None
    ended_on: dt.date | None
    end_reason: str


class PatientPage(Schema):
    items: list[PatientOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None = None


class ListQuery(Schema):
    condition: str = Field("", description="htn 高血压 / t2dm 2型糖尿病")
    status: str = Field("managed", description="managed / ended / all")
    village: str = Field("", max_length=12, description="村（12位区划代码）")
    state: str = Field("", description="overdue 逾期 / uncontrolled 控制不满意 / referred 末次随访建议转诊")
    q: str = Field("", max_length=20, description="姓名前缀")
    page: int = page_field()
    page_size: int = size_field()


@router.get("", response=PatientPage)
def list_patients(request, params: Query[ListQuery]):
    f = q.PatientFilter.from_query(params.dict())
    return page_dict(q.patients_for(Actor.from_request(request), f, page=params.page, size=params.page_size))


class EnrolIn(Schema):
    resident: int
    condition: str = Field(description="htn / t2dm")
    enrolled_on: dt.date | None = Field(None, description="默认今天")
    diagnosed_on: dt.date | None = None
    icd10: str = Field("", max_length=16)
    encounter: int | None = Field(None, description="确诊就诊ID（诊断日期和编码取自该就诊）")


@router.post("", response={201: PatientOut})
def enrol(request, payload: EnrolIn):
    """纳入管理 (35+; 409 ``already_enrolled`` when already managed for the condition)."""
    actor = Actor.from_request(request)
    resident = get_resident_for(actor, payload.resident)
    encounter = Encounter.objects.filter(pk=payload.encounter, resident=resident).first() if payload.encounter else None
    return Status(201, services.enrol(actor, resident, payload.condition, enrolled_on=payload.enrolled_on,
                                      diagnosed_on=payload.diagnosed_on, encounter=encounter, icd10=payload.icd10))


class CandidateOut(Schema):
    resident_id: int
    name: str
    sex: str
    age: int
    phone: str
    condition: str
    encounter_id: int
    icd10: str
    diagnosis: str
    seen_on: dt.date
    facility: str


@router.get("/candidates", response=list[CandidateOut])
def list_candidates(request, condition: str = "", village: str = Query("", max_length=12)):
    """Residents 35+ with an I10–I15 / E11 diagnosis in encounters, not yet managed for it (at most 200)."""
    return services.candidates(Actor.from_request(request), condition=condition, village=village)


@router.get("/{patient_id}", response=PatientOut)
def get_patient(request, patient_id: int):
    return q.get_enrolment(Actor.from_request(request), patient_id)


class EndIn(Schema):
    reason: str = Field(description="died / moved / lost / misdiagnosed")
    on: dt.date | None = None


@router.post("/{patient_id}/end", response=PatientOut)
def end(request, patient_id: int, payload: EndIn):
    actor = Actor.from_request(request)
    return services.end_enrolment(actor, q.get_enrolment(actor, patient_id), reason=payload.reason, on=payload.on)
