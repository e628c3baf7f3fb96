"""/api/v1/emergency/vehicles: the vehicles a user may see (status, position) and the GPS fixes their terminals
report."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema, Status

from yigongti.core.actor import Actor

from ..queries import fleet as queries
from ..services import missions as services

router = Router(tags=["救护车"])


class VehicleOut(Schema):
    id: int
    call_sign: str
    plate: str
    kind: str
    station_id: int
    status: str
    status_at: dt.datetime | None
    lon: float | None
    lat: float | None
    node_id: int | None
    position_at: dt.datetime | None
    equipment: list[str]
    active: bool


class PositionIn(Schema):
    lon: float
    lat: float
    at: dt.datetime | None = Field(None, description="定位时间（缺省为现在），不能晚于现在")
    speed_kmh: float | None = None


class PositionOut(Schema):
    id: int
    vehicle_id: int
    at: dt.datetime
    lon: float
    lat: float
    speed_kmh: float | None


@router.get("", response=list[VehicleOut])
def vehicles(request):
    return list(queries.vehicles_for(request.user))


@router.get("/{int:vehicle_id}", response=VehicleOut)
def vehicle(request, vehicle_id: int):
    return queries.vehicle_for(request.user, vehicle_id)


@router.post("/{int:vehicle_id}/position", response={201: PositionOut})
def position(request, vehicle_id: int, payload: PositionIn):
    """A GPS fix (the crew's phone, the vehicle's terminal through its gateway account, or the simulator)."""
    return Status(201, services.record_position(Actor.from_request(request), vehicle_id, payload.lon, payload.lat,
                                                payload.at, payload.speed_kmh))
