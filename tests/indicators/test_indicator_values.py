"""Each indicator on the hand-counted world of world.py (figures worked out in the comments)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.indicators.world import build_world
from yigongti.indicators import queries
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import Area
from yigongti.indicators.services import refresh_facts

COUNTY = Area("county", "431127000000", "蓝山县", "431127")
TAFENG = Area("township", "431127100000", "塔峰镇", "431127100")


@pytest.fixture
def world(cast):
    build_world(cast)
    refresh_facts()
    return cast


def fig(area, period, code):
    return {c.indicator.code: c.value for c in queries.figures(area, parse_period(period), [code])}[code]


def D(s):
    return Decimal(s)


def test_grassroots_visit_share_counts_village_and_township_visits(world):
    # visits in the county in March: E1 E2 E3 E4 E5 = 5 (E5's patient lives in another county: still
    # a visit at our institution); grassroots E1 E2 E3 = 3 → 3/5 = 60.00 %. A missing cost (E3) still counts.
    v = fig(COUNTY, "2026-03", "N07")
    assert (v.numerator, v.denominator, v.value) == (D("3"), D("5"), D("60.00"))
    assert fig(COUNTY, "2026-03", "ALIAS_GRASSROOTS_RATE").value == D("60.00")


def test_tcm_share(world):
    # TCM visits E2 = 1 of 5 → 20.00 %
    assert fig(COUNTY, "2026-03", "N12").value == D("20.00")


def test_alos_counts_stays_in_the_month_of_discharge(world):
    # March discharges: E7 (03-10→03-14, 4 days), E8 (02-26→03-02, 4 days; 2026 is not a leap year) → 8/2 = 4.00
    # April: E6 (03-25→04-03) 9 days / 1 = 9.00. E10 is still in hospital: in no month.
    assert fig(COUNTY, "2026-03", "ALOS").value == D("4.00")
    assert fig(COUNTY, "2026-04", "ALOS").value == D("9.00")
    assert fig(COUNTY, "2026-03", "DISCHARGES").value == D("2")
    assert fig(COUNTY, "2026-04", "SURGERIES").value == D("1")


def test_bed_occupancy_splits_stays_across_month_ends(world):
    # occupied bed-days in March: E6 03-25..03-31 = 7, E7 4, E8 03-01 only = 1, and E10 (still in
    # hospital) 03-30, 03-31 = 2 → 14; open: (10 + 2) beds × 31 days = 372 → 14/372 = 3.763 % → 3.76
    v = fig(COUNTY, "2026-03", "BED_OCC")
    assert (v.numerator, v.denominator, v.value) == (D("14"), D("372"), D("3.76"))
    # April: E6 04-01, 04-02 = 2; E10 until the data's last day (04-03, E6's discharge) = 3 → 5 of
    # 12 × 30 = 360 → 1.39 %
    assert fig(COUNTY, "2026-04", "BED_OCC").value == D("1.39")


def test_costs_leave_out_encounters_without_a_cost(world):
    # outpatient cost: E1 50 + E2 100 + E4 300 + E5 200 = 650 over 4 costed visits (E3 has none) = 162.50
    assert fig(COUNTY, "2026-03", "OP_COST").value == D("162.50")
    # cost per discharge: (2000 + 6000) / 2 = 4000.00
    assert fig(COUNTY, "2026-03", "IP_COST").value == D("4000.00")


def test_drug_ratio_and_materials_per_hundred(world):
    # revenue = 650 (visits) + 8000 (E7, E8) = 8650; drugs 20+40+90+60+700+1500 = 2410 → 27.861 % → 27.86
    # materials 0+10+30+20+300+1200 = 1560 → 1560/8650×100 = 18.03 yuan
    v = fig(COUNTY, "2026-03", "DRUG_RATIO")
    assert (v.numerator, v.denominator, v.value) == (D("2410.00"), D("8650.00"), D("27.86"))
    assert fig(COUNTY, "2026-03", "MATERIAL_100").value == D("18.03")


def test_cost_growth_against_the_same_month_last_year(world):
    # revenue March 2025 = 40 (E9); March 2026 = 8650 → (8650 − 40)/40 = 21525.00 %
    assert fig(COUNTY, "2026-03", "COST_GROWTH").value == D("21525.00")
    # grassroots visits 1 → 3: +200.00 %
    assert fig(COUNTY, "2026-03", "GR_VISIT_GROWTH").value == D("200.00")


def test_fund_share_in_county_excludes_pharmacies(world):
    # county insureds' fund, pharmacies out (S5): in county S1 4200 + S2 1500 + S4 30 = 5730;
    # out of county S3 18000 + S7 6000 (郸城 is another county) → 5730/29730 = 19.27 %. S6 is 郸城's.
    v = fig(COUNTY, "2026-03", "N08")
    assert (v.numerator, v.denominator, v.value) == (D("5730.00"), D("29730.00"), D("19.27"))
    # grassroots share of in-county fund: (1500 + 30)/5730 = 26.70 %
    assert fig(COUNTY, "2026-03", "N09").value == D("26.70")


def test_in_county_admission_share_and_cost_per_admission(world):
    # admissions of county insureds: S1 S2 in the county, S3 S7 outside → 2/4 = 50.00 %; cost (6000+2000)/2
    assert fig(COUNTY, "2026-03", "N11").value == D("50.00")
    assert fig(COUNTY, "2026-03", "ALIAS_COUNTY_RATE").value == D("50.00")
    assert fig(COUNTY, "2026-03", "N10").value == D("4000.00")


def test_township_figures_use_its_facilities_and_its_insureds(world):
    # 塔峰镇: facilities 塔峰镇卫生院 + 大塘村卫生室: visits E1 E2 → both grassroots → 100 %
    assert fig(TAFENG, "2026-03", "N07").value == D("100.00")
    # insureds living in 塔峰镇 (resident): admissions S1 (in county), S3 (outside) → 50 %
    assert fig(TAFENG, "2026-03", "N11").value == D("50.00")


def test_zero_denominator_is_no_value_not_zero(world):
    # May 2026 has no data at all: every ratio is None (shown "—"), counts are 0
    assert fig(COUNTY, "2026-05", "N07").value is None
    assert fig(COUNTY, "2026-05", "ALOS").value is None
    assert fig(COUNTY, "2026-05", "VISITS").value == D("0")
    # no settlements a year earlier: growth of cost per admission has no value
    assert fig(COUNTY, "2026-03", "N10G").value is None


def test_quarter_sums_months_before_dividing(world):
    # Q1 2026 = March only for visits; ALOS over Q1 = March's 8/2 = 4.00 (E6 is discharged in Q2)
    assert fig(COUNTY, "2026-Q1", "ALOS").value == D("4.00")
    assert fig(COUNTY, "2026-04-ytd", "DISCHARGES").value == D("3")
    assert fig(COUNTY, "2026", "ALOS").value == D("5.67")  # (4 + 4 + 9) / 3 = 5.666…


def test_ranking_of_townships_puts_the_better_first(world):
    # the grassroots share is ranked by where patients live: 塔峰镇 residents' visits E1 E2 both grassroots
    # → 100 %; 总市镇: E3 at a village clinic, E4 at the county hospital → 50 %; E5's patient lives in
    # another county and is in no township of ours
    rows = queries.ranking(COUNTY, parse_period("2026-03"), "N07")
    assert [(r["rank"], r["name"], r["value"]) for r in rows] == [(1, "塔峰镇", D("100.00")), (2, "总市镇", D("50.00"))]


def test_ranking_of_facilities_by_length_of_stay(world):
    # April: 县中心医院 discharged E6 after 9 days → 9.00; 塔峰镇卫生院 has beds but no discharge: no value
    # (a zero denominator), so it is listed last and unranked
    rows = queries.ranking(COUNTY, parse_period("2026-04"), "ALOS", by="facility")
    assert [(r["name"], r["value"], r["rank"]) for r in rows] == [("蓝山县中心医院", D("9.00"), 1),
                                                                ("塔峰镇卫生院", None, None)]
