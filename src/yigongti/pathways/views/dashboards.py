"""Compliance pages: one center's month (each metric's median and share meeting its target, a 12-month trend,
the delay reasons of the misses) and the chain from the township units to the county center."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.core.pages import domain_errors_as_pages

from .. import queries_dashboards as q
from ..export import exportable_centers
from ..models import CenterLevel, PathwayKind


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        raise InvalidInput("invalid_center", _("救治中心参数无效"), field="center") from None


@login_required
@domain_errors_as_pages
def dashboard(request):
    centers = q.visible_centers(request.user)
    if not centers:
        raise Forbidden(_("您无权查看五大中心质控数据"))
    pk = _int(request.GET.get("center")) or centers[0].pk
    d = q.center_dashboard(request.user, pk, request.GET.get("month"))
    return render(request, "pathways/dashboard.html", {
        "d": d, "centers": centers, "may_export": d.center in exportable_centers(request.user),
        "may_chain": any(c.level == CenterLevel.CENTER and c.kind == d.center.kind for c in centers),
        "own": q.works_at(request.user, d.center)})


@login_required
@domain_errors_as_pages
def chain(request):
    kind = request.GET.get("kind") or "chest_pain"
    c = q.chain(request.user, kind, request.GET.get("month"), _int(request.GET.get("center")))
    return render(request, "pathways/dashboard_chain.html", {"c": c, "kinds": PathwayKind.choices})


urlpatterns = [
    path("dashboard/", dashboard, name="dashboard"),
    path("chain/", chain, name="chain"),
]
