"""/api/v1/workforce: the postings (list, create), the expert's check-in, the host's confirmation, the rotas."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor

from .queries import postings as q
from .queries import village as vq
from .queries.rota import rota_detail
from .schemas import (
    AssessmentIn,
    AssessmentOut,
    AssignmentIn,
    AssignmentOut,
    AttendanceOut,
    CheckInIn,
    ClinicCheckInOut,
    DayOut,
    PostingIn,
    PostingOut,
    RotaDetailOut,
    RotaOut,
)
from .services import attendance, postings
from .services import village as vs

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


class MonthQuery(Schema):
    month: str = Field("", description="2026-11 (default: this month)")


def _month(value: str) -> dt.date:
    from yigongti.core.errors import collect

    from .inputs import as_month

    errors: dict[str, list[str]] = {}
    m = as_month(value or timezone.localdate().isoformat(), errors)
    collect(errors, "invalid_month")
    assert m is not None
    return m


@router.get("/attendance", response=list[AttendanceOut])
def list_attendance(request, filters: Query[MonthQuery]):
    """The village doctors' attendance of a month (those the user may see)."""
    return vq.attendance_rows(Actor.from_request(request), _month(filters.month))


@router.post("/attendance/check-in", response={201: ClinicCheckInOut})
def clinic_check_in(request, payload: CheckInIn):
    """The village doctor's check-in at their clinic today; far from the clinic's site it is `flagged`;
    409 `already_checked_in`."""
    return Status(201, vs.clinic_check_in(Actor.from_request(request), payload.dict()))


@router.get("/assessments", response=list[AssessmentOut])
def list_assessments(request, filters: Query[MonthQuery]):
    return vq.assessment_rows(Actor.from_request(request), _month(filters.month))


@router.post("/assessments", response=AssessmentOut)
def score(request, payload: AssessmentIn):
    """The township scores a doctor's month: computed items from the records, ``points`` the entered ones;
    422 `invalid_assessment` names each bad item."""
    actor = Actor.from_request(request)
    staff = vq.get_doctor_for(actor, payload.staff)
    a = vs.score_month(actor, staff, payload.month, payload.points)
    return next(r for r in vq.assessment_rows(actor, a.month) if r["id"] == a.pk)


@router.get("/assignments", response=list[AssignmentOut])
def list_assignments(request, status: str = ""):
    """The talent pool's assignments (县管乡用、乡聘村用) of the user's facilities."""
    from .queries import pool as pq

    qs = pq.assignments_visible_to(request.user).order_by("-start", "-pk")
    return list((qs.filter(status=status) if status else qs)[:1000])


@router.post("/assignments", response={201: AssignmentOut})
def request_assignment(request, payload: AssignmentIn):
    """Ask for an assignment; approved by a manager who did not ask. 422 `invalid_assignment`, 409
    `assignment_pending`."""
    from .services import pool as ps

    return Status(201, ps.request_assignment(Actor.from_request(request), payload.dict()))
