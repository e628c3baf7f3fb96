"""Pages of 转外就医备案 (out-of-county filings) and 先诊疗后付费 (pay-later accounts): thin adapters over
``queries.cases``, ``filings`` and ``pay_later``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError
from yigongti.core.pages import domain_errors_as_pages, paginate_params
from yigongti.orgs.permissions import can

from .. import filings, pay_later
from ..models import OutOfCountyFiling, PayLater
from ..queries import cases as queries

FILING_FIELDS = ("resident", "referral", "hospital", "reason", "valid_from", "valid_until")


@login_required
@domain_errors_as_pages
def filing_list(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    errors: dict = {}
    values = {k: request.GET.get(k, "") for k in ("resident", "referral")}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in FILING_FIELDS}
        try:
            filing = filings.file_out_of_county(values, actor=actor)
            messages.success(request, _("已办理转外就医备案 #%(n)d") % {"n": filing.pk})
            return redirect("insurance:filings")
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = e.errors or {"all": [e.message]}
    f = queries.FilingFilter.from_query(request.GET)
    page = queries.filing_list(actor, f, paginate_params(request))
    return render(request, "insurance/filings.html", {
        "page": page, "f": f, "errors": errors, "values": values, "statuses": OutOfCountyFiling.Status.choices,
        "may_file": can(request.user, "insurance.file_out_of_county"), "valid_days": filings.FILING_VALID_DAYS})


@login_required
@require_POST
@domain_errors_as_pages
def filing_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    filing = queries.get_filing_for(actor, pk)
    try:
        filings.revoke_filing(filing, actor=actor, reason=request.POST.get("reason", ""))
        messages.success(request, _("备案 #%(n)d 已撤销") % {"n": filing.pk})
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return redirect("insurance:filings")


@login_required
@domain_errors_as_pages
def pay_later_list(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    errors: dict = {}
    values = {k: request.POST.get(k, "") for k in ("encounter", "amount_due", "due_date")}
    if request.method == "POST":
        try:
            encounter = queries.encounter_for_pay_later(actor, values["encounter"])
            pay_later.open_pay_later(encounter, values, actor=actor)
            messages.success(request, _("已办理先诊疗后付费"))
            return redirect("insurance:pay_later")
        except DomainError as e:
            if e.status == 403:
                raise
            errors = e.errors or {"encounter" if e.status == 404 else "all": [e.message]}
    f = queries.PayLaterFilter.from_query(request.GET)
    page = queries.pay_later_list(actor, f, paginate_params(request))
    statuses = [("unsettled", _("未结清")), *PayLater.Status.choices, ("", _("全部"))]
    return render(request, "insurance/pay_later.html", {
        "page": page, "f": f, "statuses": statuses, "facilities": queries.facility_choices(request.user),
        "errors": errors, "values": values, "may_open": can(request.user, "insurance.open_pay_later"),
        "may_settle": can(request.user, "insurance.settle_pay_later")})


@login_required
@require_POST
@domain_errors_as_pages
def pay_later_settle(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    account = queries.get_pay_later_for(actor, pk)
    try:
        pay_later.settle_pay_later(account, request.POST.get("settlement_no", ""), actor=actor)
        messages.success(request, _("已结清"))
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return redirect("insurance:pay_later")
