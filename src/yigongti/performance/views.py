"""Pages of payroll and performance: the home (N06 and the payroll summary by facility), the payroll import with its
problem report, one facility's staff rows (audited), the schemes and their editor, satisfaction entry, and a
month's scores by facility with the drill-down to the lines and the departments.

Each view parses, calls a query or a service, and renders; refused input is shown in Chinese beside the form."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core import audit, exports, uploads
from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, NotFound
from yigongti.orgs.models import Department
from yigongti.orgs.permissions import can, check

from . import payroll, queries, scoring, services
from .models import ItemKind, SchemeLevel, SchemeRole


def _year(request, years: list[int]) -> int:
    raw = str(request.GET.get("year") or "").strip()
    if raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    return years[0] if years else timezone.localdate().year - 1


@login_required
def home(request):
    queries.gate(request.user)
    years = queries.payroll_years(request.user)
    year = _year(request, years)
    rows = queries.summary_by_facility(request.user, year)
    return render(request, "performance/home.html", {
        "year": year, "years": years, "rows": rows, "levels": queries.level_means(rows),
        "n06": queries.n06_for(request.user, year),
        "may_import": can(request.user, "performance.import_payroll"),
        "months": queries.months_scored(request.user)[:12]})


@login_required
def payroll_import(request):
    """GET: the upload form and the account's imports; POST: import the file, then show its result."""
    queries.gate(request.user)
    check(Actor.from_request(request), "performance.import_payroll")  # the verb's message, audited
    this_year = timezone.localdate().year
    if request.method == "POST":
        try:
            uploads.check_request_size(request)
            upload = uploads.required_upload(request, request.FILES.get("file"))
            with uploads.saved_upload(upload, suffixes=(".xlsx", ".xlsm", ".csv")) as p:
                batch = payroll.import_payroll(p, upload.name, request.POST.get("year"),
                                               actor=Actor.from_request(request))
            messages.success(request, payroll.describe(batch))
            return redirect("performance:import", pk=batch.pk)
        except DomainError as e:
            if e.status in (403, 404):
                raise
            messages.error(request, e.message)
    return render(request, "performance/import.html", {
        "imports": queries.imports_visible_to(request.user)[:30], "years": list(range(this_year, this_year - 6, -1)),
        "default_year": this_year - 1, "max_rows": payroll.MAX_ROWS,
        "max_size": uploads.human_size(uploads.max_upload_bytes())})


@login_required
def payroll_import_detail(request, pk: int):
    queries.gate(request.user)
    batch = queries.get_import_for(request.user, pk)
    return render(request, "performance/import_detail.html", {"batch": batch, "summary": payroll.describe(batch)})


@login_required
def payroll_import_report(request, pk: int):
    """The rows that did not go in, as CSV (UTF-8 with BOM): names and masked ID numbers, an audited read."""
    queries.gate(request.user)
    batch = queries.get_import_for(request.user, pk)
    audit.record(Actor.from_request(request), "export", "payroll_import", batch.pk, report="problems.csv")
    return exports.csv_response(f"payroll-{batch.year}-{batch.pk}-problems.csv", payroll.REPORT_HEADER,
                                payroll.report_rows(batch))


@login_required
def payroll_template(request):
    queries.gate(request.user)
    resp = HttpResponse(payroll.template_xlsx(), content_type=exports.XLSX_TYPE)
    resp["Content-Disposition"] = exports.content_disposition("年度薪酬导入模板.xlsx")
    return resp


@login_required
def payroll_facility(request, pk: int):
    """One facility's staff rows of a year: its own admin or a community manager; audited."""
    queries.gate(request.user)
    facility = queries.facilities_visible_to(request.user).filter(pk=pk).first()
    if facility is None:
        raise NotFound()
    years = queries.payroll_years(request.user)
    year = _year(request, years)
    rows = queries.payroll_rows(Actor.from_request(request), facility, year)
    return render(request, "performance/payroll_facility.html", {"facility": facility, "year": year,
                                                                 "years": years, "rows": rows})


# ---- schemes -----------------------------------------------------------------------------------------------------

@login_required
def schemes(request):
    queries.gate(request.user)
    return render(request, "performance/schemes.html", {
        "schemes": queries.schemes_visible_to(request.user).prefetch_related("items"),
        "may_edit": can(request.user, "performance.edit_scheme")})


def _items_from_post(post) -> list[dict]:
    out = []
    for n in range(int(post.get("n_items") or 0) if str(post.get("n_items") or "").isdigit() else 0):
        if post.get(f"delete_{n}"):
            continue
        kind, _sep, measure = str(post.get(f"what_{n}", "")).partition(":")
        out.append({"kind": kind, "measure": measure,
                    **{k: post.get(f"{k}_{n}", "") for k in ("weight", "target", "direction", "cap")}})
    return out[:40]


