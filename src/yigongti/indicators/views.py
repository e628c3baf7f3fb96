"""Dashboard pages: thin adapters over queries (figures, rankings, drill-down) and reports."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_POST

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.auth_redirects import safe_next
from yigongti.core.errors import DomainError
from yigongti.core.exports import EXPORT_LIMIT, list_xlsx_response
from yigongti.core.pages import domain_errors_as_pages, paginate_params
from yigongti.core.validation import parse_year

from . import queries, registry, reports, services
from .definitions import INDICATORS
from .models import EvidenceStatus
from .periods import parse_period
from .templatetags.indicator_tags import ind_name, ind_unit

DIMENSION_ORDER = ["促分工", "提效能", "保健康", "医院运行", "双向转诊", "同质化", "紧密型"]


def _params(request):
    area = queries.resolve_area(request.user, request.GET.get("area"))
    period = parse_period(request.GET["period"]) if request.GET.get("period") else queries.default_period()
    return area, period


def _num(v):
    return None if v is None else float(v)


def _chart_data(cards, ranking_rows, focus) -> dict:
    months = [m for m, _v in cards[0].trend] if cards and cards[0].trend else []
    series = {c.indicator.code: {"name": ind_name(c.indicator), "unit": ind_unit(c.indicator),
                                 "target": _num(c.indicator.target), "target_high": _num(c.indicator.target_high),
                                 "values": [_num(v) for _m, v in c.trend]}
              for c in cards if c.trend}
    return {"months": months, "series": series, "focus": focus,
            "labels": {"target": gettext("目标"), "low": gettext("下限"), "high": gettext("上限")},
            "ranking": [{"name": r["name"], "value": _num(r["value"]), "status": r["status"]} for r in ranking_rows]}


def _period_choices(period) -> list[tuple[str, str]]:
    latest = parse_period(queries.latest_month())
    out = [(m, parse_period(m).label) for m in reversed(latest.trend_months(12))]
    y = latest.last[:4]
    q = (int(latest.last[5:]) - 1) // 3 + 1
    out += [(f"{y}-Q{i}", parse_period(f"{y}-Q{i}").label) for i in range(q, 0, -1)]
    out.append((f"{latest.last}-ytd", parse_period(f"{latest.last}-ytd").label))
    out.append((str(int(y) - 1), parse_period(str(int(y) - 1)).label))
    if period.key not in {k for k, _ in out}:
        out.insert(0, (period.key, period.label))
    return out


@login_required
@domain_errors_as_pages
def dashboard(request):
    """Indicator cards against targets, the monthly trend and the ranking (月考核、月通报)."""
    area, period = _params(request)
    focus = request.GET.get("focus", "N07")
    focus = focus if focus in INDICATORS and INDICATORS[focus].from_facts else "N07"
    ctx = {"area": area, "period": period, "focus": INDICATORS[focus], "areas": queries.area_choices(request.user),
           "periods": _period_choices(period), "coverage": queries.period_coverage(period)}
    # The cards, trend and rankings depend only on the facts (their version), the area, the period, the focus
    # and the language: rendered once and cached like the figures they show (~2/3 of the page's CPU).
    key = f"indicators:dashboard:{queries._version()}:{area.key}:{period.key}:{focus}:{get_language()}"
    body = cache.get(key)
    if body is None:
        body = _dashboard_body(ctx, area, period, focus)
        cache.set(key, body, queries.CACHE_SECONDS)
    return render(request, "indicators/dashboard.html", {**ctx, "body": mark_safe(body)})  # rendered by us


def _dashboard_body(ctx: dict, area, period, focus: str) -> str:
    cards = queries.figures(area, period)
    order = DIMENSION_ORDER + [d for d in registry.DIMENSIONS if d not in DIMENSION_ORDER]  # other apps' last
    groups = [(d, [c for c in cards if c.indicator.dimension == d]) for d in order]
    children = queries.ranking(area, period, focus)
    # patient-flow indicators rank places (where patients live), not facilities
    by_facility = area.kind != "facility" and INDICATORS[focus].local_basis == "facility"
    facilities = queries.ranking(area, period, focus, by="facility") if by_facility else []
    return render_to_string("indicators/_dashboard_body.html", {
        **ctx, "groups": [g for g in groups if g[1]], "children": children, "facilities": facilities,
        "chart": _chart_data(cards, children, focus), "computed": [c.indicator for c in cards if c.trend]})


@login_required
@domain_errors_as_pages
def indicator_detail(request, code: str):
    ind = INDICATORS.get(code)
    if ind is None:
        raise Http404
    area, period = _params(request)
    card = queries.figures(area, period, [code])[0]
    children = queries.ranking(area, period, code)
    facilities = queries.ranking(area, period, code, by="facility") if area.kind != "facility" else []
    return render(request, "indicators/indicator_detail.html", {
        "ind": ind, "card": card, "area": area, "period": period, "children": children, "facilities": facilities,
        "levels": queries.level_breakdown(area, period, code) if ind.kind in ("ratio", "count") else [],
        "chart": _chart_data([card], children, code), "base": INDICATORS.get(ind.base) if ind.base else None,
        "alias_of": INDICATORS.get(ind.alias_of) if ind.alias_of else None,
    })


@login_required
@domain_errors_as_pages
def indicator_records(request, code: str):
    """The encounters (or settlements) behind a figure: person-level, scoped and audited."""
    ind = INDICATORS.get(code)
    if ind is None:
        raise Http404
    area, period = _params(request)
    facility = request.GET.get("facility", "")[:30]
    if ind.uses_settlements:
        page = queries.drill_settlements(Actor.from_request(request), code, area, period, request.GET.get("level", ""),
                                         paginate_params(request))
        template = "indicators/settlement_records.html"
    else:
        page = queries.drill_encounters(Actor.from_request(request), code, area, period, facility,
                                        paginate_params(request))
        template = "indicators/encounter_records.html"
    keep = {k: v for k, v in request.GET.items() if k != "page"}
    return render(request, template, {"ind": ind, "area": area, "period": period, "page": page,
                                      "facility": facility, "export_query": urlencode(keep),
                                      "export_limit": EXPORT_LIMIT, "areas": queries.area_choices(request.user),
                                      "periods": _period_choices(period)})


ENCOUNTER_HEADER = ["就诊/入院", "出院", "类别", "机构", "患者", "身份证号（脱敏）", "主要诊断", "总费用", "药品",
                    "材料"]
SETTLEMENT_HEADER = ["结算日期", "类别", "机构", "层级", "参保人", "总费用", "统筹支付"]


@login_required
@domain_errors_as_pages
def indicator_records_export(request, code: str):
    """The drill-down as Excel: the page's scoped rows, patients masked as the page shows them, audited."""
    ind = INDICATORS.get(code)
    if ind is None:
        raise Http404
    area, period = _params(request)
    actor = Actor.from_request(request)
    if ind.uses_settlements:
        rows = ([s.settle_date, s.get_type_display(), s.facility_name or s.facility_code,
                 s.get_facility_level_display(), f"{s.resident.name[:1]}**" if s.resident else "", s.total_cost,
                 s.fund_paid]
                for s in queries.export_drill_settlements(actor, code, area, period, request.GET.get("level", "")))
        return list_xlsx_response(f"{code}-结算明细.xlsx", "结算明细", SETTLEMENT_HEADER, rows)
    rows = ([e.admit_date, e.discharge_date if e.type == "inpatient" else "", e.get_type_display(),
             e.facility.short_name or e.facility.name,
             f"{e.resident.name[:1]}**" if e.resident else f"县外 {e.residence_county}",
             e.resident.masked_id_number if e.resident else "", f"{e.main_icd10} {e.main_diagnosis}",
             e.total_cost, e.drug_cost, e.material_cost]
            for e in queries.export_drill_encounters(actor, code, area, period, request.GET.get("facility", "")[:30]))
    return list_xlsx_response(f"{code}-就诊明细.xlsx", "就诊明细", ENCOUNTER_HEADER, rows)


