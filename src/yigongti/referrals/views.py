"""Referral pages: thin adapters over ``queries`` and ``services``."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from yigongti.core.errors import DomainError, Forbidden
from yigongti.core.pages import domain_errors_as_pages, hx_or_full, paginate_params
from yigongti.orgs.models import Department, Facility, Staff
from yigongti.residents.queries import ResidentFilter, get_resident_for, search_residents

from . import indicators, queries, services, workflow
from .models import LEVEL_RANK, CareLevel, Direction, FollowUpStatus, Urgency, level_of_facility
from .outflow import SORTS, outflow
from .services import OUTCOMES

MANAGER_ROLES = {"community_manager", "bureau", "city", "facility_admin"}


def _targets(user, direction: str) -> list[Facility]:
    """Facilities of the user's community a referral in this direction may go to."""
    if not user.facility_id or not user.facility.community_id:
        return []
    mine = LEVEL_RANK[level_of_facility(user.facility)]
    qs = Facility.objects.filter(community_id=user.facility.community_id, is_active=True).exclude(type="E300")
    return [f for f in qs.order_by("code")
            if (LEVEL_RANK[level_of_facility(f)] > mine if direction == Direction.UP
                else LEVEL_RANK[level_of_facility(f)] < mine)]


@login_required
@domain_errors_as_pages
def my_list(request):
    if "box" not in request.GET and services.center_ids_of(request.user):
        return redirect("referrals:center")  # the center's staff start from the queue
    box = request.GET.get("box", "todo")
    page = queries.my_referrals(request, box, paginate_params(request))
    ctx = {"page": page, "box": box, "follow_ups": queries.due_follow_ups(request.user)[:50] if box == "todo" else [],
           "is_center": bool(services.center_ids_of(request.user))}
    return hx_or_full(request, "referrals/referral_list.html", "referrals/_referral_rows.html", ctx)


@login_required
@domain_errors_as_pages
def pick_patient(request):
    q = request.GET.get("q", "").strip()[:40]
    page = search_residents(request, ResidentFilter(q=q), 1, 10) if q else None
    return render(request, "referrals/_patient_pick.html", {"page": page, "q": q})


@login_required
def guideline_check(request):
    g = request.GET
    advice = None
    if request.user.facility_id and g.get("icd10"):
        to_level = CareLevel.COUNTY
        if g.get("to_facility", "").isdigit():
            target = Facility.objects.filter(pk=g["to_facility"]).first()
            to_level = level_of_facility(target) if target else to_level
        elif g.get("to_external"):
            to_level = g.get("to_level") or CareLevel.CITY
        elif g.get("direction") == Direction.DOWN:
            to_level = CareLevel.TOWNSHIP
        advice = services.check_guideline(g["icd10"], g.get("direction", "up"), request.user.facility, to_level)
    return render(request, "referrals/_guideline.html", {"advice": advice, "direction": g.get("direction", "up")})


@login_required
@domain_errors_as_pages
def referral_new(request):
    """The referral form, up (default) or down (``?direction=down&source=<referral>``)."""
    src = request.POST if request.method == "POST" else request.GET
    direction = src.get("direction", Direction.UP)
    direction = direction if direction in Direction.values else Direction.UP
    source = None
    if src.get("source"):
        source = queries.get_referral_for(request, src["source"])
    errors, warning = {}, ""
    if request.method == "POST":
        data = {k: request.POST.get(k, "") for k in (
            "resident", "urgency", "to_facility", "to_external", "to_level", "icd10", "diagnosis", "reason", "exams",
            "medications", "override_reason", "rehab_plan", "medication_plan")}
        data.update(direction=direction, draft="draft" in request.POST,
                    follow_up_dates=[d for d in request.POST.getlist("follow_up_dates") if d],
                    source_referral=source.pk if source else None)
        try:
            r = services.submit_referral(request, request.user, data, request.POST.get("idempotency_key", ""))
            messages.success(request, "转诊单已保存为草稿" if data["draft"] else "转诊单已提交")
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
        patient = get_resident_for(request, values.get("resident") or request.GET.get("resident"))
    today = dt.date.today()
    return render(request, "referrals/referral_form.html", {
        "direction": direction, "source": source, "patient": patient, "values": values, "errors": errors,
        "warning": warning, "key": key, "targets": _targets(request.user, direction), "urgencies": Urgency.choices,
        "external_levels": [(CareLevel.CITY, CareLevel.CITY.label), (CareLevel.PROVINCE, CareLevel.PROVINCE.label)],
        "default_dates": [(today + dt.timedelta(days=d)).isoformat() for d in (7, 30, 90)],
    })


