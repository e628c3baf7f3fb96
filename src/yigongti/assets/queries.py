"""Who sees which assets, and the register's reads: the list with its filters (one query for the page plus one
for the units of use of its 工作量法 rows — never a query per row), one asset fetched and checked in one step,
and its history.

Visibility: a facility admin the assets of their facility and of those directly under it; a community manager
the community's; the bureau and the city the facilities of their region (``core.scoping``); superusers all;
every other role none (the register is the equipment office's, not a clinical page)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core.errors import NotFound
from yigongti.core.paging import Page, slice_page
from yigongti.core.scoping import facility_scope_q
from yigongti.orgs.models import Facility, Role
from yigongti.orgs.permissions import has_role

from . import depreciation
from .models import Asset, AssetStatus, Disposal, DisposalStatus, Stocktake, StocktakeStatus, Usage

READERS = (Role.FACILITY_ADMIN, Role.COMMUNITY_MANAGER, Role.BUREAU, Role.CITY)


def may_read_register(user) -> bool:
    """The menu entry and every page's gate."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser) or has_role(user, *READERS)


def visible_q(user) -> Q:
    if not may_read_register(user):
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    if has_role(user, Role.FACILITY_ADMIN):
        if not user.facility_id:
            return Q(pk__in=[])
        return Q(facility_id=user.facility_id) | Q(facility__parent_id=user.facility_id)
    if has_role(user, Role.COMMUNITY_MANAGER):
        community = user.facility.community_id if user.facility_id else None
        if community is None:
            return facility_scope_q(user, "facility__region__code")
        return Q(community_id=community)
    return facility_scope_q(user, "facility__region__code")  # bureau, city: their region


def assets_visible_to(user) -> QuerySet[Asset]:
    return Asset.objects.filter(visible_q(user))


def facilities_visible_to(user) -> QuerySet[Facility]:
    """The facilities the user's register covers (the facility filter's and the form's choices)."""
    if not may_read_register(user):
        return Facility.objects.none()
    if user.is_superuser:
        q = Q(community__isnull=False)
    elif has_role(user, Role.FACILITY_ADMIN):
        q = Q(pk=user.facility_id) | Q(parent_id=user.facility_id) if user.facility_id else Q(pk__in=[])
    elif has_role(user, Role.COMMUNITY_MANAGER) and user.facility_id and user.facility.community_id:
        q = Q(community_id=user.facility.community_id)
    else:
        q = facility_scope_q(user, "region__code") & Q(community__isnull=False)
    return Facility.objects.filter(q, is_active=True).order_by("code")


def get_asset_for(user, pk) -> Asset:
    """The asset if the user may see it, else NotFound (never "exists but forbidden")."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    a = (assets_visible_to(user).select_related("facility", "department", "custodian", "community")
         .filter(pk=pk).first())
    if a is None:
        raise NotFound()
    return a


@dataclass
class AssetFilter:
    facility: int | None = None
    category: str = ""
    status: str = ""
    overdue: bool = False
    q: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, data) -> AssetFilter:
        f = cls()
        raw = str(data.get("facility") or "").strip()
        if raw:
            if raw.isdigit():
                f.facility = int(raw)
            else:
                f.errors["facility"] = "facility"
        f.category = str(data.get("category") or "").strip()[:8]
        status = str(data.get("status") or "").strip()
        f.status = status if status in AssetStatus.values else ""
        f.overdue = str(data.get("overdue") or "").lower() in ("1", "true", "on", "yes")
        f.q = str(data.get("q") or "").strip()[:40]
        return f

    def apply(self, qs: QuerySet[Asset], today: dt.date) -> QuerySet[Asset]:
        if self.facility:
            qs = qs.filter(facility_id=self.facility)
        if self.category:
            qs = qs.filter(category=self.category)
        if self.status:
            qs = qs.filter(status=self.status)
        if self.overdue:
            qs = qs.filter(overdue_q(today))
        if self.q:
            qs = qs.filter(search__contains=self.q.lower())
        return qs


def overdue_q(today: dt.date) -> Q:
    """Maintenance or calibration due before today, on an asset not scrapped."""
    return (Q(maintenance_due__lt=today) | Q(calibration_due__lt=today)) & ~Q(status=AssetStatus.SCRAPPED)


def basis_of(a: Asset, ended_on: dt.date | None = None) -> depreciation.Basis:
    return depreciation.Basis(price=a.price, accepted_on=a.accepted_on, method=a.method,
                              useful_life_years=a.useful_life_years, planned_units=a.planned_units,
                              ended_on=ended_on)


@dataclass
class Row:
    asset: Asset
    net: Decimal | None
    overdue: bool
    # what the list's cells show, prepared here (a template lookup per cell costs more than the query)
    url: str = ""
    where: str = ""
    status: str = ""


LIST_FIELDS = ("id", "number", "category", "name", "model", "status", "price", "accepted_on", "method",
               "useful_life_years", "planned_units", "maintenance_due", "calibration_due", "facility_id",
               "facility__name", "facility__short_name", "facility__parent_id", "department__name",
               "custodian__name", "community_id")


def register_page(user, f: AssetFilter, page: int, size: int, today: dt.date | None = None) -> Page:
    """A page of the register with each row's net book value at ``today`` and whether it is overdue."""
    today = today or timezone.localdate()
    qs = (f.apply(assets_visible_to(user), today).select_related("facility", "department", "custodian")
          .only(*LIST_FIELDS).order_by("facility_id", "number"))
    count = qs.count()
    p = slice_page(qs, page, size, count=count)
    p.items = rows_for(p.items, today)
    return p


