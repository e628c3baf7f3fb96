"""The prescription's workflow: one transition table, checked by every service that moves a prescription.

draft → submitted (dispensable) | review_pending (waits for a pharmacist) → approved | rejected;
submitted | approved → dispensed → partly_returned → returned."""

from __future__ import annotations

from django.utils.translation import gettext as _

from yigongti.core.errors import Conflict

from .models import Status

S = Status
MOVES: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.REVIEW_PENDING}),
    S.SUBMITTED: frozenset({S.DISPENSED}),
    S.REVIEW_PENDING: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.DISPENSED}),
    S.REJECTED: frozenset(),
    S.DISPENSED: frozenset({S.PARTLY_RETURNED, S.RETURNED}),
    S.PARTLY_RETURNED: frozenset({S.PARTLY_RETURNED, S.RETURNED}),
    S.RETURNED: frozenset(),
}


def allowed(current: str, to: str) -> bool:
    return to in MOVES.get(current, frozenset())


def require(current: str, to: str) -> None:
    if not allowed(current, to):
        raise Conflict("bad_transition", _("处方状态为“%(a)s”，不能改为“%(b)s”") % {
            "a": S(current).label, "b": S(to).label})
