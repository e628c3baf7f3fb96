"""/api/v1/telemedicine/lab: an order's results, manual entry, and the HL7 error queue with replay — the same
use cases as the pages (the results themselves arrive over MLLP: ``yigongti hl7 listen``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.paging import page_dict, page_field, size_field

from .. import lab
from ..models import MessageStatus
from ..queries import lab as q

router = Router(tags=["检验结果与 HL7"])


class ResultOut(Schema):
    id: int
    analyte: str = Field(alias="analyte.code")
    name: str = Field(alias="analyte.name")
    loinc: str = Field(alias="analyte.loinc")
    value: Decimal | None
    value_text: str
    unit: str
    received_value: str
    received_unit: str
    ref_low: Decimal | None
    ref_high: Decimal | None
    flag: str = Field(description="N 正常 / L 偏低 / H 偏高 / LL 危急低值 / HH 危急高值 / A 异常")
    observed_at: dt.datetime
    source: str


class ResultIn(Schema):
    analyte: str = Field(description="检验指标编码（OBX-3）")
    value: str
    unit: str = Field("", description="缺省为目录单位")


class ResultsIn(Schema):
    results: list[ResultIn]


class MessageOut(Schema):
    id: int
    received_at: dt.datetime
    sending_application: str
    sending_facility: str
    control_id: str
    message_type: str
    status: str
    ack_code: str
    error: str
    order_id: int | None
    replay_of_id: int | None
    replayed_at: dt.datetime | None


class MessageDetailOut(MessageOut):
    raw: str


class MessagePage(Schema):
    items: list[MessageOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None


class QueueQuery(Schema):
    status: str = Field(MessageStatus.ERROR, description="error 待修正 / replayed / discarded / applied")
    page: int = page_field()
    page_size: int = size_field()


class ReplayIn(Schema):
    raw: str = Field("", description="修正后的消息原文；空则按原文重放")


class ReasonIn(Schema):
    reason: str


@router.get("/orders/{int:pk}/results", response=list[ResultOut])
def results(request, pk: int):
    """The order's results in the catalogue's units, with flags."""
    return q.results_of(q.order_for_entry(Actor.from_request(request), pk))


@router.post("/orders/{int:pk}/results", response={201: list[ResultOut]})
def enter_results(request, pk: int, payload: ResultsIn):
    """手工录入: results of a township analyser without an interface (same units, flags, critical values)."""
    actor = Actor.from_request(request)
    order = q.order_for_entry(actor, pk)
    lab.enter_results(order.pk, [r.dict() for r in payload.results], actor=actor)
    return Status(201, q.results_of(order))


@router.get("/messages", response=MessagePage)
def messages(request, params: Query[QueueQuery]):
    """The HL7 messages of one status, newest first (the error queue by default)."""
    return page_dict(q.messages(Actor.from_request(request), params.status, params.page, params.page_size), False)


@router.get("/messages/{int:pk}", response=MessageDetailOut)
def message(request, pk: int):
    return q.message_for(Actor.from_request(request), pk)


@router.post("/messages/{int:pk}/replay", response=MessageDetailOut)
def replay(request, pk: int, payload: ReplayIn):
    """Apply a queued message again, as it was or fixed; returns the new (applied) message."""
    actor = Actor.from_request(request)
    return lab.replay_message(q.message_for(actor, pk).pk, payload.raw or None, actor=actor)


@router.post("/messages/{int:pk}/discard", response=MessageDetailOut)
def discard(request, pk: int, payload: ReasonIn):
    actor = Actor.from_request(request)
    return lab.discard_message(q.message_for(actor, pk).pk, payload.reason, actor=actor)