def _scheme_form(request, scheme):
    errors: dict = {}
    if request.method == "POST":
        form = request.POST.dict()
        items = _items_from_post(request.POST)
        try:
            s = services.save_scheme(Actor.from_request(request), scheme, form, items)
            messages.success(request, _("已保存绩效方案"))
            return redirect("performance:scheme", pk=s.pk)
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = e.errors or {"__all__": [e.message]}
            messages.error(request, e.message)
    elif scheme is not None:
        form = {"name": scheme.name, "level": scheme.level, "facility": str(scheme.facility_id or ""),
                "role": scheme.role, "pool": str(scheme.pool), "is_active": "1" if scheme.is_active else ""}
        items = [{"kind": i.kind, "measure": i.measure, "weight": str(i.weight), "target": str(i.target),
                  "direction": i.direction, "cap": str(i.cap)} for i in scheme.items.all()]
    else:
        form = {"level": "township", "role": "all", "pool": "0", "is_active": "1"}
        items = []
    blank = {"kind": "", "measure": "", "weight": "", "target": "", "direction": "higher", "cap": "1.00"}
    rows = [*items, blank, dict(blank)]
    measures = ([(ItemKind.WORKLOAD, k, _(v)) for k, v in scoring.WORKLOADS.items()]
                + [(ItemKind.INDICATOR, k, v) for k, v in services.indicator_choices()]
                + [(ItemKind.SATISFACTION, "satisfaction", _("患者满意度"))])
    return render(request, "performance/scheme_form.html", {
        "scheme": scheme, "form": form, "rows": rows, "errors": errors, "kinds": ItemKind.choices,
        "measures": measures, "levels": SchemeLevel.choices, "roles": SchemeRole.choices,
        "facilities": queries.facilities_visible_to(request.user),
        "may_edit": can(request.user, "performance.edit_scheme", scheme)}, status=422 if errors else 200)


@login_required
def scheme_new(request):
    queries.gate(request.user)
    check(Actor.from_request(request), "performance.edit_scheme")
    return _scheme_form(request, None)


@login_required
def scheme_detail(request, pk: int):
    queries.gate(request.user)
    scheme = queries.get_scheme_for(request.user, pk)
    return _scheme_form(request, scheme)


# ---- satisfaction and scores --------------------------------------------------------------------------------------

@login_required
def satisfaction(request):
    queries.gate(request.user)
    check(Actor.from_request(request), "performance.enter_satisfaction")
    form: dict = {"month": f"{timezone.localdate().replace(day=1) - dt.timedelta(days=1):%Y-%m}"}
    errors: dict = {}
    if request.method == "POST":
        form = request.POST.dict()
        try:
            services.enter_satisfaction(Actor.from_request(request), form)
            messages.success(request, _("已保存患者满意度"))
            return redirect("performance:satisfaction")
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = e.errors or {"__all__": [e.message]}
            messages.error(request, e.message)
    facilities = [f for f in queries.facilities_visible_to(request.user)
                  if can(request.user, "performance.enter_satisfaction", f)]
    from .models import Satisfaction

    return render(request, "performance/satisfaction.html", {
        "form": form, "errors": errors, "facilities": facilities,
        "departments": Department.objects.filter(facility__in=facilities, is_clinical=True)
        .select_related("facility").order_by("facility__code", "code")[:500],
        "recent": Satisfaction.objects.filter(facility__in=facilities).select_related("facility", "department")[:50]},
        status=422 if errors else 200)


@login_required
def scores(request):
    queries.gate(request.user)
    months = queries.months_scored(request.user)
    raw = str(request.GET.get("month") or (months[0] if months else "")).strip()
    month = None
    if raw:
        try:
            month = services.parse_month(raw)
        except DomainError as e:
            messages.error(request, e.message)
    return render(request, "performance/scores.html", {
        "months": months, "month": month, "runs": queries.month_scores(request.user, month) if month else [],
        "schemes": [s for s in queries.schemes_visible_to(request.user) if can(request.user, "performance.score", s)],
        "default_month": f"{timezone.localdate().replace(day=1) - dt.timedelta(days=1):%Y-%m}"})


@login_required
@require_POST
def score_month(request):
    queries.gate(request.user)
    scheme = queries.get_scheme_for(request.user, request.POST.get("scheme"))
    try:
        run = services.score_month(Actor.from_request(request), scheme, request.POST.get("month"))
        messages.success(request, _("已完成 %(m)s 月度绩效考核") % {"m": f"{run.month:%Y-%m}"})
        return redirect(f"{reverse('performance:scores')}?month={run.month:%Y-%m}")
    except DomainError as e:
        if e.status == 404:
            raise
        messages.error(request, e.message)
    return redirect("performance:scores")


@login_required
def score_facility(request, pk: int, facility_id: int):
    queries.gate(request.user)
    run = queries.get_run_for(request.user, pk)
    top, depts = queries.facility_scores(request.user, run, facility_id)
    return render(request, "performance/score_facility.html", {"run": run, "top": top, "depts": depts})


def _safe(view):
    from yigongti.core.pages import domain_errors_as_pages

    return domain_errors_as_pages(view)


urlpatterns = [
    path("", _safe(home), name="home"),
    path("payroll/import/", _safe(payroll_import), name="imports"),
    path("payroll/import/<int:pk>/", _safe(payroll_import_detail), name="import"),
    path("payroll/import/<int:pk>/problems.csv", _safe(payroll_import_report), name="import_report"),
    path("payroll/template.xlsx", _safe(payroll_template), name="template"),
    path("payroll/facility/<int:pk>/", _safe(payroll_facility), name="payroll_facility"),
    path("schemes/", _safe(schemes), name="schemes"),
    path("schemes/new/", _safe(scheme_new), name="scheme_new"),
    path("schemes/<int:pk>/", _safe(scheme_detail), name="scheme"),
    path("satisfaction/", _safe(satisfaction), name="satisfaction"),
    path("scores/", _safe(scores), name="scores"),
    path("scores/score/", _safe(score_month), name="score_month"),
    path("scores/<int:pk>/facility/<int:facility_id>/", _safe(score_facility), name="score_facility"),
]
