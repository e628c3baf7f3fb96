"""/api/v1/distribution: village orders (list, read, create, submit, approve, pick, dispatch, receive) and the
shortage registry (list, register, answer) — the same queries and services as the pages. A receipt sent twice
(``Idempotency-Key`` replays it; without one the line's receipt is found and nothing moves twice) counts once."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.personal import mask_name

from . import queries, services
from .models import Shortage, VillageOrder

router = Router(tags=["药品配送"])


class PickOut(Schema):
    lot: str
    expires_on: dt.date
    quantity: int
    trace_codes: list[str]


class LineOut(Schema):
    id: int
    item_id: int
    item_code: str
    item_name: str
    suggested: int
    requested: int
    approved: int | None
    picked: int
    received: int | None
    damaged: int = 0
    short: int = 0
    wrong_lot: str = ""
    picks: list[PickOut]


class OrderOut(Schema):
    id: int
    number: str
    facility_id: int
    center_id: int
    status: str
    note: str
    reason: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    approved_at: dt.datetime | None
    picked_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    received_at: dt.datetime | None
    run_id: int | None
    lines: list[LineOut] = []


def _order(o: VillageOrder) -> OrderOut:
    lines = []
    for ln in o.lines.select_related("item").prefetch_related("picks__lot"):
        r = getattr(ln, "receipt", None)
        lines.append(LineOut(
            id=ln.pk, item_id=ln.item_id, item_code=ln.item.code, item_name=str(ln.item), suggested=ln.suggested,
            requested=ln.requested, approved=ln.approved, picked=ln.picked, received=ln.received,
            damaged=r.damaged if r else 0, short=r.short if r else 0, wrong_lot=r.wrong_lot if r else "",
            picks=[PickOut(lot=p.lot.number, expires_on=p.lot.expires_on, quantity=p.quantity,
                           trace_codes=list(p.trace_codes or [])) for p in ln.picks.all()]))
    return OrderOut(id=o.pk, number=o.number, facility_id=o.facility_id, center_id=o.center_id, status=o.status,
                    note=o.note, reason=o.reason, created_at=o.created_at, submitted_at=o.submitted_at,
                    approved_at=o.approved_at, picked_at=o.picked_at, dispatched_at=o.dispatched_at,
                    received_at=o.received_at, run_id=o.run_id, lines=lines)


class OrderLineIn(Schema):
    item: int
    quantity: int = Field(..., ge=0)


class OrderIn(Schema):
    facility: int | None = Field(None, description="请领机构（默认本人所在机构）")
    lines: list[OrderLineIn]
    note: str = ""
    submit: bool = True


class ApproveIn(Schema):
    approved: dict[int, int] = Field(default_factory=dict, description="明细 id → 核准数量（≤ 请领数量）；缺省按请领")


class ReasonIn(Schema):
    reason: str


class ReceiveLineIn(Schema):
    line: int
    received: int = Field(..., ge=0)
    damaged: int = Field(0, ge=0)
    wrong_lot: str = ""
    note: str = ""


class ReceiveIn(Schema):
    lines: list[ReceiveLineIn]


class OrderQuery(Schema):
    status: str = ""


class SuggestionOut(Schema):
    item_id: int
    item_code: str
    item_name: str
    on_hand: int
    suggested: int


@router.get("/orders", response=list[OrderOut])
def list_orders(request, filters: Query[OrderQuery]):
    qs = queries.orders_visible_to(request.user)
    return [_order(o) for o in (qs.filter(status=filters.status) if filters.status else qs)[:200]]


@router.get("/orders/suggestions", response=list[SuggestionOut])
def suggestions(request):
    """The order form's rows for the user's own facility: the village catalogue with stock and suggested boxes."""
    from yigongti.core.errors import Forbidden

    if not request.user.facility_id or not queries.may_read(request.user):
        raise Forbidden()
    return [SuggestionOut(item_id=r["item"].pk, item_code=r["item"].code, item_name=str(r["item"]),
                          on_hand=r["on_hand"], suggested=r["suggested"])
            for r in queries.order_form_rows(request.user.facility)]


@router.get("/orders/{int:pk}", response=OrderOut)
def get_order(request, pk: int):
    return _order(queries.get_order(request.user, pk))


@router.post("/orders", response={201: OrderOut})
def create_order(request, payload: OrderIn):
    """422 `invalid_input`: an item outside the clinic's catalogue or a bad quantity; 403 another clinic."""
    from yigongti.core.errors import NotFound
    from yigongti.orgs.models import Facility

    fid = payload.facility or request.user.facility_id
    facility = Facility.objects.filter(pk=fid).select_related("region").first()
    if facility is None:
        raise NotFound()
    o = services.create_order(Actor.from_request(request), facility, {ln.item: ln.quantity for ln in payload.lines},
                              note=payload.note, submit=payload.submit)
    return Status(201, _order(o))


