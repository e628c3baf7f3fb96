"""/api/v1/telemedicine/pathology: specimens on their way (register, send, receive, section, report, reject), the
photographs and the pathology report of an order. The same services as the pages."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile

from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.core.paging import page_dict, page_field, size_field

from .. import pathology
from ..pathology import PathologyReportInput, SpecimenInput
from ..queries import pathology as q
from ..queries.orders import get_order_for

router = Router(tags=["病理"])


class SpecimenOut(Schema):
    id: int
    order_id: int
    accession_no: str = Field(alias="order.accession_no")
    specimen_no: str
    specimen_type: str
    site: str
    container_count: int
    fixative: str
    status: str
    collected_at: dt.datetime
    sent_at: dt.datetime | None
    received_at: dt.datetime | None
    sectioned_at: dt.datetime | None
    reported_at: dt.datetime | None
    reject_reason: str


class ImageOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    uploaded_at: dt.datetime


class PathologyOut(Schema):
    order_id: int
    status: str
    specimens: list[SpecimenOut]
    images: list[ImageOut]
    diagnosis: str | None


class SpecimenPage(Schema):
    items: list[SpecimenOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None


class DeskQuery(Schema):
    tab: str = Field("waiting", description="waiting 待接收 / lab 制片诊断中 / reported 已报告 / rejected 已拒收")
    page: int = page_field()
    page_size: int = size_field()


class MoveIn(Schema):
    reason: str = Field("", max_length=500, description="拒收理由（拒收时必填）")


def _summary(actor: Actor, pk: int) -> dict:
    order = get_order_for(actor, pk)
    if order.kind != "pathology":
        raise InvalidInput("not_pathology", _("该申请单不是病理检查"))
    panel = pathology.panel(actor, order)
    report = getattr(order, "report", None)
    return {"order_id": order.pk, "status": order.status, "specimens": panel["specimens"], "images": panel["images"],
            "diagnosis": report.conclusion if report else None}


@router.get("/specimens", response=SpecimenPage)
def specimen_desk(request, params: Query[DeskQuery]):
    if params.tab not in q.TABS:
        raise InvalidInput("invalid_tab", _("列表无效"), field="tab")
    return page_dict(q.desk(Actor.from_request(request), params.tab, params.page, params.page_size), count=False)


@router.get("/orders/{int:pk}", response=PathologyOut)
def get_pathology(request, pk: int):
    return _summary(Actor.from_request(request), pk)


@router.post("/orders/{int:pk}/specimens", response={201: SpecimenOut})
def register_specimen(request, pk: int, payload: SpecimenInput):
    actor = Actor.from_request(request)
    return Status(201, pathology.register_specimen(get_order_for(actor, pk).pk, payload, actor=actor))


@router.post("/specimens/{int:pk}/{action}", response=SpecimenOut)
def move_specimen(request, pk: int, action: str, payload: MoveIn):
    """`action`: send 送检 / receive 接收 / section 制片 / report 报告 / reject 拒收 (with `reason`)."""
    actor = Actor.from_request(request)
    get_order_for(actor, pathology._specimen(pk).order_id)
    return pathology.move_specimen(pk, action, payload.reason, actor=actor)


@router.post("/orders/{int:pk}/images", response={201: list[ImageOut]})
def add_images(request, pk: int, files: File[list[UploadedFile]]):
    actor = Actor.from_request(request)
    order = get_order_for(actor, pk)
    return Status(201, [pathology.attach_image(order.pk, f, actor=actor) for f in files])


@router.post("/orders/{int:pk}/report", response=PathologyOut)
def report(request, pk: int, payload: PathologyReportInput):
    actor = Actor.from_request(request)
    pathology.report_pathology(get_order_for(actor, pk).pk, payload, actor=actor)
    return _summary(actor, pk)