@login_required
@domain_errors_as_pages
def evidence(request):
    """The evidence checklist of the qualitative indicators N01–N03, filled in by managers."""
    area = queries.resolve_area(request.user, request.GET.get("area"))
    community = queries.community_of(area)
    if community is None:
        raise Http404
    year = parse_year(request.GET.get("year") or request.POST.get("year"), default=int(queries.latest_month()[:4]))
    if request.method == "POST":
        try:
            services.record_evidence(community, year, request.POST.get("indicator", ""),
                                     request.POST.get("item", ""), request.POST.get("status", ""),
                                     request.POST.get("evidence", ""), actor=Actor.from_request(request))
            messages.success(request, "已保存")
        except DomainError as e:
            messages.error(request, e.message)
        return redirect(f"{request.path}?area={area.key}&year={year}")
    return render(request, "indicators/evidence.html", {
        "area": area, "community": community, "year": year, "checklist": queries.evidence_checklist(community, year),
        "statuses": EvidenceStatus.choices})


@login_required
@domain_errors_as_pages
def report_download(request, fmt: str):
    """月通报 as Excel or PDF for the selected area and period."""
    if fmt not in ("xlsx", "pdf"):
        raise Http404
    area, period = _params(request)
    content = reports.build_excel(area, period) if fmt == "xlsx" else reports.build_pdf(area, period)
    audit.record(request, "export", "indicator_report", area.key, period=period.key, format=fmt)
    name = f"月通报_{area.name}_{period.key}.{fmt}"
    import io

    return FileResponse(io.BytesIO(content), as_attachment=True, filename=name)


@login_required
@require_POST
def refresh(request):
    """Rebuild the facts now (bureau and managers; the worker does it nightly)."""
    try:
        services.request_refresh(actor=Actor.from_request(request))
        messages.success(request, "已安排刷新指标事实，后台任务（yigongti worker）完成后生效")
    except DomainError as e:
        messages.error(request, e.message)
    return redirect(safe_next(request, "indicators:dashboard"))  # never to another site