@router.post("/orders/{int:pk}/submit", response=OrderOut)
def submit(request, pk: int):
    return _order(services.submit_order(Actor.from_request(request), queries.get_order(request.user, pk)))


@router.post("/orders/{int:pk}/approve", response=OrderOut)
def approve(request, pk: int, payload: ApproveIn):
    """Cuts: `approved` maps line ids to boxes; 409 when the order is not waiting for approval."""
    o = queries.get_order(request.user, pk)
    return _order(services.approve_order(Actor.from_request(request), o, payload.approved))


@router.post("/orders/{int:pk}/reject", response=OrderOut)
def reject(request, pk: int, payload: ReasonIn):
    o = queries.get_order(request.user, pk)
    return _order(services.reject_order(Actor.from_request(request), o, payload.reason))


@router.post("/orders/{int:pk}/cancel", response=OrderOut)
def cancel(request, pk: int, payload: ReasonIn):
    o = queries.get_order(request.user, pk)
    return _order(services.cancel_order(Actor.from_request(request), o, payload.reason))


class PickLotIn(Schema):
    lot: int
    quantity: int = Field(..., ge=1)


class PickIn(Schema):
    lots: dict[int, list[PickLotIn]] = Field(default_factory=dict,
                                             description="明细 id → 指定批号；缺省按近效期先出（FEFO）")


@router.post("/orders/{int:pk}/pick", response=OrderOut)
def pick(request, pk: int):
    """First-expiry-first-out lots and 追溯码 at the center; 409 `out_of_stock` when nothing can be picked."""
    return _order(services.pick_order(Actor.from_request(request), queries.get_order(request.user, pk)))


@router.post("/orders/{int:pk}/pick-lots", response=OrderOut)
def pick_lots(request, pk: int, payload: PickIn):
    """The pharmacist's own lots for some lines (the others FEFO); 422 names a lot not free at the center."""
    chosen = {k: [(x.lot, x.quantity) for x in v] for k, v in payload.lots.items()}
    return _order(services.pick_order(Actor.from_request(request), queries.get_order(request.user, pk),
                                      chosen=chosen))


@router.post("/orders/{int:pk}/dispatch", response=OrderOut)
def dispatch(request, pk: int):
    return _order(services.dispatch_order(Actor.from_request(request), queries.get_order(request.user, pk)))


@router.post("/orders/{int:pk}/receive", response=OrderOut)
def receive(request, pk: int, payload: ReceiveIn):
    """Confirm lines (a line already confirmed is left as it was: a resent request counts once); 422
    `over_picked` / `expired_lot` with the reason."""
    o = queries.get_order(request.user, pk)
    return _order(services.receive_order(Actor.from_request(request), o,
                                         {ln.line: ln.dict() for ln in payload.lines}))


class ShortageOut(Schema):
    id: int
    facility_id: int
    item_id: int | None
    drug_name: str
    quantity: int
    patient: str = Field("", description="患者姓名（脱敏）")
    registered_at: dt.datetime
    due_at: dt.datetime
    status: str
    overdue: bool
    answer: str
    answer_text: str
    substitute_id: int | None
    answered_at: dt.datetime | None
    answer_hours: float | None


def _shortage(s: Shortage) -> ShortageOut:
    return ShortageOut(id=s.pk, facility_id=s.facility_id, item_id=s.item_id, drug_name=s.drug_name,
                       quantity=s.quantity, patient=mask_name(s.resident.name) if s.resident else "",
                       registered_at=s.registered_at, due_at=s.due_at, status=s.status,
                       overdue=queries.overdue(s), answer=s.answer, answer_text=s.answer_text,
                       substitute_id=s.substitute_id, answered_at=s.answered_at,
                       answer_hours=round(s.answer_hours_taken, 2) if s.answer_hours_taken is not None else None)


class ShortageIn(Schema):
    item: int | None = None
    drug_name: str = ""
    quantity: int = Field(1, ge=1)
    resident: int | None = None
    note: str = ""


class AnswerIn(Schema):
    answer: str = Field(..., description="transfer | procurement | substitute | unavailable")
    answer_text: str = ""
    substitute: int | None = None


@router.get("/shortages", response=list[ShortageOut])
def list_shortages(request):
    """The shortages the user may see (patients masked; the read of their names is audited)."""
    return [_shortage(s) for s in queries.shortages_read(Actor.from_request(request))]


@router.post("/shortages", response={201: ShortageOut})
def register_shortage(request, payload: ShortageIn):
    from yigongti.core.errors import Forbidden

    if not request.user.facility_id:
        raise Forbidden()
    s = services.register_shortage(Actor.from_request(request), request.user.facility, payload.dict())
    return Status(201, _shortage(s))


@router.post("/shortages/{int:pk}/answer", response=ShortageOut)
def answer_shortage(request, pk: int, payload: AnswerIn):
    """409 `already_answered` when answered before."""
    s = queries.get_shortage(request.user, pk)
    return _shortage(services.answer_shortage(Actor.from_request(request), s, payload.dict()))
