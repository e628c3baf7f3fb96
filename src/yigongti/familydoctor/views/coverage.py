"""Key-population contract coverage (签约覆盖率) by township, village and team with drill-down, and the list of the
unsigned of one key population in a village or team (who to chase). ``?by=team`` lists one row per team."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse

from yigongti.core.actor import Actor
from yigongti.core.pages import domain_errors_as_pages
from yigongti.residents.models import KeyPopulation

from ..queries import coverage as q


@login_required
@domain_errors_as_pages
def coverage_page(request: HttpRequest) -> HttpResponse:
    g = request.GET
    cov = q.coverage(Actor.from_request(request), township=g.get("township", "").strip(),
                     village=g.get("village", "").strip(), team=g.get("team", "").strip() or None,
                     by_team=g.get("by") == "team")
    return render(request, "familydoctor/coverage.html", {"cov": cov, "goal": q.GOAL, "all": q.ALL})


@login_required
@domain_errors_as_pages
def unsigned_page(request: HttpRequest) -> HttpResponse:
    g = request.GET
    tag = g.get("tag", q.ALL).strip() or q.ALL
    rows = q.unsigned(Actor.from_request(request), tag=tag, village=g.get("village", "").strip(),
                      team=g.get("team", "").strip() or None)
    label = dict(KeyPopulation.choices).get(tag, "")
    return render(request, "familydoctor/coverage_unsigned.html", {
        "rows": rows, "tag": tag, "tag_label": label, "village": g.get("village", ""), "team": g.get("team", ""),
        "limit": 500, "sign_url": reverse("familydoctor:sign")})


urlpatterns = [
    path("coverage/", coverage_page, name="coverage"),
    path("coverage/unsigned/", unsigned_page, name="unsigned"),
]
