
from django.conf import settings
from ninja import Field, Query, Router, Schema, Status

from . import queries, services
from .schemas import Identifiers, ResidentDetailOut, ResidentIn, ResidentPage, ResidentPatch

router = Router(tags=["居民"])


class ResidentQuery(Schema):
    q: str = Field("", description="姓名（前缀）或身份证号")
    village: str = ""
    tag: str = ""
    sex: str = ""
    page: int = Field(1, ge=1)
    page_size: int = Field(settings.YIGONGTI_PAGE_SIZE, ge=1, le=settings.YIGONGTI_MAX_PAGE_SIZE)


@router.get("", response=ResidentPage)
def list_residents(request, params: Query[ResidentQuery]):
    f = queries.ResidentFilter(q=params.q, village=params.village, tag=params.tag, sex=params.sex)
    page = queries.search_residents(request, f, params.page, params.page_size)
    return {"items": page.items, "page": page.number, "page_size": page.size, "has_next": page.has_next,
            "count": page.count}


@router.get("/{int:pk}", response=ResidentDetailOut)
def get_resident(request, pk: int):
    return queries.get_resident_for(request, pk)


@router.post("/{int:pk}/identifiers", response=Identifiers)
def reveal_identifiers(request, pk: int):
    """Unmasked ID number and phone (privilege `unmask_personal_data`; audited)."""
    return queries.reveal_identifiers(request, queries.get_resident_for(request, pk))


@router.post("", response={201: ResidentDetailOut})
def register_resident(request, payload: ResidentIn):
    data = payload.dict()
    return Status(201, services.register_resident(request, request.user, data))


@router.patch("/{int:pk}", response=ResidentDetailOut)
def update_resident(request, pk: int, payload: ResidentPatch):
    resident = queries.get_resident_for(request, pk)
    return services.update_resident(request, request.user, resident, payload.dict(exclude_unset=True))
