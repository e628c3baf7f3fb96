"""The insurance home (the fund ledger), the budget and the reconciliation pages: thin adapters over
``queries.ledger`` and the services in ``budget``, ``ledger`` and ``reconcile``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from yigongti.core import exports, uploads
from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, InvalidInput, NotFound
from yigongti.core.pages import domain_errors_as_pages, paginate_params
from yigongti.core.paging import slice_page
from yigongti.encounters.models import InsuranceScheme
from yigongti.orgs.permissions import can

from .. import budget as budgets
from .. import ledger as ledgers
from .. import reconcile as reconciles
from ..models import ReconciliationLine
from ..queries import ledger as q

SCHEME_CHOICES = [(s.value, s.label) for s in q.SCHEMES]
BUDGET_FIELDS = ["prior_spend", "growth_rate", "withholding_rate", "prealloc", "retained_share", "overspend_cap",
                 "overspend_share", "out_of_county_deduction", "note"]


def _year(value: Any, default: int) -> int:
    try:
        y = int(value)
    except (TypeError, ValueError):
        return default
    return y if 2000 <= y <= 2100 else default


def _scheme(value: Any) -> str:
    return value if value in InsuranceScheme.values and value != InsuranceScheme.NONE else InsuranceScheme.RESIDENT


def _period(request: HttpRequest) -> tuple[Any, int, str]:
    community = q.community_for(request.user, request.GET.get("community") or request.POST.get("community"))
    today = timezone.localdate()
    return (community, _year(request.GET.get("year") or request.POST.get("year"), today.year),
            _scheme(request.GET.get("scheme") or request.POST.get("scheme")))


def bars(summary: dict[str, Any], width: int = 360, height: int = 150) -> dict[str, Any]:
    """The monthly bars (spend, and the pre-allocation beside it) as inline-SVG geometry."""
    top = max([m["spend"] for m in summary["months"]] + [m["prealloc"] for m in summary["months"]] + [Decimal(1)])
    slot = width / 12
    out = []
    for i, m in enumerate(summary["months"]):
        h_s = float(m["spend"] / top) * (height - 20)
        h_p = float(m["prealloc"] / top) * (height - 20)
        out.append({"month": m["month"], "x": round(i * slot + 2, 1), "x2": round(i * slot + slot / 2, 1),
                    "w": round(slot / 2 - 2, 1), "ys": round(height - 14 - h_s, 1), "hs": round(h_s, 1),
                    "yp": round(height - 14 - h_p, 1), "hp": round(h_p, 1), "label_x": round(i * slot + slot / 2, 1),
                    "spend": m["spend"], "prealloc": m["prealloc"], "posted": m["posted"]})
    return {"bars": out, "width": width, "height": height, "base": height - 14}


# The national indicators the ledger feeds (the indicators app computes them from the same settlements).
LEDGER_INDICATORS = [("N08", _lazy("县域内基金支出占比")), ("N09", _lazy("基层基金支出占比")),
                     ("N10", _lazy("县域内住院人均费用")), ("N11", _lazy("县域内住院人次占比"))]


def _indicator_links(community, year: int, posted: list[int]) -> dict[str, Any]:
    """N08–N11 for the year so far (links to the indicator pages) and N08 as the ledger gives it."""
    from .. import indicators

    period = f"?period={year}-{posted[-1]:02d}-ytd" if posted else f"?period={year}"
    done = indicators.posted(community, [(year, m) for m in posted])
    return {"links": [(code, label, reverse("indicators:detail", args=[code]) + period)
                      for code, label in LEDGER_INDICATORS],
            "n08": indicators.ledger_in_county_share(community, done) if done else None}


@login_required
@domain_errors_as_pages
def ledger(request: HttpRequest) -> HttpResponse:
    """医保基金台账: budget against spend, months, levels, costliest groups, the forecast."""
    community, year, scheme = _period(request)
    summary = q.ledger_summary(community, year, scheme)
    years = sorted(set(q.ledger_years(community)) | {timezone.localdate().year}, reverse=True)
    return render(request, "insurance/ledger.html", {
        "community": community, "communities": q.visible_communities(request.user), "year": year,
        "scheme": scheme, "schemes": SCHEME_CHOICES, "years": years, "s": summary, "chart": bars(summary),
        "indicators": _indicator_links(community, year, summary["posted"]),
        "can_post": can(request.user, "insurance.post_ledger"), "can_budget": can(request.user,
                                                                                  "insurance.set_budget")})


@login_required
@require_POST
@domain_errors_as_pages
def post_ledger(request: HttpRequest) -> HttpResponse:
    community, year, scheme = _period(request)
    month = request.POST.get("month", "")
    try:
        if month:
            n = ledgers.post_month(community, year, int(month), actor=Actor.from_request(request))
        else:
            n = ledgers.post_year(community, year, actor=Actor.from_request(request))
        messages.success(request, _("已过账 %(year)s 年%(what)s，共 %(n)s 行台账")
                         % {"year": year, "what": (_("%(m)s 月") % {"m": month}) if month else _("全年"), "n": n})
    except (DomainError, ValueError) as e:
        if isinstance(e, DomainError) and e.status == 403:
            raise
        messages.error(request, str(e) if isinstance(e, DomainError) else _("月份应为 1–12"))
    return redirect(f"{reverse('insurance:ledger')}?community={community.pk}&year={year}&scheme={scheme}")


def _budget_context(request, community, year: int, scheme: str, form: dict | None = None,
                    errors: dict | None = None) -> dict[str, Any]:
    proposal = budgets.propose_budget(community, year, scheme)
    current = budgets.current_budget(community, year, scheme)
    if form is None:
        base = current
        form = {"prior_spend": proposal["prior_spend"], "growth_rate": proposal["growth_rate"],
                "withholding_rate": base.withholding_rate if base else Decimal("0.05"),
                "prealloc": (base.rules or {}).get("prealloc_method", "seasonal") if base else "seasonal",
                "retained_share": base.retained_share if base else Decimal("0.6"),
                "overspend_cap": base.overspend_cap if base else Decimal("0.1"),
                "overspend_share": base.overspend_share if base else Decimal("0.5"),
                "out_of_county_deduction": base.out_of_county_deduction if base else Decimal("0.1"),
                "filed_rate": ((base.rules or {}).get("out_of_county_rates") or {}).get("filed", "0.60") if base
                else "0.60",
                "unfiled_rate": ((base.rules or {}).get("out_of_county_rates") or {}).get("unfiled", "0.40") if base
                else "0.40", "note": ""}
    return {"community": community, "communities": q.visible_communities(request.user), "year": year,
            "scheme": scheme, "schemes": SCHEME_CHOICES, "proposal": proposal, "current": current,
            "versions": q.budgets_of(community, year, scheme), "all_budgets": q.budgets_of(community)[:40],
            "form": form, "errors": errors or {}, "can_budget": can(request.user, "insurance.set_budget"),
            "pct": {**_percents(current), "proposal_growth": _pct(proposal["growth_rate"])},
            "prealloc_choices": [("seasonal", _("按上年各月")), ("even", _("平均（每月 1/12）"))]}


RATE_FIELDS = ("growth_rate", "withholding_rate", "retained_share", "overspend_cap", "overspend_share",
               "out_of_county_deduction")


def _percents(b) -> dict[str, str]:
    """The budget's rates (fractions) as percentages for reading: 0.0482 → "4.82"."""
    if b is None:
        return {}
    return {f: _pct(getattr(b, f)) for f in RATE_FIELDS}


