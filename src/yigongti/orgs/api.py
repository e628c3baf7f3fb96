
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from yigongti.core.actor import Actor
from yigongti.core.api_support import NumberedPagination

from . import queries, services
from .schemas import FacilityDetailOut, FacilityOut, StaffCreated, StaffIn, StaffOut

router = Router(tags=["机构与人员"])


class FacilityFilter(Schema):
    q: str = ""
    type: str = ""
    parent: int | None = None


@router.get("/facilities", response=list[FacilityOut])
@paginate(NumberedPagination)
def list_facilities(request, filters: Query[FacilityFilter]):
    qs = queries.facilities_visible_to(request.user).order_by("code")
    if filters.q:
        qs = qs.filter(name__contains=filters.q)
    if filters.type:
        qs = qs.filter(type=filters.type)
    if filters.parent:
        qs = qs.filter(parent_id=filters.parent)
    return qs


@router.get("/facilities/{int:pk}", response=FacilityDetailOut)
def get_facility(request, pk: int):
    return queries.get_facility_for(request.user, pk)


class StaffFilter(Schema):
    q: str = ""
    facility: int | None = None


@router.get("/staff", response=list[StaffOut])
@paginate(NumberedPagination)
def list_staff(request, filters: Query[StaffFilter]):
    facility = queries.get_facility_for(request.user, filters.facility) if filters.facility else None
    return queries.staff_visible_to(request.user, facility, filters.q).order_by("id")


@router.post("/staff", response={201: StaffCreated})
def create_staff(request, payload: StaffIn):
    return Status(201, services.create_staff(actor=Actor.from_request(request), **payload.dict()))
