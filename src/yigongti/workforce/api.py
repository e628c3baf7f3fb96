"""/api/v1/workforce: the postings (list, create), the expert's check-in, the host's confirmation, the rotas."""

from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema, Status

from yigongti.core.actor import Actor

from .queries import postings as q
from .queries.rota import rota_detail
from .schemas import CheckInIn, DayOut, PostingIn, PostingOut, RotaDetailOut, RotaOut
from .services import attendance, postings

router = Router(tags=["专家下沉"])


class PostingQuery(Schema):
    month: dt.date | None = None
    host: int | None = None
    status: str = "active"


@router.get("/postings", response=list[PostingOut])
def list_postings(request, filters: Query[PostingQuery]):
    month = filters.month.replace(day=1) if filters.month else None
    return q.postings_list(Actor.from_request(request), month=month, host=filters.host, status=filters.status)


@router.post("/postings", response={201: PostingOut})
def create_posting(request, payload: PostingIn):
    """422 `invalid_posting` names each bad field; 409 `double_booked`: the expert is posted elsewhere that day."""
    p = postings.create_posting(Actor.from_request(request), payload.dict())
    return Status(201, q.get_posting_for(Actor.from_request(request), p.pk))


@router.post("/days/{int:pk}/check-in", response=DayOut)
def check_in(request, pk: int, payload: CheckInIn):
    """The expert's check-in for today; far from the host's site (when a position is sent) it is `flagged`."""
    return attendance.check_in(Actor.from_request(request), q.get_day_for(request.user, pk), payload.dict())


@router.post("/days/{int:pk}/confirm", response=DayOut)
def confirm(request, pk: int):
    return attendance.confirm_day(Actor.from_request(request), q.get_day_for(request.user, pk))


@router.get("/rota", response=list[RotaOut])
def list_rotas(request):
    return list(q.rotas_visible_to(request.user)[:36])


@router.get("/rota/{int:pk}", response=RotaDetailOut)
def get_rota(request, pk: int):
    r = q.get_rota_for(request.user, pk)
    return {**RotaOut.from_orm(r).dict(), "met_days": rota_detail(r)["met"], "entries": list(r.entries.all())}
