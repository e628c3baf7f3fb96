"""危急值 pages: a clinician's open values (acknowledge with read-back, record the action, close, the STEMI
green channel), the lab center's and the bureau's list and rates, the rule table with facility overrides."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.models import Role
from yigongti.orgs.permissions import can, has_role

from .. import critical as loop
from .. import rules
from ..models import ActionKind, CenterKind, CriticalStatus, Population
from ..queries import critical as q
from ..services import critical as services


@login_required
@domain_errors_as_pages
def critical_list(request):
    """Open values to act on (clinicians), the community's list (centers' readers), the rates (everyone here)."""
    actor, user = Actor.from_request(request), request.user
    f = q.Filter.from_query(request.GET)
    lists = q.may_list(user)
    with audit.batch():  # the two lists' read events in one append
        mine, recent = (q.open_for(actor), q.recent_for(actor, f)) if lists else ([], [])
    return render(request, "telemedicine/critical/list.html", {
        "mine": mine, "recent": recent, "f": f, "lists": lists, "stats": q.stats(user, f.days),
        "statuses": CriticalStatus.choices, "counts_only": has_role(user, *q.COUNT_ROLES)})


@login_required
@domain_errors_as_pages
def critical_detail(request, pk: int):
    actor, user = Actor.from_request(request), request.user
    cv = q.get_for(actor, pk)
    return render(request, "telemedicine/critical/detail.html", {
        "cv": cv, "events": q.events_of(cv), "actions": ActionKind.choices,
        "may_ack": cv.status in loop.UNACKNOWLEDGED and can(user, "telemedicine.acknowledge_critical", cv),
        "may_act": cv.status in (CriticalStatus.ACKNOWLEDGED, CriticalStatus.ACTIONED)
        and can(user, "telemedicine.act_on_critical", cv),
        "may_close": cv.status == CriticalStatus.ACTIONED and can(user, "telemedicine.act_on_critical", cv),
        "green": bool(cv.finding and cv.finding.stemi) and cv.status != CriticalStatus.CLOSED
        and can(user, "telemedicine.act_on_critical", cv), "values": request.session.pop("tm_critical_form", {}),
        "errors": request.session.pop("tm_critical_errors", {})})


def _move(request, pk: int, fn) -> object:
    back = reverse("telemedicine:critical_detail", args=[pk])
    try:
        fn(Actor.from_request(request))
    except InvalidInput as e:
        request.session["tm_critical_errors"] = e.errors or {"all": [e.message]}
        request.session["tm_critical_form"] = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
        messages.error(request, e.message)
    except Conflict as e:
        messages.error(request, e.message)
    return redirect(back)


@login_required
@require_POST
@domain_errors_as_pages
def acknowledge(request, pk: int):
    def run(actor):
        services.acknowledge(pk, request.POST.get("read_back", "")[:200], actor=actor)
        messages.success(request, _("已复述确认危急值，请记录处置"))
    return _move(request, pk, run)


@login_required
@require_POST
@domain_errors_as_pages
def action(request, pk: int):
    def run(actor):
        services.record_action(pk, request.POST.get("kind", ""), request.POST.get("note", "")[:2000],
                               request.POST.get("ref", "")[:40], actor=actor)
        messages.success(request, _("已记录处置"))
    return _move(request, pk, run)


@login_required
@require_POST
@domain_errors_as_pages
def close(request, pk: int):
    def run(actor):
        services.close(pk, actor=actor)
        messages.success(request, _("危急值已闭环"))
    return _move(request, pk, run)


@login_required
@require_POST
@domain_errors_as_pages
def green_channel(request, pk: int):
    try:
        referral = services.start_green_channel(pk, actor=Actor.from_request(request))
    except (InvalidInput, Conflict) as e:
        messages.error(request, e.message)
        return redirect("telemedicine:critical_detail", pk=pk)
    messages.success(request, _("已启动胸痛中心绿色通道转诊"))
    return redirect("referrals:detail", pk=referral.pk)


@login_required
@domain_errors_as_pages
def rule_table(request):
    """The rules in force: the community default, the user's facility overrides; forms for who may change them."""
    user = request.user
    community = user.facility.community if user.facility_id and user.facility.community_id else None
    center = rules.lab_center(community) if community else None
    if request.method == "POST" and community is not None:
        actor, data = Actor.from_request(request), request.POST.dict()
        try:
            if data.get("action") == "retire":
                rules.retire_rule(int(data.get("rule", "0") or 0), actor=actor)
            elif data.get("action") == "override":
                rules.override_rule(user.facility, data, actor=actor)
            else:
                rules.set_default_rule(community, data, actor=actor)
            messages.success(request, _("危急值规则已保存"))
        except (InvalidInput, ValueError) as e:
            messages.error(request, getattr(e, "message", _("输入无效")))
        return redirect("telemedicine:critical_rules")
    table = list(rules.rules_in_force(community, facility=user.facility)) if community else []
    return render(request, "telemedicine/critical/rules.html", {
        "community": community, "rules": table, "populations": Population.choices,
        "may_default": center is not None and can(user, "telemedicine.manage_center", center),
        "may_override": community is not None and can(user, "telemedicine.override_critical_rule", user.facility),
        "findings": rules.finding_list()["findings"], "sources": rules.default_table()["sources"],
        "kinds": dict(CenterKind.choices), "is_admin": user.role == Role.FACILITY_ADMIN})


urlpatterns = [
    path("critical/", critical_list, name="critical"),
    path("critical/rules/", rule_table, name="critical_rules"),
    path("critical/<int:pk>/", critical_detail, name="critical_detail"),
    path("critical/<int:pk>/acknowledge/", acknowledge, name="critical_acknowledge"),
    path("critical/<int:pk>/action/", action, name="critical_action"),
    path("critical/<int:pk>/close/", close, name="critical_close"),
    path("critical/<int:pk>/green-channel/", green_channel, name="critical_green"),
]