def _pct(fraction: Any) -> str:
    return f"{(Decimal(fraction) * 100).quantize(Decimal('0.01')).normalize():f}"


@login_required
@domain_errors_as_pages
def budget(request: HttpRequest, year: int | None = None, scheme: str | None = None) -> HttpResponse:
    """基金预算: the proposal from the prior year's spend, the versions, and (officer) the form of a new version."""
    community, y, s = _period(request)
    if year is not None and not 2000 <= year <= 2100:
        raise NotFound()
    year, scheme = (year or y), _scheme(scheme or s)
    if request.method == "POST":
        form = {k: request.POST.get(k, "").strip() for k in [*BUDGET_FIELDS, "filed_rate", "unfiled_rate"]}
        data: dict[str, Any] = {k: form[k] for k in BUDGET_FIELDS if form[k] != ""}
        data["rules"] = {"out_of_county_rates": {"filed": form["filed_rate"] or "0.60",
                                                 "unfiled": form["unfiled_rate"] or "0.40"}}
        try:
            b = budgets.set_budget(community, year, scheme, data, actor=Actor.from_request(request))
        except InvalidInput as e:
            return render(request, "insurance/budget.html",
                          _budget_context(request, community, year, scheme, form, e.errors or {"": [e.message]}),
                          status=422)
        except DomainError as e:
            if e.status == 403:
                raise
            messages.error(request, e.message)
        else:
            messages.success(request, _("已保存 %(year)s 年%(scheme)s预算（第 %(v)s 版）")
                             % {"year": year, "scheme": b.get_scheme_display(), "v": b.version})
        return redirect(reverse("insurance:budget_year", args=[year, scheme]) + f"?community={community.pk}")
    return render(request, "insurance/budget.html", _budget_context(request, community, year, scheme))


@login_required
@domain_errors_as_pages
def reconcile(request: HttpRequest) -> HttpResponse:
    """月度对账: upload the agency's statement (officer) and the list of past reconciliations."""
    community, year = _period(request)[:2]
    error = ""
    if request.method == "POST":
        try:
            uploads.check_request_size(request)
            upload = uploads.required_upload(request, request.FILES.get("file"))
            month = int(request.POST.get("month") or 0)
            rec = reconciles.reconcile(community, year, month, upload, actor=Actor.from_request(request))
            return redirect("insurance:reconcile_detail", rec.pk)
        except ValueError:
            error = _("请选择对账月份")
        except DomainError as e:
            if e.status == 403:
                raise
            error = e.message
    today = timezone.localdate()
    return render(request, "insurance/reconcile.html", {
        "community": community, "year": year, "months": range(1, 13), "month": today.month,
        "records": q.reconciliations_of(community)[:50], "error": error,
        "can_reconcile": can(request.user, "insurance.reconcile"), "header": reconciles.HEADER,
        "notes": reconciles.NOTES}, status=422 if error else 200)


@login_required
@domain_errors_as_pages
def reconcile_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rec = q.reconciliation_for(request.user, pk)
    kind = request.GET.get("kind", "")
    page = slice_page(q.reconciliation_lines(rec, kind), paginate_params(request), 50)
    return render(request, "insurance/reconcile_detail.html", {
        "rec": rec, "page": page, "kind": kind, "kinds": ReconciliationLine.Kind.choices,
        "counts": reconciles.counts_by_kind(rec), "total_gap": rec.agency_total - rec.ledger_total})


@login_required
@domain_errors_as_pages
def reconcile_template(request: HttpRequest) -> HttpResponse:
    q.visible_communities(request.user)  # readers only
    resp = HttpResponse(reconciles.template_xlsx(), content_type=exports.XLSX_TYPE)
    resp["Content-Disposition"] = exports.content_disposition("医保对账单模板.xlsx")
    return resp
