"""/api/v1/emergency/fleet: stations, vehicles and crews for their keepers (the station's facility admin, the
community's managers) — the same use cases as the fleet pages."""

from __future__ import annotations

from ninja import Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound

from ..models import CrewMember
from ..queries import fleet as queries
from ..services import fleet as services
from ..services.fleet import CrewInput, StationInput, VehicleInput
from .vehicles import VehicleOut

router = Router(tags=["站点和车辆"])


class StationOut(Schema):
    id: int
    name: str
    kind: str
    facility_id: int
    lon: float
    lat: float
    node_id: int | None
    active: bool
    vehicles: list[VehicleOut]

    @staticmethod
    def resolve_vehicles(obj) -> list:
        return list(obj.vehicles.all())


class CrewOut(Schema):
    id: int
    vehicle_id: int
    user_id: int | None
    name: str
    role: str
    on_shift: bool


class StatusIn(Schema):
    status: str
    reason: str = ""


class ShiftIn(Schema):
    on_shift: bool


def _member(request, pk: int) -> CrewMember:
    member = CrewMember.objects.select_related("vehicle__station").filter(
        pk=pk, vehicle__station__in=queries.stations_for(request.user)).first()
    if member is None:
        raise NotFound()
    return member


@router.get("/stations", response=list[StationOut])
def stations(request):
    return queries.fleet(request.user)


@router.patch("/stations/{int:station_id}", response=StationOut)
def update_station(request, station_id: int, payload: StationInput):
    s = queries.station_for(request.user, station_id)
    return services.update_station(Actor.from_request(request), s, payload)


@router.post("/stations/{int:station_id}/vehicles", response={201: VehicleOut})
def create_vehicle(request, station_id: int, payload: VehicleInput):
    s = queries.station_for(request.user, station_id)
    return Status(201, services.create_vehicle(Actor.from_request(request), s, payload))


@router.patch("/vehicles/{int:vehicle_id}", response=VehicleOut)
def update_vehicle(request, vehicle_id: int, payload: VehicleInput):
    v = queries.vehicle_for(request.user, vehicle_id)
    return services.update_vehicle(Actor.from_request(request), v, payload)


@router.post("/vehicles/{int:vehicle_id}/status", response=VehicleOut)
def set_status(request, vehicle_id: int, payload: StatusIn):
    """维修 (with the reason) and back to 待命; 409 while the vehicle is on a mission."""
    v = queries.vehicle_for(request.user, vehicle_id)
    return services.set_vehicle_status(Actor.from_request(request), v, payload.status, payload.reason)


@router.get("/vehicles/{int:vehicle_id}/crew", response=list[CrewOut])
def crew(request, vehicle_id: int):
    return queries.crew_of(queries.vehicle_for(request.user, vehicle_id))


@router.post("/vehicles/{int:vehicle_id}/crew", response={201: CrewOut})
def add_crew(request, vehicle_id: int, payload: CrewInput):
    v = queries.vehicle_for(request.user, vehicle_id)
    return Status(201, services.add_crew(Actor.from_request(request), v, payload))


@router.patch("/crew/{int:member_id}", response=CrewOut)
def set_shift(request, member_id: int, payload: ShiftIn):
    return services.set_on_shift(Actor.from_request(request), _member(request, member_id), payload.on_shift)


@router.delete("/crew/{int:member_id}", response={204: None})
def remove_crew(request, member_id: int):
    services.remove_crew(Actor.from_request(request), _member(request, member_id))
    return Status(204, None)
