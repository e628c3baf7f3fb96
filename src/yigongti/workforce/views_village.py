"""Village doctors' pages: the township's list (licences, renewal due, training hours, attendance, leave to
decide), a doctor's page (licence, training, months, yearly results and the two-yearly assessment), the doctor's
phone page (check-in, leave), the township's monthly scoring and the community's scoring sheet."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, InvalidInput, NotFound
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.models import MedicalCommunity
from yigongti.orgs.permissions import can

from . import village as rules
from .inputs import as_month, as_pk
from .models import ItemMethod, Leave, LeaveKind
from .queries import village as vq
from .services import village as vs


def _month(request, default_last: bool = False) -> dt.date:
    today = timezone.localdate()
    default = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1) if default_last else today.replace(day=1)
    return as_month(request.GET.get("month") or default.isoformat(), {}) or default


def _community(user) -> MedicalCommunity | None:
    cid = getattr(user.facility, "community_id", None) if user.facility_id else None
    return MedicalCommunity.objects.filter(pk=cid).first() if cid else None


def _fail(request, e: DomainError) -> dict:
    if e.status == 404:
        raise e
    messages.error(request, e.message)
    return {"form": request.POST, "errors": e.errors}


@login_required
@domain_errors_as_pages
def doctors_page(request):
    actor = Actor.from_request(request)
    if request.method == "POST":
        try:
            leave = Leave.objects.filter(pk=as_pk(request.POST.get("leave")),
                                         staff__in=vq.doctors_visible_to(request.user)).first()
            if leave is None:
                raise NotFound()
            vs.decide_leave(request, leave, request.POST.get("action") == "approve")
            messages.success(request, _("已审批"))
            return redirect(request.get_full_path())
        except DomainError as e:
            _fail(request, e)
    month = _month(request)
    today = timezone.localdate()
    doctors = list(vq.doctors_visible_to(request.user).order_by("work_facility__code", "name")[:1000])
    ids = [d.pk for d in doctors]
    att = vq.month_attendance(ids, month)
    hours = vq.training_hours(ids, month.year)
    community = _community(request.user)
    req = vq.requirement(community.pk if community else None, month.year)
    rank = vq.ranked(month, community.pk if community else None)
    rows = []
    for d in doctors:
        lic = getattr(d, "vd_licence", None)
        rows.append({"d": d, "lic": lic, "state": rules.licence_state(lic.valid_until if lic else None, today),
                     "att": att[d.pk], "hours": hours.get(d.pk, 0), "rank": rank.get(d.pk)})
    from yigongti.core import audit

    audit.record(actor, "view", "vd_doctor_list", "", n=len(rows), month=str(month))
    return render(request, "workforce/village/doctors.html", {
        "rows": rows, "month": month, "requirement": req, "today": today,
        "due": [r for r in rows if r["state"] in ("due", "expired")],
        "pending": list(vq.pending_leave(request.user)[:200]),
        "may_decide": can(request.user, "workforce.vd_decide"),
        "may_assess": can(request.user, "workforce.vd_assess"),
        "may_sheet": can(request.user, "workforce.vd_sheet")})


@login_required
@domain_errors_as_pages
def doctor_page(request, pk: int):
    actor = Actor.from_request(request)
    staff = vq.get_doctor_for(actor, pk)
    ctx: dict = {"form": {}, "errors": {}}
    if request.method == "POST":
        try:
            if request.POST.get("action") == "training":
                vs.record_training(request, staff, request.POST.dict())
                messages.success(request, _("已登记培训"))
            else:
                vs.set_licence(request, staff, request.POST.dict())
                messages.success(request, _("已保存执业证书"))
            return redirect("workforce:vd_doctor", pk=staff.pk)
        except DomainError as e:
            ctx.update(_fail(request, e))
    today = timezone.localdate()
    months = []
    m = today.replace(day=1)
    for _i in range(6):
        months.append(m)
        m = (m - dt.timedelta(days=1)).replace(day=1)
    att = {mm: vq.month_attendance([staff.pk], mm)[staff.pk] for mm in months}
    assessments = {a.month: a for a in staff.vd_assessments.filter(month__in=months)}
    sheet = vq.sheet_of(staff.work_facility.community_id)
    lic = getattr(staff, "vd_licence", None)
    ctx.update({
        "staff": staff, "lic": lic, "state": rules.licence_state(lic.valid_until if lic else None, today),
        "months": [(mm, att[mm], assessments.get(mm)) for mm in months],
        "trainings": list(staff.vd_trainings.all()[:50]),
        "hours": vq.training_hours([staff.pk], today.year).get(staff.pk, 0),
        "requirement": vq.requirement(staff.work_facility.community_id, today.year),
        "years": vq.years_of(staff, sheet.pass_mark if sheet else rules.Decimal(60), today.year),
        "may_manage": can(request.user, "workforce.vd_manage", staff), "today": today})
    return render(request, "workforce/village/doctor.html", ctx)


@login_required
@domain_errors_as_pages
def me_page(request):
    """The village doctor's phone page: today's check-in at the clinic, leave, the month so far."""
    ctx: dict = {"form": {}, "errors": {}}
    if request.method == "POST":
        try:
            if request.POST.get("action") == "leave":
                vs.request_leave(request, request.POST.dict())
                messages.success(request, _("已提交请假申请，待乡镇卫生院审批"))
            else:
                row = vs.clinic_check_in(request, request.POST.dict())
                if row.flagged:
                    messages.warning(request, _("已签到，但位置距村卫生室约 %(m)s 米，已标记待乡镇卫生院核实") % {
                        "m": row.distance_m})
                else:
                    messages.success(request, _("已签到"))
            return redirect("workforce:vd_me")
        except DomainError as e:
            ctx.update(_fail(request, e))
    today = timezone.localdate()
    sid = getattr(request.user, "staff_id", None)
    from .models import ClinicCheckIn

    ctx.update({"today": today, "kinds": LeaveKind.choices,
                "checked": ClinicCheckIn.objects.filter(staff_id=sid, day=today).first() if sid else None,
                "att": vq.month_attendance([sid], today.replace(day=1))[sid] if sid else None,
                "leaves": list(Leave.objects.filter(staff_id=sid).order_by("-start")[:10]) if sid else [],
                "may": can(request.user, "workforce.vd_check_in")})
    resp = render(request, "workforce/village/me.html", ctx)
    resp["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(self)"
    return resp


@login_required
@domain_errors_as_pages
def assess_page(request):
    """The township's monthly scoring: one row per doctor, the computed items filled, the entered ones typed."""
    actor = Actor.from_request(request)
    month = _month(request, default_last=True)
    failed: dict[int, dict] = {}
    if request.method == "POST":
        staff = vq.doctors_visible_to(request.user).filter(pk=as_pk(request.POST.get("staff"))).first()
        try:
            if staff is None:
                raise NotFound()
            data = {k[2:]: v for k, v in request.POST.items() if k.startswith("i_")}
            a = vs.score_month(request, staff, request.POST.get("month") or month, data)
            messages.success(request, _("%(name)s %(month)s 考核得分 %(total)s") % {
                "name": staff.name, "month": a.month.strftime("%Y-%m"), "total": a.total})
            return redirect(f"{request.path}?month={month:%Y-%m}")
        except DomainError as e:
            if e.status == 404:
                raise
            messages.error(request, e.message)
            failed[staff.pk if staff else 0] = {"values": request.POST, "errors": e.errors}
    community = _community(request.user)
    sheet = vq.sheet_of(community.pk if community else None)
    doctors = list(vq.doctors_visible_to(request.user).order_by("work_facility__code", "name")[:500])
    rank = vq.ranked(month, community.pk if community else None)
    rows = []
    if sheet is not None:
        meas = vs.measures([d.pk for d in doctors], month)
        items = list(sheet.items.all())
        for d in doctors:
            r = rank.get(d.pk)
            typed = failed.get(d.pk, {}).get("values") or {}
            cells = []
            for it in items:
                saved = (r.assessment.points.get(it.code) or {}) if r else {}
                if it.method == ItemMethod.ENTERED:
                    value = typed.get(f"i_{it.code}", saved.get("points", ""))
                    cells.append({"item": it, "entered": True, "value": value})
                else:
                    p, basis = rules.item_points(vs.rule_items(sheet)[items.index(it)], meas[d.pk])
                    cells.append({"item": it, "entered": False, "value": p, "basis": basis})
            rows.append({"d": d, "cells": cells, "rank": r, "errors": failed.get(d.pk, {}).get("errors", {})})
    from yigongti.core import audit

    audit.record(actor, "view", "vd_assessment_list", "", month=str(month), n=len(rows))
    return render(request, "workforce/village/assess.html", {
        "month": month, "sheet": sheet, "rows": rows, "items": list(sheet.items.all()) if sheet else [],
        "may": can(request.user, "workforce.vd_assess"), "today": timezone.localdate()})


