"""/api/v1/emergency/calls: taking, completing, dispatching, merging and closing 120 calls, the board, the caller
lookup and the switchboard's webhook — the same services and queries as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.paging import page_dict, page_field, size_field

from .. import telephony
from ..models import Vehicle
from ..queries import board as board_q
from ..queries import calls as q
from ..queries import lookup
from ..services import calls as services

router = Router(tags=["120呼救受理与调度"])


class CallOut(Schema):
    id: int
    call_no: str
    kind: str
    status: str
    priority: int
    caller_phone: str
    caller_name: str
    resident_id: int | None
    patient_description: str
    area_code: str
    address: str
    landmark_id: int | None
    lon: float | None
    lat: float | None
    node_id: int | None
    chief_complaint: str
    complaint_code: str
    special_needs: list[str]
    merged_into_id: int | None
    from_facility_id: int | None
    destination_id: int | None
    referral_id: int | None
    rang_at: dt.datetime
    closed_at: dt.datetime | None
    close_reason: str


class EventOut(Schema):
    kind: str
    label: str
    at: dt.datetime
    offset_s: int
    vehicle: str
    by: str
    source: str


class MissionOut(Schema):
    id: int
    call_id: int
    vehicle_id: int
    call_sign: str = Field(..., alias="vehicle.call_sign")
    status: str
    dispatched_at: dt.datetime
    dispatched_by_id: int | None
    eta_s: int | None
    recommended_rank: int | None
    straight_line_rank: int | None
    destination_id: int | None


class CallDetailOut(CallOut):
    events: list[EventOut]
    missions: list[MissionOut]


class CallPage(Schema):
    items: list[CallOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None


class CallIn(Schema):
    caller_phone: str = Field("", description="主叫号码")
    rang_at: dt.datetime | None = Field(None, description="振铃时间（缺省为现在）")
    answered_at: dt.datetime | None = Field(None, description="接听时间（缺省为现在）")
    kind: str = Field("emergency", description="emergency 现场急救 / transfer 院间转运")
    caller_name: str = ""
    patient_description: str = ""
    resident: int | None = Field(None, description="患者（居民 id，来自主叫号码查询）")
    region: str = Field("", description="事发村/乡镇（12位区划代码）")
    landmark: str = Field("", description="地标 id 或名称")
    lon: float | None = None
    lat: float | None = None
    address: str = ""
    chief_complaint: str = ""
    complaint_code: str = Field("", description="chest_pain, stroke, trauma, maternal, neonatal, dyspnea …")
    priority: int | None = Field(None, ge=1, le=4, description="1 危急 / 2 急重 / 3 急症 / 4 轻症")
    special_needs: list[str] = Field(default_factory=list, description="negative_pressure, neonatal, monitoring")
    idempotency_key: str = Field("", description="客户端生成的唯一键；缺省时使用 Idempotency-Key 请求头")


class CallPatch(Schema):
    caller_name: str | None = None
    patient_description: str | None = None
    resident: int | None = None
    region: str | None = None
    landmark: str | None = None
    lon: float | None = None
    lat: float | None = None
    address: str | None = None
    chief_complaint: str | None = None
    complaint_code: str | None = None
    priority: int | None = Field(None, ge=1, le=4)
    special_needs: list[str] | None = None


class DispatchIn(Schema):
    vehicle: int
    idempotency_key: str = ""


class MergeIn(Schema):
    into: int = Field(..., description="合并到的呼救 id（同一事件的首个呼救）")


class CloseIn(Schema):
    reason: str = Field(..., min_length=2, max_length=120)


class RingIn(Schema):
    call_id: str = Field(..., min_length=1, max_length=50, description="交换机呼叫编号（重复推送只受理一次）")
    caller: str = ""
    rang_at: dt.datetime
    answered_at: dt.datetime
    seat: str = Field("", description="接听坐席的调度员账号")


class CandidateOut(Schema):
    vehicle_id: int = Field(..., alias="vehicle.pk")
    call_sign: str = Field(..., alias="vehicle.call_sign")
    station: str = Field(..., alias="vehicle.station.name")
    kind: str = Field(..., alias="vehicle.kind")
    rank: int
    eta_s: float | None
    road_m: float | None
    straight_m: float | None
    straight_rank: int | None
    meets_needs: bool
    returning: bool = False
    reason: str


class RecommendOut(Schema):
    candidates: list[CandidateOut]
    error: str


class MatchCallOut(Schema):
    pk: int
    call_no: str
    rang_at: dt.datetime
    complaint: str
    status: str


class MatchOut(Schema):
    resident_id: int
    name: str
    sex: str
    age: int
    phone: str
    place: str
    allergies: list[str]
    chronic: list[str]


class LookupOut(Schema):
    phone: str
    matches: list[MatchOut]
    earlier_calls: list[MatchCallOut]


class BoardMissionOut(Schema):
    mission_id: int
    vehicle_id: int
    call_sign: str
    status: str


class BoardCallOut(Schema):
    pk: int
    call_no: str
    kind: str
    priority: int
    complaint: str
    where: str
    located: bool
    waiting_s: int
    status: str
    needs: list[str]
    lon: float | None
    lat: float | None
    missions: list[BoardMissionOut]


class BoardVehicleOut(Schema):
    pk: int
    call_sign: str
    plate: str
    kind: str
    station: str
    status: str
    status_at: dt.datetime | None
    lon: float | None
    lat: float | None
    call_id: int | None
    call_no: str


class BoardOut(Schema):
    calls: list[BoardCallOut]
    vehicles: list[BoardVehicleOut]
    stamp: str


class ListQuery(Schema):
    status: str = Field("", description="open 进行中 / closed / merged / cancelled")
    priority: str = ""
    kind: str = ""
    date_from: str = Field("", description="YYYY-MM-DD")
    date_to: str = Field("", description="YYYY-MM-DD")
    q: str = Field("", max_length=20, description="受理号或主叫号码")
    page: int = page_field()
    page_size: int = size_field()


def _detail(call) -> dict[str, Any]:
    return {**CallOut.from_orm(call).model_dump(), "events": q.timeline(call), "missions": q.missions_of(call)}


def _given(payload: Schema) -> dict[str, Any]:
    return dict(payload.dict(exclude_unset=True))


@router.get("", response=CallPage)
def list_calls(request, params: Query[ListQuery]):
    return page_dict(q.history(Actor.from_request(request), q.CallFilter.from_query(params.dict()), params.page,
                               params.page_size), count=False)


@router.post("", response={201: CallDetailOut})
def take_call(request, payload: CallIn):
    """Take a call. A retry with the same `idempotency_key` (or `Idempotency-Key` header) returns the first call."""
    data = _given(payload)
    key = data.pop("idempotency_key", "") or request.META.get("HTTP_IDEMPOTENCY_KEY", "")
    fields = {k: v for k, v in data.items() if k not in ("caller_phone", "rang_at", "answered_at", "kind")}
    call = services.take_call(Actor.from_request(request), caller_phone=payload.caller_phone, rang_at=payload.rang_at,
                              answered_at=payload.answered_at, kind=payload.kind, idempotency_key=key, **fields)
    return Status(201, _detail(call))


@router.get("/board", response=BoardOut)
def board(request):
    """The dispatcher's board: open calls by priority, the fleet; `stamp` changes when anything on it does."""
    return board_q.board(Actor.from_request(request))