@login_required
@domain_errors_as_pages
def center_queue(request):
    if not services.center_ids_of(request.user):
        raise Forbidden("只有转诊服务中心的工作人员可以打开转诊中心工作台")
    tab = request.GET.get("tab", "pending")
    page = queries.center_queue(request, tab, paginate_params(request))
    ctx = {"page": page, "tab": tab, "counts": queries.queue_counts(request.user)}
    return hx_or_full(request, "referrals/center_queue.html", "referrals/_queue_rows.html", ctx)


@login_required
@domain_errors_as_pages
def detail(request, pk: int):
    r = queries.get_referral_for(request, pk)
    user = request.user
    can = {a: services.may(user, r, a) for a in services.MAY}
    ctx = {"r": r, "can": can, "events": r.events.select_related("actor"), "follow_ups": r.follow_ups.all(),
           "shared": queries.shared_record(request, r), "outcomes": OUTCOMES,
           "can_follow_up": r.status in ("accepted", "arrived") and user.facility_id == r.to_facility_id,
           "can_refer_down": r.direction == Direction.UP and r.to_facility_id == user.facility_id
           and r.status in ("arrived", "completed") and not r.followers.exists()}
    if can["accept"] or can["redirect"]:
        ctx["departments"] = Department.objects.filter(facility_id=r.to_facility_id, is_clinical=True)
        ctx["doctors"] = Staff.objects.filter(work_facility_id=r.to_facility_id, is_active=True,
                                              profession__in=["physician", "village_doctor", "assistant"]
                                              ).select_related("department").order_by("department_id", "name")[:300]
        ctx["redirect_targets"] = [f for f in _targets(r.referred_by, r.direction) if f.pk != r.to_facility_id]
        ctx["external_levels"] = [(CareLevel.CITY, CareLevel.CITY.label), (CareLevel.PROVINCE, CareLevel.PROVINCE.label)]
    return render(request, "referrals/referral_detail.html", ctx)


@login_required
@require_POST
@domain_errors_as_pages
def act(request, pk: int, action: str):
    p, user = request.POST, request.user
    queries.get_referral_for(request, pk)  # 404 for those who cannot see it
    try:
        if action == "submit":
            services.submit_draft(request, user, pk)
        elif action == "accept":
            services.accept_referral(request, user, pk, department=p.get("department"), doctor=p.get("doctor"),
                                     appointment_at=p.get("appointment_at"), bed=p.get("bed", ""), note=p.get("note", ""))
        elif action == "redirect":
            services.redirect_referral(request, user, pk, to_facility=p.get("to_facility"),
                                       to_external=p.get("to_external", ""), to_level=p.get("to_level", ""),
                                       department=p.get("department"), appointment_at=p.get("appointment_at"),
                                       reason=p.get("reason", ""))
        elif action == "decline":
            services.decline_referral(request, user, pk, reason=p.get("reason", ""))
        elif action == "arrive":
            services.arrive_referral(request, user, pk, note=p.get("note", ""))
        elif action == "complete":
            services.complete_referral(request, user, pk, outcome=p.get("outcome", ""), note=p.get("note", ""))
            if p.get("then") == "down":
                return redirect(f"/referrals/new/?direction=down&source={pk}")
        elif action == "cancel":
            services.cancel_referral(request, user, pk, reason=p.get("reason", ""))
        else:
            raise Forbidden("未知的转诊操作")
        messages.success(request, f"已{workflow.ACTION_LABELS.get(action, action)}")
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
        services.record_follow_up(request, request.user, pk, fid, note=request.POST.get("note", ""),
                                  status=request.POST.get("status", FollowUpStatus.DONE))
        messages.success(request, "随访已登记")
    except DomainError as e:
        if e.status == 404:
            raise
        messages.error(request, e.message)
    return redirect("referrals:detail", pk=pk)


@login_required
@domain_errors_as_pages
def rules(request):
    can_manage = request.user.is_superuser or request.user.role in MANAGER_ROLES
    if request.method == "POST":
        if not can_manage:
            raise Forbidden("只有管理人员可以维护转诊指南")
        n = services.install_starter_rules(request)
        messages.success(request, f"已载入 {n} 条起始规则")
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
