"""Year-end settlement pages: choose a year and scheme; an open year shows the preview with today's figures
and (to the insurance officer) the close form; a closed year shows the result, its explanation and the
allocation per member with the statements. Thin adapters over ``queries.settlement`` and ``settlement``."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput, NotFound
from yigongti.core.exports import XLSX_TYPE, content_disposition
from yigongti.core.pages import domain_errors_as_pages
from yigongti.core.validation import parse_year, today
from yigongti.encounters.models import InsuranceScheme
from yigongti.orgs.permissions import can, check

from .. import settlement as service
from .. import statements
from ..models import YearSettlement
from ..queries import settlement as queries


def _year_url(year: int, scheme: str, community_id: int) -> str:
    return reverse("insurance:settlement_year", args=[year, scheme]) + "?" + urlencode({"community": community_id})


@login_required
@domain_errors_as_pages
def index(request):
    actor = Actor.from_request(request)
    community = queries.community_for(actor, request.GET.get("community"))
    if request.GET.get("year"):
        scheme = request.GET.get("scheme") or InsuranceScheme.RESIDENT
        return redirect(_year_url(parse_year(request.GET["year"]), scheme, community.pk))
    this = today().year
    ctx = {"community": community, "communities": queries.visible_communities(actor),
           "budgets": queries.year_budgets(community), "schemes": queries.SCHEMES,
           "years": list(range(this, this - 6, -1)), "default_year": this - 1}
    return render(request, "insurance/settlement.html", ctx)


@login_required
@domain_errors_as_pages
def year_page(request, year: int, scheme: str):
    actor = Actor.from_request(request)
    if request.method == "POST":
        check(actor, "insurance.close_year")  # refused and audited before anything is read
    community = queries.community_for(actor, request.GET.get("community") or request.POST.get("community"))
    if scheme not in queries.SCHEMES:
        raise NotFound(_("险种应为城乡居民医保或职工医保"))
    budget = queries.budget_of(community, year, scheme)
    error = None
    if request.method == "POST" and budget is not None:
        try:
            members = queries.member_stubs(community)
            method = request.POST.get("method", "")
            formula = service.formula_from_form(method, request.POST, members)
            service.close_year(budget, method, formula, actor=actor, force=request.POST.get("force") == "1")
            messages.success(request, _("%(y)s 年度清算完成") % {"y": year})
            return redirect(_year_url(year, scheme, community.pk))
        except Conflict as e:
            messages.error(request, e.message)
            return redirect(_year_url(year, scheme, community.pk))
        except InvalidInput as e:
            error = e.message
    ctx = _context(request, community, year, scheme, budget, error)
    return render(request, "insurance/settlement_year.html", ctx, status=400 if error else 200)


def _context(request, community, year, scheme, budget, error) -> dict:
    ctx = {"community": community, "communities": queries.visible_communities(Actor.from_request(request)),
           "year": year, "scheme": scheme, "scheme_label": InsuranceScheme(scheme).label, "budget": budget,
           "error": error, "schemes": queries.SCHEMES, "methods": YearSettlement.Method.choices}
    if budget is None:
        return ctx
    done = queries.settlement_of(budget)
    if done is not None:
        allocations = queries.allocations_of(done)
        return {**ctx, "settlement": done, "allocations": allocations, "totals": statements.total_rows(done),
                "rules": statements.rule_lines(done), "method_line": statements.method_line(done, allocations),
                "allocated": sum((a.amount for a in allocations), Decimal(0))}
    try:
        pv = queries.preview(budget)
    except InvalidInput as e:
        return {**ctx, "error": error or e.message}
    posted = request.POST if request.method == "POST" else {}
    members = [{"m": m, "score": posted.get(f"score_{m.facility_id}", ""),
                "share": posted.get(f"share_{m.facility_id}", "")} for m in pv.figures.members]
    try:
        default = dict(zip([m.facility_id for m in pv.figures.members],
                           service.allocate(pv.outcome.community_amount, pv.figures.members, "workload", {}),
                           strict=True))
    except InvalidInput:
        default = {}
    for row in members:
        row["default"] = default.get(row["m"].facility_id)
    return {**ctx, "preview": pv, "members": members, "rules": pv.rules.lines(),
            "totals": statements.total_rows(pv.outcome.as_dict()),
            "can_close": can(request.user, "insurance.close_year", budget),
            "early": year == today().year, "future": year > today().year,
            "posted": {"method": posted.get("method", "workload"), "basis": posted.get("basis", "workload"),
                       "inpatient_factor": posted.get("inpatient_factor", "3"), "force": posted.get("force") == "1"}}


def _file(name: str, data: bytes, fmt: str) -> HttpResponse:
    resp = HttpResponse(data, content_type="application/pdf" if fmt == "pdf" else XLSX_TYPE)
    disposition = content_disposition(name)
    resp["Content-Disposition"] = disposition.replace("attachment", "inline", 1) if fmt == "pdf" else disposition
    return resp


@login_required
@domain_errors_as_pages
def statement(request, pk: int, facility_id: int, fmt: str):
    """One member's statement (xlsx or pdf)."""
    name, data = statements.statement_file(Actor.from_request(request), pk, facility_id, fmt)
    return _file(name, data, fmt)


@login_required
@domain_errors_as_pages
def summary(request, pk: int):
    name, data = statements.summary_file(Actor.from_request(request), pk)
    return _file(name, data, "xlsx")
