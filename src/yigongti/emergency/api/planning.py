"""/api/v1/emergency/planning: station-planning runs over the same services and queries as the pages. A new run
is queued (202) and computed by ``yigongti worker``; poll ``GET /planning/{id}`` until ``status`` is done."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema, Status

from yigongti.core.actor import Actor

from ..planning import queries as q
from ..services import planning as services

router = Router(tags=["急救站点规划"])


class PlanIn(Schema):
    name: str = Field("", max_length=80)
    objective: str = Field("mclp", description="mclp 最大覆盖 / pmedian p-中位")
    threshold_min: int = Field(15, description="覆盖时限：10、15或20分钟")
    scenarios: list[str] = Field(["add1", "add2", "move1"], description="add1 新增1个 / add2 新增2个 / move1 迁移1个")
    simulate: bool = Field(True, description="仿真一年呼救")
    calls_per_year: float | None = Field(None, description="年呼救量；留空按本县近一年呼救或每千人30次")
    new_vehicles: int = Field(1, description="新站点配车数")
    seed: int = 0


class PlanOut(Schema):
    id: int
    name: str
    network_id: int
    status: str
    params: dict
    created_at: dt.datetime
    created_by_id: int | None
    seconds: float | None


class PlanDetailOut(PlanOut):
    result: dict


@router.get("", response=list[PlanOut])
def list_plans(request):
    return q.plans_visible_to(request.user)


@router.post("", response={202: PlanOut})
def start(request, payload: PlanIn):
    """Queue a run on the active road network (422 for bad parameters, 409 without a network)."""
    data = payload.dict()
    name = data.pop("name")
    return Status(202, services.start_plan(Actor.from_request(request), name=name, **data))


@router.get("/{int:pk}", response=PlanDetailOut)
def detail(request, pk: int):
    return q.get_plan(Actor.from_request(request), pk)


@router.post("/{int:pk}/retry", response={202: PlanOut})
def retry(request, pk: int):
    actor = Actor.from_request(request)
    return Status(202, services.retry_plan(actor, q.get_plan(actor, pk)))
