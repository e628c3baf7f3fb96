"""Reads of the laboratory: an order's results (the order itself is read, scoped and audited, through
``queries.orders.get_order_for``) and the HL7 error queue.

The queue holds whole messages as received — patients' names and results — so only the staff of a lab center
(``telemedicine.replay_message``) see it, and every list and opened message is audited."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.core.paging import Page, slice_page
from yigongti.orgs.permissions import Category, allows, check, check_read

from ..models import Center, CenterKind, CenterMember, Hl7Message, LabResult, MessageStatus, Order
from .orders import get_order_for

QUEUE_STATUSES = (MessageStatus.ERROR, MessageStatus.REPLAYED, MessageStatus.DISCARDED, MessageStatus.APPLIED)


def results_of(order: Order) -> list[LabResult]:
    """The order's results in the panel's order (analyte code), with the analyte."""
    return list(LabResult.objects.filter(order=order).select_related("analyte").order_by("analyte__code"))


def order_for_entry(actor: Actor, pk) -> Order:
    """The order whose results the actor is about to type in (scoped and audited like any order read)."""
    return get_order_for(actor, pk)


def lab_centers_of(actor: Actor) -> list[Center]:
    """The lab centers whose queue the actor keeps (the system: all)."""
    if actor.user is None:
        return list(Center.objects.filter(kind=CenterKind.LAB))
    ids = CenterMember.objects.filter(user_id=actor.user.pk, center__kind=CenterKind.LAB).values("center_id")
    return [c for c in Center.objects.filter(pk__in=ids) if allows(actor, "telemedicine.replay_message", c)]


def may_keep_queue(actor: Actor) -> bool:
    return bool(lab_centers_of(actor))


def _check_queue(actor: Actor) -> None:
    check_read(actor, Category.CLINICAL)
    if not may_keep_queue(actor):
        check(actor, "telemedicine.replay_message", Center(pk=0))  # refused, with the denied event


def messages(actor: Actor, status: str = MessageStatus.ERROR, page: int = 1, size: int = 50) -> Page:
    """The HL7 messages of one status, newest first (the error queue by default); the read is audited."""
    _check_queue(actor)
    status = status if status in QUEUE_STATUSES else MessageStatus.ERROR
    qs: QuerySet[Hl7Message] = (Hl7Message.objects.filter(status=status).select_related("order", "order__resident")
                                .order_by("-received_at", "-id"))
    result = slice_page(qs, page, size)
    audit.record(actor, "view", "hl7_queue", status, count=len(result.items), page=page)
    return result


def queue_count() -> int:
    return Hl7Message.objects.filter(status=MessageStatus.ERROR).count()


def message_for(actor: Actor, pk) -> Hl7Message:
    """One message with its replays; audited."""
    _check_queue(actor)
    try:
        message = (Hl7Message.objects.select_related("order", "order__resident", "replay_of", "replayed_by")
                   .get(pk=int(pk)))
    except (Hl7Message.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("HL7 消息不存在")) from None
    audit.record(actor, "view", "hl7_message", message.pk, order=message.order_id)
    return message


def replays_of(message: Hl7Message) -> list[Hl7Message]:
    return list(Hl7Message.objects.filter(replay_of=message).order_by("received_at"))
