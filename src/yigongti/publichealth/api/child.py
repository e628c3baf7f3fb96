"""/api/v1/publichealth/child: the children 0–6 of an area (with their next visit), one child's plan and visits,
recording a visit (before the birth or in the future 422; outside its window saved with ``window`` early/late)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.paging import page_dict, page_field, size_field
from yigongti.residents.queries import get_resident_for

from ..queries import child as queries
from ..services import child as services
from .maternal import PlanItemOut, _item

router = Router(tags=["0～6岁儿童健康管理"])


class ChildVisitOut(Schema):
    id: int
    child_id: int
    kind: str
    date: dt.date
    age_days: int
    facility_id: int
    weight_kg: Decimal | None
    length_cm: Decimal | None
    head_cm: Decimal | None
    haemoglobin: int | None
    development_ok: bool | None
    feeding: str
    findings: str
    advice: str
    schedule_edition: str
    window: str = Field("", description="ok / early / late（超窗）")


class ChildOut(Schema):
    id: int
    name: str
    sex: str
    birth_date: dt.date
    area_code: str


class ChildRowOut(Schema):
    child: ChildOut
    age_days: int
    done: int
    next_visit: PlanItemOut | None
    overdue: list[str]


class ChildPage(Schema):
    items: list[ChildRowOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None


class ChildDetail(Schema):
    child: ChildOut
    plan: list[PlanItemOut]
    visits: list[ChildVisitOut]


class ChildVisitIn(Schema):
    kind: str = Field(..., description="newborn, month_1, month_3 … month_36, year_4, year_5, year_6")
    date: dt.date
    weight_kg: Decimal | None = None
    length_cm: Decimal | None = None
    head_cm: Decimal | None = None
    haemoglobin: int | None = None
    development_ok: bool | None = None
    feeding: str = Field("", description="breast / mixed / formula")
    findings: str = Field("", max_length=300)
    advice: str = Field("", max_length=300)


class ListQuery(Schema):
    due: str = Field("", description="due 应做 / overdue 逾期 / todo 两者")
    village: str = Field("", max_length=12)
    township: str = Field("", max_length=12)
    page: int = page_field()
    page_size: int = size_field()


def _row(r) -> dict:
    n = r.next_item
    return {"child": r.child, "age_days": r.age_days, "done": r.done_count, "next_visit": _item(n) if n else None,
            "overdue": [i.window.code for i in r.overdue]}


@router.get("", response=ChildPage)
def list_children(request, q: Query[ListQuery]):
    page = queries.list_children(Actor.from_request(request), due=q.due, village=q.village, township=q.township,
                                 page=q.page, size=q.page_size)
    return {**page_dict(page), "items": [_row(r) for r in page.items]}


@router.get("/{int:resident_id}", response=ChildDetail)
def get_child(request, resident_id: int):
    actor = Actor.from_request(request)
    r = queries.child_record(actor, get_resident_for(actor, resident_id))
    for v in r.visits:
        v.window = getattr(v, "timing", "") or ""  # type: ignore[attr-defined]
    return {"child": r.child, "plan": [_item(i) for i in r.plan], "visits": r.visits}


@router.post("/{int:resident_id}/visits", response={201: ChildVisitOut})
def record_visit(request, resident_id: int, payload: ChildVisitIn):
    actor = Actor.from_request(request)
    data = payload.dict()
    if data["development_ok"] is not None:
        data["development_ok"] = "1" if data["development_ok"] else "0"
    return Status(201, services.record_child_visit(actor, get_resident_for(actor, resident_id), data))
