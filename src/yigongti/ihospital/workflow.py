"""The online consultation's states and moves, as one table (pure: no database), as ``referrals.workflow``.

    requested → accepted → in_consultation → prescribed → closed
    requested → declined (the doctor, with a reason) / cancelled (the resident) / expired (nobody answered in time)
    accepted, in_consultation → closed (no prescription needed) / cancelled (the resident)
    prescribed → closed (the medicines delivered or picked up; or the doctor closes it)

A consultation grants its doctor the resident's shared record while it is open and for ``GRANT_DAYS_AFTER`` days
after it closed (follow-up questions); declined, cancelled and expired requests grant nothing."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from django.db import models
from django.utils.translation import gettext_lazy as _

from yigongti.core.errors import Conflict, InvalidInput


class Status(models.TextChoices):
    REQUESTED = "requested", _("待接诊")
    ACCEPTED = "accepted", _("已接诊")
    IN_CONSULTATION = "in_consultation", _("问诊中")
    PRESCRIBED = "prescribed", _("已开方")
    CLOSED = "closed", _("已结束")
    DECLINED = "declined", _("已拒绝")
    CANCELLED = "cancelled", _("已取消")
    EXPIRED = "expired", _("已过期")


S = Status


class Move(NamedTuple):
    starts: frozenset[str]
    target: str
    label: object  # a lazy translation
    by: str  # "doctor", "resident" or "system"
    needs_reason: bool = False


OPEN = frozenset({S.REQUESTED, S.ACCEPTED, S.IN_CONSULTATION, S.PRESCRIBED})
TRANSITIONS: dict[str, Move] = {
    "accept": Move(frozenset({S.REQUESTED}), S.ACCEPTED, _("接诊"), "doctor"),
    "reply": Move(frozenset({S.ACCEPTED, S.IN_CONSULTATION, S.PRESCRIBED}), S.IN_CONSULTATION, _("回复"), "doctor"),
    "prescribe": Move(frozenset({S.ACCEPTED, S.IN_CONSULTATION}), S.PRESCRIBED, _("开具电子处方"), "doctor"),
    "close": Move(frozenset({S.ACCEPTED, S.IN_CONSULTATION, S.PRESCRIBED}), S.CLOSED, _("结束问诊"), "doctor"),
    "decline": Move(frozenset({S.REQUESTED}), S.DECLINED, _("拒绝"), "doctor", needs_reason=True),
    "cancel": Move(frozenset({S.REQUESTED, S.ACCEPTED, S.IN_CONSULTATION}), S.CANCELLED, _("取消"), "resident"),
    "expire": Move(frozenset({S.REQUESTED}), S.EXPIRED, _("过期"), "system"),
}
GRANT_DAYS_AFTER = 7
EXPIRE_HOURS = 48  # a request nobody accepted within two days expires (the resident may ask again)


def check_move(status: str, action: str, reason: str = "") -> str:
    """The status ``action`` leads to from ``status``, or Conflict saying why not."""
    move = TRANSITIONS.get(action)
    if move is None:
        raise InvalidInput("unknown_action", _("未知的操作"))
    if status not in move.starts:
        raise Conflict("transition_not_allowed", _("问诊当前状态为“%(status)s”，不能%(action)s")
                       % {"status": S(status).label, "action": move.label})
    if move.needs_reason and not reason.strip():
        raise InvalidInput("reason_required", _("请填写原因"), field="reason")
    # a reply keeps a prescribed consultation prescribed
    if action == "reply" and status == S.PRESCRIBED:
        return S.PRESCRIBED
    return move.target


def allowed(status: str, by: str) -> list[str]:
    return [a for a, m in TRANSITIONS.items() if status in m.starts and m.by == by]


def grants_record(status: str, closed_at: dt.datetime | None, now: dt.datetime) -> bool:
    if status in OPEN:
        return True
    return status == S.CLOSED and closed_at is not None and now <= closed_at + dt.timedelta(days=GRANT_DAYS_AFTER)


def is_due_to_expire(status: str, requested_at: dt.datetime, now: dt.datetime) -> bool:
    return status == S.REQUESTED and now >= requested_at + dt.timedelta(hours=EXPIRE_HOURS)


# ---- delivery -------------------------------------------------------------------------------------------------

class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发货")
    SHIPPED = "shipped", _("已发货")
    DELIVERED = "delivered", _("已送达")
    PICKED_UP = "picked_up", _("已取药")


class DeliveryMode(models.TextChoices):
    CLINIC = "clinic", _("村卫生室取药")
    HOME = "home", _("送药到家")


D = DeliveryStatus
DELIVERY_MOVES: dict[str, tuple[frozenset[str], str]] = {
    "ship": (frozenset({D.PENDING}), D.SHIPPED),
    "deliver": (frozenset({D.SHIPPED}), D.DELIVERED),  # arrived at the clinic, or handed over at home
    "pick_up": (frozenset({D.DELIVERED}), D.PICKED_UP),  # the resident collected it at the clinic
}


def check_delivery_move(status: str, action: str, mode: str) -> str:
    """The delivery's next status, or Conflict. A move already made (a flaky network's second tap) is reported
    by the caller as done, not here: this says only whether the move is allowed from ``status``."""
    if action not in DELIVERY_MOVES:
        raise InvalidInput("unknown_action", _("未知的操作"))
    starts, target = DELIVERY_MOVES[action]
    if action == "pick_up" and mode != DeliveryMode.CLINIC:
        raise Conflict("not_a_pickup", _("送药到家的订单送达即完成，无需取药确认"))
    if status not in starts:
        raise Conflict("delivery_transition", _("配送当前状态为“%(status)s”，不能执行此操作")
                       % {"status": D(status).label})
    return target


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", _("待支付")
    PENDING = "pending", _("支付中")
    PAID = "paid", _("已支付")
    FAILED = "failed", _("支付失败")
