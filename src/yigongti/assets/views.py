"""Pages of the register: the list with its filters, one asset with its history and depreciation, the register
and edit form, maintenance, transfer, the disposal request and the pending disposals with their decision.

Each view parses, calls a query or a service, and renders; a refused input re-shows the form with the typed values
and the Chinese reasons beside the fields."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, Forbidden, NotFound
from yigongti.core.pages import domain_errors_as_pages, paginate_params
from yigongti.orgs.models import Department, Staff
from yigongti.orgs.permissions import can, check

from . import categories, queries, services
from .models import AssetStatus, Disposal, Funding, MaintenanceKind, Method

PAGE_SIZE = 50


def _gate(request) -> None:
    if not queries.may_read_register(request.user):
        raise Forbidden(_("只有机构管理员、医共体管理人员、卫健局和市卫健委可以查看医学装备台账"))


def _choices(request, facility=None) -> dict:
    facilities = list(queries.facilities_visible_to(request.user))
    where = facility or (facilities[0] if len(facilities) == 1 else None)
    ctx = {"facilities": facilities, "categories": categories.categories(), "statuses": AssetStatus.choices,
           "editable_statuses": [c for c in AssetStatus.choices if c[0] != AssetStatus.SCRAPPED],
           "fundings": Funding.choices, "methods": Method.choices, "devices": categories.devices()}
    if where is not None:
        ctx["departments"] = Department.objects.filter(facility=where).order_by("code")
    if facilities:
        ctx["staff"] = (Staff.objects.filter(is_active=True, work_facility__in=facilities)
                        .select_related("work_facility").order_by("work_facility__code", "name")[:500])
    return ctx


@login_required
@domain_errors_as_pages
def asset_list(request):
    _gate(request)
    f = queries.AssetFilter.from_query(request.GET)
    page = queries.register_page(request.user, f, paginate_params(request), PAGE_SIZE)
    return render(request, "assets/list.html", {
        "page": page, "f": f, "facilities": queries.facilities_visible_to(request.user),
        "categories": categories.categories(), "statuses": AssetStatus.choices,
        "may_register": can(request.user, "assets.register"),
        "n_pending": queries.pending_disposals(request.user).count()})


def _form_page(request, template: str, ctx: dict, save, done):
    """GET: the form; POST: call ``save(data)``, then redirect to ``done(result)`` — or re-show with errors."""
    form, errors = ctx.pop("initial", {}), {}
    if request.method == "POST":
        form = request.POST.dict()
        try:
            result = save(form)
            messages.success(request, ctx.pop("success", _("已保存")))
            return redirect(done(result))
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = e.errors or {"__all__": [e.message]}
            messages.error(request, e.message)
    return render(request, template, {**ctx, "form": form, "errors": errors}, status=422 if errors else 200)


@login_required
@domain_errors_as_pages
def asset_new(request):
    _gate(request)
    check(Actor.from_request(request), "assets.register")  # the verb's message, audited
    today = timezone.localdate().isoformat()
    ctx = {**_choices(request), "initial": {"purchased_on": today, "accepted_on": today, "status": "in_use",
                                             "method": "straight_line", "funding": "fiscal"},
           "success": _("已登记")}
    return _form_page(request, "assets/form.html", ctx, lambda d: services.register_asset(request, d),
                      lambda a: reverse("assets:detail", args=[a.pk]))


def _initial(a) -> dict:
    keys = ("number", "category", "name", "model", "serial", "maker", "price", "funding", "purchased_on",
            "accepted_on", "status", "method", "useful_life_years", "planned_units", "unit_name")
    out = {k: "" if getattr(a, k) is None else str(getattr(a, k)) for k in keys}
    out.update(facility=str(a.facility_id), department=str(a.department_id or ""),
               custodian=str(a.custodian_id or ""))
    return out


@login_required
@domain_errors_as_pages
def asset_edit(request, pk: int):
    _gate(request)
    a = queries.get_asset_for(request.user, pk)
    check(Actor.from_request(request), "assets.register", a)  # the verb's message, audited
    ctx = {**_choices(request, a.facility), "asset": a, "initial": _initial(a)}
    return _form_page(request, "assets/form.html", ctx, lambda d: services.update_asset(request, a, d),
                      lambda r: reverse("assets:detail", args=[r.pk]))


@login_required
@domain_errors_as_pages
def asset_detail(request, pk: int):
    _gate(request)
    a = queries.get_asset_for(request.user, pk)
    d = queries.asset_detail(a)
    return render(request, "assets/detail.html", {
        "asset": a, **d, "category": categories.label(a.category),
        "may_register": can(request.user, "assets.register", a) and a.status != AssetStatus.SCRAPPED,
        "may_maintain": can(request.user, "assets.maintain", a) and a.status != AssetStatus.SCRAPPED,
        "may_transfer": can(request.user, "assets.transfer", a) and a.status != AssetStatus.SCRAPPED,
        "may_dispose": can(request.user, "assets.request_disposal", a) and a.status != AssetStatus.SCRAPPED
        and d["pending_disposal"] is None,
        "may_decide": d["pending_disposal"] is not None and can(request.user, "assets.approve_disposal",
                                                                 d["pending_disposal"]),
        "usage_errors": {}, "usage_form": {}})


@login_required
@require_POST
@domain_errors_as_pages
def asset_usage(request, pk: int):
    _gate(request)
    a = queries.get_asset_for(request.user, pk)
    try:
        services.record_usage(request, a, request.POST.dict())
        messages.success(request, _("已登记工作量"))
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return redirect("assets:detail", pk=a.pk)


@login_required
@domain_errors_as_pages
def asset_maintenance(request, pk: int):
    _gate(request)
    a = queries.get_asset_for(request.user, pk)
    check(Actor.from_request(request), "assets.maintain", a)  # the verb's message, audited
    ctx = {"asset": a, "kinds": MaintenanceKind.choices, "success": _("已登记维护记录"),
           "editable_statuses": [c for c in AssetStatus.choices if c[0] != AssetStatus.SCRAPPED],
           "initial": {"done_on": timezone.localdate().isoformat(), "kind": "maintenance"}}
    return _form_page(request, "assets/maintenance.html", ctx,
                      lambda d: services.record_maintenance(request, a, d),
                      lambda m: reverse("assets:detail", args=[a.pk]))


@login_required
@domain_errors_as_pages
def asset_transfer(request, pk: int):
    _gate(request)
    a = queries.get_asset_for(request.user, pk)
    check(Actor.from_request(request), "assets.transfer", a)  # the verb's message, audited
    members = a.community.members.filter(is_active=True).exclude(pk=a.facility_id).order_by("code")
    ctx = {"asset": a, "members": members, "success": _("已调拨"),
           "initial": {"moved_on": timezone.localdate().isoformat()}}
    return _form_page(request, "assets/transfer.html", ctx,
                      lambda d: services.transfer_asset(request, a, d), lambda t: reverse("assets:detail", args=[a.pk]))


@login_required
@domain_errors_as_pages
def asset_dispose(request, pk: int):
    _gate(request)
    a = queries.get_asset_for(request.user, pk)
    check(Actor.from_request(request), "assets.request_disposal", a)  # the verb's message, audited
    ctx = {"asset": a, "success": _("已提交报废申请，待审批")}
    return _form_page(request, "assets/dispose.html", ctx,
                      lambda d: services.request_disposal(request, a, d),
                      lambda r: reverse("assets:detail", args=[a.pk]))


@login_required
@domain_errors_as_pages
def disposals(request):
    _gate(request)
    rows = list(queries.pending_disposals(request.user)[:200])
    return render(request, "assets/disposals.html", {
        "rows": [(d, can(request.user, "assets.approve_disposal", d)) for d in rows]})


@login_required
@require_POST
@domain_errors_as_pages
def disposal_decide(request, pk: int):
    _gate(request)
    d = Disposal.objects.filter(pk=pk, asset__in=queries.assets_visible_to(request.user)).first()
    if d is None:
        raise NotFound()
    approve = request.POST.get("decision") == "approve"
    try:
        services.decide_disposal(Actor.from_request(request), d, approve, request.POST.dict())
        messages.success(request, _("已批准报废") if approve else _("已驳回报废申请"))
    except DomainError as e:
        if e.status == 404:
            raise
        messages.error(request, e.message)
    return redirect("assets:detail", pk=d.asset_id)


@login_required
@domain_errors_as_pages
def asset_label(request, pk: int):
    """A printable label with the asset's QR code (its label text: prefix, id and number)."""
    _gate(request)
    import segno

    a = queries.get_asset_for(request.user, pk)
    svg = segno.make(services.label_text(a), error="m").svg_inline(scale=4, border=2)
    return render(request, "assets/label.html", {"asset": a, "qr": mark_safe(svg)})  # segno escapes the text


