"""月考核 pages: a month's scores and rank of every team (月通报) with the compute button (verb
``familydoctor.assess``), one team's drill-down with the counts behind each score, and the year ranking (年评比)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.permissions import can

from .. import assessment as rules
from ..queries import assessment as q
from ..queries.ledger import get_team_for
from ..services.assessment import compute_month


def _month(request):
    try:
        return rules.parse_month(request.GET.get("month") or request.POST.get("month"), timezone.localdate())
    except (ValueError, TypeError):
        raise InvalidInput("invalid_month", _("月份格式不正确（如 2026-05）"), field="month") from None


@login_required
@domain_errors_as_pages
def assessment_page(request):
    actor = Actor.from_request(request)
    month = _month(request)
    return render(request, "familydoctor/assessment.html", {
        "month": month, "rows": q.month_results(actor, month), "weights": rules.WEIGHTS, "source": rules.SOURCE,
        "source_en": rules.SOURCE_EN, "may_assess": can(request.user, "familydoctor.assess", month)})


@login_required
@require_POST
@domain_errors_as_pages
def assessment_compute(request):
    month = _month(request)
    rows = compute_month(Actor.from_request(request), month)
    messages.success(request, _("已计算 %(m)s 的月考核：%(n)d 个团队") % {"m": f"{month:%Y-%m}", "n": len(rows)})
    return redirect(f"{reverse('familydoctor:assessment')}?month={month:%Y-%m}")


@login_required
@domain_errors_as_pages
def assessment_team(request, pk: int):
    actor = Actor.from_request(request)
    team = get_team_for(actor, pk)
    month = _month(request)
    row = q.team_month(actor, team, month)
    return render(request, "familydoctor/assessment_team.html", {
        "team": team, "month": month, "row": row, "counts": (row.details or {}).get("counts", {}) if row else {},
        "rates": (row.details or {}).get("rates", {}) if row else {}, "history": q.team_history(actor, team),
        "weights": rules.WEIGHTS})


@login_required
@domain_errors_as_pages
def ranking(request):
    actor = Actor.from_request(request)
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        raise InvalidInput("invalid_year", _("年份格式不正确"), field="year") from None
    return render(request, "familydoctor/ranking.html", {"year": year, "rows": q.year_ranking(actor, year),
                                                         "years": range(year - 2, year + 1)})


urlpatterns = [
    path("assessment/", assessment_page, name="assessment"),
    path("assessment/compute/", assessment_compute, name="assessment_compute"),
    path("assessment/teams/<int:pk>/", assessment_team, name="assessment_team"),
    path("ranking/", ranking, name="ranking"),
]
