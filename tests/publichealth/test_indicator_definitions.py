"""The public-health indicators as the 规范 (第三版) 考核指标 define them, at their edges: 早孕建册率 and 产后访视率
over the period's live births, 28 days for the postpartum visit; the 0–6 and 65+ populations at the period's end;
immunisation coverage only over the children past the vaccine's last timely-completion age."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache

from yigongti.core.idcard import make_id_number
from yigongti.indicators import queries
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import Area
from yigongti.publichealth.models import ChildVisit, HealthCheck, MaternalVisit, Pregnancy, VaccineDose
from yigongti.residents.models import Resident

pytestmark = pytest.mark.django_db
COUNTY = Area("county", "431127000000", "蓝山县", "431127")
D = dt.date


def fig(code, period="2026-06"):
    cache.clear()  # the figures are cached: read them afresh after each change
    return {c.indicator.code: c.value for c in queries.figures(COUNTY, parse_period(period), [code])}[code]


def _woman(care, serial: int) -> Resident:
    v = care.cast.village
    birth = D(1995, 1, serial)
    return Resident.objects.create(name=f"孕妇{serial}", sex="F", birth_date=birth, village=v, area_code=v.code,
                                   id_number=make_id_number(v.code[:6], birth, 700 + serial, "F"))


def _pregnancy(care, woman, *, week: int, delivered: dt.date | None, outcome: str = "live_birth") -> Pregnancy:
    c = care.cast
    lmp = (delivered or D(2026, 6, 1)) - dt.timedelta(days=270)
    return Pregnancy.objects.create(
        resident=woman, lmp=lmp, edd=lmp + dt.timedelta(days=280), registered_on=lmp + dt.timedelta(weeks=week),
        registered_week=week, facility=c.township_center, managing_facility=c.township_center, schedule_edition="t",
        status="closed" if delivered else "ongoing", delivered_on=delivered, outcome=outcome if delivered else "")


def test_early_registration_is_over_the_live_births_of_the_period(care):
    _pregnancy(care, _woman(care, 1), week=10, delivered=D(2026, 6, 3))   # numerator
    _pregnancy(care, _woman(care, 2), week=13, delivered=D(2026, 6, 9))   # 13 weeks: not early
    _pregnancy(care, _woman(care, 3), week=8, delivered=D(2026, 6, 12), outcome="stillbirth")  # not a live birth
    _pregnancy(care, _woman(care, 4), week=9, delivered=D(2026, 5, 30))   # another period
    _pregnancy(care, _woman(care, 5), week=11, delivered=None)            # registered, not yet delivered
    v = fig("PH_EARLY_REG")
    assert (v.numerator, v.denominator, v.value) == (1, 2, Decimal("50.00"))
    assert fig("PH_EARLY_REG", "2026-05").denominator == 1


def test_the_postpartum_visit_counts_within_28_days_of_a_live_birth(care):
    c = care.cast
    on_time = _pregnancy(care, _woman(care, 1), week=10, delivered=D(2026, 6, 1))
    late = _pregnancy(care, _woman(care, 2), week=10, delivered=D(2026, 6, 2))
    before = _pregnancy(care, _woman(care, 3), week=10, delivered=D(2026, 6, 3))
    still = _pregnancy(care, _woman(care, 4), week=10, delivered=D(2026, 6, 4), outcome="stillbirth")
    MaternalVisit.objects.create(pregnancy=on_time, kind="postpartum", date=D(2026, 6, 29), facility=c.village_clinic)
    MaternalVisit.objects.create(pregnancy=late, kind="postpartum", date=D(2026, 7, 1), facility=c.village_clinic)
    MaternalVisit.objects.create(pregnancy=before, kind="antenatal_5", date=D(2026, 6, 3),
                                 facility=c.village_clinic)  # the delivery day: not a postpartum visit
    MaternalVisit.objects.create(pregnancy=still, kind="postpartum", date=D(2026, 6, 6), facility=c.village_clinic)
    v = fig("PH_POSTPARTUM")
    assert (v.numerator, v.denominator) == (1, 3)  # day 28 counts, day 29 does not; the stillbirth is not counted


def test_five_antenatal_visits_count_only_before_the_delivery(care):
    c = care.cast
    p = _pregnancy(care, _woman(care, 1), week=10, delivered=D(2026, 6, 20))
    for i, day in enumerate((D(2025, 12, 1), D(2026, 1, 20), D(2026, 3, 1), D(2026, 5, 1), D(2026, 6, 20))):
        MaternalVisit.objects.create(pregnancy=p, kind=f"antenatal_{i + 1}", date=day, facility=c.village_clinic)
    assert fig("PH_ANC5").numerator == 0  # the fifth is on the delivery day
    MaternalVisit.objects.create(pregnancy=p, kind="antenatal_x", date=D(2026, 6, 10), facility=c.village_clinic)
    assert (fig("PH_ANC5").numerator, fig("PH_ANC5").denominator) == (1, 1)


def test_the_65_plus_are_counted_at_the_periods_end_and_checked_in_its_year(care):
    c = care.cast
    v = c.village
    turns_65 = Resident.objects.create(name="满六五", sex="M", birth_date=D(1961, 6, 30), village=v, area_code=v.code,
                                       id_number=make_id_number(v.code[:6], D(1961, 6, 30), 801, "M"))
    before = fig("PH_ELDERLY")
    assert fig("PH_ELDERLY", "2026-05").denominator == before.denominator - 1  # 65 on 30 June
    HealthCheck.objects.create(resident=turns_65, date=D(2025, 12, 30), purpose="elderly", facility=c.village_clinic)
    assert fig("PH_ELDERLY").numerator == before.numerator  # last year's check does not count
    HealthCheck.objects.create(resident=turns_65, date=D(2026, 1, 2), purpose="elderly", facility=c.village_clinic)
    assert fig("PH_ELDERLY").numerator == before.numerator + 1


def test_children_0_6_leave_the_population_on_their_7th_birthday(care):
    c = care.cast
    v = c.village
    seven = Resident.objects.create(name="满七岁", sex="F", birth_date=D(2019, 6, 30), village=v, area_code=v.code,
                                    id_number=make_id_number(v.code[:6], D(2019, 6, 30), 802, "F"))
    ChildVisit.objects.create(child=seven, kind="year_6", date=D(2026, 3, 1), age_days=2436,
                              facility=c.village_clinic, schedule_edition="t")
    may, june = fig("PH_CHILD", "2026-05"), fig("PH_CHILD")
    assert june.denominator == may.denominator - 1 and june.numerator == may.numerator - 1


def test_vaccine_coverage_waits_for_the_last_doses_timely_age(care):
    c = care.cast
    child = care.child  # two years old: past MMR 2's 24 months? only from the day it turns 720 days
    for dose, age in ((1, 240), (2, 540)):
        VaccineDose.objects.create(child=child, vaccine="MMR", dose=dose, age_days=age,
                                   given_on=child.birth_date + dt.timedelta(days=age), facility=c.township_center,
                                   schedule_edition="t")
    end = D(2026, 6, 30)
    age_at_end = (end - child.birth_date).days
    mmr = fig("PH_VACC_MMR")
    assert age_at_end >= 720 and (mmr.numerator, mmr.denominator) == (1, 1)
    assert fig("PH_VACC_DT").denominator == 0  # DT complete by 7 years: no child of the area is past it yet
