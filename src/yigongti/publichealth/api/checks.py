"""/api/v1/publichealth/checks: the health checks of an area, who still needs this year's check, one check, and
recording one (impossible values 422 with the field named; unlikely ones 422 ``unlikely_values`` unless
``confirm_unlikely``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.paging import page_dict, page_field, size_field
from yigongti.core.validation import today
from yigongti.residents.queries import get_resident_for

from ..queries import checks as queries
from ..services import checks as services

router = Router(tags=["健康体检"])


class CheckOut(Schema):
    id: int
    resident_id: int
    date: dt.date
    purpose: str
    facility_id: int
    sbp: int | None
    dbp: int | None
    heart_rate: int | None
    height_cm: Decimal | None
    weight_kg: Decimal | None
    waist_cm: Decimal | None
    bmi: Decimal | None
    fbg: Decimal | None
    total_cholesterol: Decimal | None
    triglycerides: Decimal | None
    ldl: Decimal | None
    creatinine: Decimal | None
    alt: Decimal | None
    ecg_done: bool
    ultrasound_done: bool
    self_care_score: int | None
    cognition_screen: str
    tcm_constitution: str
    findings: str
    advice: str


class CheckPage(Schema):
    items: list[CheckOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None


class PersonOut(Schema):
    id: int
    name: str
    sex: str
    birth_date: dt.date
    area_code: str
    chronic: bool


class PersonPage(Schema):
    items: list[PersonOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None


class CheckIn(Schema):
    resident_id: int
    date: dt.date
    purpose: str = Field(..., description="elderly 老年人年度体检 / chronic 慢病患者年度体检 / general 一般体检")
    sbp: int | None = None
    dbp: int | None = None
    heart_rate: int | None = None
    height_cm: Decimal | None = None
    weight_kg: Decimal | None = None
    waist_cm: Decimal | None = None
    fbg: Decimal | None = None
    total_cholesterol: Decimal | None = None
    triglycerides: Decimal | None = None
    ldl: Decimal | None = None
    creatinine: Decimal | None = None
    alt: Decimal | None = None
    ecg_done: bool = False
    ultrasound_done: bool = False
    self_care_score: int | None = None
    cognition_screen: str = Field("", max_length=10)
    tcm_constitution: str = Field("", max_length=20)
    findings: str = Field("", max_length=2000)
    advice: str = Field("", max_length=300)
    confirm_unlikely: bool = Field(False, description="确认少见数值无误（如血压 200/120）")


class ListQuery(Schema):
    year: int = Field(None, ge=2000, le=2100, description="年份（缺省为今年）")  # type: ignore[assignment]
    village: str = Field("", max_length=12)
    township: str = Field("", max_length=12)
    purpose: str = Field("", max_length=8)
    page: int = page_field()
    page_size: int = size_field()


class DueQuery(Schema):
    year: int = Field(None, ge=2000, le=2100)  # type: ignore[assignment]
    who: str = Field("", description="elderly 65岁及以上 / chronic 慢病患者 / 空：两者")
    village: str = Field("", max_length=12)
    township: str = Field("", max_length=12)
    page: int = page_field()
    page_size: int = size_field()


@router.get("", response=CheckPage)
def list_checks(request, q: Query[ListQuery]):
    return page_dict(queries.list_checks(Actor.from_request(request), year=q.year or today().year, village=q.village,
                                         township=q.township, purpose=q.purpose, page=q.page, size=q.page_size))


@router.get("/due", response=PersonPage)
def due(request, q: Query[DueQuery]):
    """The 65+ and the managed chronic patients of the area without a check this year."""
    return page_dict(queries.unchecked(Actor.from_request(request), year=q.year or today().year, who=q.who,
                                       village=q.village, township=q.township, page=q.page, size=q.page_size))


@router.get("/{int:check_id}", response=CheckOut)
def get_check(request, check_id: int):
    return queries.get_check(Actor.from_request(request), check_id)


@router.post("", response={201: CheckOut})
def record_check(request, payload: CheckIn):
    actor = Actor.from_request(request)
    resident = get_resident_for(actor, payload.resident_id)
    data = payload.dict()
    return Status(201, services.record_check(actor, resident, data, confirm_unlikely=payload.confirm_unlikely))
