
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.core.idcard import looks_like_id_number
from yigongti.core.paging import page_dict, page_field, size_field

from . import queries, services
from .candidates import check_id_lookup
from .schemas import Identifiers, ResidentDetailOut, ResidentIn, ResidentPage, ResidentPatch

router = Router(tags=["居民"])


class ResidentQuery(Schema):
    q: str = Field("", max_length=40,
                   description="姓名（前缀）、拼音或首字母（如 lijianguo、ljg），或身份证号（仅 POST）")
    village: str = Field("", max_length=12, description="村12位区划代码")
    tag: str = Field("", max_length=10)
    sex: str = Field("", max_length=1)
    township: str = Field("", max_length=12, description="乡镇12位区划代码")
    facility: str = Field("", max_length=12, description="机构编号：其服务区域内的居民")
    page: int = page_field()
    page_size: int = size_field()


def _page(request, params: ResidentQuery) -> dict:
    f = queries.ResidentFilter(q=params.q, village=params.village, tag=params.tag, sex=params.sex,
                               township=params.township, facility=params.facility)
    return page_dict(queries.search_residents(Actor.from_request(request), f, params.page, params.page_size))


@router.get("", response=ResidentPage)
def list_residents(request, params: Query[ResidentQuery]):
    """Residents in scope. Search by name here; an ID number goes in the body of ``POST /residents/search``
    (in a URL it would land in access logs)."""
    if looks_like_id_number(params.q.strip()):
        raise InvalidInput("id_in_url", _("身份证号不能放在网址中，请用 POST /api/v1/residents/search 在请求体中提交"),
                           field="q")
    return _page(request, params)


@router.post("/search", response=ResidentPage)
def search_residents(request, params: ResidentQuery):
    """The same search with the filter in the body: for ID numbers (rate-limited and audited as a lookup)."""
    return _page(request, params)


@router.get("/{int:pk}", response=ResidentDetailOut)
def get_resident(request, pk: int):
    resident = queries.get_resident_for(Actor.from_request(request), pk)
    queries.reveal_phone_for_care(Actor.from_request(request), resident)
    return resident


@router.post("/{int:pk}/identifiers", response=Identifiers)
def reveal_identifiers(request, pk: int):
    """Unmasked ID number and phone (privilege `unmask_personal_data`; audited)."""
    actor = Actor.from_request(request)
    return queries.reveal_identifiers(actor, queries.get_resident_for(actor, pk))


@router.post("", response={201: ResidentDetailOut})
def register_resident(request, payload: ResidentIn):
    data = payload.dict()
    actor = Actor.from_request(request)
    check_id_lookup(data, actor=actor)  # the duplicate check answers a guess: limited and audited
    return Status(201, services.register_resident(data, actor=actor))


@router.patch("/{int:pk}", response=ResidentDetailOut)
def update_resident(request, pk: int, payload: ResidentPatch):
    resident = queries.get_resident_for(Actor.from_request(request), pk)
    data = payload.dict(exclude_unset=True)
    actor = Actor.from_request(request)
    check_id_lookup(data, actor=actor)
    return services.update_resident(resident, data, actor=actor)
