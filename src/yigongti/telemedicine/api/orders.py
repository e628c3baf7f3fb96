"""/api/v1/telemedicine/orders: orders, reports and the centers' worklists — the same use cases as the pages."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.paging import page_dict, page_field, size_field

from .. import recognition
from ..queries import orders as queries
from ..services import orders as services
from ..services.orders import OrderInput, ReportInput

router = Router(tags=["检查检验申请与报告"])


class ReportOut(Schema):
    id: int
    findings: str
    structured: dict
    conclusion: str
    critical: bool
    reader_id: int
    signed_at: dt.datetime
    reviewer_id: int | None
    reviewed_at: dt.datetime | None
    review_note: str


class OrderOut(Schema):
    id: int
    accession_no: str
    kind: str
    center_id: int
    item_id: int
    item_code: str = Field(alias="item.code")
    item_name: str = Field(alias="item.name")
    resident_id: int
    resident_name: str = Field(alias="resident.name")
    facility_id: int
    ordered_by_id: int
    encounter_id: int | None
    clinical_question: str
    urgency: str
    status: str
    critical: bool
    ordered_at: dt.datetime
    acquired_at: dt.datetime | None
    reported_at: dt.datetime | None
    reviewed_at: dt.datetime | None
    due_at: dt.datetime | None


class OrderDetailOut(OrderOut):
    report: ReportOut | None = None

    @staticmethod
    def resolve_report(obj) -> object:
        return queries.report_of(obj)


class OrderPage(Schema):
    items: list[OrderOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None


class WorklistRowOut(OrderOut):
    minutes_left: int | None


class WorklistPage(Schema):
    items: list[WorklistRowOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None


class ListQuery(Schema):
    status: str = Field("", description="open 未出报告 / done 已出报告 / 或具体状态")
    kind: str = Field("", description="ecg / imaging / lab / pathology")
    scope: str = Field("mine", description="mine 我开具的 / facility 本机构的")
    resident: str = Field("", description="居民 id")
    page: int = page_field()
    page_size: int = size_field()


class ReasonIn(Schema):
    reason: str = ""


class NoteIn(Schema):
    note: str = ""


class RecogniseIn(Schema):
    resident: int
    item: int
    prior_order: int


class RecognitionOut(Schema):
    id: int
    decision: str
    prior_order_id: int
    item_id: int
    saved_amount: float


@router.get("", response=OrderPage)
def list_orders(request, params: Query[ListQuery]):
    """The caller's orders (or their facility's), newest first."""
    f = queries.OrderFilter.from_query(params.dict())
    return page_dict(queries.my_orders(Actor.from_request(request), f, params.page, params.page_size), False)


@router.post("", response={201: OrderDetailOut})
def place_order(request, payload: OrderInput):
    """Place an order. 422 `recent_result`: a result of this recognised item is within its window — record
    recognition (`POST /recognitions`) or send `repeat_reason`. A retry with the same `idempotency_key` (or
    `Idempotency-Key` header) returns the first order."""
    key = payload.idempotency_key or request.META.get("HTTP_IDEMPOTENCY_KEY", "")
    return Status(201, services.place_order(payload, key, actor=Actor.from_request(request)))


@router.get("/recent", response=list[OrderDetailOut])
def recent_results(request, resident: int, item: int):
    """The resident's results of this item within its mutual-recognition window (shown before ordering)."""
    return recognition.recent_for(Actor.from_request(request), resident, item)


@router.post("/recognitions", response={201: RecognitionOut})
def recognise(request, payload: RecogniseIn):
    """Record "recognised, not repeated" for a recent result instead of ordering again."""
    return Status(201, recognition.recognise_result(payload.resident, payload.item, payload.prior_order,
                                                    actor=Actor.from_request(request)))


class WorklistQuery(Schema):
    state: str = Field("open", description="open 待报告 / review 待审核 / done 今日已报告")
    page: int = page_field()
    page_size: int = size_field()


@router.get("/worklists/{int:center}", response=WorklistPage)
def worklist(request, center: int, params: Query[WorklistQuery]):
    """A center's worklist (members only): open orders, 急诊 first, then waiting time, with minutes left."""
    actor = Actor.from_request(request)
    result = queries.worklist(actor, queries.center_for(actor, center), state=params.state, page=params.page,
                              size=params.page_size)
    rows = []
    for r in result.items:
        r.order.minutes_left = r.minutes_left
        rows.append(r.order)
    result.items = rows
    return page_dict(result, False)


@router.get("/{int:pk}", response=OrderDetailOut)
def get_order(request, pk: int):
    return queries.get_order_for(Actor.from_request(request), pk)


@router.post("/{int:pk}/cancel", response=OrderDetailOut)
def cancel(request, pk: int, payload: ReasonIn):
    queries.get_order_for(Actor.from_request(request), pk)
    return services.cancel_order(pk, payload.reason, actor=Actor.from_request(request))


@router.post("/{int:pk}/start", response=OrderDetailOut)
def start(request, pk: int):
    queries.get_order_for(Actor.from_request(request), pk)
    return services.start_reading(pk, actor=Actor.from_request(request))


@router.post("/{int:pk}/report", response={201: ReportOut})
def sign(request, pk: int, payload: ReportInput):
    """Sign the report; `critical_findings` (codes of the center's critical findings) start the 危急值 loop."""
    queries.get_order_for(Actor.from_request(request), pk)
    return Status(201, services.sign_report(pk, payload, actor=Actor.from_request(request)))


@router.post("/{int:pk}/review", response=ReportOut)
def review(request, pk: int, payload: NoteIn):
    queries.get_order_for(Actor.from_request(request), pk)
    return services.review_report(pk, payload.note, actor=Actor.from_request(request))
