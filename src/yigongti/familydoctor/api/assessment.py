"""/api/v1/familydoctor/assessment: a month's team scores and ranks (月通报), computing them (verb
``familydoctor.assess``), the year ranking."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput

from .. import assessment as rules
from ..queries import assessment as q
from ..services.assessment import compute_month

router = Router(tags=["家庭医生月考核"])


class AssessmentOut(Schema):
    team_id: int
    team: str
    month: dt.date
    fulfilment: Decimal
    timeliness: Decimal
    outcomes: Decimal
    sessions: Decimal
    total: Decimal
    rank: int | None
    details: dict

    @staticmethod
    def resolve_team(obj) -> str:
        return obj.team.name


class ComputeIn(Schema):
    month: str = Field(..., pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")


class YearRankOut(Schema):
    team_id: int
    team: str
    months: int
    mean: Decimal
    rank: int | None

    @staticmethod
    def resolve_team_id(obj) -> int:
        return obj.team.pk

    @staticmethod
    def resolve_team(obj) -> str:
        return obj.team.name


def _month(text: str | None) -> dt.date:
    try:
        return rules.parse_month(text, timezone.localdate())
    except (ValueError, TypeError):
        raise InvalidInput("invalid_month", _("月份格式不正确（如 2026-05）"), field="month") from None


@router.get("", response=list[AssessmentOut])
def month_results(request, month: str = ""):
    """``month``: YYYY-MM (default: last month)."""
    return q.month_results(Actor.from_request(request), _month(month))


@router.post("/compute", response=list[AssessmentOut])
def compute(request, payload: ComputeIn):
    return compute_month(Actor.from_request(request), _month(payload.month))


@router.get("/ranking", response=list[YearRankOut])
def year_ranking(request, year: int | None = None):
    return q.year_ranking(Actor.from_request(request), year or timezone.localdate().year)
