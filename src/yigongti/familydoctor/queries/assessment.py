"""Reads of the monthly assessment (月考核): a month's results and rank (月通报), one team's drill-down with the
counts behind each score, the year ranking (年评比: the mean of the year's monthly totals). Team-level figures (no
person), limited to the teams within the user's scope (``ledger.teams_visible_to``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Max, Min

from yigongti.core.actor import Actor

from .. import assessment as rules
from ..models import MonthlyAssessment, Team
from .ledger import teams_visible_to


def month_results(actor: Actor, month: dt.date) -> list[MonthlyAssessment]:
    first, _last = rules.month_bounds(month)
    return list(MonthlyAssessment.objects.filter(month=first, team__in=teams_visible_to(actor.user))
                .select_related("team", "team__facility").order_by("rank", "team__code"))


def latest_month(actor: Actor) -> dt.date | None:
    return (MonthlyAssessment.objects.filter(team__in=teams_visible_to(actor.user))
            .aggregate(m=Max("month"))["m"])


def team_month(actor: Actor, team: Team, month: dt.date) -> MonthlyAssessment | None:
    first, _last = rules.month_bounds(month)
    return MonthlyAssessment.objects.filter(team=team, month=first).select_related("team").first()


def team_history(actor: Actor, team: Team, limit: int = 12) -> list[MonthlyAssessment]:
    return list(MonthlyAssessment.objects.filter(team=team).order_by("-month")[:limit])


@dataclass
class YearRank:
    team: Team
    months: int
    mean: Decimal
    best: int | None
    worst: int | None
    rank: int | None = None


def year_ranking(actor: Actor, year: int) -> list[YearRank]:
    rows = (MonthlyAssessment.objects.filter(month__year=year, team__in=teams_visible_to(actor.user))
            .values("team_id").annotate(n=Count("id"), mean=Avg("total"), best=Min("rank"), worst=Max("rank")))
    teams = Team.objects.in_bulk([r["team_id"] for r in rows])
    out = [YearRank(teams[r["team_id"]], r["n"], Decimal(str(r["mean"] or 0)).quantize(Decimal("0.1"), ROUND_HALF_UP),
                    r["best"], r["worst"]) for r in rows]
    ranks = rules.rank({y.team.pk: y.mean for y in out})
    for y in out:
        y.rank = ranks[y.team.pk]
    return sorted(out, key=lambda y: (y.rank or 0, y.team.code))


def top_and_bottom(actor: Actor, n: int = 3) -> tuple[dt.date | None, list[MonthlyAssessment], list[MonthlyAssessment]]:
    """The latest assessed month with its best and worst ``n`` ranked teams (the home panel)."""
    month = latest_month(actor)
    if month is None:
        return None, [], []
    ranked = [r for r in month_results(actor, month) if r.rank is not None]
    top = ranked[:n]
    bottom = [r for r in ranked[-n:] if r not in top][::-1] if len(ranked) > n else []
    return month, top, bottom
