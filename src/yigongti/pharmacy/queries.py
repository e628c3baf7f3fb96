"""The pharmacy's reads, scoped: the catalogue of a community, what a facility may stock, a facility's stock
(balances with their lots, near-expiry and below-minimum alerts — read from ``StockBalance`` in one query, never
by summing the ledger), an item's movements, the agreements' completion, the villages' item counts.

Who sees a facility's stock: its own staff; the admin and staff of the township center above a village clinic;
the community pharmacy department and managers the whole community; the bureau and the city their region's
facilities (``core.scoping``). The catalogue is read by every account of the community (it carries no person)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from yigongti.core.carelevel import LEVEL_RANK, CareLevel, care_level, type_q
from yigongti.core.errors import NotFound
from yigongti.core.scoping import facility_scope_q
from yigongti.orgs.models import Facility, Role
from yigongti.orgs.permissions import has_role

from .models import (
    Agreement,
    DistributionCenter,
    Item,
    Movement,
    PurchaseOrder,
    StockBalance,
    StockLimit,
    Stocktake,
)
from .permissions import is_department

NEAR_EXPIRY_DAYS = 90
VILLAGE_GOAL = 50  # 村卫生所药品品种全部达50种以上
STAFF_ROLES = (Role.PHARMACIST, Role.VILLAGE_DOCTOR, Role.DOCTOR, Role.NURSE, Role.FACILITY_ADMIN)


def may_use_pharmacy(user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser) or has_role(user, *STAFF_ROLES, Role.COMMUNITY_MANAGER, Role.BUREAU, Role.CITY)


def community_of(user):
    if getattr(user, "facility_id", None) and user.facility.community_id:
        return user.facility.community
    return None


def stock_visible_facilities(user) -> QuerySet[Facility]:
    if not may_use_pharmacy(user):
        return Facility.objects.none()
    community = community_of(user)
    if user.is_superuser:
        q = Q(community__isnull=False)
    elif community is not None and (has_role(user, Role.COMMUNITY_MANAGER) or is_department(user, community.pk)):
        q = Q(community_id=community.pk)
    elif has_role(user, *STAFF_ROLES) and user.facility_id:
        q = Q(pk=user.facility_id) | Q(parent_id=user.facility_id) if care_level(user.facility.type) == \
            CareLevel.TOWNSHIP else Q(pk=user.facility_id)
    elif has_role(user, Role.BUREAU, Role.CITY):
        q = facility_scope_q(user, "region__code") & Q(community__isnull=False)
    else:
        q = Q(pk__in=[])
    return Facility.objects.filter(q, is_active=True).order_by("code")


def get_facility_for(user, pk) -> Facility:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    f = stock_visible_facilities(user).select_related("community", "region").filter(pk=pk).first()
    if f is None:
        raise NotFound()
    return f


def home_facility(user) -> Facility | None:
    """The facility a stock page opens on: the user's own, else the community's distribution center."""
    visible = stock_visible_facilities(user)
    if user.facility_id and visible.filter(pk=user.facility_id).exists():
        return user.facility
    community = community_of(user)
    if community is not None:
        dc = DistributionCenter.objects.filter(community=community).first()
        if dc is not None and visible.filter(pk=dc.facility_id).exists():
            return dc.facility
    return visible.first()


# ---- the catalogue ------------------------------------------------------------------------------------------

def catalogue_for(user) -> QuerySet[Item]:
    community = community_of(user)
    if user.is_superuser and community is None:
        return Item.objects.all()
    if community is None:
        if has_role(user, Role.BUREAU, Role.CITY):
            return Item.objects.filter(facility_scope_q(user, "community__region__code"))
        return Item.objects.none()
    return Item.objects.filter(community=community)


def get_item_for(user, pk) -> Item:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    item = catalogue_for(user).filter(pk=pk).first()
    if item is None:
        raise NotFound()
    return item


def filter_catalogue(qs: QuerySet[Item], *, q: str = "", kind: str = "", level: str = "", flag: str = "",
                     active: str = "1") -> QuerySet[Item]:
    if q:
        qs = qs.filter(search__contains=q.lower())
    if kind:
        qs = qs.filter(kind=kind)
    if level:
        qs = qs.filter(min_level=level)
    if flag == "essential":
        qs = qs.filter(essential=True)
    elif flag == "vbp":
        qs = qs.filter(vbp=True)
    elif flag == "antibiotic":
        qs = qs.exclude(antibiotic="")
    if active == "1":
        qs = qs.filter(is_active=True)
    elif active == "0":
        qs = qs.filter(is_active=False)
    return qs


def levels_up_to(facility) -> list[str]:
    rank = LEVEL_RANK[care_level(facility.type)]
    return [lv for lv in (CareLevel.VILLAGE, CareLevel.TOWNSHIP, CareLevel.COUNTY) if LEVEL_RANK[lv] <= rank]


def facility_catalogue(facility) -> QuerySet[Item]:
    """What a facility may stock: the community's active items of its level and below, and its own list (the
    items it has a stock limit for)."""
    return Item.objects.filter(Q(min_level__in=levels_up_to(facility)) | Q(limits__facility=facility),
                               community_id=facility.community_id, is_active=True).distinct()


def may_stock(facility, item) -> bool:
    if not item.is_active or item.community_id != facility.community_id:
        return False
    return item.min_level in levels_up_to(facility) or StockLimit.objects.filter(facility=facility,
                                                                                 item=item).exists()


# ---- stock --------------------------------------------------------------------------------------------------

@dataclass
class StockRow:
    item: Item
    on_hand: int = 0  # unexpired
    expired: int = 0
    lots: list = field(default_factory=list)  # (lot number, expires_on, quantity, lot pk)
    nearest_expiry: dt.date | None = None
    minimum: int | None = None
    maximum: int | None = None
    near_expiry_qty: int = 0
    row_html: str = ""  # the stock page's rendering of the row (views.stock)

    @property
    def below_min(self) -> bool:
        return self.minimum is not None and self.on_hand < self.minimum

    @property
    def near_expiry(self) -> bool:
        return self.near_expiry_qty > 0

    @property
    def value(self) -> Decimal:
        return self.item.price * self.on_hand


ROW_ITEM_FIELDS = ("id", "community_id", "code", "kind", "generic_name", "trade_name", "strength", "form",
                   "package_unit", "pack_size", "min_unit", "price", "essential", "vbp", "antibiotic", "min_level",
                   "is_active")


def stock_rows(facility, today: dt.date | None = None, *, q: str = "", alerts: str = "") -> list[StockRow]:
    """The facility's items with stock or a limit, from the balances (never the ledger): three small queries
    (balances with their lot numbers as tuples; limits; the items concerned, their list fields only)."""
    today = today or timezone.localdate()
    soon = today + dt.timedelta(days=NEAR_EXPIRY_DAYS)
    balances = (StockBalance.objects.filter(facility=facility, quantity__gt=0)
                .values_list("item_id", "lot_id", "lot__number", "expires_on", "quantity").order_by("expires_on"))
    limits = StockLimit.objects.filter(facility=facility).values_list("item_id", "minimum", "maximum")
    if q:
        balances = balances.filter(item__search__contains=q.lower())
        limits = limits.filter(item__search__contains=q.lower())
    rows: dict[int, StockRow] = {}
    pending: dict[int, list] = {}
    for item_id, lot_id, number, expires, qty in balances:
        pending.setdefault(item_id, []).append((number, expires, qty, lot_id))
    limit_of = {item_id: (lo, hi) for item_id, lo, hi in limits}
    ids = set(pending) | set(limit_of)
    if not ids:
        return []
    for it in Item.objects.filter(pk__in=ids).only(*ROW_ITEM_FIELDS):
        row = rows[it.pk] = StockRow(it)
        for number, expires, qty, lot_id in pending.get(it.pk, ()):
            row.lots.append((number, expires, qty, lot_id))
            if expires < today:
                row.expired += qty
                continue
            row.on_hand += qty
            if row.nearest_expiry is None:
                row.nearest_expiry = expires
            if expires <= soon:
                row.near_expiry_qty += qty
        if it.pk in limit_of:
            row.minimum, row.maximum = limit_of[it.pk]
    out = sorted(rows.values(), key=lambda r: (r.item.kind, r.item.generic_name, r.item.strength))
    if alerts == "near":
        out = [r for r in out if r.near_expiry or r.expired]
    elif alerts == "low":
        out = [r for r in out if r.below_min]
    return out


@dataclass
class StockSummary:
    kinds: int
    value: Decimal
    near_expiry: int
    below_min: int
    expired: int


def summarize(rows: list[StockRow]) -> StockSummary:
    return StockSummary(kinds=sum(1 for r in rows if r.on_hand > 0),
                        value=sum((r.value for r in rows), Decimal("0")),
                        near_expiry=sum(1 for r in rows if r.near_expiry),
                        below_min=sum(1 for r in rows if r.below_min),
                        expired=sum(1 for r in rows if r.expired))


def movements(facility, item=None, limit: int = 200) -> QuerySet[Movement]:
    qs = Movement.objects.filter(facility=facility).select_related("lot", "item", "counterpart", "by")
    if item is not None:
        qs = qs.filter(item=item)
    return qs.order_by("-at", "-pk")[:limit]


def open_stocktake(facility) -> Stocktake | None:
    return Stocktake.objects.filter(facility=facility, status="open").first()


# ---- procurement --------------------------------------------------------------------------------------------

def agreements_for(user, *, current_on: dt.date | None = None) -> QuerySet[Agreement]:
    community = community_of(user)
    qs = Agreement.objects.select_related("item", "supplier")
    if community is None:
        return qs.none() if not user.is_superuser else qs
    qs = qs.filter(community=community)
    if current_on is not None:
        qs = qs.filter(starts_on__lte=current_on, ends_on__gte=current_on)
    return qs.order_by("-starts_on", "item__generic_name")


def orders_for(user) -> QuerySet[PurchaseOrder]:
    community = community_of(user)
    qs = PurchaseOrder.objects.select_related("supplier", "facility").annotate(n_lines=Count("lines"))
    if community is None:
        return qs.none() if not user.is_superuser else qs
    return qs.filter(community=community)


def get_order_for(user, pk) -> PurchaseOrder:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    o = orders_for(user).filter(pk=pk).first()
    if o is None:
        raise NotFound()
    return o


# ---- villages -----------------------------------------------------------------------------------------------

def village_item_counts(community, today: dt.date | None = None) -> list[tuple[Facility, int]]:
    """Every village clinic of the community with its number of kinds in unexpired stock (one query)."""
    today = today or timezone.localdate()
    villages = list(Facility.objects.filter(type_q(CareLevel.VILLAGE), community=community, is_active=True)
                    .select_related("parent").order_by("code"))
    counts = dict(StockBalance.objects.filter(facility__in=villages, quantity__gt=0, expires_on__gte=today)
                  .values("facility_id").annotate(n=Count("item_id", distinct=True)).values_list("facility_id", "n"))
    return [(v, counts.get(v.pk, 0)) for v in villages]


def stock_value_by_kind(facility) -> dict[str, Decimal]:
    rows = (StockBalance.objects.filter(facility=facility, quantity__gt=0)
            .values("item__kind", "item__price").annotate(n=Sum("quantity")))
    out: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        out[r["item__kind"]] += r["item__price"] * r["n"]
    return dict(out)
