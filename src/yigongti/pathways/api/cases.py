"""/api/v1/pathways/cases: the same use cases as the pages. Times are ISO 8601 (with offset; without one the
county's local time); a replay with the same ``Idempotency-Key`` header (or ``idempotency_key``) records once."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput, NotFound
from yigongti.orgs.models import Facility
from yigongti.residents.models import Resident

from .. import queries, services
from ..models import Case

router = Router(tags=["急救通道"])


class MetricOut(Schema):
    code: str
    label: str
    minutes: float | None
    target_min: float | None
    met: bool | None
    running: bool
    start: str
    end: str


class EventOut(Schema):
    id: int
    code: str
    at: dt.datetime
    source: str
    source_ref: str
    value: str
    active: bool
    replaces_id: int | None = None
    reason: str
    facility_id: int | None = None


class CaseOut(Schema):
    id: int
    case_no: str
    kind: str
    subtype: str
    status: str
    resident_id: int
    facility_id: int
    first_facility_id: int | None = None
    arrival_mode: str
    call_id: int | None = None
    referral_id: int | None = None
    ecg_order_id: int | None = None
    risk_colour: str
    diagnosis: str
    outcome: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None = None


class CaseRowOut(CaseOut):
    metrics: list[MetricOut]


class CaseDetailOut(CaseOut):
    events: list[EventOut]
    metrics: list[MetricOut]
    next: list[str] = Field(description="尚未记录的时间节点编码（按时间轴顺序）")
    missing_delays: list[str] = Field(description="未达标且未填写延误原因的指标编码")


class CaseIn(Schema):
    resident: int
    kind: str = Field(description="chest_pain / stroke / trauma / maternal / neonatal")
    facility: int | None = Field(None, description="救治机构 id；缺省为当前用户所在机构")
    first_facility: int | None = None
    arrival_mode: str = "ems"
    subtype: str = ""
    risk_colour: str = ""
    diagnosis: str = Field("", max_length=200)
    at: dt.datetime | None = None
    idempotency_key: str = Field("", max_length=64)


class EventIn(Schema):
    code: str = Field(max_length=30)
    at: dt.datetime | None = Field(None, description="缺省为此刻")
    value: str = Field("", max_length=120)
    idempotency_key: str = Field("", max_length=64)


class CorrectIn(Schema):
    at: dt.datetime
    reason: str = Field(max_length=200)


class DelayIn(Schema):
    metric: str = Field(max_length=30)
    code: str = Field(max_length=30)
    note: str = Field("", max_length=200)


class SubtypeIn(Schema):
    subtype: str = Field(max_length=24)
    diagnosis: str = Field("", max_length=200)


class CloseIn(Schema):
    outcome: str = Field(max_length=20)
    diagnosis: str = Field("", max_length=200)
    at: dt.datetime | None = None


class ListQuery(Schema):
    kind: str = ""
    status: str = Field("open", description="open 救治中 / recent 近7天")


def _detail(actor: Actor, case: Case) -> dict:
    tl = queries.timeline(actor, case)
    return {**CaseOut.from_orm(case).model_dump(), "events": list(case.events.order_by("at", "pk")),
            "metrics": tl.metrics, "next": [p.code for p in tl.missing],
            "missing_delays": [m.code for m in tl.missing_delays]}


def _facility(pk: int | None, actor: Actor) -> Facility:
    if pk is None and actor.user is not None and actor.user.facility_id:
        return actor.user.facility
    facility = Facility.objects.filter(pk=pk).first() if pk else None
    if facility is None:
        raise InvalidInput("unknown_facility", _("救治机构不存在"), field="facility")
    return facility


def _key(request, payload_key: str) -> str:
    return payload_key or request.META.get("HTTP_IDEMPOTENCY_KEY", "")


@router.get("", response=list[CaseRowOut])
def list_cases(request, q: Query[ListQuery]):
    rows = queries.case_list(Actor.from_request(request), kind=q.kind, status=q.status)
    return [{**CaseOut.from_orm(r.case).model_dump(), "metrics": r.metrics} for r in rows]


@router.post("", response={201: CaseDetailOut})
def open_case(request, payload: CaseIn):
    """Open a case (or get the resident's open case of that kind, with the new links)."""
    actor = Actor.from_request(request)
    resident = Resident.objects.filter(pk=payload.resident).first()
    if resident is None:
        raise NotFound(_("居民不存在"))
    first = _facility(payload.first_facility, actor) if payload.first_facility else None
    case = services.open_case(actor, resident, payload.kind, facility=_facility(payload.facility, actor),
                              first_facility=first, arrival_mode=payload.arrival_mode, subtype=payload.subtype,
                              risk_colour=payload.risk_colour, diagnosis=payload.diagnosis, at=payload.at,
                              idempotency_key=_key(request, payload.idempotency_key))
    return Status(201, _detail(actor, queries.case_for(actor, case.pk)))


@router.get("/{int:pk}", response=CaseDetailOut)
def get_case(request, pk: int):
    actor = Actor.from_request(request)
    return _detail(actor, queries.case_for(actor, pk))


@router.post("/{int:pk}/events", response={201: EventOut})
def record_event(request, pk: int, payload: EventIn):
    """Record a time point once (a repeat returns the first row); a future or absurdly early time is 422."""
    actor = Actor.from_request(request)
    return Status(201, services.record_event(actor, queries.case_for(actor, pk, audit_read=False), payload.code,
                                             at=payload.at, value=payload.value,
                                             idempotency_key=_key(request, payload.idempotency_key)))


@router.post("/{int:pk}/events/{int:event_id}/correct", response={201: EventOut})
def correct_event(request, pk: int, event_id: int, payload: CorrectIn):
    """Correct a time point with a reason: a new row; the old one stays, inactive."""
    actor = Actor.from_request(request)
    event = queries.case_for(actor, pk, audit_read=False).events.filter(pk=event_id).first()
    if event is None:
        raise NotFound(_("时间节点不存在"))
    return Status(201, services.correct_event(actor, event, at=payload.at, reason=payload.reason))


@router.post("/{int:pk}/delays", response=CaseDetailOut)
def record_delay(request, pk: int, payload: DelayIn):
    actor = Actor.from_request(request)
    case = queries.case_for(actor, pk, audit_read=False)
    services.record_delay(actor, case, payload.metric, payload.code, note=payload.note)
    return _detail(actor, case)


@router.post("/{int:pk}/subtype", response=CaseDetailOut)
def set_subtype(request, pk: int, payload: SubtypeIn):
    actor = Actor.from_request(request)
    case = services.set_subtype(actor, queries.case_for(actor, pk, audit_read=False), payload.subtype,
                                diagnosis=payload.diagnosis)
    return _detail(actor, case)


@router.post("/{int:pk}/close", response=CaseDetailOut)
def close_case(request, pk: int, payload: CloseIn):
    """Close with the outcome; 422 ``delay_reason_required`` while a missed target has no reason."""
    actor = Actor.from_request(request)
    case = services.close_case(actor, queries.case_for(actor, pk, audit_read=False), outcome=payload.outcome,
                               diagnosis=payload.diagnosis, at=payload.at or timezone.now())
    return _detail(actor, case)
