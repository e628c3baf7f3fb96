"""/api/v1/assets: the register over the API — the same queries and services as the pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.errors import Forbidden
from yigongti.core.paging import page_field, size_field

from . import queries, services

router = Router(tags=["医学装备"])


class AssetOut(Schema):
    id: int
    number: str
    category: str
    name: str
    model: str
    serial: str
    maker: str
    price: Decimal
    funding: str
    purchased_on: dt.date
    accepted_on: dt.date
    facility_id: int
    department_id: int | None
    custodian_id: int | None
    status: str
    method: str
    useful_life_years: int | None
    planned_units: int | None
    maintenance_due: dt.date | None
    calibration_due: dt.date | None


class AssetRowOut(Schema):
    asset: AssetOut
    net: Decimal | None = Field(None, description="账面净值（今日）")
    overdue: bool


class AssetPage(Schema):
    items: list[AssetRowOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None = None


class MaintenanceOut(Schema):
    id: int
    kind: str
    done_on: dt.date
    by: str
    result: str
    cost: Decimal | None
    next_due: dt.date | None


class TransferOut(Schema):
    id: int
    moved_on: dt.date
    from_facility_id: int
    to_facility_id: int
    note: str


class DisposalOut(Schema):
    id: int
    status: str
    reason: str
    requested_on: dt.date
    decided_on: dt.date | None


class AssetDetailOut(Schema):
    asset: AssetOut
    accumulated: Decimal | None = Field(None, description="累计折旧（今日）")
    net: Decimal | None = Field(None, description="账面净值（今日）")
    overdue: bool
    maintenance: list[MaintenanceOut]
    transfers: list[TransferOut]
    disposals: list[DisposalOut]


class ListQuery(Schema):
    facility: str = Field("", max_length=12, description="使用机构的ID")
    category: str = Field("", max_length=8, description="医疗器械分类目录（2017）的类别代码，如 07")
    status: str = Field("", max_length=10, description="in_use 在用 / idle 闲置 / repair 维修 / scrapped 报废")
    overdue: bool = Field(False, description="只列出保养或计量校准逾期的设备")
    q: str = Field("", max_length=40, description="编号、名称、型号、出厂编号或厂家中的文字")
    page: int = page_field()
    page_size: int = size_field()


class AssetIn(Schema):
    facility: int
    number: str = Field(..., max_length=40)
    category: str = Field(..., max_length=8)
    name: str = Field(..., max_length=100)
    model: str = Field("", max_length=100)
    serial: str = Field("", max_length=100)
    maker: str = Field("", max_length=100)
    price: Decimal
    funding: str = "fiscal"
    purchased_on: dt.date
    accepted_on: dt.date
    department: int | None = None
    custodian: int | None = None
    status: str = "in_use"
    method: str = "straight_line"
    useful_life_years: int | None = None
    planned_units: int | None = None
    unit_name: str = Field("", max_length=10)


class MaintenanceIn(Schema):
    kind: str = Field(..., description="maintenance 保养 / repair 维修 / calibration 计量校准")
    done_on: dt.date
    by: str = Field("", max_length=100)
    result: str = Field("", max_length=200)
    cost: Decimal | None = None
    next_due: dt.date | None = None
    status: str = Field("", description="同时把设备状态改为 in_use / idle / repair（可空）")


def _gate(request) -> None:
    if not queries.may_read_register(request.user):
        raise Forbidden(_("只有机构管理员、医共体管理人员、卫健局和市卫健委可以查看医学装备台账"))


def _detail(a) -> dict:
    d = queries.asset_detail(a)
    return {"asset": a, "accumulated": d["accumulated"], "net": d["net"], "overdue": d["overdue"],
            "maintenance": d["maintenance"], "transfers": d["transfers"], "disposals": d["disposals"]}


@router.get("", response=AssetPage)
def list_assets(request, params: Query[ListQuery]):
    _gate(request)
    p = queries.register_page(request.user, queries.AssetFilter.from_query(params.dict()), params.page,
                              params.page_size)
    return {"items": p.items, "page": p.number, "page_size": p.size, "has_next": p.has_next, "count": p.count}


@router.post("", response={201: AssetDetailOut})
def create_asset(request, payload: AssetIn):
    """Register an asset. 422 with `errors` per field (a number already used in the community is refused with
    the asset that holds it); 403 outside the account's facilities."""
    _gate(request)
    a = services.register_asset(Actor.from_request(request), payload.dict())
    return Status(201, _detail(queries.get_asset_for(request.user, a.pk)))


@router.get("/{int:pk}", response=AssetDetailOut)
def get_asset(request, pk: int):
    _gate(request)
    return _detail(queries.get_asset_for(request.user, pk))


@router.post("/{int:pk}/maintenance", response={201: MaintenanceOut})
def record_maintenance(request, pk: int, payload: MaintenanceIn):
    """Record a maintenance, repair or calibration; `next_due` becomes the asset's due date of that kind."""
    _gate(request)
    a = queries.get_asset_for(request.user, pk)
    return Status(201, services.record_maintenance(Actor.from_request(request), a, payload.dict()))
