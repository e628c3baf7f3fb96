"""Referral pages: thin adapters over ``queries`` and ``services``."""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, Forbidden
from yigongti.core.exports import EXPORT_LIMIT, list_xlsx_response
from yigongti.core.idcard import looks_like_id_number
from yigongti.core.pages import domain_errors_as_pages, hx_or_full, option_tags, paginate_params
from yigongti.orgs.permissions import can
from yigongti.residents.queries import ResidentFilter, get_resident_for, search_residents

from . import indicators, queries, services, sheet, workflow
from .inputs import ReferralInput
from .models import CareLevel, Direction, FollowUpStatus, PregnancyRisk, Urgency
from .outflow import SORTS, outflow
from .services import OUTCOMES, RESULTS

_targets = queries.target_facilities
EXTERNAL_LEVELS = [(CareLevel.CITY, CareLevel.CITY.label), (CareLevel.PROVINCE, CareLevel.PROVINCE.label)]


@login_required
@domain_errors_as_pages
def my_list(request):
    if "box" not in request.GET and services.center_ids_of(request.user):
        return redirect("referrals:center")  # the center's staff start from the queue
    box = request.GET.get("box", "todo")
    f = queries.ReferralFilter.from_query(request.GET)
    actor, number = Actor.from_request(request), paginate_params(request)
    follow = box == "follow"  # every planned follow-up, paged; the to-do box shows the week's
    page = queries.follow_up_page(actor, number, f=f) if follow else queries.my_referrals(actor, box, number, f=f)
    rows = "referrals/_follow_up_rows.html" if follow else "referrals/_referral_rows.html"
    ctx = {"page": page, "box": box, "follow_ups": queries.due_follow_ups(request.user)[:50] if box == "todo" else [],
           "overdue_follow_ups": queries.overdue_follow_up_count(request.user), "rows_template": rows,
           "is_center": bool(services.center_ids_of(request.user)), "f": f, "export_limit": EXPORT_LIMIT,
           "export_query": urlencode({"box": box, **f.as_dict()}), **queries.filter_choices(request.user)}
    return hx_or_full(request, "referrals/referral_list.html", rows, ctx)


EXPORT_HEADER = ["编号", "方向", "紧急程度", "患者", "诊断", "转出", "接收", "状态", "提交时间"]
FOLLOW_UP_HEADER = ["计划日期", "类型", "逾期", "患者", "诊断", "转诊单"]


@login_required
@domain_errors_as_pages
def referral_export(request):
    """A referral list (``box``, or the center's ``tab``) as filtered, as Excel: the page's scoped rows and
    columns, audited with the ids it carried."""
    f = queries.ReferralFilter.from_query(request.GET)
    if request.GET.get("box") == "follow":
        follow_ups = queries.export_follow_ups(Actor.from_request(request), f)
        return list_xlsx_response("随访计划.xlsx", "随访", FOLLOW_UP_HEADER, (
            [x.due_date, x.get_kind_display(), "逾期" if x.is_overdue else "", x.referral.resident.name,
             f"{x.referral.icd10} {x.referral.diagnosis}", f"#{x.referral_id}"] for x in follow_ups))
    rows = queries.export_referrals(Actor.from_request(request), f, box=request.GET.get("box", ""),
                                    tab=request.GET.get("tab", ""))
    cells = ([f"#{r.pk}", r.get_direction_display(), r.get_urgency_display(), r.resident.name,
              f"{r.icd10} {r.diagnosis}", r.from_facility.short_name or r.from_facility.name,
              r.to_name + (f" · {r.to_department.name}" if r.to_department_id else ""), r.get_status_display(),
              timezone.localtime(r.submitted_at).strftime("%Y-%m-%d %H:%M") if r.submitted_at else ""]
             for r in rows)
    return list_xlsx_response("转诊单.xlsx", "转诊", EXPORT_HEADER, cells)


@login_required
@domain_errors_as_pages
def pick_patient(request):
    # POSTed by the form: an ID number typed here must not land in URLs and access logs (a GET with one is ignored)
    q = (request.POST if request.method == "POST" else request.GET).get("q", "").strip()[:40]
    if request.method != "POST" and looks_like_id_number(q):
        q = ""
    page = search_residents(Actor.from_request(request), ResidentFilter(q=q), 1, 10) if q else None
    return render(request, "referrals/_patient_pick.html", {"page": page, "q": q})


