"""The demo county's pharmacy: the distribution center, a catalogue of valid codes with a village catalogue of
60+ items, a year of 集采 receipts into the center whose balances equal the ledger, lots expiring within 90 days,
stock limits for every village clinic, and the indicators computed from them."""

import datetime as dt

from django.db.models import Sum

from yigongti.demo.build import build_demo
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import REGISTRY_FIGURES, Area
from yigongti.orgs.models import Facility, User
from yigongti.pharmacy import queries
from yigongti.pharmacy.codes import insurance_code_error, trace_code_error
from yigongti.pharmacy.models import (
    Agreement,
    DistributionCenter,
    Item,
    Movement,
    StockBalance,
    StockLimit,
    TraceCode,
)

TODAY = dt.date(2026, 11, 20)


def test_the_demo_county_stocks_its_distribution_center(transactional_db):
    build_demo(population=3000, seed=7, today=TODAY)
    dc = DistributionCenter.objects.get()
    assert dc.facility == dc.community.lead_facility and dc.tcm_facility.type == "A210"
    assert User.objects.get(username="pharmacist").facility_id == dc.facility_id
    items = list(Item.objects.all())
    assert len(items) >= 250 and all(insurance_code_error(i.code, i.kind) is None for i in items)
    assert sum(1 for i in items if i.min_level == "village") >= 60
    assert {i.kind for i in items} == {"western", "patent", "herbal", "consumable"}
    assert any(i.antibiotic == "special" for i in items) and any(i.antibiotic == "unrestricted" for i in items)
    for b in StockBalance.objects.filter(facility=dc.facility)[:400]:
        assert Movement.objects.filter(facility=dc.facility, lot=b.lot).aggregate(n=Sum("quantity"))["n"] == b.quantity
    rows = queries.stock_rows(dc.facility, TODAY)
    # the later steps deliver to the villages and dispense from here: a few items may run out (a stock-out)
    assert sum(1 for r in rows if r.on_hand > 0) >= 0.9 * len(items)
    assert any(r.near_expiry for r in rows)
    traced = StockBalance.objects.filter(facility=dc.facility, item__kind__in=["western", "patent"]) \
        .aggregate(n=Sum("quantity"))["n"]
    # every box here has its code in stock (a box dispensed without a scan leaves its code open: more codes)
    assert TraceCode.objects.filter(facility=dc.facility, status="in_stock").count() >= traced
    assert all(trace_code_error(c) is None for c in TraceCode.objects.values_list("code", flat=True)[:500])
    villages = Facility.objects.filter(type="D600", community=dc.community).count()
    assert StockLimit.objects.values("facility").distinct().count() == villages
    a = Agreement.objects.order_by("pk").first()
    assert a.received_quantity > 0 and a.completion is not None
    region = dc.community.region
    county = Area("county", region.code, region.name, region.prefix)
    period = parse_period(f"{TODAY.year}")
    vbp = REGISTRY_FIGURES["PH_VBP_DONE"](county, period)
    assert vbp.value is not None and vbp.value > 50
    assert REGISTRY_FIGURES["PH_NEAR_EXPIRY"](county, period).value > 0
    assert REGISTRY_FIGURES["PH_VILLAGE50"](county, period).denominator == villages
