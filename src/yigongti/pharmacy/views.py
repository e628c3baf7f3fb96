"""Pages of the pharmacy: the catalogue (list, filter, edit, Excel import), 集采 agreements with their
completion, purchase orders and the receipt form, a facility's stock (lots, expiry, alerts, an item's movements),
adjustments and limits, the stocktake (phone-usable), and the villages' item counts against the ≥ 50 kinds goal.

Each view parses, calls a query or a service, and renders; a refused input re-shows the form with the typed
values and the Chinese reasons."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.carelevel import CareLevel
from yigongti.core.errors import DomainError, Forbidden, NotFound
from yigongti.core.pages import domain_errors_as_pages, paginate_params
from yigongti.core.paging import slice_page
from yigongti.orgs.permissions import can, check

from . import queries, services
from .models import AntibioticGrade, ItemKind, MovementKind, Supplier

PAGE_SIZE = 50
LEVELS = [(CareLevel.VILLAGE, CareLevel.VILLAGE.label), (CareLevel.TOWNSHIP, CareLevel.TOWNSHIP.label),
          (CareLevel.COUNTY, CareLevel.COUNTY.label)]


def _gate(request) -> None:
    if not queries.may_use_pharmacy(request.user):
        raise Forbidden(_("只有医务人员、药师、医共体管理人员和卫健部门可以查看药品耗材"))


def _community(request):
    c = queries.community_of(request.user)
    if c is None:
        raise NotFound(_("您的账号不属于任何医共体"))
    return c


def _errors(e: DomainError) -> dict:
    if e.status in (403, 404):
        raise e
    return e.errors or {"__all__": [e.message]}


@login_required
@domain_errors_as_pages
def home(request):
    _gate(request)
    f = queries.home_facility(request.user)
    if f is None:
        return redirect("pharmacy:catalogue")
    return redirect("pharmacy:stock", pk=f.pk)


# ---- catalogue ----------------------------------------------------------------------------------------------

@login_required
@domain_errors_as_pages
def catalogue(request):
    _gate(request)
    g = request.GET
    flt = {"q": str(g.get("q") or "").strip()[:40], "kind": g.get("kind") if g.get("kind") in ItemKind.values else "",
           "level": g.get("level") if g.get("level") in CareLevel.values else "",
           "flag": g.get("flag") if g.get("flag") in ("essential", "vbp", "antibiotic") else "",
           "active": g.get("active") if g.get("active") in ("1", "0", "all") else "1"}
    qs = queries.filter_catalogue(queries.catalogue_for(request.user), **flt)
    page = slice_page(qs.order_by("kind", "generic_name", "strength"), paginate_params(request), PAGE_SIZE,
                      count=qs.count())
    return render(request, "pharmacy/catalogue.html", {
        "page": page, "f": flt, "kinds": ItemKind.choices, "levels": LEVELS,
        "may_edit": can(request.user, "pharmacy.catalogue", queries.community_of(request.user))})


def _item_ctx() -> dict:
    return {"kinds": ItemKind.choices, "levels": LEVELS, "grades": AntibioticGrade.choices}


def _item_form(request, item=None):
    community = _community(request)
    check(Actor.from_request(request), "pharmacy.catalogue", item or community)
    errors: dict = {}
    if item is not None:
        form = {k: getattr(item, k) for k in ("code", "kind", "generic_name", "trade_name", "form", "strength",
                                              "package_unit", "pack_size", "min_unit", "manufacturer", "atc",
                                              "essential", "vbp", "antibiotic", "price", "min_level", "is_active")}
    else:
        form = {"kind": "western", "package_unit": "盒", "min_unit": "片", "pack_size": 1, "min_level": "village",
                "is_active": True}
    if request.method == "POST":
        form = request.POST.dict()
        for flag in ("essential", "vbp", "is_active"):
            form[flag] = flag in request.POST
        try:
            it = services.update_item(request, item, form) if item else services.create_item(request, community, form)
            messages.success(request, _("已保存"))
            return redirect(f"{reverse('pharmacy:catalogue')}?q={it.code}")
        except DomainError as e:
            errors = _errors(e)
            messages.error(request, e.message)
    return render(request, "pharmacy/item_form.html", {**_item_ctx(), "item": item, "form": form, "errors": errors},
                  status=422 if errors else 200)


@login_required
@domain_errors_as_pages
def item_new(request):
    _gate(request)
    return _item_form(request)


@login_required
@domain_errors_as_pages
def item_edit(request, pk: int):
    _gate(request)
    return _item_form(request, queries.get_item_for(request.user, pk))


@login_required
@domain_errors_as_pages
def catalogue_import(request):
    _gate(request)
    community = _community(request)
    check(Actor.from_request(request), "pharmacy.catalogue", community)
    report, error = None, ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("请选择要导入的 Excel 文件")
        elif upload.size > 20 * 1024 * 1024:
            error = _("文件过大（上限 20 MB）")
        else:
            try:
                report = services.import_catalogue(request, community, upload.read(),
                                                   dry_run="dry_run" in request.POST)
            except DomainError as e:
                if e.status in (403, 404):
                    raise
                error = e.message
    return render(request, "pharmacy/import.html", {"report": report, "error": error,
                                                    "columns": sorted(set(services.COLUMNS) - {"code", "kind"})},
                  status=422 if error else 200)


# ---- procurement --------------------------------------------------------------------------------------------

@login_required
@domain_errors_as_pages
def agreements(request):
    _gate(request)
    community = _community(request)
    today = timezone.localdate()
    errors, form = {}, {"starts_on": today.replace(month=1, day=1).isoformat(),
                        "ends_on": today.replace(month=12, day=31).isoformat()}
    if request.method == "POST":
        form = request.POST.dict()
        try:
            services.create_agreement(request, community, form)
            messages.success(request, _("已添加集采协议量"))
            return redirect("pharmacy:agreements")
        except DomainError as e:
            errors = _errors(e)
            messages.error(request, e.message)
    current = request.GET.get("all") != "1"
    qs = queries.agreements_for(request.user, current_on=today if current else None)
    page = slice_page(qs, paginate_params(request), PAGE_SIZE, count=qs.count())
    totals = qs.aggregate(agreed=Sum("agreed_quantity"), received=Sum("received_quantity"))
    totals["pct"] = round(100 * (totals["received"] or 0) / totals["agreed"], 1) if totals["agreed"] else None
    may = can(request.user, "pharmacy.procure", community)
    return render(request, "pharmacy/agreements.html", {
        "page": page, "current": current, "may_procure": may, "form": form, "errors": errors, "totals": totals,
        "items": queries.catalogue_for(request.user).filter(vbp=True, is_active=True)[:1000] if may else [],
        "suppliers": Supplier.objects.filter(community=community, is_active=True) if may else []},
        status=422 if errors else 200)


@login_required
@domain_errors_as_pages
def orders(request):
    _gate(request)
    community = _community(request)
    may = can(request.user, "pharmacy.procure", community)
    errors, form = {}, {}
    if request.method == "POST":
        check(Actor.from_request(request), "pharmacy.procure", community)
        form = request.POST.dict()
        items, qtys = request.POST.getlist("item"), request.POST.getlist("quantity")
        lines = [{"item": i, "quantity": q} for i, q in zip(items, qtys, strict=False) if i and q]
        try:
            o = services.create_order(request, community, {**form, "lines": lines})
            messages.success(request, _("已下单 %(n)s") % {"n": o.number})
            return redirect("pharmacy:order", pk=o.pk)
        except DomainError as e:
            errors = _errors(e)
            messages.error(request, e.message)
    qs = queries.orders_for(request.user).order_by("-ordered_on", "-pk")
    page = slice_page(qs, paginate_params(request), PAGE_SIZE)
    return render(request, "pharmacy/orders.html", {
        "page": page, "may_procure": may, "form": form, "errors": errors,
        "items": queries.catalogue_for(request.user).filter(is_active=True).order_by("generic_name")[:1000]
        if may else [],
        "suppliers": Supplier.objects.filter(community=community, is_active=True) if may else []},
        status=422 if errors else 200)


def _receipt_lines(post) -> list[dict]:
    lines = []
    for ol in post.getlist("order_line"):
        lines.append({"order_line": ol, "quantity": post.get(f"quantity_{ol}", ""),
                      "lot": post.get(f"lot_{ol}", ""), "expires_on": post.get(f"expires_on_{ol}", ""),
                      "manufactured_on": post.get(f"manufactured_on_{ol}", ""),
                      "trace_codes": post.get(f"trace_codes_{ol}", "")})
    return [ln for ln in lines if str(ln["quantity"]).strip() not in ("", "0")]


@login_required
@domain_errors_as_pages
def order(request, pk: int):
    _gate(request)
    o = queries.get_order_for(request.user, pk)
    may_receive = can(request.user, "pharmacy.receive", o.facility) and o.status in ("sent", "partial")
    errors, form = {}, {}
    if request.method == "POST":
        form = request.POST.dict()
        lines = _receipt_lines(request.POST)
        try:
            r = services.receive(request, o, {**form, "lines": lines})
            messages.success(request, _("已入库（入库单 %(n)s）") % {"n": r})
            return redirect("pharmacy:stock", pk=o.facility_id)
        except DomainError as e:
            errors = _errors(e)
            messages.error(request, e.message)
    order_lines = list(o.lines.select_related("item", "agreement").order_by("pk"))
    # a refused line's messages, by order line: lines.<i>.<field> → the i-th line posted
    posted = _receipt_lines(request.POST) if request.method == "POST" else []
    line_errors: dict[str, list[str]] = {}
    for key, msgs in errors.items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(posted):
            line_errors.setdefault(str(posted[int(parts[1])]["order_line"]), []).extend(msgs)
    return render(request, "pharmacy/order.html", {
        "order": o, "lines": order_lines, "may_receive": may_receive, "form": form, "errors": errors,
        "line_errors": line_errors, "receipts": o.receipts.prefetch_related("lines__lot", "lines__item"),
        "today": timezone.localdate().isoformat()}, status=422 if errors else 200)


@login_required
@require_POST
@domain_errors_as_pages
def order_cancel(request, pk: int):
    _gate(request)
    o = queries.get_order_for(request.user, pk)
    try:
        services.cancel_order(request, o)
        messages.success(request, _("订单已取消"))
    except DomainError as e:
        _errors(e)
        messages.error(request, e.message)
    return redirect("pharmacy:order", pk=o.pk)


# ---- stock --------------------------------------------------------------------------------------------------

ROW_HTML = ('<a href="?item={}" class="list-group-item list-group-item-action px-2 py-1{}" data-testid="stock-row-{}">'
            '<div class="d-flex justify-content-between gap-2"><span class="fw-semibold text-truncate">{} '
            '<span class="fw-normal text-muted">{}</span></span><span class="text-nowrap">'
            '<strong data-testid="on-hand">{}</strong> {}{}</span></div>'
            '<div class="d-flex flex-wrap gap-2 text-muted">{}{}</div></a>')
LOT_HTML = '<span class="text-nowrap{}" data-testid="lot">{} · {} · {}</span>'


def _render_rows(rows, today: dt.date, soon: dt.date) -> None:
    """Each stock row's HTML, rendered here once (a village clinic's ~130 rows cost a template ~2,000 variable
    lookups and 400 translations; bench/pharmacy_stock.py)."""
    low, near, expired, floor = _("低于下限"), _("近效期"), _("已过期"), _("下限")
    for r in rows:
        lots = format_html_join(" ", LOT_HTML, (
            (" text-decoration-line-through" if e < today else " text-danger" if e <= soon else "", n, e, qty)
            for n, e, qty, _pk in r.lots))
        badges = format_html("{}{}{}",
                             format_html(' <span class="badge text-bg-danger">{}</span>', low) if r.below_min else "",
                             format_html(' <span class="badge text-bg-warning">{}</span>', near)
                             if r.near_expiry else "",
                             format_html(' <span class="badge text-bg-dark">{}</span>', expired) if r.expired else "")
        tone = " list-group-item-danger" if r.below_min else " list-group-item-warning" if r.near_expiry else ""
        minimum = format_html(' <span class="text-muted">/ {} {}</span>', floor, r.minimum) \
            if r.minimum is not None else ""
        r.row_html = format_html(ROW_HTML, r.item.pk, tone, r.item.code, r.item.generic_name, r.item.strength,
                                  r.on_hand, r.item.package_unit, minimum, lots, badges)


@login_required
@domain_errors_as_pages
def stock(request, pk: int):
    _gate(request)
    f = queries.get_facility_for(request.user, pk)
    today = timezone.localdate()
    q = str(request.GET.get("q") or "").strip()[:40]
    alerts = request.GET.get("alerts") if request.GET.get("alerts") in ("near", "low") else ""
    rows = queries.stock_rows(f, today, q=q, alerts=alerts)
    soon = today + dt.timedelta(days=queries.NEAR_EXPIRY_DAYS)
    _render_rows(rows, today, soon)
    summary = queries.summarize(rows if not (q or alerts) else queries.stock_rows(f, today))
    item, moves = None, []
    if request.GET.get("item"):
        item = queries.get_item_for(request.user, request.GET.get("item"))
        moves = list(queries.movements(f, item, limit=100))
    return render(request, "pharmacy/stock.html", {
        "facility": f, "rows": rows, "summary": summary, "q": q, "alerts": alerts, "today": today,
        "soon": soon, "item": item, "moves": moves,
        "is_village": f.care_level == CareLevel.VILLAGE, "goal": queries.VILLAGE_GOAL,
        "facilities": queries.stock_visible_facilities(request.user)[:500],
        "may_adjust": can(request.user, "pharmacy.adjust", f), "may_limits": can(request.user, "pharmacy.limits", f),
        "may_receive": can(request.user, "pharmacy.receive", f),
        "adjust_kinds": [(k, MovementKind(k).label) for k in services.ADJUST_KINDS],
        "stocktake": queries.open_stocktake(f),
        "suppliers": Supplier.objects.filter(community_id=f.community_id, is_active=True) if item else []})


def _stock_move(request, pk: int, service, done: str):
    """A form on the stock page (adjust, return to supplier, limits): the service, its message, back to the item."""
    _gate(request)
    f = queries.get_facility_for(request.user, pk)
    try:
        service(request, f, request.POST.dict())
        messages.success(request, done)
    except DomainError as e:
        _errors(e)
        messages.error(request, e.message)
    item = request.POST.get("item", "")
    return redirect(f"{reverse('pharmacy:stock', args=[f.pk])}" + (f"?item={item}" if item.isdigit() else ""))


@login_required
@require_POST
@domain_errors_as_pages
def adjust(request, pk: int):
    return _stock_move(request, pk, services.adjust, _("已调整库存"))


@login_required
@require_POST
@domain_errors_as_pages
def supplier_return(request, pk: int):
    return _stock_move(request, pk, services.return_to_supplier, _("已退货"))


@login_required
@require_POST
@domain_errors_as_pages
def limits(request, pk: int):
    return _stock_move(request, pk, services.set_limit, _("已保存库存上下限"))


@login_required
@domain_errors_as_pages
def stocktake(request, pk: int):
    """The stocktake of a facility: start, count lot by lot (phone-sized rows), close."""
    _gate(request)
    f = queries.get_facility_for(request.user, pk)
    st = queries.open_stocktake(f)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "start":
                services.start_stocktake(request, f)
                messages.success(request, _("已开始盘点"))
            elif action == "count" and st is not None:
                n = 0
                for key, value in request.POST.items():
                    if key.startswith("lot_") and str(value).strip() != "":
                        services.record_count(request, st, {"lot": key[4:], "counted": value})
                        n += 1
                messages.success(request, _("已记录 %(n)s 个批次的实盘数") % {"n": n})
            elif action == "close" and st is not None:
                services.close_stocktake(request, st)
                messages.success(request, _("盘点已完成，差异已记为盘点调整"))
                return redirect("pharmacy:stock", pk=f.pk)
        except DomainError as e:
            _errors(e)
            messages.error(request, e.message)
        return redirect("pharmacy:stocktake", pk=f.pk)
    counted = {}
    if st is not None:
        counted = dict(st.lines.values_list("lot_id", "counted"))
    rows = queries.stock_rows(f)
    return render(request, "pharmacy/stocktake.html", {
        "facility": f, "stocktake": st, "rows": rows, "counted": counted,
        "may_adjust": can(request.user, "pharmacy.adjust", f)})


@login_required
@domain_errors_as_pages
def villages(request):
    _gate(request)
    community = _community(request)
    visible = set(queries.stock_visible_facilities(request.user).values_list("pk", flat=True))
    goal = queries.VILLAGE_GOAL
    rows = [(v, n, max(goal - n, 0)) for v, n in queries.village_item_counts(community) if v.pk in visible]
    met = sum(1 for _v, _n, gap in rows if gap == 0)
    return render(request, "pharmacy/villages.html", {"rows": rows, "met": met, "goal": queries.VILLAGE_GOAL,
                                                      "community": community})


urlpatterns = [
    path("", home, name="home"),
    path("catalogue/", catalogue, name="catalogue"),
    path("catalogue/new/", item_new, name="item_new"),
    path("catalogue/<int:pk>/edit/", item_edit, name="item_edit"),
    path("catalogue/import/", catalogue_import, name="import"),
    path("agreements/", agreements, name="agreements"),
    path("orders/", orders, name="orders"),
    path("orders/<int:pk>/", order, name="order"),
    path("orders/<int:pk>/cancel/", order_cancel, name="order_cancel"),
    path("stock/<int:pk>/", stock, name="stock"),
    path("stock/<int:pk>/adjust/", adjust, name="adjust"),
    path("stock/<int:pk>/limits/", limits, name="limits"),
    path("stock/<int:pk>/return/", supplier_return, name="supplier_return"),
    path("stock/<int:pk>/stocktake/", stocktake, name="stocktake"),
    path("villages/", villages, name="villages"),
]
