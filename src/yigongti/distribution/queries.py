"""Reads of the distribution app, scoped to the user (``core.scoping``): the orders and shortages a user may see,
a clinic's catalogue with its stock and suggested quantities, the center's queue and pick list, the day's routes.

A clinic sees its own orders and shortages; a township its villages'; the center's pharmacists, the community's
managers and the bureau the whole county (the facility's region within the user's scope)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from yigongti.core.carelevel import CareLevel
from yigongti.core.errors import NotFound
from yigongti.core.scoping import facility_scope_q
from yigongti.orgs.models import Facility, Role
from yigongti.pharmacy.models import DistributionCenter, Item, Movement, MovementKind, StockBalance, StockLimit

from .models import DeliveryRun, OrderStatus, Shortage, ShortageStatus, VillageOrder
from .suggest import Need, suggest_all
from .workflow import QUEUE

LOOKBACK_DAYS = 90
READERS = (Role.VILLAGE_DOCTOR, Role.PHARMACIST, Role.FACILITY_ADMIN, Role.DOCTOR, Role.COMMUNITY_MANAGER,
           Role.BUREAU, Role.CITY)


def may_read(user) -> bool:
    return getattr(user, "is_authenticated", False) and getattr(user, "role", None) in READERS


def center_of(community_id: int | None) -> Facility | None:
    dc = DistributionCenter.objects.filter(community_id=community_id).select_related("facility").first()
    return dc.facility if dc else None


def is_center_pharmacist(user) -> bool:
    if getattr(user, "role", None) != Role.PHARMACIST or not getattr(user, "facility_id", None):
        return False
    return DistributionCenter.objects.filter(facility_id=user.facility_id).exists()


def orders_visible_to(user) -> QuerySet[VillageOrder]:
    if not may_read(user):
        return VillageOrder.objects.none()
    return VillageOrder.objects.filter(facility_scope_q(user, "facility__region__code")) \
        .select_related("facility", "center")


def get_order(user, pk: int) -> VillageOrder:
    order = orders_visible_to(user).filter(pk=pk).first()
    if order is None:
        raise NotFound()
    return order


def queue(user) -> QuerySet[VillageOrder]:
    """The center's work: orders waiting for approval, picking or dispatch."""
    return orders_visible_to(user).filter(status__in=QUEUE).order_by("submitted_at", "pk")


def shortages_visible_to(user) -> QuerySet[Shortage]:
    if not may_read(user):
        return Shortage.objects.none()
    return Shortage.objects.filter(facility_scope_q(user, "facility__region__code")) \
        .select_related("facility", "item", "substitute", "resident")


def shortages_read(actor, limit: int = 500) -> list[Shortage]:
    """The shortages the actor may see, newest first; naming patients (masked) is an audited read."""
    from yigongti.core import audit

    rows = list(shortages_visible_to(actor.user).order_by("status", "-registered_at")[:limit])
    patients = [r.resident_id for r in rows if r.resident_id]
    if patients:
        audit.record(actor, "read", "shortage_patients", "", residents=patients[:50])
    return rows


def get_shortage(user, pk: int) -> Shortage:
    s = shortages_visible_to(user).filter(pk=pk).first()
    if s is None:
        raise NotFound()
    return s


