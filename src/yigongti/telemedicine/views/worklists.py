"""The readers' pages: the centers index, one worklist per center (urgency first, then waiting time, with the
turnaround target and the time left), the report form (templates, structured findings, conclusion, critical
findings from the center's list) and the second reader's review."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, NotFound
from yigongti.core.pages import domain_errors_as_pages, hx_or_full, paginate_params
from yigongti.orgs.permissions import can

from .. import catalog, workflow
from ..models import CriticalFinding, OrderStatus
from ..queries import orders as queries
from ..services import orders as services
from ..workflow import STRUCTURED
from .orders import kind_panel

STATES = (("open", gettext_lazy("待报告")), ("review", gettext_lazy("待审核")), ("done", gettext_lazy("今日已报告")))

@login_required
@domain_errors_as_pages
def centers_index(request: HttpRequest) -> HttpResponse:
    counts = queries.center_counts(queries.centers_of(request.user))
    return render(request, "telemedicine/worklists/centers.html", {"counts": counts})


@login_required
@domain_errors_as_pages
def worklist(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    center = queries.center_for(actor, pk)
    state = request.GET.get("state", "open") if request.GET.get("state") in dict(STATES) else "open"
    page = queries.worklist(actor, center, state=state, page=paginate_params(request))
    return hx_or_full(request, "telemedicine/worklists/worklist.html", "telemedicine/worklists/_rows.html", {
        "center": center, "page": page, "state": state, "states": STATES,
        "counts": queries.center_counts([center])[0]})


def _prefill(order, panel: dict) -> dict:
    measured = {}
    recording = panel.get("ecg")
    if recording is not None and isinstance(getattr(recording, "measurements", None), dict):
        measured = {k: v for k, v in recording.measurements.items() if isinstance(v, int | float | str)}
    return {k: measured.get(k, "") for k, _label in STRUCTURED.get(order.kind, ())}


@login_required
@domain_errors_as_pages
def report_form(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    order = queries.get_order_for(actor, pk)
    if not can(request.user, "telemedicine.report", order):
        raise NotFound(_("只有本中心的报告医生可以书写报告"))
    errors: dict = {}
    fields = STRUCTURED.get(order.kind, ())
    panel_template, panel = kind_panel(actor, order)
    values = {"findings": "", "conclusion": "", "template": "", "critical_note": ""}
    structured = _prefill(order, panel)
    picked: list[str] = []
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        structured = {k: request.POST.get(f"s_{k}", "").strip() for k, _label in fields}
        picked = request.POST.getlist("critical_findings")
        data = {**values, "structured": {k: v for k, v in structured.items() if v}, "critical_findings": picked}
        try:
            services.sign_report(order.pk, data, actor=actor)
            messages.success(request, _("报告已签发，已通知申请医生"))
            return redirect("telemedicine:worklist", order.center_id)
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = e.errors or {"all": [e.message]}
    return render(request, "telemedicine/worklists/report.html", {
        "o": order, "values": values, "errors": errors, "templates": queries.templates_for(order),
        "structured": [(k, label, structured.get(k, "")) for k, label in fields], "picked": picked,
        "findings": list(CriticalFinding.objects.filter(kind=order.kind, active=True).order_by("code")),
        "panel_template": panel_template, **panel, "may_start": order.status in (OrderStatus.ORDERED,
                                                                                 OrderStatus.ACQUIRED),
        "minutes_left": workflow.minutes_left(order.due_at, timezone.now())})


@login_required
@require_POST
@domain_errors_as_pages
def start(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    order = queries.get_order_for(actor, pk)
    try:
        services.start_reading(order.pk, actor=actor)
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return redirect("telemedicine:report", order.pk)


@login_required
@require_POST
@domain_errors_as_pages
def review(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    order = queries.get_order_for(actor, pk)
    try:
        services.review_report(order.pk, request.POST.get("note", ""), actor=actor)
        messages.success(request, _("报告已审核"))
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return redirect("telemedicine:order", order.pk)


@login_required
@domain_errors_as_pages
def catalogue(request: HttpRequest, pk: int) -> HttpResponse:
    """The center's catalogue (items, mutual-recognition windows) and report templates; its director edits them."""
    actor = Actor.from_request(request)
    center = queries.center_for(actor, pk)
    errors: dict = {}
    if request.method == "POST":
        what = request.POST.get("what", "")
        try:
            if what == "item":
                catalog.save_item(center, catalog.ItemInput.from_form(request.POST), actor=actor)
            elif what == "template":
                catalog.save_template(center, catalog.TemplateInput.from_form(request.POST),
                                      int(request.POST["pk"]) if request.POST.get("pk", "").isdigit() else None,
                                      actor=actor)
            elif what == "delete_template":
                catalog.delete_template(center, int(request.POST.get("pk", "0") or 0), actor=actor)
            messages.success(request, _("已保存"))
            return redirect("telemedicine:catalogue", center.pk)
        except DomainError as e:
            if e.status == 403:
                raise
            errors = {"what": what, "message": e.message}
    return render(request, "telemedicine/worklists/catalogue.html", {
        "center": center, "items": list(center.items.order_by("code")), "errors": errors,
        "templates": list(center.templates.select_related("item").order_by("name")),
        "may_manage": can(request.user, "telemedicine.manage_center", center)})


urlpatterns = [
    path("<int:pk>/catalogue/", catalogue, name="catalogue"),
    path("", centers_index, name="centers"),
    path("<int:pk>/worklist/", worklist, name="worklist"),
    path("orders/<int:pk>/report/", report_form, name="report"),
    path("orders/<int:pk>/start/", start, name="start"),
    path("orders/<int:pk>/review/", review, name="review"),
]
