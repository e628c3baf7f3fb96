"""孕产妇健康管理: the pregnancies of my area, one pregnancy (plan, visits, risk grade, delivery), registering a
pregnancy (建册) and recording a visit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput
from yigongti.core.pages import domain_errors_as_pages, paginate_params
from yigongti.core.validation import today
from yigongti.orgs.permissions import allows
from yigongti.residents.queries import get_resident_for

from .. import risk, schedules
from ..models import PregnancyOutcome, RiskGrade
from ..queries import maternal as q
from ..services import maternal as services
from ._common import area_choices


def _errors(e: InvalidInput | Conflict) -> dict:
    return e.errors or {"__all__": [e.message]}


@login_required
@domain_errors_as_pages
def pregnancies(request):
    g, actor = request.GET, Actor.from_request(request)
    f = {k: g.get(k, "") for k in ("village", "township", "status", "grade", "due")}
    page = q.list_pregnancies(actor, page=paginate_params(request), **f)
    towns, villages = area_choices(request.user, f["township"])
    return render(request, "publichealth/pregnancies.html", {
        "page": page, "f": f, "towns": towns, "villages": villages, "grades": RiskGrade.choices})


def _detail_context(request, actor, pk, **extra):
    row = q.get_pregnancy(actor, pk)
    p = row.pregnancy
    return {"row": row, "p": p, "visits": q.visits_of(row), "table": risk.table(), "outcomes": PregnancyOutcome.choices,
            "can_grade": allows(actor, "publichealth.grade_risk", p),
            "can_visit": allows(actor, "publichealth.maternal_visit", p), "today": today(),
            "schedule": schedules.maternal(), "errors": {}, "form": {}, **extra}


@login_required
@domain_errors_as_pages
def pregnancy(request, pk: int):
    return render(request, "publichealth/pregnancy.html", _detail_context(request, Actor.from_request(request), pk))


@login_required
@require_POST
@domain_errors_as_pages
def pregnancy_grade(request, pk: int):
    actor = Actor.from_request(request)
    row = q.get_pregnancy(actor, pk)
    data = {**request.POST.dict(), "factors": request.POST.getlist("factors")}
    try:
        p = services.grade_risk(actor, row.pregnancy, data)
    except InvalidInput as e:
        ctx = _detail_context(request, actor, pk, errors=_errors(e), form=request.POST)
        return render(request, "publichealth/pregnancy.html", ctx, status=422)
    messages.success(request, _("妊娠风险已评定：%(g)s") % {"g": p.get_risk_grade_display()})
    return redirect("publichealth:pregnancy", pk=pk)


@login_required
@require_POST
@domain_errors_as_pages
def pregnancy_delivery(request, pk: int):
    actor = Actor.from_request(request)
    row = q.get_pregnancy(actor, pk)
    try:
        services.record_delivery(actor, row.pregnancy, request.POST)
    except (InvalidInput, Conflict) as e:
        ctx = _detail_context(request, actor, pk, errors=_errors(e), form=request.POST)
        return render(request, "publichealth/pregnancy.html", ctx, status=422)
    messages.success(request, _("分娩信息已保存"))
    return redirect("publichealth:pregnancy", pk=pk)


@login_required
@domain_errors_as_pages
def pregnancy_new(request):
    actor = Actor.from_request(request)
    resident = get_resident_for(actor, request.GET.get("resident") or request.POST.get("resident") or 0)
    form = request.POST if request.method == "POST" else {"registered_on": today().isoformat()}
    errors, unlikely = {}, False
    if request.method == "POST":
        try:
            p = services.register_pregnancy(actor, resident, request.POST,
                                            confirm_unlikely=bool(request.POST.get("confirm_unlikely")))
            messages.success(request, _("孕产妇保健手册已建立"))
            return redirect("publichealth:pregnancy", pk=p.pk)
        except (InvalidInput, Conflict) as e:
            errors, unlikely = _errors(e), e.code == "unlikely_values"
    return render(request, "publichealth/pregnancy_new.html", {
        "resident": resident, "form": form, "errors": errors, "unlikely": unlikely,
        "error": next(iter(errors.values()))[0] if errors else ""}, status=422 if errors else 200)


@login_required
@domain_errors_as_pages
def maternal_visit(request, pk: int):
    actor = Actor.from_request(request)
    row = q.get_pregnancy(actor, pk)
    nxt = row.next_item
    form = request.POST if request.method == "POST" else {"date": today().isoformat(),
                                                          "kind": nxt.window.code if nxt else ""}
    errors, unlikely = {}, False
    if request.method == "POST":
        try:
            v = services.record_visit(actor, row.pregnancy, request.POST,
                                      confirm_unlikely=bool(request.POST.get("confirm_unlikely")))
            if getattr(v, "window", "ok") in ("early", "late"):
                messages.warning(request, _("随访已保存（超窗：不在该项目的规定时间内）"))
            else:
                messages.success(request, _("随访已保存"))
            return redirect("publichealth:pregnancy", pk=pk)
        except (InvalidInput, Conflict) as e:
            errors, unlikely = _errors(e), e.code == "unlikely_values"
    return render(request, "publichealth/maternal_visit.html", {
        "row": row, "p": row.pregnancy, "form": form, "errors": errors, "unlikely": unlikely,
        "error": next(iter(errors.values()))[0] if errors else ""}, status=422 if errors else 200)


urlpatterns = [
    path("pregnancies/", pregnancies, name="pregnancies"),
    path("pregnancies/new/", pregnancy_new, name="pregnancy_new"),
    path("pregnancies/<int:pk>/", pregnancy, name="pregnancy"),
    path("pregnancies/<int:pk>/grade/", pregnancy_grade, name="pregnancy_grade"),
    path("pregnancies/<int:pk>/delivery/", pregnancy_delivery, name="pregnancy_delivery"),
    path("pregnancies/<int:pk>/visit/", maternal_visit, name="maternal_visit"),
]
