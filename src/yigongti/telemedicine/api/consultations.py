"""/api/v1/telemedicine/consultations: remote consultations, the same use cases as the pages. Attachments go up
as multipart (``files``) with the request or later; bad input is problem+json naming each field."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile

from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.core.paging import page_dict, page_field, size_field

from .. import consultations
from ..consultations import ConsultationInput, ScheduleInput
from ..queries import consultations as q

router = Router(tags=["远程会诊"])


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    uploaded_at: dt.datetime


class ConsultationOut(Schema):
    id: int
    accession_no: str
    status: str
    urgency: str
    center_id: int
    item_id: int | None
    resident_id: int
    resident_name: str = Field(alias="resident.name")
    facility_id: int
    facility_name: str = Field(alias="facility.name")
    requested_by_id: int
    specialist_id: int | None
    question: str
    requested_at: dt.datetime
    scheduled_at: dt.datetime | None
    video_url: str
    answered_at: dt.datetime | None


class ConsultationDetailOut(ConsultationOut):
    summary: str
    opinion: str
    closed_reason: str
    attachments: list[AttachmentOut]


class ConsultationPage(Schema):
    items: list[ConsultationOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None


class ListQuery(Schema):
    tab: str = Field("mine", description="queue 待安排 / scheduled 已安排 / assigned 我的会诊（专家） / "
                                         "mine 本机构申请 / done 已结束")
    page: int = page_field()
    page_size: int = size_field()


class OpinionIn(Schema):
    opinion: str = Field(..., max_length=8000)


class ReasonIn(Schema):
    reason: str = Field(..., max_length=500)


def _detail(actor: Actor, pk: int):
    return q.get_consultation_for(actor, pk)  # ``attachments``: the related manager, listed by ninja


@router.get("", response=ConsultationPage)
def list_consultations(request, params: Query[ListQuery]):
    if params.tab not in q.TABS:
        raise InvalidInput("invalid_tab", _("列表无效"), field="tab")
    return page_dict(q.list_consultations(Actor.from_request(request), params.tab, params.page, params.page_size),
                     count=False)


@router.post("", response={201: ConsultationDetailOut})
def request_consultation(request, payload: ConsultationInput):
    """Request a consultation (JSON). A retry with the same `idempotency_key` (or `Idempotency-Key` header)
    returns the first request; add files with `POST /{id}/attachments`."""
    actor = Actor.from_request(request)
    key = payload.idempotency_key or request.META.get("HTTP_IDEMPOTENCY_KEY", "")
    c = consultations.request_consultation(payload, key, actor=actor)
    return Status(201, _detail(actor, c.pk))


@router.get("/{int:pk}", response=ConsultationDetailOut)
def get_consultation(request, pk: int):
    return _detail(Actor.from_request(request), pk)


@router.post("/{int:pk}/attachments", response=list[AttachmentOut])
def add_attachments(request, pk: int, files: File[list[UploadedFile]]):
    actor = Actor.from_request(request)
    q.get_consultation_for(actor, pk)
    return consultations.add_attachments(pk, files, actor=actor)


@router.post("/{int:pk}/schedule", response=ConsultationDetailOut)
def schedule(request, pk: int, payload: ScheduleInput):
    actor = Actor.from_request(request)
    consultations.schedule_consultation(q.get_consultation_for(actor, pk).pk, payload, actor=actor)
    return _detail(actor, pk)


@router.post("/{int:pk}/answer", response=ConsultationDetailOut)
def answer(request, pk: int, payload: OpinionIn):
    actor = Actor.from_request(request)
    consultations.answer_consultation(q.get_consultation_for(actor, pk).pk, payload.opinion, actor=actor)
    return _detail(actor, pk)


@router.post("/{int:pk}/decline", response=ConsultationDetailOut)
def decline(request, pk: int, payload: ReasonIn):
    actor = Actor.from_request(request)
    consultations.decline_consultation(q.get_consultation_for(actor, pk).pk, payload.reason, actor=actor)
    return _detail(actor, pk)


@router.post("/{int:pk}/cancel", response=ConsultationDetailOut)
def cancel(request, pk: int, payload: ReasonIn):
    actor = Actor.from_request(request)
    consultations.cancel_consultation(q.get_consultation_for(actor, pk).pk, payload.reason, actor=actor)
    return _detail(actor, pk)
