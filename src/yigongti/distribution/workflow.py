"""The village order's transition table as plain data (no database), as ``referrals.workflow``:

    draft → submitted → approved → picked → dispatched → received / partly_received
    submitted → rejected;  draft, submitted, approved → cancelled

Each move names the permission verb (``distribution.*``) that says who may make it; the services lock the order
row, ask ``check_move`` and stamp who and when."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import OrderStatus as S

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Move(NamedTuple):
    starts: frozenset[str]
    target: str
    label: StrOrPromise
    verb: str
    reason_label: StrOrPromise = ""


TRANSITIONS: dict[str, Move] = {
    "submit": Move(frozenset({S.DRAFT}), S.SUBMITTED, gettext_lazy("提交"), "distribution.order"),
    "approve": Move(frozenset({S.SUBMITTED}), S.APPROVED, gettext_lazy("审核通过"), "distribution.approve"),
    "reject": Move(frozenset({S.SUBMITTED}), S.REJECTED, gettext_lazy("驳回"), "distribution.approve",
                   gettext_lazy("驳回理由")),
    "pick": Move(frozenset({S.APPROVED}), S.PICKED, gettext_lazy("拣货"), "distribution.pick"),
    "dispatch": Move(frozenset({S.PICKED}), S.DISPATCHED, gettext_lazy("发车"), "distribution.dispatch"),
    # the last line received closes the order: received, or partly received when anything was missing
    "receive": Move(frozenset({S.DISPATCHED}), S.RECEIVED, gettext_lazy("签收"), "distribution.receive"),
    "receive_partly": Move(frozenset({S.DISPATCHED}), S.PARTLY_RECEIVED, gettext_lazy("部分签收"),
                           "distribution.receive"),
    "cancel": Move(frozenset({S.DRAFT, S.SUBMITTED, S.APPROVED}), S.CANCELLED, gettext_lazy("取消"),
                   "distribution.order", gettext_lazy("取消理由")),
}
OPEN = frozenset({S.DRAFT, S.SUBMITTED, S.APPROVED, S.PICKED, S.DISPATCHED})
CLOSED = frozenset({S.RECEIVED, S.PARTLY_RECEIVED, S.REJECTED, S.CANCELLED})
# the center's queue: what waits for the pharmacists
QUEUE = frozenset({S.SUBMITTED, S.APPROVED, S.PICKED})
EDITABLE = frozenset({S.DRAFT})


class MoveNotAllowed(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def allowed_actions(status: str) -> list[str]:
    return [a for a, m in TRANSITIONS.items() if status in m.starts]


def check_move(status: str, action: str) -> str:
    """The status ``action`` leads to from ``status``, or MoveNotAllowed with a message a person can act on."""
    if action not in TRANSITIONS:
        raise MoveNotAllowed("unknown_action", _("未知的请领单操作：%(action)s") % {"action": action})
    move = TRANSITIONS[action]
    if status in move.starts:
        return move.target
    if status == move.target or (action.startswith("receive") and status in (S.RECEIVED, S.PARTLY_RECEIVED)):
        raise MoveNotAllowed("already_done", _("请领单已是“%(status)s”，无需重复操作") % {"status": S(status).label})
    raise MoveNotAllowed("transition_not_allowed", _("请领单当前状态为“%(status)s”，不能%(action)s")
                         % {"status": S(status).label, "action": move.label})


def missing_reason(action: str, reason: str) -> str:
    label = TRANSITIONS[action].reason_label
    return _("请填写%(what)s") % {"what": label} if label and not (reason or "").strip() else ""
