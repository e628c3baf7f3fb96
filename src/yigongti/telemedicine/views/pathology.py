"""Pages of pathology: the specimen desk (the center's, or the ordering facility's), one pathology order's page
(specimens and their moves, photographs, the pathology report form), and the moves as POSTs. Thin adapters over
``pathology`` and ``queries.pathology``; the order page of ``views/orders.py`` shows the same panel."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, InvalidInput
from yigongti.core.pages import domain_errors_as_pages, paginate_params

from .. import pathology
from ..models import ReportTemplate
from ..queries import pathology as queries
from ..queries.orders import center_ids_of, get_order_for, report_of


@login_required
@domain_errors_as_pages
def desk(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    tab = request.GET.get("tab", "waiting")
    tab = tab if tab in queries.TABS else "waiting"
    return render(request, "telemedicine/pathology/desk.html", {
        "page": queries.desk(actor, tab, paginate_params(request)), "tab": tab,
        "counts": queries.counts(request.user), "is_center": bool(center_ids_of(request.user))})


@login_required
@domain_errors_as_pages
def order_page(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    order = get_order_for(actor, pk)
    if order.kind != "pathology":
        return redirect("telemedicine:order", order.pk)
    return render(request, "telemedicine/pathology/order.html", {
        "o": order, "report": report_of(order), **pathology.panel(actor, order),
        "templates": ReportTemplate.objects.filter(center_id=order.center_id), "standalone": True})


def _back(order_pk: int) -> HttpResponse:
    return redirect("telemedicine:pathology_order", order_pk)


def _attempt(request: HttpRequest, fn, done: str) -> None:
    try:
        fn()
        messages.success(request, done)
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)


@login_required
@require_POST
@domain_errors_as_pages
def collect(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    order = get_order_for(actor, pk)
    fields = ("specimen_type", "site", "container_count", "fixative", "collected_at")
    _attempt(request, lambda: pathology.register_specimen(order.pk, {k: request.POST.get(k, "") for k in fields
                                                                     if request.POST.get(k, "") != ""}, actor=actor),
             _("已登记标本"))
    return _back(order.pk)


@login_required
@require_POST
@domain_errors_as_pages
def move(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    actor = Actor.from_request(request)
    specimen = pathology._specimen(pk)
    get_order_for(actor, specimen.order_id)  # the door: a specimen of an order the user cannot see is a 404
    _attempt(request, lambda: pathology.move_specimen(specimen.pk, action, request.POST.get("reason", ""), actor=actor),
             _("标本状态已更新"))
    return _back(specimen.order_id)


@login_required
@require_POST
@domain_errors_as_pages
def image(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    order = get_order_for(actor, pk)

    def upload() -> None:
        files = request.FILES.getlist("files")
        if not files:
            raise InvalidInput("file_missing", _("请选择要上传的图片"), field="files")
        for f in files:
            pathology.attach_image(order.pk, f, actor=actor)

    _attempt(request, upload, _("已上传图片"))
    return _back(order.pk)


@login_required
@require_POST
@domain_errors_as_pages
def report(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    order = get_order_for(actor, pk)
    _attempt(request, lambda: pathology.report_pathology(order.pk, {
        k: request.POST.get(k, "") for k in ("gross", "microscopic", "diagnosis", "template")}, actor=actor),
        _("病理报告已签发"))
    return _back(order.pk)


urlpatterns = [
    path("pathology/", desk, name="pathology"),
    path("pathology/orders/<int:pk>/", order_page, name="pathology_order"),
    path("pathology/orders/<int:pk>/specimens/", collect, name="pathology_collect"),
    path("pathology/orders/<int:pk>/images/", image, name="pathology_image"),
    path("pathology/orders/<int:pk>/report/", report, name="pathology_report"),
    path("pathology/specimens/<int:pk>/<str:action>/", move, name="pathology_move"),
]