@login_required
@domain_errors_as_pages
def sheet_page(request):
    community = _community(request.user)
    ctx: dict = {"form": {}, "errors": {}}
    may = can(request.user, "workforce.vd_sheet")
    sheet = vq.sheet_of(community.pk if community else None)
    if request.method == "POST" and may:
        try:
            if community is None:
                raise InvalidInput("no_community", _("您的机构不属于任何医共体"))
            action = request.POST.get("action")
            if action == "sheet":
                vs.create_sheet(request, community, request.POST.dict())
                messages.success(request, _("已创建考核表"))
            elif action == "requirement":
                vs.set_requirement(request, community, request.POST.dict())
                messages.success(request, _("已保存年度培训学时要求"))
            else:
                if sheet is None:
                    raise InvalidInput("no_sheet", _("请先创建考核表"))
                vs.add_item(request, sheet, request.POST.dict())
                messages.success(request, _("已添加考核项目"))
            return redirect("workforce:vd_sheet")
        except DomainError as e:
            ctx.update(_fail(request, e))
    year = timezone.localdate().year
    ctx.update({"sheet": sheet, "items": list(sheet.items.all()) if sheet else [], "may": may,
                "methods": ItemMethod.choices, "year": year,
                "requirement": vq.requirement(community.pk if community else None, year)})
    return render(request, "workforce/village/sheet.html", ctx)

