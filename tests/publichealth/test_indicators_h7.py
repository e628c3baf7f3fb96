"""Maternal, child, elderly, immunisation indicators and the village clinics' share of public-health tasks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from yigongti.indicators import queries
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import Area
from yigongti.publichealth.models import ChildVisit, HealthCheck, MaternalVisit, Pregnancy, VaccineDose

pytestmark = pytest.mark.django_db
COUNTY = Area("county", "431127000000", "蓝山县", "431127")
D = dt.date


def fig(code, period="2026-06"):
    return {c.indicator.code: c.value for c in queries.figures(COUNTY, parse_period(period), [code])}[code]


def test_maternal_indicators(care):
    c = care.cast
    lmp = D(2025, 9, 1)
    p = Pregnancy.objects.create(resident=care.mother, lmp=lmp, edd=lmp + dt.timedelta(days=280),
                                 registered_on=D(2026, 6, 2), registered_week=12, facility=c.township_center,
                                 managing_facility=c.township_center, schedule_edition="t", status="postpartum",
                                 delivered_on=D(2026, 6, 5), outcome="live_birth")
    for i, day in enumerate((1, 2, 3, 4)):
        MaternalVisit.objects.create(pregnancy=p, kind=f"antenatal_{i + 1}", date=D(2026, 6, day),
                                     facility=c.village_clinic)
    MaternalVisit.objects.create(pregnancy=p, kind="postpartum", date=D(2026, 6, 10), facility=c.village_clinic)
    assert fig("PH_EARLY_REG").value == Decimal("100.00")
    assert fig("PH_ANC5").numerator == 0  # 4 antenatal visits only
    assert fig("PH_POSTPARTUM").value == Decimal("100.00")  # day 5 after delivery


def test_child_elderly_and_vaccine_coverage(care):
    c = care.cast
    ChildVisit.objects.create(child=care.child, kind="month_24", date=D(2026, 6, 1), age_days=716,
                              facility=c.village_clinic, schedule_edition="t")
    HealthCheck.objects.create(resident=care.grandfather, date=D(2026, 3, 1), purpose="elderly",
                               facility=c.township_center)
    ch = fig("PH_CHILD")
    assert ch.numerator == 1 and ch.denominator >= 1
    el = fig("PH_ELDERLY")
    assert el.numerator == 1 and el.denominator >= 2
    for dose, age in ((1, 0), (2, 30), (3, 180)):
        VaccineDose.objects.create(child=care.child, vaccine="HepB", dose=dose, age_days=age,
                                   given_on=care.child.birth_date + dt.timedelta(days=age),
                                   facility=c.township_center, schedule_edition="t")
    hepb = fig("PH_VACC_HepB")
    assert hepb.numerator == 1 and hepb.denominator == 1
    assert fig("PH_VACC_MMR").numerator == 0


def test_village_share(care):
    c = care.cast
    HealthCheck.objects.create(resident=care.grandfather, date=D(2026, 6, 3), purpose="elderly",
                               facility=c.village_clinic)
    HealthCheck.objects.create(resident=care.grandmother, date=D(2026, 6, 3), purpose="elderly",
                               facility=c.township_center)
    v = fig("PH_VILLAGE_SHARE")
    assert (v.numerator, v.denominator, v.value) == (1, 2, Decimal("50.00"))