@login_required
@domain_errors_as_pages
def stocktakes(request):
    _gate(request)
    if request.method == "POST":
        facility = queries.facilities_visible_to(request.user).filter(pk=request.POST.get("facility") or 0).first()
        if facility is None:
            raise NotFound()
        try:
            st = services.start_stocktake(request, facility)
            return redirect("assets:stocktake", pk=st.pk)
        except DomainError as e:
            if e.status == 404:
                raise
            messages.error(request, e.message)
    return render(request, "assets/stocktakes.html", {
        "rows": queries.stocktakes_visible_to(request.user)[:100],
        "facilities": [f for f in queries.facilities_visible_to(request.user)
                       if can(request.user, "assets.stocktake", f)]})


@login_required
@domain_errors_as_pages
def stocktake(request, pk: int):
    """The phone page of a stocktake: scan a label with the camera (or a scanner, or type the number)."""
    _gate(request)
    st = queries.get_stocktake_for(request.user, pk)
    may = can(request.user, "assets.stocktake", st.facility) and st.status == "open"
    last = None
    if request.method == "POST" and may:
        try:
            if request.POST.get("action") == "close":
                services.close_stocktake(request, st)
                messages.success(request, _("盘点已结束"))
                return redirect("assets:stocktake", pk=st.pk)
            last = services.scan(request, st, request.POST.get("code", ""))
            if last.elsewhere:
                messages.warning(request, _("%(n)s 登记在 %(f)s，已记为账实不符") % {
                    "n": last.asset.number, "f": last.asset.facility.name})
            else:
                messages.success(request, _("已盘到 %(n)s %(name)s") % {"n": last.asset.number,
                                                                        "name": last.asset.name})
            return redirect("assets:stocktake", pk=st.pk)
        except DomainError as e:
            if e.status == 404:
                raise
            messages.error(request, e.message)
    response = render(request, "assets/stocktake.html", {"st": st, "may": may, **queries.stocktake_summary(st)})
    response["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"  # the scanner's camera
    return response


urlpatterns = [
    path("stocktakes/", stocktakes, name="stocktakes"),
    path("stocktakes/<int:pk>/", stocktake, name="stocktake"),
    path("<int:pk>/label/", asset_label, name="label"),
    path("", asset_list, name="list"),
    path("new/", asset_new, name="new"),
    path("disposals/", disposals, name="disposals"),
    path("disposals/<int:pk>/decide/", disposal_decide, name="disposal_decide"),
    path("<int:pk>/", asset_detail, name="detail"),
    path("<int:pk>/edit/", asset_edit, name="edit"),
    path("<int:pk>/usage/", asset_usage, name="usage"),
    path("<int:pk>/maintenance/", asset_maintenance, name="maintenance"),
    path("<int:pk>/transfer/", asset_transfer, name="transfer"),
    path("<int:pk>/dispose/", asset_dispose, name="dispose"),
]