@login_required
def guideline_check(request):
    g = request.GET
    direction, icd10 = g.get("direction", Direction.UP), g.get("icd10", "")
    flags = {"ecg_changes": bool(g.get("ecg_changes")), "major_trauma": bool(g.get("major_trauma"))}
    advice, green = None, "" if direction == Direction.DOWN else workflow.green_channel(icd10, **flags)
    if request.user.facility_id and icd10:
        level = services.destination_level(direction, g.get("to_facility", ""), g.get("to_external", ""),
                                           g.get("to_level", ""))
        advice, green = services.guideline_advice(request.user, icd10, direction, level,
                                                  meets_up=bool(g.get("meets_up_criteria")),
                                                  pregnancy_risk=g.get("pregnancy_risk", ""), **flags)
    return render(request, "referrals/_guideline.html", {
        "advice": advice, "direction": direction, "green": green, "pregnancy": workflow.is_pregnancy(icd10)})


@login_required
@domain_errors_as_pages
def referral_new(request):
    """The referral form, up (default) or down (``?direction=down&source=<referral>``)."""
    src = request.POST if request.method == "POST" else request.GET
    direction = src.get("direction", Direction.UP)
    direction = direction if direction in Direction.values else Direction.UP
    source = None
    if src.get("source"):
        source = queries.get_referral_for(Actor.from_request(request), src["source"])
    errors, warning = {}, ""
    if request.method == "POST":
        try:
            inp = ReferralInput.from_form(request.POST, direction=direction,
                                          source_referral=source.pk if source else None)
            r = services.submit_referral(inp, actor=Actor.from_request(request))
            messages.success(request, _("转诊单已保存为草稿") if inp.draft else _("转诊单已提交"))
            return redirect("referrals:detail", pk=r.pk)
        except DomainError as e:
            if e.code == "guideline_warning":
                warning = e.message
            else:
                errors = e.errors or {"__all__": [e.message]}
        values = request.POST
        key = request.POST.get("idempotency_key") or uuid.uuid4().hex
    else:
        key = uuid.uuid4().hex  # a retried POST of this form carries the same key: no duplicate
        values = {}
        if source is not None:
            values = {"icd10": source.icd10, "diagnosis": source.diagnosis, "to_facility": str(source.from_facility_id),
                      "reason": "病情稳定，转回基层继续康复与随访"}
    patient = source.resident if source else None
    if patient is None and str(values.get("resident", "") or request.GET.get("resident", "")).isdigit():
        patient = get_resident_for(Actor.from_request(request), values.get("resident") or request.GET.get("resident"))
    today = dt.date.today()
    return render(request, "referrals/referral_form.html", {
        "direction": direction, "source": source, "patient": patient, "values": values, "errors": errors,
        "warning": warning, "key": key, "targets": _targets(request.user, direction), "urgencies": Urgency.choices,
        "external_levels": EXTERNAL_LEVELS, "risks": PregnancyRisk.choices,
        "default_dates": [(today + dt.timedelta(days=d)).isoformat() for d in workflow.DOWN_FOLLOW_UP_DAYS],
    })


@login_required
@domain_errors_as_pages
def center_queue(request):
    if not services.center_ids_of(request.user):
        raise Forbidden(_("只有转诊服务中心的工作人员可以打开转诊中心工作台"))
    tab = request.GET.get("tab", "pending")
    f = queries.ReferralFilter.from_query(request.GET)
    page = queries.center_queue(Actor.from_request(request), tab, paginate_params(request), f=f, brief=True)
    ctx = {"page": page, "tab": tab, "f": f, "export_limit": EXPORT_LIMIT,
           "export_query": urlencode({"tab": tab, **f.as_dict()})}
    if not request.htmx or request.htmx.boosted:  # the whole page: tab counts and the filter (HTMX: the rows only)
        choices = queries.filter_choices(request.user)
        ctx.update(choices, counts=queries.queue_counts(request.user), options={
            "townships": option_tags(choices["townships"], f.township),
            "villages": option_tags(choices["villages"], f.village),
            "facilities": option_tags(choices["facilities"], f.facility)})
    return hx_or_full(request, "referrals/center_queue.html", "referrals/_queue_rows.html", ctx)


