"""/api/v1/publichealth/immunisation: the schedule, the due and overdue doses of an area, a child's vaccine card,
and recording a dose (refused, 422 ``dose_refused``, with the rule that forbids it)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.validation import today
from yigongti.residents.queries import get_resident_for

from .. import immunisation
from ..queries import immunisation as queries
from ..services import immunisation as services

router = Router(tags=["预防接种"])


class RuleOut(Schema):
    vaccine: str
    dose: int
    name: str
    name_en: str
    age: str
    recommended_age_days: int
    min_age_days: int
    min_interval_days: int
    complete_by_days: int
    catch_up_until_days: int


class ScheduleOut(Schema):
    edition: str
    source: str
    doses: list[RuleOut]


class DueOut(Schema):
    resident_id: int
    name: str
    village: str
    birth_date: dt.date
    vaccine: str
    dose: int
    dose_name: str
    due_from: dt.date
    due_by: dt.date
    overdue: bool


class DueListOut(Schema):
    children: int
    overdue: int
    truncated: bool
    items: list[DueOut]


class DueQuery(Schema):
    village: str = Field("", max_length=12, description="村（12位区划代码）")
    township: str = Field("", max_length=12, description="乡镇（12位区划代码）")
    vaccine: str = Field("", max_length=12, description="疫苗代码，如 HepB、MMR")
    overdue: bool = Field(False, description="只列逾期")
    horizon_days: int = Field(0, ge=0, le=365, description="也列出多少天内将到期的剂次")
    limit: int = Field(500, ge=1, le=2000)


class DoseOut(Schema):
    id: int
    resident_id: int = Field(..., alias="child_id")
    vaccine: str
    dose: int
    given_on: dt.date
    age_days: int
    facility_id: int
    lot: str
    manufacturer: str
    site: str
    catch_up: bool
    schedule_edition: str


class CardRowOut(Schema):
    vaccine: str
    dose: int
    name: str
    status: str = Field(..., description="given 已种 / due 应种 / overdue 逾期 / upcoming 未到 / waiting 待前一剂 / "
                                         "missed 超过补种年龄")
    given_on: dt.date | None
    catch_up: bool | None
    due_from: dt.date | None
    due_by: dt.date | None


class CardOut(Schema):
    resident_id: int
    name: str
    birth_date: dt.date
    edition: str
    rows: list[CardRowOut]


class DoseIn(Schema):
    resident_id: int
    vaccine: str = Field(..., max_length=12)
    dose: int = Field(..., ge=1, le=9)
    given_on: dt.date
    lot: str = Field("", max_length=30)
    manufacturer: str = Field("", max_length=60)
    site: str = Field("", max_length=20)


@router.get("/schedule", response=ScheduleOut)
def schedule(request):
    """The national schedule in force (edition, source, every dose's ages and intervals in days)."""
    return immunisation.schedule()


@router.get("", response=DueListOut)
def due(request, q: Query[DueQuery]):
    result = queries.due_list(Actor.from_request(request), on=today(), village=q.village, township=q.township,
                              vaccine=q.vaccine, overdue_only=q.overdue, horizon_days=q.horizon_days, limit=q.limit)
    items = [{"resident_id": r.child.pk, "name": r.child.name, "village": r.child.village.name if r.child.village
              else "", "birth_date": r.child.birth_date, "vaccine": r.due.rule.vaccine, "dose": r.due.rule.dose,
              "dose_name": r.due.rule.label, "due_from": r.due.due_from, "due_by": r.due.due_by,
              "overdue": r.due.overdue} for r in result.rows]
    return {"children": result.children, "overdue": result.overdue, "truncated": result.truncated, "items": items}


@router.get("/card/{int:resident_id}", response=CardOut)
def card(request, resident_id: int):
    c = queries.card(Actor.from_request(request), resident_id, on=today())
    rows = [{"vaccine": r.rule.vaccine, "dose": r.rule.dose, "name": r.rule.label, "status": r.status,
             "given_on": r.dose.given_on if r.dose else None, "catch_up": r.dose.catch_up if r.dose else None,
             "due_from": r.due_from, "due_by": r.due_by} for r in c.rows]
    return {"resident_id": c.child.pk, "name": c.child.name, "birth_date": c.child.birth_date,
            "edition": c.edition, "rows": rows}


@router.post("/doses", response={201: DoseOut})
def record_dose(request, payload: DoseIn):
    """Record a dose at the caller's 接种单位. A retry of the same dose on the same day returns the first."""
    actor = Actor.from_request(request)
    child = get_resident_for(actor, payload.resident_id)
    return Status(201, services.record_dose(actor, child, payload.dict()))
