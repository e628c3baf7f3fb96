"""Suggested quantities from the village's chronic patients and its consumption; the app's indicators."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from tests.cast import as_
from yigongti.distribution import indicators, queries, services
from yigongti.distribution.models import Shortage
from yigongti.indicators.periods import Period
from yigongti.indicators.queries import Area
from yigongti.pharmacy import ledger
from yigongti.pharmacy.models import MovementKind, StockLimit


def test_the_chronic_patients_and_the_clinics_use_prefill_the_order_form(w):
    from yigongti.chronic.models import RegularMedicine
    from yigongti.chronic.services.enrolment import enrol

    c = w.c
    e = enrol(as_(c.village_doctor), c.resident, "htn", enrolled_on=timezone.localdate() - dt.timedelta(days=30))
    RegularMedicine.objects.create(enrolment=e, drug_code=w.amlodipine.code, name="苯磺酸氨氯地平片", dose="5mg",
                                   frequency="qd", units_per_day=Decimal("2"), since=timezone.localdate())
    with transaction.atomic():  # the clinic dispensed 30 boxes of metformin in the last three months
        ledger.post(facility=c.village_clinic, lot=w.met_lot, quantity=32, kind=MovementKind.TRANSFER_IN)
        ledger.post(facility=c.village_clinic, lot=w.met_lot, quantity=-30, kind=MovementKind.DISPENSE,
                    at=timezone.now() - dt.timedelta(days=20))
    StockLimit.objects.create(facility=c.village_clinic, item=w.metformin, minimum=2, maximum=9)
    rows = {r["item"].pk: r for r in queries.order_form_rows(c.village_clinic)}
    assert rows[w.amlodipine.pk]["suggested"] == 3  # 2 tablets a day × 30 ÷ 28 a box, rounded up
    assert rows[w.amlodipine.pk]["chronic"]
    assert rows[w.metformin.pk]["suggested"] == 7  # 10 a month, capped at the maximum 9, 2 on hand


def _area(c):
    return Area("county", c.county.code, c.county.name, c.county.prefix)


def test_shortage_answer_time_share_in_time_and_delivery_lead_time(w):
    c = w.c
    now = timezone.now()
    doc = as_(c.village_doctor)
    fast = services.register_shortage(doc, c.village_clinic, {"drug_name": "A"})
    slow = services.register_shortage(doc, c.village_clinic, {"drug_name": "B"})
    services.register_shortage(doc, c.village_clinic, {"drug_name": "C"})
    Shortage.objects.filter(pk=slow.pk).update(registered_at=now - dt.timedelta(hours=60),
                                               due_at=now - dt.timedelta(hours=12))
    Shortage.objects.filter(pk=fast.pk).update(registered_at=now - dt.timedelta(hours=4))
    for s in (fast, slow):
        services.answer_shortage(as_(w.pharmacist), Shortage.objects.get(pk=s.pk),
                                 {"answer": "transfer", "answer_text": "调拨"})
    month = timezone.localdate().strftime("%Y-%m")
    p = Period("month", month, month, month)
    hours = indicators.shortage_hours(_area(c), p)
    assert hours.value == Decimal("32.00")  # median of 4 and 60
    timely = indicators.shortage_timely(_area(c), p)
    assert (timely.numerator, timely.denominator) == (1, 2)  # the open one is not yet due
    o = services.create_order(doc, c.village_clinic, {w.metformin.pk: 2}, submit=True)
    for fn in (services.approve_order, services.pick_order, services.dispatch_order):
        fn(as_(w.pharmacist), o)
    services.receive_line(doc, o.lines.get(), received=2)
    assert indicators.lead_hours(_area(c), p).denominator == 1
