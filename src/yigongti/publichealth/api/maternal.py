"""/api/v1/publichealth/maternal: the pregnancies of an area (with their next visit), one pregnancy with its plan
and visits, registering one (建册), grading its risk, recording a visit and the delivery. Bad input 422 with the
field named (problem+json); unlikely BP 422 ``unlikely_values`` unless ``confirm_unlikely``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.paging import page_dict, page_field, size_field
from yigongti.residents.queries import get_resident_for

from ..queries import maternal as queries
from ..services import maternal as services

router = Router(tags=["孕产妇健康管理"])


class PlanItemOut(Schema):
    code: str
    label: str
    status: str = Field(..., description="done / due / overdue / missed / upcoming / waiting")
    due_from: dt.date | None
    due_by: dt.date | None
    done_on: dt.date | None
    timing: str = Field("", description="已完成项目：ok 按时 / early、late 超窗")


class VisitOut(Schema):
    id: int
    kind: str
    date: dt.date
    gest_week: int | None
    facility_id: int
    sbp: int | None
    dbp: int | None
    weight_kg: Decimal | None
    fundal_height_cm: Decimal | None
    fetal_heart_rate: int | None
    haemoglobin: int | None
    findings: str
    advice: str
    referred: bool
    window: str = Field("", description="ok / early / late（超窗）")


class PregnancyOut(Schema):
    id: int
    resident_id: int
    lmp: dt.date
    edd: dt.date
    registered_on: dt.date
    registered_week: int
    gravidity: int
    parity: int
    facility_id: int
    managing_facility_id: int
    risk_grade: str
    risk_factors: list[str]
    risk_assessed_on: dt.date | None
    status: str
    delivered_on: dt.date | None
    outcome: str
    schedule_edition: str


class PregnancyRowOut(Schema):
    pregnancy: PregnancyOut
    next_visit: PlanItemOut | None
    overdue: list[str]


class PregnancyDetail(Schema):
    pregnancy: PregnancyOut
    plan: list[PlanItemOut]
    visits: list[VisitOut]


class PregnancyPage(Schema):
    items: list[PregnancyRowOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None


class Measurements(Schema):
    sbp: int | None = None
    dbp: int | None = None
    weight_kg: Decimal | None = None
    fundal_height_cm: Decimal | None = None
    fetal_heart_rate: int | None = None
    haemoglobin: int | None = None
    findings: str = Field("", max_length=300)
    advice: str = Field("", max_length=300)
    referred: bool = False
    confirm_unlikely: bool = Field(False, description="确认少见数值无误（如血压 200/120）")


class PregnancyIn(Measurements):
    resident_id: int
    lmp: dt.date
    registered_on: dt.date | None = None
    edd: dt.date | None = None
    gravidity: int = 1
    parity: int = 0


class VisitIn(Measurements):
    kind: str = Field(..., description="服务项目代码：first, antenatal_2..5, postpartum, postpartum_42")
    date: dt.date


class GradeIn(Schema):
    factors: list[str] = Field(default_factory=list, description="风险因素代码（schedules/pregnancy_risk_2017.json）")
    height_cm: Decimal | None = None
    weight_kg: Decimal | None = None
    haemoglobin: int | None = None
    assessed_on: dt.date | None = None


class DeliveryIn(Schema):
    delivered_on: dt.date
    outcome: str = Field(..., description="live_birth / stillbirth / miscarriage / moved")
    delivery_facility: str = Field("", max_length=100)


class ListQuery(Schema):
    status: str = Field("", description="ongoing / postpartum / closed / all（缺省：未结案）")
    grade: str = Field("", description="green / yellow / orange / red / purple / county（橙色及以上）")
    due: str = Field("", description="due 应做 / overdue 逾期 / todo 两者")
    village: str = Field("", max_length=12)
    township: str = Field("", max_length=12)
    page: int = page_field()
    page_size: int = size_field()


def _item(i) -> dict:
    return {"code": i.window.code, "label": i.window.name, "status": i.status, "due_from": i.due_from,
            "due_by": i.due_by, "done_on": i.done_on, "timing": i.timing}


def _row(r) -> dict:
    n = r.next_item
    return {"pregnancy": r.pregnancy, "next_visit": _item(n) if n else None,
            "overdue": [i.window.code for i in r.overdue]}


def _detail(r) -> dict:
    visits = queries.visits_of(r)
    for v in visits:
        v.window = services.window_status(r.pregnancy, v.kind, v.date)  # type: ignore[attr-defined]
    return {"pregnancy": r.pregnancy, "plan": [_item(i) for i in r.plan], "visits": visits}


@router.get("", response=PregnancyPage)
def list_pregnancies(request, q: Query[ListQuery]):
    page = queries.list_pregnancies(Actor.from_request(request), status=q.status, grade=q.grade, due=q.due,
                                    village=q.village, township=q.township, page=q.page, size=q.page_size)
    return {**page_dict(page), "items": [_row(r) for r in page.items]}


@router.get("/{int:pregnancy_id}", response=PregnancyDetail)
def get_pregnancy(request, pregnancy_id: int):
    return _detail(queries.get_pregnancy(Actor.from_request(request), pregnancy_id))


@router.post("", response={201: PregnancyOut})
def register(request, payload: PregnancyIn):
    actor = Actor.from_request(request)
    resident = get_resident_for(actor, payload.resident_id)
    return Status(201, services.register_pregnancy(actor, resident, payload.dict(),
                                                   confirm_unlikely=payload.confirm_unlikely))


@router.post("/{int:pregnancy_id}/risk", response=PregnancyOut)
def grade(request, pregnancy_id: int, payload: GradeIn):
    actor = Actor.from_request(request)
    return services.grade_risk(actor, queries.get_pregnancy(actor, pregnancy_id).pregnancy, payload.dict())


@router.post("/{int:pregnancy_id}/visits", response={201: VisitOut})
def record_visit(request, pregnancy_id: int, payload: VisitIn):
    actor = Actor.from_request(request)
    p = queries.get_pregnancy(actor, pregnancy_id).pregnancy
    return Status(201, services.record_visit(actor, p, payload.dict(), confirm_unlikely=payload.confirm_unlikely))


@router.post("/{int:pregnancy_id}/delivery", response=PregnancyOut)
def delivery(request, pregnancy_id: int, payload: DeliveryIn):
    actor = Actor.from_request(request)
    return services.record_delivery(actor, queries.get_pregnancy(actor, pregnancy_id).pregnancy, payload.dict())
