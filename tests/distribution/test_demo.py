"""The demo step on the cast's community, after the pharmacy's: a year of deliveries consistent with the ledger,
≥ 50 kinds in (almost) every village clinic, open orders in several states, shortages answered and overdue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum
from django.utils import timezone

from yigongti.demo.context import DemoContext
from yigongti.demo.distribution import build_distribution
from yigongti.demo.pharmacy import build_pharmacy
from yigongti.distribution.models import OrderStatus, Shortage, VillageOrder
from yigongti.pharmacy.models import Movement, StockBalance, TraceCode

pytestmark = pytest.mark.django_db


def test_a_year_of_deliveries_fills_the_villages_and_keeps_the_ledger_consistent(cast):
    from yigongti.orgs.models import Facility

    today = timezone.localdate()
    ctx = DemoContext(seed=1, population=450_000, today=today, now=timezone.now(), community=cast.community,
                      facilities={f.code: f for f in Facility.objects.all()})
    build_pharmacy(ctx)
    build_distribution(ctx)
    assert ctx.extra["distribution"]["movements"] > 1000
    for clinic in (cast.village_clinic, cast.other_clinic):
        kinds = StockBalance.objects.filter(facility=clinic, quantity__gt=0).values("item").distinct().count()
        assert kinds >= 36
        assert VillageOrder.objects.filter(facility=clinic, status=OrderStatus.RECEIVED).count() >= 10
    # every balance is the sum of its ledger lines, and never negative
    ledger = {(r["facility"], r["lot"]): r["n"] for r in Movement.objects.values("facility", "lot")
              .annotate(n=Sum("quantity"))}
    for b in StockBalance.objects.all():
        assert b.quantity >= 0 and ledger.get((b.facility_id, b.lot_id), 0) == b.quantity, b
    # the boxes' trace codes sit where the boxes are
    at_village = TraceCode.objects.filter(facility=cast.village_clinic, status="in_stock").count()
    assert 0 < at_village <= StockBalance.objects.filter(facility=cast.village_clinic).aggregate(
        n=Sum("quantity"))["n"]
    statuses = set(VillageOrder.objects.values_list("status", flat=True))
    assert {OrderStatus.SUBMITTED, OrderStatus.RECEIVED} <= statuses
    assert Shortage.objects.filter(status="open", due_at__lt=timezone.now()).exists()
    assert Shortage.objects.filter(status="answered").exists()
    assert dt.date.today()
