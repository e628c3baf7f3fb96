"""/api/v1/pharmacy: the catalogue (list, get, create), a facility's stock (balances by lot, movements) and
receipts against purchase orders — the same queries and services as the pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.errors import Forbidden
from yigongti.core.paging import page_dict, page_field, size_field, slice_page

from . import queries, services

router = Router(tags=["药品耗材"])


def _gate(request) -> None:
    if not queries.may_use_pharmacy(request.user):
        raise Forbidden()


class ItemOut(Schema):
    id: int
    code: str = Field(..., description="医保编码")
    kind: str = Field(..., description="western 西药 / patent 中成药 / herbal 中药饮片 / consumable 医用耗材")
    generic_name: str
    trade_name: str
    form: str
    strength: str
    package_unit: str
    pack_size: int
    min_unit: str
    manufacturer: str
    atc: str
    essential: bool
    vbp: bool
    antibiotic: str
    price: Decimal
    min_level: str
    is_active: bool


class ItemIn(Schema):
    code: str = Field(..., max_length=23)
    kind: str = ""
    generic_name: str = Field(..., max_length=100)
    trade_name: str = Field("", max_length=100)
    form: str = Field("", max_length=30)
    strength: str = Field("", max_length=60)
    package_unit: str = Field("盒", max_length=8)
    pack_size: int = Field(1, ge=1, le=100000)
    min_unit: str = Field("片", max_length=8)
    manufacturer: str = Field("", max_length=100)
    atc: str = Field("", max_length=8)
    essential: bool = False
    vbp: bool = False
    antibiotic: str = ""
    price: Decimal = Field(..., ge=0, lt=100000000)
    min_level: str = "village"


class ItemPage(Schema):
    items: list[ItemOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None = None


class CatalogueQuery(Schema):
    q: str = Field("", max_length=40)
    kind: str = ""
    level: str = ""
    flag: str = ""
    page: int = page_field()
    page_size: int = size_field()


class LotOut(Schema):
    lot_id: int
    number: str
    expires_on: dt.date
    quantity: int


class StockRowOut(Schema):
    item_id: int
    code: str
    name: str
    on_hand: int = Field(..., description="未过期库存（包装单位）")
    expired: int
    minimum: int | None
    maximum: int | None
    below_min: bool
    near_expiry: bool = Field(..., description="有 90 天内到期的批次")
    lots: list[LotOut]


class StockOut(Schema):
    facility_id: int
    kinds: int
    near_expiry: int
    below_min: int
    rows: list[StockRowOut]


class MovementOut(Schema):
    id: int
    at: dt.datetime
    kind: str
    item_id: int
    lot_id: int
    lot_number: str
    quantity: int
    balance_after: int
    reason: str
    source: str
    counterpart_id: int | None


class ReceiptLineIn(Schema):
    order_line: int | None = None
    item: int | None = None
    lot: str = Field(..., max_length=40)
    expires_on: dt.date
    manufactured_on: dt.date | None = None
    quantity: int = Field(..., ge=1, le=1000000)
    trace_codes: list[str] = Field(default_factory=list, max_length=100000)


class ReceiptIn(Schema):
    order: int
    received_on: dt.date | None = None
    invoice: str = Field("", max_length=40)
    lines: list[ReceiptLineIn] = Field(..., max_length=500)


class ReceiptLineOut(Schema):
    item_id: int
    lot_id: int
    quantity: int
    price: Decimal


class ReceiptOut(Schema):
    id: int
    facility_id: int
    order_id: int | None
    supplier_id: int
    received_on: dt.date
    invoice: str
    lines: list[ReceiptLineOut]


@router.get("/catalogue", response=ItemPage)
def list_catalogue(request, filters: Query[CatalogueQuery]):
    _gate(request)
    qs = queries.filter_catalogue(queries.catalogue_for(request.user), q=filters.q, kind=filters.kind,
                                  level=filters.level, flag=filters.flag).order_by("kind", "generic_name", "pk")
    return page_dict(slice_page(qs, filters.page, filters.page_size, count=qs.count()))


@router.get("/catalogue/{int:pk}", response=ItemOut)
def get_item(request, pk: int):
    _gate(request)
    return queries.get_item_for(request.user, pk)


@router.post("/catalogue", response={201: ItemOut})
def create_item(request, payload: ItemIn):
    """422 `invalid_item` names each bad field (a 医保编码 of the wrong length or letter for its kind …)."""
    community = queries.community_of(request.user)
    if community is None:
        raise Forbidden()
    return Status(201, services.create_item(Actor.from_request(request), community, payload.dict()))


@router.get("/stock/{int:facility}", response=StockOut)
def facility_stock(request, facility: int, q: str = ""):
    """A facility's balances by item and lot (from the balances, not the ledger), with the alerts."""
    _gate(request)
    f = queries.get_facility_for(request.user, facility)
    rows = queries.stock_rows(f, q=q.strip()[:40])
    s = queries.summarize(rows)
    return {"facility_id": f.pk, "kinds": s.kinds, "near_expiry": s.near_expiry, "below_min": s.below_min,
            "rows": [{"item_id": r.item.pk, "code": r.item.code, "name": str(r.item), "on_hand": r.on_hand,
                      "expired": r.expired, "minimum": r.minimum, "maximum": r.maximum, "below_min": r.below_min,
                      "near_expiry": r.near_expiry,
                      "lots": [{"lot_id": pk, "number": n, "expires_on": e, "quantity": qty}
                               for n, e, qty, pk in r.lots]} for r in rows]}


@router.get("/stock/{int:facility}/movements", response=list[MovementOut])
def facility_movements(request, facility: int, item: int | None = None, limit: int = 100):
    _gate(request)
    f = queries.get_facility_for(request.user, facility)
    it = queries.get_item_for(request.user, item) if item is not None else None
    return [{"id": m.pk, "at": m.at, "kind": m.kind, "item_id": m.item_id, "lot_id": m.lot_id,
             "lot_number": m.lot.number, "quantity": m.quantity, "balance_after": m.balance_after,
             "reason": m.reason, "source": m.source, "counterpart_id": m.counterpart_id}
            for m in queries.movements(f, it, limit=min(max(limit, 1), 500))]


@router.post("/receipts", response={201: ReceiptOut})
def create_receipt(request, payload: ReceiptIn):
    """Receive against a purchase order. 422 `invalid_receipt` (an expired lot, a 追溯码 not of 20 digits or
    already registered, more than is outstanding on the order: each named `lines.<i>.<field>`); 409
    `order_closed`."""
    _gate(request)
    order = queries.get_order_for(request.user, payload.order)
    r = services.receive(Actor.from_request(request), order, payload.dict())
    return Status(201, {"id": r.pk, "facility_id": r.facility_id, "order_id": r.order_id,
                        "supplier_id": r.supplier_id, "received_on": r.received_on, "invoice": r.invoice,
                        "lines": list(r.lines.values("item_id", "lot_id", "quantity", "price"))})