@router.get("/lookup", response=LookupOut)
def caller_lookup(request, phone: str):
    """Residents with this phone in the dispatcher's scope (masked, audited, rate-limited), their allergies and
    chronic conditions, and earlier calls from the number."""
    return lookup.caller(Actor.from_request(request), phone)


@router.post("/ring", response={201: CallOut})
def ring(request, payload: RingIn):
    """The switchboard's webhook: an answered call, taken once per `call_id`."""
    ring = telephony.Ring(payload.call_id, payload.caller, payload.rang_at, payload.answered_at, payload.seat)
    return Status(201, telephony.receive(ring, actor=Actor.from_request(request)))


@router.get("/{int:pk}", response=CallDetailOut)
def get_call(request, pk: int):
    return _detail(q.get_call_for(Actor.from_request(request), pk))


@router.patch("/{int:pk}", response=CallDetailOut)
def update_call(request, pk: int, payload: CallPatch):
    call = q.get_call_for(Actor.from_request(request), pk)
    return _detail(services.update_call(Actor.from_request(request), call, **_given(payload)))


@router.get("/{int:pk}/recommend", response=RecommendOut)
def recommend(request, pk: int, limit: int = 5):
    """The available ambulances ranked by road travel time (not straight-line distance); at most 20."""
    return board_q.recommend_for(q.get_call_for(Actor.from_request(request), pk), limit=min(max(limit, 1), 20))


@router.post("/{int:pk}/dispatch", response={201: MissionOut})
def dispatch(request, pk: int, payload: DispatchIn):
    """Send a vehicle. 409 `vehicle_unavailable` when another dispatcher has just sent it (the message says who)."""
    call, vehicle = q.get_call_for(Actor.from_request(request), pk), get_object_or_404(Vehicle, pk=payload.vehicle)
    key = payload.idempotency_key or request.META.get("HTTP_IDEMPOTENCY_KEY", "")
    return Status(201, services.dispatch(Actor.from_request(request), call, vehicle, idempotency_key=key))


@router.post("/{int:pk}/merge", response=CallOut)
def merge(request, pk: int, payload: MergeIn):
    actor = Actor.from_request(request)
    return services.merge_call(actor, q.get_call_for(actor, pk), q.get_call_for(actor, payload.into))


@router.post("/{int:pk}/close", response=CallOut)
def close(request, pk: int, payload: CloseIn):
    return services.close_call(Actor.from_request(request), q.get_call_for(Actor.from_request(request), pk),
                               payload.reason)
