"""Laboratory pages: manual entry of an order's results (township analysers without an interface) and the HL7
error queue with fix-and-replay. Thin adapters over ``lab`` and ``queries.lab``; the results panel of the
order page is ``lab.panel`` (``telemedicine/kinds/_lab.html``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError
from yigongti.core.pages import domain_errors_as_pages, paginate_params
from yigongti.orgs.permissions import check

from .. import lab
from ..models import MessageStatus
from ..queries import lab as q


@login_required
@domain_errors_as_pages
def entry(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    order = q.order_for_entry(actor, pk)
    check(actor, "telemedicine.enter_results", order)
    errors: dict = {}
    values = {r.analyte.code: r.received_value for r in q.results_of(order)}
    if request.method == "POST":
        rows = [{"analyte": a.code, "value": request.POST.get(f"value_{a.code}", ""),
                 "unit": request.POST.get(f"unit_{a.code}", "")} for a in order.item.analytes.all()]
        try:
            lab.enter_results(order.pk, rows, actor=actor)
            messages.success(request, _("检验结果已保存"))
            return redirect("telemedicine:order", pk=order.pk)
        except DomainError as e:
            if e.status == 403:
                raise
            errors = e.errors or {"all": [e.message]}
            values = {row["analyte"]: row["value"] for row in rows}
    analytes = [(a, values.get(a.code, ""), errors.get(f"value_{a.code}", [])) for a in order.item.analytes.all()]
    return render(request, "telemedicine/lab/entry.html", {"o": order, "analytes": analytes, "errors": errors})


@login_required
@domain_errors_as_pages
def queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in q.QUEUE_STATUSES else MessageStatus.ERROR
    page = q.messages(Actor.from_request(request), status, paginate_params(request))
    return render(request, "telemedicine/lab/messages.html", {
        "page": page, "status": status,
        "statuses": [(s, MessageStatus(s).label) for s in q.QUEUE_STATUSES], "waiting": q.queue_count()})


@login_required
@domain_errors_as_pages
def message(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    m = q.message_for(actor, pk)
    raw, error = m.raw, ""
    if request.method == "POST":
        raw = request.POST.get("raw", "")
        try:
            done = lab.replay_message(m.pk, raw, actor=actor)
            no = done.order.accession_no if done.order else ""
            messages.success(request, _("消息已重放并处理：%(no)s") % {"no": no})
            return redirect("telemedicine:lab_message", pk=m.pk)
        except DomainError as e:
            if e.status == 403:
                raise
            error = e.message
    return render(request, "telemedicine/lab/message.html", {
        "m": m, "raw": raw.replace("\r", "\n"), "error": error, "replays": q.replays_of(m)})


@login_required
@require_POST
@domain_errors_as_pages
def discard(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    m = q.message_for(actor, pk)
    try:
        lab.discard_message(m.pk, request.POST.get("reason", ""), actor=actor)
        messages.success(request, _("消息已作废"))
    except DomainError as e:
        if e.status == 403:
            raise
        messages.error(request, e.message)
    return redirect("telemedicine:lab_message", pk=m.pk)


urlpatterns = [
    path("lab/orders/<int:pk>/results/", entry, name="lab_entry"),
    path("lab/messages/", queue, name="lab_messages"),
    path("lab/messages/<int:pk>/", message, name="lab_message"),
    path("lab/messages/<int:pk>/discard/", discard, name="lab_message_discard"),
]
