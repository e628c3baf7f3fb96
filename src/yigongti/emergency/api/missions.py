"""/api/v1/emergency/missions: the crew's missions and their steps — the same use cases as the crew page. The
phone replays the presses it queued offline here, with their time and an ``Idempotency-Key``."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema, Status

from yigongti.core.actor import Actor

from ..queries import crew as queries
from ..services import missions as services

router = Router(tags=["出车任务"])


class StepIn(Schema):
    kind: str = Field(..., description="crew_ack / wheels_rolling / on_scene / fmc / leave_scene / arrive_hospital / "
                                       "handover / available")
    at: dt.datetime | None = Field(None, description="发生时间（手机按下的时间；缺省为现在），不能晚于现在或早于呼救")
    idempotency_key: str = Field("", description="缺省时使用 Idempotency-Key 请求头")
    source: str = Field("manual", description="manual 手动 / replay 离线补传 / gps 定位")


class EventOut(Schema):
    id: int
    call_id: int
    mission_id: int | None
    kind: str
    at: dt.datetime
    recorded_at: dt.datetime
    by_id: int | None
    source: str


class StepRowOut(Schema):
    kind: str
    label: str
    at: dt.datetime | None


class MissionOut(Schema):
    id: int
    call_id: int
    call_no: str
    vehicle_id: int
    call_sign: str
    status: str
    vehicle_status: str
    dispatched_at: dt.datetime
    address: str
    chief_complaint: str
    priority: int
    destination_id: int | None
    next_step: str | None
    steps: list[StepRowOut]


class AbortIn(Schema):
    reason: str


def _out(mission) -> dict:
    p = queries.panel(mission)
    call = mission.call
    region = call.region.name if call.region_id else ""
    return {"id": mission.pk, "call_id": call.pk, "call_no": call.call_no, "vehicle_id": mission.vehicle_id,
            "call_sign": mission.vehicle.call_sign, "status": mission.status, "vehicle_status": p.status,
            "dispatched_at": mission.dispatched_at, "address": f"{region}{call.address}",
            "chief_complaint": call.chief_complaint, "priority": call.priority,
            "destination_id": mission.destination_id, "next_step": p.next_kind,
            "steps": [{"kind": s.kind, "label": s.label, "at": s.at} for s in p.steps]}


@router.get("/current", response=list[MissionOut])
def current(request):
    """The active missions of the caller's vehicles (their seat first)."""
    return [_out(m) for m in queries.current_missions(Actor.from_request(request))]


@router.get("/{int:mission_id}", response=MissionOut)
def mission(request, mission_id: int):
    return _out(queries.mission_for_crew(Actor.from_request(request), mission_id))


@router.post("/{int:mission_id}/steps", response={201: EventOut})
def step(request, mission_id: int, payload: StepIn):
    """Record a step once. A repeat (same kind, or the same `Idempotency-Key`) returns the first event. 409
    `step_not_allowed` / `mission_closed`; 422 `future_time` / `before_call` / `before_dispatch` /
    `before_previous_step` with the reason."""
    actor = Actor.from_request(request)
    key = payload.idempotency_key or request.META.get("HTTP_IDEMPOTENCY_KEY", "")
    m = queries.mission_for_crew(actor, mission_id)
    return Status(201, services.step(actor, m, payload.kind, at=payload.at, idempotency_key=key,
                                     source=payload.source))


@router.post("/{int:mission_id}/abort", response=MissionOut)
def abort(request, mission_id: int, payload: AbortIn):
    """The dispatcher calls the vehicle off (the vehicle is available again)."""
    m = services.abort(Actor.from_request(request), mission_id, payload.reason)
    return _out(queries.mission_for_crew(Actor.from_request(request), m.pk))
