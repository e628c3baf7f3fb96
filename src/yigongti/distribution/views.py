"""Pages of the distribution app: the clinic's order form (a phone page, suggested quantities prefilled) and its
orders, one order with the actions its status and the user allow (approve with cuts, pick list by lot, dispatch),
the clinic's receive page (item by item), the day's routes with their map, and the shortage registry.

Each view parses, calls a query or a service, and renders; refused input shows the Chinese reason."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, Forbidden, InvalidInput, NotFound
from yigongti.core.pages import domain_errors_as_pages
from yigongti.core.personal import mask_name
from yigongti.orgs.permissions import can
from yigongti.pharmacy.models import Item

from . import mapsvg, queries, services, workflow
from .models import OrderStatus, ShortageAnswer, ShortageStatus

PAGE = 100


def _gate(request) -> None:
    if not queries.may_read(request.user):
        raise Forbidden(_("只有乡村医生、药师、机构管理员、医共体管理人员和卫健局可以查看药品配送"))


def _form_error(errors: dict) -> str:
    return (errors.get("__all__") or [""])[0]


def _done(request, result_url: str, ok: str, fn):
    """Run a service for a POST; on a domain error show its message and go back."""
    try:
        fn()
        messages.success(request, ok)
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return redirect(result_url)


@login_required
@domain_errors_as_pages
def home(request):
    _gate(request)
    user = request.user
    status = request.GET.get("status", "")
    orders = queries.orders_visible_to(user)
    if status in OrderStatus.values:
        orders = orders.filter(status=status)
    elif queries.is_center_pharmacist(user):
        orders = orders.filter(status__in=workflow.QUEUE)
    return render(request, "distribution/home.html", {
        "orders": orders.order_by("-created_at", "-pk")[:PAGE], "statuses": OrderStatus.choices, "status": status,
        "may_order": can(user, "distribution.order", user.facility) if user.facility_id else False,
        "is_center": queries.is_center_pharmacist(user),
        "n_open_shortages": queries.shortages_visible_to(user).filter(status=ShortageStatus.OPEN).count()})


@login_required
@domain_errors_as_pages
def order_new(request):
    _gate(request)
    facility = request.user.facility
    if facility is None or not can(request.user, "distribution.order", facility):
        raise Forbidden(_("只有本机构的乡村医生、药师或机构管理员可以为本机构请领药品"))
    rows = queries.order_form_rows(facility)
    form, errors = {}, {}
    if request.method == "POST":
        form = request.POST.dict()
        quantities = {r["item"].pk: form.get(f"qty_{r['item'].pk}", "") for r in rows}
        try:
            o = services.create_order(Actor.from_request(request), facility, quantities, note=form.get("note", ""),
                                      submit="submit" in form)
            messages.success(request, _("请领单已提交") if o.status == OrderStatus.SUBMITTED else _("已保存草稿"))
            return redirect("distribution:order", pk=o.pk)
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = e.errors or {"__all__": [e.message]}
            messages.error(request, e.message)
    for r in rows:
        key = f"qty_{r['item'].pk}"
        r["value"] = form.get(key, r["suggested"] or "") if form else (r["suggested"] or "")
        r["errors"] = errors.get(key, [])
    return render(request, "distribution/order_form.html", {"rows": rows, "facility": facility, "form": form,
                                                             "errors": errors,
                                                             "form_error": _form_error(errors)},
                  status=422 if errors else 200)


@login_required
@domain_errors_as_pages
def order_detail(request, pk: int):
    _gate(request)
    o = queries.get_order(request.user, pk)
    user = request.user
    actions = workflow.allowed_actions(o.status)
    return render(request, "distribution/order.html", {
        "o": o, "picklist": queries.pick_list(o), "in_transit": queries.in_transit(o),
        "may_submit": "submit" in actions and can(user, "distribution.order", o),
        "may_cancel": "cancel" in actions and can(user, "distribution.order", o),
        "may_approve": "approve" in actions and can(user, "distribution.approve", o),
        "may_pick": "pick" in actions and can(user, "distribution.pick", o),
        "may_dispatch": "dispatch" in actions and can(user, "distribution.dispatch", o),
        "may_receive": o.status == OrderStatus.DISPATCHED and can(user, "distribution.receive", o)})


@login_required
@require_POST
@domain_errors_as_pages
def order_act(request, pk: int, action: str):
    _gate(request)
    o = queries.get_order(request.user, pk)
    url = reverse("distribution:order", args=[o.pk])
    reason = request.POST.get("reason", "")
    fns = {
        "submit": (lambda: services.submit_order(Actor.from_request(request), o), _("请领单已提交")),
        "cancel": (lambda: services.cancel_order(Actor.from_request(request), o, reason), _("请领单已取消")),
        "approve": (lambda: services.approve_order(Actor.from_request(request), o, {
            k[5:]: v for k, v in request.POST.items() if k.startswith("line_")}), _("已审核通过")),
        "reject": (lambda: services.reject_order(Actor.from_request(request), o, reason), _("已驳回")),
        "pick": (lambda: services.pick_order(Actor.from_request(request), o), _("已按近效期先出拣货")),
        "dispatch": (lambda: services.dispatch_order(Actor.from_request(request), o), _("已发车，药品已出库在途")),
    }
    if action not in fns:
        raise NotFound()
    fn, ok = fns[action]
    return _done(request, url, ok, fn)


@login_required
@domain_errors_as_pages
def order_receive(request, pk: int):
    _gate(request)
    o = queries.get_order(request.user, pk)
    if not can(request.user, "distribution.receive", o):
        raise Forbidden(_("只有请领机构的乡村医生、药师或机构管理员可以签收"))
    return render(request, "distribution/receive.html", {"o": o, "picklist": queries.pick_list(o)})


@login_required
@require_POST
@domain_errors_as_pages
def line_receive(request, pk: int, line: int):
    _gate(request)
    o = queries.get_order(request.user, pk)
    ln = o.lines.filter(pk=line).first()
    if ln is None:
        raise NotFound()
    p = request.POST
    return _done(request, reverse("distribution:receive", args=[o.pk]), _("已签收：%(item)s") % {"item": ln.item},
                 lambda: services.receive_line(Actor.from_request(request), ln, received=p.get("received"),
                                               damaged=p.get("damaged"), wrong_lot=p.get("wrong_lot", ""),
                                               note=p.get("note", "")))


def _max_stops(request) -> int:
    try:
        return int(request.POST.get("max_stops") or 12)
    except ValueError as e:
        raise InvalidInput("bad_max_stops", _("每车站点数须在 1 到 60 之间"), field="max_stops") from e


def _day(request) -> dt.date:
    raw = request.GET.get("day") or request.POST.get("day") or ""
    if not raw:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as e:
        raise InvalidInput("bad_day", _("日期格式不正确")) from e


@login_required
@domain_errors_as_pages
def routes(request):
    _gate(request)
    day = _day(request)
    user = request.user
    runs = list(queries.runs_visible_to(user, day))
    center = queries.center_of(user.facility.community_id) if user.facility_id else None
    may_plan = center is not None and can(user, "distribution.dispatch", center)
    if request.method == "POST":
        if not may_plan or center is None:
            raise Forbidden(_("只有配送中心的药师可以排线和发车"))
        url = reverse("distribution:routes") + f"?day={day}"
        if "run" in request.POST:
            run = next((r for r in runs if str(r.pk) == request.POST["run"]), None)
            if run is None:
                raise NotFound()
            return _done(request, url, _("已发车"), lambda: services.dispatch_run(Actor.from_request(request), run))
        return _done(request, url, _("已完成排线"), lambda: services.plan_routes(
            Actor.from_request(request), center, day, max_stops=_max_stops(request)))
    ctx: dict = {"day": day, "runs": runs, "may_plan": may_plan, "W": mapsvg.W, "H": mapsvg.H,
                 "n_waiting": queries.orders_visible_to(user).filter(status=OrderStatus.PICKED).count()}
    if runs:
        from yigongti.emergency.roads.graph import active_network

        net = active_network()
        if net is not None:
            f = mapsvg.frame(net)
            ctx["roads"] = mapsvg.roads_path(net)
            colours = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
            ctx["lines"] = [{"d": f.path(r.path), "colour": colours[i % len(colours)], "run": r}
                            for i, r in enumerate(runs)]
            ctx["center_xy"] = f.xy(*r.path[0]) if (r := runs[0]).path else None
        ctx["total_m"] = sum(r.distance_m for r in runs)
        ctx["baseline_m"] = runs[0].baseline_distance_m
    return render(request, "distribution/routes.html", ctx)


@login_required
@domain_errors_as_pages
def shortages(request):
    _gate(request)
    rows = queries.shortages_read(Actor.from_request(request), PAGE)
    now = timezone.now()
    items = [{"s": r, "overdue": queries.overdue(r, now), "hours": r.answer_hours_taken,
              "patient": mask_name(r.resident.name) if r.resident else ""} for r in rows]
    user = request.user
    return render(request, "distribution/shortages.html", {
        "items": items, "may_register": bool(user.facility_id) and can(user, "distribution.register_shortage",
                                                                         user.facility),
        "may_answer": can(user, "distribution.answer_shortage")})


@login_required
@domain_errors_as_pages
def shortage_new(request):
    _gate(request)
    facility = request.user.facility
    if facility is None or not can(request.user, "distribution.register_shortage", facility):
        raise Forbidden(_("只有基层机构的医生、乡村医生、药师或机构管理员可以登记缺药"))
    form, errors = {}, {}
    if request.method == "POST":
        form = request.POST.dict()
        try:
            services.register_shortage(Actor.from_request(request), facility, form)
            messages.success(request, _("已登记缺药，配送中心将在时限内答复"))
            return redirect("distribution:shortages")
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = e.errors or {"__all__": [e.message]}
            messages.error(request, e.message)
    return render(request, "distribution/shortage_form.html", {
        "form": form, "errors": errors, "form_error": _form_error(errors),
        "items": queries.catalogue_for(facility).order_by("generic_name")[:500]},
        status=422 if errors else 200)


@login_required
@domain_errors_as_pages
def shortage_answer(request, pk: int):
    _gate(request)
    s = queries.get_shortage(request.user, pk)
    may = can(request.user, "distribution.answer_shortage", s) and s.status == ShortageStatus.OPEN
    form, errors = {}, {}
    if request.method == "POST":
        if not can(request.user, "distribution.answer_shortage", s):
            raise Forbidden(_("只有配送中心的药师可以答复缺药登记"))
        form = request.POST.dict()
        try:
            services.answer_shortage(Actor.from_request(request), s, form)
            messages.success(request, _("已答复"))
            return redirect("distribution:shortages")
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = e.errors or {"__all__": [e.message]}
            messages.error(request, e.message)
    if s.resident_id:
        audit.record(request, "read", "shortage", s.pk, resident=s.resident_id)
    return render(request, "distribution/shortage.html", {
        "s": s, "may": may, "form": form, "errors": errors, "answers": ShortageAnswer.choices,
        "overdue": queries.overdue(s), "patient": mask_name(s.resident.name) if s.resident else "",
        "items": Item.objects.filter(community_id=s.community_id, is_active=True).order_by("generic_name")[:500]},
        status=422 if errors else 200)


urlpatterns = [
    path("", home, name="home"),
    path("orders/new/", order_new, name="order_new"),
    path("orders/<int:pk>/", order_detail, name="order"),
    path("orders/<int:pk>/receive/", order_receive, name="receive"),
    path("orders/<int:pk>/lines/<int:line>/receive/", line_receive, name="line_receive"),
    path("orders/<int:pk>/<str:action>/", order_act, name="order_act"),
    path("routes/", routes, name="routes"),
    path("shortages/", shortages, name="shortages"),
    path("shortages/new/", shortage_new, name="shortage_new"),
    path("shortages/<int:pk>/", shortage_answer, name="shortage"),
]
