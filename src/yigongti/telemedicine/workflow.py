"""The order's rules as plain data and functions (no database): the transition table of ``Order.status``,
the accession number's shape and the report deadline.

    ordered → acquired → in_progress → reported → reviewed
    ordered → in_progress (a reader opens an order whose data came with it: a consultation, a lab's first result)
    ordered → reported (a lab panel entered in one go)
    ordered, acquired → cancelled
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import CenterKind, OrderStatus

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

S = OrderStatus


class Move(NamedTuple):
    """One entry of the table: from which statuses, to which, the permission that says who, and whether the
    move needs a written reason."""

    starts: frozenset[str]
    target: str
    label: StrOrPromise
    verb: str
    needs_reason: bool = False


TRANSITIONS: dict[str, Move] = {
    "acquire": Move(frozenset({S.ORDERED}), S.ACQUIRED, gettext_lazy("登记采集"), "telemedicine.acquire"),
    "start": Move(frozenset({S.ORDERED, S.ACQUIRED}), S.IN_PROGRESS, gettext_lazy("开始阅片/检验"),
                  "telemedicine.report"),
    "sign": Move(frozenset({S.ORDERED, S.ACQUIRED, S.IN_PROGRESS}), S.REPORTED, gettext_lazy("签发报告"),
                 "telemedicine.report"),
    "review": Move(frozenset({S.REPORTED}), S.REVIEWED, gettext_lazy("审核报告"), "telemedicine.review"),
    "cancel": Move(frozenset({S.ORDERED, S.ACQUIRED}), S.CANCELLED, gettext_lazy("取消申请"),
                   "telemedicine.cancel_order", needs_reason=True),
}
OPEN = frozenset({S.ORDERED, S.ACQUIRED, S.IN_PROGRESS})
DONE = frozenset({S.REPORTED, S.REVIEWED})
CLOSED = DONE | {S.CANCELLED}

# The first letter of an accession number tells the center: E 心电, R 影像 (radiology), L 检验, P 病理, C 会诊.
KIND_LETTERS: dict[str, str] = {CenterKind.ECG: "E", CenterKind.IMAGING: "R", CenterKind.LAB: "L",
                                CenterKind.PATHOLOGY: "P", CenterKind.CONSULTATION: "C"}
SEQ_DIGITS = 5

# How the order page names the events of an order (other modules add their own kinds; unknown ones show as is).
EVENT_LABELS: dict[str, StrOrPromise] = {
    "ordered": gettext_lazy("申请"), "acquired": gettext_lazy("采集/到达"), "started": gettext_lazy("开始阅片/检验"),
    "reported": gettext_lazy("签发报告"), "reviewed": gettext_lazy("审核报告"), "cancelled": gettext_lazy("取消"),
    "collected": gettext_lazy("标本采集"), "sent": gettext_lazy("标本送检"), "received": gettext_lazy("标本接收"),
    "sectioned": gettext_lazy("制片"), "rejected": gettext_lazy("拒收"), "results": gettext_lazy("检验结果"),
}


class MoveNotAllowed(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def allowed_actions(status: str) -> list[str]:
    return [a for a, m in TRANSITIONS.items() if status in m.starts]


def check_move(status: str, action: str) -> str:
    """The status ``action`` leads to from ``status``, or MoveNotAllowed with a message a person can act on."""
    if action not in TRANSITIONS:
        raise MoveNotAllowed("unknown_action", _("未知的操作：%(action)s") % {"action": action})
    move = TRANSITIONS[action]
    if status in move.starts:
        return move.target
    code = "already_reported" if action == "sign" and status in DONE else "transition_not_allowed"
    raise MoveNotAllowed(code, _("申请单当前状态为“%(status)s”，不能%(action)s")
                         % {"status": S(status).label, "action": move.label})


def accession_prefix(kind: str, day: dt.date) -> str:
    """``{kind letter}{yymmdd}``: the part of an accession number before the day's sequence."""
    return f"{KIND_LETTERS[kind]}{day:%y%m%d}"


def accession(kind: str, day: dt.date, seq: int) -> str:
    return f"{accession_prefix(kind, day)}{seq:0{SEQ_DIGITS}d}"


def next_seq(last: str | None, prefix: str) -> int:
    """The next sequence of the day after the highest accession number issued (``None``: the first)."""
    if not last or not last.startswith(prefix) or not last[len(prefix):].isdigit():
        return 1
    return int(last[len(prefix):]) + 1


def due_at(ordered_at: dt.datetime, tat_minutes: int) -> dt.datetime:
    return ordered_at + dt.timedelta(minutes=tat_minutes)


def minutes_left(due: dt.datetime | None, now: dt.datetime) -> int | None:
    """Minutes until the report is due (negative: overdue by that many)."""
    if due is None:
        return None
    return int((due - now).total_seconds() // 60)


# The structured part of a report, per kind: (key, label). ECG values are prefilled from the automatic
# measurements when the recording has them (assistance only: the reader confirms or corrects).
STRUCTURED = {
    "ecg": (("rhythm", gettext_lazy("心律")), ("rate", gettext_lazy("心率（次/分）")), ("pr", gettext_lazy("PR（ms）")),
            ("qrs", gettext_lazy("QRS（ms）")), ("qt", gettext_lazy("QT（ms）")), ("qtc", gettext_lazy("QTc（ms）")),
            ("axis", gettext_lazy("电轴"))),
    "imaging": (("technique", gettext_lazy("检查技术")), ("comparison", gettext_lazy("对比既往"))),
    "pathology": (("gross", gettext_lazy("大体所见")), ("microscopic", gettext_lazy("镜下所见")),
                  ("ihc", gettext_lazy("免疫组化"))),
    "lab": (("comment", gettext_lazy("检验备注")),),
}


def structured_rows(kind: str, structured: dict) -> list[tuple[str, str]]:
    """(label, value) of a report's structured findings in the kind's order (unknown keys after, as is)."""
    labels = dict(STRUCTURED.get(kind, ()))
    known = [(str(labels[k]), str(structured[k])) for k in labels if structured.get(k) not in (None, "")]
    return known + [(str(k), str(v)) for k, v in structured.items() if k not in labels]