def overdue(s: Shortage, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    if s.status == ShortageStatus.OPEN:
        return now > s.due_at
    return s.answered_at is not None and s.answered_at > s.due_at


def runs_visible_to(user, day: dt.date | None = None) -> QuerySet[DeliveryRun]:
    if not may_read(user):
        return DeliveryRun.objects.none()
    qs = DeliveryRun.objects.filter(facility_scope_q(user, "center__region__code"))
    if day is not None:
        qs = qs.filter(day=day)
    return qs.prefetch_related("stops__facility").order_by("vehicle")


# ---- the clinic's catalogue and suggestions -----------------------------------------------------------------

def catalogue_for(facility: Facility) -> QuerySet[Item]:
    """The items this facility may stock (``pharmacy.queries.facility_catalogue``: its level and below, and its
    own list)."""
    from yigongti.pharmacy.queries import facility_catalogue

    return facility_catalogue(facility)


def chronic_units(facility: Facility, today: dt.date) -> dict[str, Decimal]:
    """Units a day of the regular medicines of the facility's patients (by 医保 code), over active enrolments."""
    from yigongti.chronic.models import RegularMedicine

    prefix = facility.region.code if facility.care_level == CareLevel.VILLAGE else facility.region.code[:9]
    rows = (RegularMedicine.objects.filter(enrolment__resident__area_code__startswith=prefix, since__lte=today)
            .filter(Q(until__isnull=True) | Q(until__gte=today)).exclude(drug_code="")
            .values("drug_code").annotate(n=Sum("units_per_day")))
    return {r["drug_code"]: Decimal(r["n"] or 0) for r in rows}


def order_form_rows(facility: Facility, today: dt.date | None = None) -> list[dict]:
    """Every catalogue item with the clinic's stock, limits and the suggested quantity (boxes)."""
    today = today or timezone.localdate()
    items = list(catalogue_for(facility).order_by("kind", "generic_name", "strength"))
    on_hand = dict(StockBalance.objects.filter(facility=facility, quantity__gt=0, expires_on__gte=today)
                   .values("item_id").annotate(n=Sum("quantity")).values_list("item_id", "n"))
    since = timezone.now() - dt.timedelta(days=LOOKBACK_DAYS)
    used = dict(Movement.objects.filter(facility=facility, kind__in=[MovementKind.DISPENSE, MovementKind.ISSUE],
                                        at__gte=since)
                .values("item_id").annotate(n=Sum("quantity")).values_list("item_id", "n"))
    limits = {lim.item_id: lim for lim in StockLimit.objects.filter(facility=facility)}
    chronic = chronic_units(facility, today)
    needs = []
    for it in items:
        lim = limits.get(it.pk)
        needs.append(Need(it.pk, on_hand=on_hand.get(it.pk, 0), used=-(used.get(it.pk) or 0),
                          used_days=LOOKBACK_DAYS, chronic_units_per_day=chronic.get(it.code, Decimal(0)),
                          pack_size=it.pack_size, minimum=lim.minimum if lim else 0,
                          maximum=lim.maximum if lim else None))
    sugg = suggest_all(needs)
    return [{"item": it, "on_hand": on_hand.get(it.pk, 0), "suggested": sugg[it.pk],
             "used": -(used.get(it.pk) or 0), "chronic": it.code in chronic,
             "minimum": limits[it.pk].minimum if it.pk in limits else 0,
             "maximum": limits[it.pk].maximum if it.pk in limits else None} for it in items]


def in_transit(order: VillageOrder) -> int:
    """Boxes dispatched on this order and not yet confirmed (received or recorded as missing)."""
    if order.status != OrderStatus.DISPATCHED:
        return 0
    total = 0
    for line in order.lines.all():
        if not hasattr(line, "receipt"):
            total += line.picked
    return total


def pick_list(order: VillageOrder) -> list[dict]:
    """The lines with their lots (and 追溯码) for the picker, in shelf order."""
    lines = list(order.lines.select_related("item").prefetch_related("picks__lot"))
    day = timezone.localdate()
    at_center = dict(StockBalance.objects.filter(facility_id=order.center_id, item_id__in=[ln.item_id for ln in lines],
                                                 quantity__gt=0, expires_on__gte=day)
                     .values("item_id").annotate(n=Sum("quantity")).values_list("item_id", "n"))
    return [{"line": ln, "picks": list(ln.picks.all()), "center_stock": at_center.get(ln.item_id, 0)}
            for ln in lines]


def lines_by_facility(orders) -> dict[int, int]:
    """Boxes per delivering facility (the van's load at a stop)."""
    load: dict[int, int] = defaultdict(int)
    for o in orders:
        for line in o.lines.all():
            load[o.facility_id] += line.picked
    return load