def _ended(assets: list[Asset]) -> dict[int, dt.date]:
    """When each scrapped asset left (its approved disposal's date)."""
    ids = [a.pk for a in assets if a.status == AssetStatus.SCRAPPED]
    if not ids:
        return {}
    rows = Disposal.objects.filter(asset_id__in=ids, status=DisposalStatus.APPROVED).values_list("asset_id",
                                                                                                "decided_on")
    return {pk: day for pk, day in rows if day is not None}


def _units(assets: list[Asset], today: dt.date) -> dict[int, int]:
    ids = [a.pk for a in assets if a.method == "units"]
    if not ids:
        return {}
    return dict(Usage.objects.filter(asset_id__in=ids, month__lte=today).values("asset_id")
                .annotate(n=Sum("units")).values_list("asset_id", "n"))


def rows_for(assets: list[Asset], today: dt.date) -> list[Row]:
    ended, units = _ended(assets), _units(assets, today)
    prefix = reverse("assets:list")
    labels = {k: str(v) for k, v in AssetStatus.choices}
    out = []
    for a in assets:
        b = basis_of(a, ended.get(a.pk))
        usages = [(a.accepted_on, units.get(a.pk, 0))] if a.method == "units" else []
        try:
            net: Decimal | None = depreciation.net_book_value(b, today, usages)
        except depreciation.DepreciationError:
            net = None
        due = [d for d in (a.maintenance_due, a.calibration_due) if d is not None]
        where = a.facility.short_name or a.facility.name
        if a.department is not None:
            where = f"{where} · {a.department.name}"
        out.append(Row(a, net, a.status != AssetStatus.SCRAPPED and bool(due) and min(due) < today,
                       url=f"{prefix}{a.pk}/", where=where, status=labels[a.status]))
    return out


def usages_of(a: Asset) -> list[tuple[dt.date, int]]:
    return list(a.usages.order_by("month").values_list("month", "units"))


def ended_on(a: Asset) -> dt.date | None:
    d = a.disposals.filter(status=DisposalStatus.APPROVED).order_by("-decided_on").first()
    return d.decided_on if d is not None else None


def who(user) -> str:
    """How a person who acted is named on a page (the system when no account acted: the demo, the CLI)."""
    if user is None:
        return _("系统")
    return user.display_name or user.username


def asset_detail(a: Asset, today: dt.date | None = None) -> dict:
    """The detail page's (and the API's) derived values and history."""
    today = today or timezone.localdate()
    usages = usages_of(a)
    b = basis_of(a, ended_on(a))
    try:
        acc = depreciation.accumulated(b, today, usages)
        schedule = depreciation.yearly_schedule(b, today, usages)
        error = ""
    except depreciation.DepreciationError as e:
        acc, schedule, error = None, [], e.message
    return {
        "accumulated": acc, "net": (a.price - acc) if acc is not None else None, "schedule": schedule,
        "depreciation_error": error, "usages": usages[-24:],
        "units_used": sum(u for _, u in usages),
        "maintenance": list(a.maintenance.select_related("recorded_by").all()[:100]),
        "transfers": list(a.transfers.select_related("from_facility", "to_facility", "by").all()[:100]),
        "disposals": list(a.disposals.select_related("requested_by", "decided_by").all()[:20]),
        "pending_disposal": (pending := a.disposals.filter(status=DisposalStatus.REQUESTED)
                             .select_related("requested_by").first()),
        "pending_by": who(pending.requested_by) if pending is not None else "",
        "overdue": a.status != AssetStatus.SCRAPPED and any(
            d is not None and d < today for d in (a.maintenance_due, a.calibration_due)),
    }


def overdue_assets(user, today: dt.date | None = None) -> QuerySet[Asset]:
    """The overdue list (maintenance or calibration past due), earliest first."""
    today = today or timezone.localdate()
    return (assets_visible_to(user).filter(overdue_q(today)).select_related("facility")
            .order_by("maintenance_due", "calibration_due", "number"))


def pending_disposals(user) -> QuerySet[Disposal]:
    return (Disposal.objects.filter(status=DisposalStatus.REQUESTED, asset__in=assets_visible_to(user))
            .select_related("asset", "asset__facility", "requested_by").order_by("requested_on", "pk"))


def stocktakes_visible_to(user) -> QuerySet[Stocktake]:
    return (Stocktake.objects.filter(facility__in=facilities_visible_to(user)).select_related("facility")
            .order_by("-started_on", "-pk"))


def get_stocktake_for(user, pk) -> Stocktake:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    st = stocktakes_visible_to(user).filter(pk=pk).first()
    if st is None:
        raise NotFound()
    return st


def stocktake_summary(st: Stocktake) -> dict:
    """Found (latest first), found but registered elsewhere, and — while open — still to find; once closed,
    what was missing at closing."""
    lines = list(st.lines.select_related("asset", "asset__facility").order_by("-found_at")[:500])
    if st.status == StocktakeStatus.OPEN:
        found = st.lines.values("asset_id")
        todo_qs = (Asset.objects.filter(facility_id=st.facility_id).exclude(status=AssetStatus.SCRAPPED)
                   .exclude(pk__in=found))
        expected = Asset.objects.filter(facility_id=st.facility_id).exclude(status=AssetStatus.SCRAPPED).count()
    else:
        todo_qs = Asset.objects.filter(pk__in=st.missing)
        expected = st.expected
    return {"lines": lines, "n_found": st.lines.count(), "n_elsewhere": st.lines.filter(elsewhere=True).count(),
            "expected": expected, "todo": list(todo_qs.order_by("number")[:300]), "n_todo": todo_qs.count()}
