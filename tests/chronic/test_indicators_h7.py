"""规范管理率, 控制率 and the share seen in 3 months, exactly as the glossary defines them; N13 from enrolments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from yigongti.chronic.models import Enrolment, FollowUp
from yigongti.indicators import queries
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import Area

pytestmark = pytest.mark.django_db
COUNTY = Area("county", "431127000000", "蓝山县", "431127")
D = dt.date


def fig(code, period="2026-06"):
    return {c.indicator.code: c.value for c in queries.figures(COUNTY, parse_period(period), [code])}[code]


def _visit(e, on, sbp=None, dbp=None, fbg=None, mode="clinic"):
    return FollowUp.objects.create(enrolment=e, resident=e.resident, visit_date=on, mode=mode, facility=e.facility,
                                   sbp=sbp, dbp=dbp, fbg=fbg, control="controlled", decision="routine",
                                   next_visit_on=on + dt.timedelta(days=90))


@pytest.fixture
def patients(care):
    c = care.cast
    gf = Enrolment.objects.create(resident=care.grandfather, condition="htn", enrolled_on=D(2025, 1, 1),
                                  facility=c.village_clinic, village=c.village)
    gm = Enrolment.objects.create(resident=care.grandmother, condition="htn", enrolled_on=D(2025, 1, 1),
                                  facility=c.village_clinic, village=c.village)
    dm = Enrolment.objects.create(resident=care.grandmother, condition="t2dm", enrolled_on=D(2025, 1, 1),
                                  facility=c.village_clinic, village=c.village)
    # grandfather (68): 4 face-to-face visits, last 145/85 → at target at 65+ (< 150/90)
    for m in (1, 2, 3, 4):
        _visit(gf, D(2026, m, 10), 150, 92)
    _visit(gf, D(2026, 5, 10), 145, 85)
    # grandmother: 3 face-to-face + 1 phone (not to standard), last 152/88 → not at target (65+: < 150/90)
    for m in (1, 2, 3):
        _visit(gm, D(2026, m, 12), 130, 80)
    _visit(gm, D(2026, 4, 12), 152, 88, mode="phone")
    # diabetes: one visit, FBG 6.9 → at target
    _visit(dm, D(2026, 2, 1), fbg=Decimal("6.9"))
    return gf, gm, dm


def test_standard_management_rate(patients):
    v = fig("CH_HTN_STD")
    assert (v.numerator, v.denominator, v.value) == (1, 2, Decimal("50.00"))


def test_control_rate_uses_the_last_follow_up_of_the_year_and_the_65_threshold(patients):
    v = fig("CH_HTN_CTRL")
    assert (v.numerator, v.denominator) == (1, 2)
    d = fig("CH_DM_CTRL")
    assert (d.numerator, d.denominator, d.value) == (1, 1, Decimal("100.00"))
    assert fig("CH_DM_STD").numerator == 0


def test_seen_in_the_last_three_months(patients):
    v = fig("CH_RECENT")  # end 2026-06-30: since 2026-03-31 — grandfather (May) yes; grandmother (phone) no
    assert (v.numerator, v.denominator) == (1, 2)


def test_an_ended_enrolment_still_counts_in_its_year_but_not_next(patients):
    gf, _gm, _dm = patients
    gf.status, gf.ended_on, gf.end_reason = "ended", D(2026, 5, 20), "moved"
    gf.save()
    assert fig("CH_HTN_STD").denominator == 2
    assert fig("CH_HTN_STD", "2027-03").denominator == 1


def test_definitions_in_both_languages():
    from yigongti.chronic.indicators import INDICATORS

    for ind in INDICATORS:
        assert ind.definition and ind.definition_en and ind.name_en
