"""/api/v1/familydoctor/due: the due and overdue work of the caller's area (contracts to renew, package services,
chronic follow-ups, annual checks, maternal and child visits, vaccine doses), and the recompute (verb
``familydoctor.assess``)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from yigongti.core.actor import Actor

from .. import due
from ..queries import due as q

router = Router(tags=["待办服务"])


class DueQuery(Schema):
    kind: str = Field("", max_length=80, description="renewal, service, chronic, check, maternal, child, vaccine "
                                                     "（逗号分隔）")
    village: str = Field("", max_length=12, description="村（12位区划代码）")
    team: int | None = Field(None, description="团队ID")
    overdue: bool = Field(False, description="只看逾期")
    on: dt.date | None = Field(None, description="日期（默认今天）")
    limit: int = Field(500, ge=1, le=q.MAX_LIMIT)


class DueOut(Schema):
    id: int
    resident_id: int
    resident: str
    kind: str
    ref: str
    label: str
    due_from: dt.date
    due_by: dt.date
    overdue: bool
    village: str | None
    team_id: int | None


class RecomputeIn(Schema):
    today: dt.date | None = None


class RecomputeOut(Schema):
    counts: dict[str, int]


@router.get("", response=list[DueOut])
def list_due(request, params: Query[DueQuery]):
    on = params.on or timezone.localdate()
    rows = q.for_user(Actor.from_request(request), on=on, kinds=params.kind or None, village=params.village or None,
                      overdue_only=params.overdue, limit=params.limit, team=params.team)
    return [{"id": i.pk, "resident_id": i.resident_id, "resident": i.resident.name, "kind": i.kind, "ref": i.ref,
             "label": i.label, "due_from": i.due_from, "due_by": i.due_by, "overdue": i.due_by < on,
             "village": i.village.code if i.village else None, "team_id": i.team_id} for i in rows]


@router.post("/recompute", response=RecomputeOut)
def recompute(request, payload: RecomputeIn):
    return {"counts": due.recompute_as(Actor.from_request(request), payload.today)}
