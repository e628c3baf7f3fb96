"""站点规划 pages for the bureau and the community's managers: the runs and a form for a new one; a run's map
(villages coloured by how fast today's or the proposed stations reach them, proposed sites marked), coverage
within 10/15/20 minutes, the simulated year, and the townships' table. A queued run polls until it is done."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput
from yigongti.core.pages import domain_errors_as_pages

from ..planning import data as planning_data
from ..planning import plan as planning
from ..planning import queries as q
from ..planning import view_model
from ..services import planning as services


@login_required
@domain_errors_as_pages
def plan_list(request):
    if request.method == "POST":
        return _start(request)
    network = planning_data.active_network()
    return render(request, "emergency/planning.html", {
        "plans": q.plans_visible_to(request.user), "network": network,
        "may_plan": q.may_plan(request.user, network) if network else False,
        "scenarios": planning.SCENARIO_LABELS, "thresholds": planning.THRESHOLDS,
        "values": request.session.pop("em_plan_form", {}), "errors": request.session.pop("em_plan_errors", {})})


def _start(request):
    form = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
    raw = {**form, "scenarios": request.POST.getlist("scenarios"), "simulate": request.POST.get("simulate") == "on"}
    raw.pop("name", None)
    try:
        plan = services.start_plan(Actor.from_request(request), name=request.POST.get("name", ""), **raw)
    except (InvalidInput, Conflict) as e:
        request.session["em_plan_errors"] = getattr(e, "errors", None) or {"all": [e.message]}
        request.session["em_plan_form"] = form
        messages.error(request, e.message)
        return redirect("emergency:planning")
    messages.success(request, _("已提交站点规划，正在后台计算"))
    return redirect("emergency:plan", pk=plan.pk)


@login_required
@domain_errors_as_pages
def plan_detail(request, pk: int):
    plan = q.get_plan(Actor.from_request(request), pk)
    if request.htmx and request.GET.get("poll"):
        if plan.status in ("done", "failed"):
            resp = HttpResponse(status=204)
            resp["HX-Refresh"] = "true"
            return resp
        return render(request, "emergency/planning_status.html", {"plan": plan})
    try:
        roads_url = reverse("emergency:roads_geojson")
    except NoReverseMatch:
        roads_url = ""
    return render(request, "emergency/plan.html", {
        "plan": plan, "view": view_model.build(plan) if plan.status == "done" else None, "roads_url": roads_url,
        "may_retry": plan.status == "failed" and q.may_plan(request.user, plan.network)})


@login_required
@require_POST
@domain_errors_as_pages
def plan_retry(request, pk: int):
    actor = Actor.from_request(request)
    plan = q.get_plan(actor, pk)
    try:
        services.retry_plan(actor, plan)
        messages.success(request, _("已重新提交站点规划"))
    except InvalidInput as e:
        messages.error(request, e.message)
    return redirect("emergency:plan", pk=pk)


urlpatterns = [
    path("planning/", plan_list, name="planning"),
    path("planning/<int:pk>/", plan_detail, name="plan"),
    path("planning/<int:pk>/retry/", plan_retry, name="plan_retry"),
]
