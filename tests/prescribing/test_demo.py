"""The demo county's prescriptions: from its outpatient encounters and chronic patients, some held and waiting
for the pharmacist, dispensed by lot with balances equal to the ledger, a month of 点评 classified."""

import datetime as dt

from django.db.models import Sum

from yigongti.demo.build import build_demo
from yigongti.pharmacy.models import Movement, StockBalance, TraceCode
from yigongti.prescribing.models import CommentSample, DispensedCode, Kind, Prescription, Status

TODAY = dt.date(2026, 11, 20)


def test_the_demo_county_prescribes_reviews_dispenses_and_samples(transactional_db):
    build_demo(population=3000, seed=7, today=TODAY)
    rx = Prescription.objects.all()
    print(build_demo.last_context.extra["prescribing"])
    assert rx.count() > 80
    assert rx.filter(encounter__isnull=False).exists() and rx.filter(kind=Kind.CHRONIC).exists()
    assert rx.filter(status=Status.REVIEW_PENDING).exists()
    assert rx.filter(status__in=[Status.APPROVED, Status.REJECTED]).exists() or rx.filter(reviews__isnull=False)
    assert rx.filter(status=Status.DISPENSED).count() > rx.count() * 0.4
    # every encounter prescription's resident is the encounter's
    assert not rx.filter(encounter__isnull=False).exclude(encounter__resident=models_F("resident")).exists()
    # balances equal the ledger's sum, lot by lot, and nothing is negative
    sums = {(r["facility"], r["lot"]): r["n"] for r in Movement.objects.values("facility", "lot")
            .annotate(n=Sum("quantity"))}
    for b in StockBalance.objects.all():
        assert b.quantity == sums.get((b.facility_id, b.lot_id), 0) >= 0
    assert Movement.objects.filter(kind="dispense", source__startswith="prescription:").exists()
    codes = DispensedCode.objects.select_related("trace")
    assert codes.exists() and all(c.trace.status == "dispensed" for c in codes[:200])
    assert TraceCode.objects.filter(status="dispensed").count() == codes.count()
    samples = CommentSample.objects.all()
    assert samples.exists() and not samples.filter(classification="").exists()


def models_F(name):
    from django.db.models import F

    return F(name)
