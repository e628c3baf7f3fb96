"""/api/v1/telemedicine/critical: the critical-value loop over the same services and queries as the pages."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema

from yigongti.core.actor import Actor
from yigongti.core.errors import Forbidden

from .. import rules
from ..queries import critical as q
from ..services import critical as services

router = Router(tags=["危急值"])


class EventOut(Schema):
    kind: str
    at: dt.datetime
    level: int
    by_id: int | None = None
    to_id: int | None = None
    note: str = ""


class CriticalOut(Schema):
    id: int
    order_id: int
    accession_no: str = Field(..., alias="order.accession_no")
    kind: str
    description: str
    resident_id: int
    facility_id: int
    status: str
    level: int
    detected_at: dt.datetime
    notified_at: dt.datetime | None
    notified_to_id: int | None
    ack_due_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    acknowledged_by_id: int | None
    read_back: str
    action_kind: str
    action_note: str
    action_ref: str
    action_at: dt.datetime | None
    closed_at: dt.datetime | None
    stemi: bool = False

    @staticmethod
    def resolve_stemi(obj) -> bool:
        return bool(obj.finding_id and obj.finding.stemi)


class CriticalDetailOut(CriticalOut):
    events: list[EventOut]

    @staticmethod
    def resolve_events(obj) -> list:
        return q.events_of(obj)


class ReadBackIn(Schema):
    read_back: str = Field(..., max_length=200, description="复述的危急值（患者、项目和结果，数值须一致）")


class ActionIn(Schema):
    kind: str = Field(..., description="order 医嘱/检查 / referral 转诊 / note 病程记录 / call 联系患者")
    note: str = Field(..., max_length=2000)
    ref: str = Field("", max_length=40, description="关联单号")


class GreenOut(Schema):
    referral_id: int
    critical: CriticalOut


class ListQuery(Schema):
    status: str = Field("", description="open 未闭环 / notified / escalated / acknowledged / actioned / closed")
    kind: str = Field("", description="lab / ecg / imaging")
    days: int = Field(30, ge=1, le=366)


class RatesOut(Schema):
    total: int
    notified: int
    timely: int
    acknowledged: int
    actioned: int
    closed: int
    escalated: int
    median_ack_minutes: float | None
    median_action_minutes: float | None
    rates: dict[str, float | None]


class StatsOut(Schema):
    days: int
    overdue: int
    overall: RatesOut
    by_kind: dict[str, int]


class RuleOut(Schema):
    id: int
    analyte: str = Field(..., alias="analyte.code")
    unit: str
    low: float | None
    high: float | None
    population: str
    sex: str
    patient_group: str
    first_only: bool
    effective_from: dt.date
    effective_to: dt.date | None
    facility_id: int | None
    override_reason: str
    source: str


def _lists(request) -> None:
    if not q.may_list(request.user):
        raise Forbidden(code="permission_denied")


@router.get("", response=list[CriticalOut])
def list_critical(request, params: Query[ListQuery]):
    """The caller's open values (``status`` empty) or the recent ones of the filter; counts-only roles get 403."""
    _lists(request)
    actor = Actor.from_request(request)
    if not params.status and not params.kind:
        return q.open_for(actor)
    return q.recent_for(actor, q.Filter.from_query(params.dict()))


@router.get("/stats", response=StatsOut)
def stats(request, days: int = 30):
    """通报率, 通报及时率, acknowledgement and closure rates, median minutes (counts only, every reader)."""
    return q.stats(request.user, min(max(days, 1), 366))


@router.get("/rules", response=list[RuleOut])
def list_rules(request):
    user = request.user
    if not user.facility_id or not user.facility.community_id:
        return []
    return list(rules.rules_in_force(user.facility.community, facility=user.facility))


@router.get("/{int:pk}", response=CriticalDetailOut)
def get_critical(request, pk: int):
    return q.get_for(Actor.from_request(request), pk)


@router.post("/{int:pk}/acknowledge", response=CriticalDetailOut)
def acknowledge(request, pk: int, payload: ReadBackIn):
    """复述确认. 409 ``already_acknowledged`` when someone else acknowledged first."""
    return services.acknowledge(pk, payload.read_back, actor=Actor.from_request(request))


@router.post("/{int:pk}/action", response=CriticalDetailOut)
def action(request, pk: int, payload: ActionIn):
    return services.record_action(pk, payload.kind, payload.note, payload.ref, actor=Actor.from_request(request))


@router.post("/{int:pk}/close", response=CriticalDetailOut)
def close(request, pk: int):
    return services.close(pk, actor=Actor.from_request(request))


@router.post("/{int:pk}/green-channel", response=GreenOut)
def green_channel(request, pk: int):
    """A STEMI finding: the green-channel up-referral (idempotent), recorded as the action."""
    actor = Actor.from_request(request)
    referral = services.start_green_channel(pk, actor=actor)
    return {"referral_id": referral.pk, "critical": q.get_for(actor, pk)}
