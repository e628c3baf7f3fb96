"""Pages: the postings (list, plan one, cancel), the townships' requests, the month's rota (generate, review,
edit, publish), the expert's check-in on a phone, the host's week (who comes; confirm), the 凡晋必下 ledger.
Bad input re-shows the form with the values typed and the Chinese message."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, InvalidInput, NotFound
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.models import MedicalCommunity
from yigongti.orgs.permissions import can

from .inputs import as_pk
from .ledger import REQUIREMENT
from .models import PostingKind, RotaEntry
from .queries import ledger as lq
from .queries import postings as q
from .services import attendance, postings, rota

WEEKDAYS = [(0, _("一")), (1, _("二")), (2, _("三")), (3, _("四")), (4, _("五")), (5, _("六")), (6, _("日"))]


def _month(request) -> dt.date:
    errors: dict = {}
    from .inputs import as_month

    return as_month(request.GET.get("month") or timezone.localdate().isoformat(), errors) or \
        timezone.localdate().replace(day=1)


def _form_error(request, e: DomainError) -> dict:
    if e.status == 404:
        raise e
    messages.error(request, e.message)
    return {"form": request.POST, "errors": e.errors}


@login_required
@domain_errors_as_pages
def home(request):
    actor = Actor.from_request(request)
    may_plan = can(request.user, "workforce.plan")
    ctx: dict = {"form": {}, "errors": {}}
    if request.method == "POST" and may_plan:
        try:
            data = request.POST.dict()
            data["weekdays"] = request.POST.getlist("weekdays")
            if request.POST.get("action") == "cancel":
                postings.cancel_posting(request, q.get_posting_for(actor, as_pk(request.POST.get("posting"))))
                messages.success(request, _("已取消派驻"))
            else:
                p = postings.create_posting(request, data)
                messages.success(request, _("已安排 %(n)s 个在岗日") % {"n": p.days.count()})
            return redirect("workforce:home")
        except DomainError as e:
            ctx.update(_form_error(request, e))
    month = _month(request)
    ctx.update({"postings": q.postings_list(actor, month=month), "month": month, "may_plan": may_plan,
                "kinds": PostingKind.choices, "weekdays": WEEKDAYS, "today": timezone.localdate(),
                "may_request": can(request.user, "workforce.request"), "my_days": q.my_days(request.user)})
    if may_plan:
        community = request.user.facility.community if request.user.facility_id else None
        ctx["experts"] = rota.experts_of(community) if community else []
        ctx["hosts"] = q.host_choices(request.user)
    return render(request, "workforce/home.html", ctx)


@login_required
@domain_errors_as_pages
def requests_page(request):
    may = can(request.user, "workforce.request")
    ctx: dict = {"form": {}, "errors": {}}
    if request.method == "POST" and may:
        try:
            postings.file_request(request, request.POST.dict())
            messages.success(request, _("已提交下沉需求"))
            return redirect("workforce:requests")
        except DomainError as e:
            ctx.update(_form_error(request, e))
    month = _month(request)
    ctx.update({"rows": q.requests_visible_to(request.user).filter(month=month), "month": month, "may": may,
                "kinds": PostingKind.choices, "hosts": q.host_choices(request.user) if may else []})
    return render(request, "workforce/requests.html", ctx)


@login_required
@domain_errors_as_pages
def rota_list(request):
    may_plan = can(request.user, "workforce.plan")
    ctx: dict = {"form": {}, "errors": {}}
    if request.method == "POST" and may_plan:
        community = MedicalCommunity.objects.filter(pk=getattr(request.user.facility, "community_id", None)).first()
        try:
            if community is None:
                raise InvalidInput("no_community", _("您的机构不属于任何医共体"))
            if request.POST.get("action") == "availability":
                staff = next((s for s in rota.experts_of(community) if s.pk == as_pk(request.POST.get("staff"))),
                             None)
                if staff is None:
                    raise InvalidInput("invalid_staff", _("请选择在岗的专家"), field="staff")
                postings.set_availability(request, staff, request.POST.dict())
                messages.success(request, _("已保存专家可下沉时间"))
                return redirect("workforce:rotas")
            r = rota.generate_rota(request, community, request.POST.dict())
            messages.success(request, _("已生成排班草稿"))
            return redirect("workforce:rota", pk=r.pk)
        except DomainError as e:
            ctx.update(_form_error(request, e))
    ctx.update({"rotas": q.rotas_visible_to(request.user)[:36], "may_plan": may_plan,
                "month": _month(request)})
    if may_plan and request.user.facility_id and request.user.facility.community_id:
        ctx["experts"] = rota.experts_of(request.user.facility.community)
    return render(request, "workforce/rotas.html", ctx)


@login_required
@domain_errors_as_pages
def rota_page(request, pk: int):
    r = q.get_rota_for(request.user, pk)
    may_plan = can(request.user, "workforce.plan", r)
    ctx: dict = {"form": {}, "errors": {}}
    if request.method == "POST" and may_plan:
        action = request.POST.get("action")
        try:
            if action == "remove":
                entry = RotaEntry.objects.filter(pk=as_pk(request.POST.get("entry")), rota=r).first()
                if entry is None:
                    raise NotFound()
                rota.remove_entry(request, entry)
                messages.success(request, _("已移除"))
            elif action == "publish":
                made = rota.publish_rota(request, r)
                messages.success(request, _("已发布，生成 %(n)s 条派驻") % {"n": len(made)})
            else:
                rota.add_entry(request, r, request.POST.dict())
                messages.success(request, _("已添加"))
            return redirect("workforce:rota", pk=r.pk)
        except DomainError as e:
            ctx.update(_form_error(request, e))
    from .queries.rota import rota_detail

    ctx.update({"rota": r, "may_plan": may_plan, **rota_detail(r)})
    if may_plan and r.status == "draft":
        ctx["experts"] = rota.experts_of(r.community)
    return render(request, "workforce/rota.html", ctx)


@login_required
@domain_errors_as_pages
def check_in_page(request):
    """The expert's phone page: today's posting days, one button each (the position is sent when the phone
    gives it)."""
    if request.method == "POST":
        try:
            day = q.get_day_for(request.user, as_pk(request.POST.get("day")))
            d = attendance.check_in(request, day, request.POST.dict())
            if d.flagged:
                messages.warning(request, _("已签到，但位置距%(host)s约 %(m)s 米，已标记待派驻机构核实") % {
                    "host": d.host.name, "m": d.distance_m})
            else:
                messages.success(request, _("已签到"))
            return redirect("workforce:check_in")
        except DomainError as e:
            _form_error(request, e)
    resp = render(request, "workforce/check_in.html", {"days": q.my_days(request.user),
                                                       "today": timezone.localdate()})
    resp["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(self)"
    return resp


@login_required
@domain_errors_as_pages
def week_page(request):
    if request.method == "POST":
        try:
            attendance.confirm_day(request, q.get_day_for(request.user, as_pk(request.POST.get("day"))))
            messages.success(request, _("已确认到岗"))
            return redirect(request.get_full_path())
        except DomainError as e:
            _form_error(request, e)
    errors: dict = {}
    from .inputs import as_day

    day = as_day(request.GET.get("day"), errors, "day", required=False) or timezone.localdate()
    start, stop, rows = q.coming(request.user, day)
    return render(request, "workforce/week.html", {
        "start": start, "stop": stop, "rows": rows, "today": timezone.localdate(),
        "prev": start - dt.timedelta(days=7), "next": start + dt.timedelta(days=7)})


@login_required
@domain_errors_as_pages
def ledger_page(request):
    actor = Actor.from_request(request)
    only = request.GET.get("candidates") == "1"
    rows = lq.ledger(actor, only_candidates=only)
    return render(request, "workforce/ledger.html", {
        "rows": rows, "only": only, "requirement": REQUIREMENT,
        "full_year": [r for r in rows if r.standing.met]})


from . import views_pool as pool  # noqa: E402  (the talent pool's page)
from . import views_village as village  # noqa: E402  (the village doctors' pages)

app_name = "workforce"
urlpatterns = [
    path("", home, name="home"),
    path("requests/", requests_page, name="requests"),
    path("rota/", rota_list, name="rotas"),
    path("rota/<int:pk>/", rota_page, name="rota"),
    path("check-in/", check_in_page, name="check_in"),
    path("week/", week_page, name="week"),
    path("ledger/", ledger_page, name="ledger"),
    path("village/", village.doctors_page, name="vd_doctors"),
    path("village/<int:pk>/", village.doctor_page, name="vd_doctor"),
    path("village/me/", village.me_page, name="vd_me"),
    path("village/assess/", village.assess_page, name="vd_assess"),
    path("village/sheet/", village.sheet_page, name="vd_sheet"),
    path("pool/", pool.pool_page, name="pool"),
]
