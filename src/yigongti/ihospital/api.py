"""/api/v1/ihospital: the staff side of the internet hospital — the same queries and services as the pages."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.errors import Forbidden

from . import queries, services

router = Router(tags=["互联网医院"])


class ConsultationOut(Schema):
    id: int
    resident_id: int
    facility_id: int
    encounter_id: int
    icd10: str
    diagnosis: str
    status: str
    doctor_id: int | None
    video_url: str
    requested_at: dt.datetime
    accepted_at: dt.datetime | None
    first_reply_at: dt.datetime | None
    closed_at: dt.datetime | None
    prescription_ref: int | None = Field(None, description="prescribing 处方 id")


class MessageOut(Schema):
    id: int
    from_resident: bool
    author_id: int | None
    text: str
    at: dt.datetime
    pictures: int


class DeliveryOut(Schema):
    id: int
    consultation_id: int
    mode: str
    clinic_id: int | None
    from_facility_id: int | None
    status: str
    dispensed_at: dt.datetime | None
    shipped_at: dt.datetime | None
    delivered_at: dt.datetime | None
    picked_up_at: dt.datetime | None


class ConsultationDetailOut(Schema):
    consultation: ConsultationOut
    messages: list[MessageOut]
    delivery: DeliveryOut | None


class ReplyIn(Schema):
    text: str = Field("", max_length=2000)
    video_url: str | None = Field(None, max_length=200, description="县会议系统的视频问诊链接")


class MoveIn(Schema):
    action: str = Field(..., description="ship 发货 / deliver 送达 / pick_up 已取药")


def _gate(request) -> None:
    if not queries.may_see_queue(request.user):
        raise Forbidden(_("只有医生、药师和乡村医生可以查看互联网医院的问诊"))


def _detail(c) -> dict:
    msgs = [{"id": m.pk, "from_resident": m.from_resident, "author_id": m.author_id, "text": m.text, "at": m.at,
             "pictures": len(m.pictures.all())} for m in queries.messages_of(c)]
    return {"consultation": c, "messages": msgs, "delivery": queries.delivery_of(c)}


@router.get("/consultations", response=list[ConsultationOut])
def list_consultations(request, tab: str = "open"):
    _gate(request)
    return queries.queue(Actor.from_request(request), "all" if tab == "all" else "open")


@router.get("/consultations/{int:pk}", response=ConsultationDetailOut)
def get_consultation(request, pk: int):
    _gate(request)
    return _detail(queries.get_consultation_for(Actor.from_request(request), pk))


@router.post("/consultations/{int:pk}/reply", response={201: ConsultationDetailOut})
def reply(request, pk: int, payload: ReplyIn):
    """Write to the resident (accepting the request first); 403 unless a doctor of the answering facility."""
    _gate(request)
    actor = Actor.from_request(request)
    c = queries.get_consultation_for(actor, pk)
    services.reply(actor, c, payload.text, payload.video_url)
    return Status(201, _detail(queries.get_consultation_for(actor, pk)))


@router.get("/deliveries", response=list[DeliveryOut])
def list_deliveries(request, status: str = ""):
    _gate(request)
    return queries.delivery_board(Actor.from_request(request), status)


@router.post("/deliveries/{int:pk}", response=DeliveryOut)
def move_delivery(request, pk: int, payload: MoveIn):
    """Ship, deliver or mark picked up; the same move twice counts once (200 with the delivery unchanged)."""
    _gate(request)
    actor = Actor.from_request(request)
    return services.move_delivery(actor, queries.get_delivery_for(actor, pk), payload.action)
