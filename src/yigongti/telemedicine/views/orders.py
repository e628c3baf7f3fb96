"""The ordering doctor's pages: the order form (from the resident page or an encounter, with the mutual-recognition
step), the doctor's own orders and results, and the order page (with the kind's panel: the ECG, the images, the
lab results, the specimen)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError
from yigongti.core.pages import domain_errors_as_pages, paginate_params
from yigongti.encounters.models import Encounter
from yigongti.orgs.permissions import can

from .. import recognition, registry, workflow
from ..models import CatalogItem, CenterKind, OrderStatus, Urgency
from ..queries import orders as queries
from ..services import orders as services

FORM_FIELDS = ("resident", "encounter", "item", "urgency", "clinical_question", "repeat_reason", "prior_order")


def orderable_items(user) -> list[CatalogItem]:
    """The items of the user's community's centers (consultations have their own form)."""
    community = user.facility.community_id if user.facility_id else None
    return list(CatalogItem.objects.filter(center__community_id=community, center__active=True, active=True)
                .exclude(center__kind=CenterKind.CONSULTATION).select_related("center")
                .order_by("center__kind", "code"))


@login_required
@domain_errors_as_pages
def order_list(request: HttpRequest) -> HttpResponse:
    f = queries.OrderFilter.from_query(request.GET)
    page = queries.my_orders(Actor.from_request(request), f, paginate_params(request))
    return render(request, "telemedicine/orders/list.html", {
        "page": page, "f": f, "kinds": CenterKind.choices, "may_order": can(request.user, "telemedicine.order")})


@login_required
@domain_errors_as_pages
def order_new(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    source = request.POST if request.method == "POST" else request.GET
    values = {k: source.get(k, "") for k in FORM_FIELDS}
    values["urgency"] = values["urgency"] or Urgency.ROUTINE
    errors: dict = {}
    recent: list = []
    if request.method == "POST":
        try:
            order = services.place_order(values, request.POST.get("idempotency_key", ""), actor=actor)
            messages.success(request, _("已提交申请，申请单号 %(no)s") % {"no": order.accession_no})
            return redirect("telemedicine:order", order.pk)
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = {**e.errors, "all": [e.message]}
    if values["encounter"].isdigit() and not values["resident"]:  # ordered from an encounter
        values["resident"] = str(Encounter.objects.filter(pk=int(values["encounter"]))
                                 .values_list("resident_id", flat=True).first() or "")
    resident = services._resident_in_scope(actor, int(values["resident"])) if values["resident"].isdigit() else None
    if resident is not None and values["item"].isdigit():
        recent = recognition.recent_for(actor, resident.pk, values["item"])
    return render(request, "telemedicine/orders/form.html", {
        "values": values, "errors": errors, "resident": resident, "recent": recent,
        "items": orderable_items(request.user), "urgencies": Urgency.choices})


@login_required
@require_POST
@domain_errors_as_pages
def recognise(request: HttpRequest) -> HttpResponse:
    try:
        rec = recognition.recognise_result(int(request.POST.get("resident", 0) or 0),
                                           int(request.POST.get("item", 0) or 0),
                                           int(request.POST.get("prior_order", 0) or 0),
                                           actor=Actor.from_request(request))
    except (DomainError, ValueError) as e:
        if isinstance(e, DomainError) and e.status in (403, 404):
            raise
        messages.error(request, e.message if isinstance(e, DomainError) else _("参数无效"))
        return redirect("telemedicine:orders")
    messages.success(request, _("已记录结果互认，不重复检查"))
    return redirect("telemedicine:order", rec.prior_order_id)


def kind_panel(actor: Actor, order) -> tuple[str, dict]:
    """The kind's panel template and its context (empty when the kind's module is not there)."""
    fn = registry.KIND_PANELS.get(order.kind)
    if fn is None:
        return "", {}
    try:
        template = select_template([f"telemedicine/kinds/_{order.kind}.html"]).template.name
    except TemplateDoesNotExist:  # the kind's module registered a panel without its template
        return "", {}
    return template, fn(actor, order)


@login_required
@domain_errors_as_pages
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    order = queries.get_order_for(actor, pk)
    panel_template, panel = kind_panel(actor, order)
    report = queries.report_of(order)
    return render(request, "telemedicine/orders/detail.html", {
        "o": order, "report": report, "events": queries.events_of(order),
        "structured": workflow.structured_rows(order.kind, report.structured) if report else [],
        "panel_template": panel_template, **panel, "criticals": list(order.critical_values.all()),
        "may_cancel": order.status in workflow.TRANSITIONS["cancel"].starts
        and can(request.user, "telemedicine.cancel_order", order),
        "may_report": order.status in workflow.OPEN and can(request.user, "telemedicine.report", order),
        "may_review": order.status == OrderStatus.REPORTED and hasattr(order, "report")
        and can(request.user, "telemedicine.review", order.report)})


@login_required
@require_POST
@domain_errors_as_pages
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    order = queries.get_order_for(actor, pk)
    try:
        services.cancel_order(order.pk, request.POST.get("reason", ""), actor=actor)
        messages.success(request, _("申请单已取消"))
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return redirect("telemedicine:order", order.pk)


urlpatterns = [
    path("orders/", order_list, name="orders"),
    path("orders/new/", order_new, name="order_new"),
    path("orders/recognise/", recognise, name="recognise"),
    path("orders/<int:pk>/", order_detail, name="order"),
    path("orders/<int:pk>/cancel/", order_cancel, name="order_cancel"),
]