@login_required
@domain_errors_as_pages
def detail(request, pk: int):
    r = queries.get_referral_for(Actor.from_request(request), pk)
    user = request.user
    may = {a: services.may(user, r, a) for a in services.MOVES}
    follow_ups = [(f, services.may_follow_up(user, r, f)) for f in r.follow_ups.all()]  # (row, may record it)
    ctx = {"r": r, "can": may, "events": r.events.select_related("actor"), "follow_ups": follow_ups,
           "shared": queries.shared_record(Actor.from_request(request), r), "outcomes": OUTCOMES, "results": RESULTS,
           "can_refer_down": services.may_refer_down(user, r),
           "reimbursement": workflow.reimbursement_basis(bool(r.to_external), r.insurance_filing_no)
           if r.direction == Direction.UP else ""}
    if may["accept"] or may["redirect"]:
        ctx["departments"], ctx["doctors"] = queries.receiving_choices(r)
        ctx["redirect_targets"] = [f for f in _targets(r.referred_by, r.direction) if f.pk != r.to_facility_id]
        ctx["external_levels"] = EXTERNAL_LEVELS
    return render(request, "referrals/referral_detail.html", ctx)


@login_required
@domain_errors_as_pages
def capacity(request, pk: int):
    """The accept form's slot and bed selects for the chosen department (HTMX)."""
    r = queries.get_referral_for(Actor.from_request(request), pk)
    dept = queries.receiving_department(r, request.GET.get("department", ""))
    cap = queries.capacity_of(dept, exclude=r.pk) if dept else None
    days = sheet.slots_by_day(cap.slots) if cap else []
    return render(request, "referrals/_capacity.html", {"cap": cap, "days": days})


@login_required
@domain_errors_as_pages
def print_sheet(request, pk: int):
    """The printable 转诊单 (A4, or 80 mm thermal paper with ``?size=80mm``) with the QR code of its number."""
    r = queries.get_referral_for(Actor.from_request(request), pk)
    return render(request, "referrals/referral_print.html", sheet.context(r, request.GET.get("size", "a4")))


@login_required
@require_POST
@domain_errors_as_pages
def act(request, pk: int, action: str):
    if action not in services.MOVES:
        raise Http404
    actor = Actor.from_request(request)
    queries.check_visible(actor, pk)  # 404 for those who cannot see it
    try:
        services.perform(pk, action, request.POST.dict(), actor=actor)
        messages.success(request, _("已%(action)s") % {"action": workflow.ACTION_LABELS[action]})
        if action == "complete" and request.POST.get("then") == "down":
            return redirect(f"/referrals/new/?direction=down&source={pk}")
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return redirect("referrals:detail", pk=pk)


@login_required
@require_POST
@domain_errors_as_pages
def follow_up(request, pk: int, fid: int):
    try:
        services.record_follow_up(pk, fid, actor=Actor.from_request(request), note=request.POST.get("note", ""),
                                  status=request.POST.get("status", FollowUpStatus.DONE))
        messages.success(request, _("随访已登记"))
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return redirect("referrals:detail", pk=pk)


@login_required
@domain_errors_as_pages
def rules(request):
    can_manage = can(request.user, "referrals.rules")
    if request.method == "POST":
        n = services.install_starter_rules(actor=Actor.from_request(request))
        messages.success(request, _("已载入 %(n)s 条起始规则") % {"n": n})
        return redirect("referrals:rules")
    return render(request, "referrals/rules.html", {"rules": queries.guideline_rules(), "can_manage": can_manage})


@login_required
@domain_errors_as_pages
def outflow_page(request):
    sort = request.GET.get("sort", "patients")
    sort = sort if sort in SORTS else "patients"
    try:
        months = min(max(int(request.GET.get("months", 12)), 1), 36)
    except ValueError:
        months = 12
    scope_all = request.GET.get("all") == "1"
    data = outflow(request.user, months, sort, inpatient_only=not scope_all)
    chart = {"months": data.months, "series": [{"name": f"{r.category} {r.name}", "values": r.trend}
                                              for r in data.rows[:6]]}
    return render(request, "referrals/outflow.html", {"data": data, "sort": sort, "months": months,
                                                      "all": scope_all, "chart": chart})


@login_required
@domain_errors_as_pages
def stats(request):
    """The referral indicators of the user's area, read from the indicator engine (monthly facts)."""
    area, period, cards = indicators.figures(request.user, request.GET.get("area", ""), request.GET.get("period", ""))
    months = [m for m, _v in cards[0].trend] if cards and cards[0].trend else []
    return render(request, "referrals/stats.html", {"area": area, "period": period, "cards": cards, "months": months})
