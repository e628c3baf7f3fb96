"""Each indicator on the hand-counted world of world.py (figures worked out in the comments)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.indicators.world import build_world
from yigongti.indicators import queries
from yigongti.indicators.definitions import INDICATORS
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
    # April: E6 (03-25→04-03) 9 days + E11 (04-01→04-01, same day: 1 day) = 10 / 2 = 5.00. E10 is still in
    # hospital: in no month.
    assert fig(COUNTY, "2026-03", "ALOS").value == D("4.00")
    assert fig(COUNTY, "2026-04", "ALOS").value == D("5.00")
    assert fig(COUNTY, "2026-03", "DISCHARGES").value == D("2")
    assert fig(COUNTY, "2026-04", "SURGERIES").value == D("1")


def test_bed_occupancy_splits_stays_across_month_ends(world):
    # occupied bed-days in March: E6 03-25..03-31 = 7, E7 4, E8 03-01 only = 1, and E10 (still in
    # hospital) 03-30, 03-31 = 2 → 14; open: (10 + 2) beds × 31 days = 372 → 14/372 = 3.763 % → 3.76
    v = fig(COUNTY, "2026-03", "BED_OCC")
    assert (v.numerator, v.denominator, v.value) == (D("14"), D("372"), D("3.76"))
    # April: E6 04-01, 04-02 = 2; E10 until the data's last day (04-03, E6's discharge) = 3; E11, admitted
    # and discharged on 04-01, occupies its bed that day = 1 (a same-day stay is one bed-day, not 0)
    # → 6 of 12 × 30 = 360 → 1.67 %
    v = fig(COUNTY, "2026-04", "BED_OCC")
    assert (v.numerator, v.denominator, v.value) == (D("6"), D("360"), D("1.67"))


def test_a_year_counts_only_the_months_with_data(world):
    # 2026 has visits or discharges in March and April only (February holds just E8's admission, whose
    # stay ends in March: no month of data). Occupied: March 14 + April 6 = 20; open bed-days only of those
    # months: 12 × (31 + 30) = 732 → 2.73 % (over all twelve months, 12 × 365 = 4380, it would read
    # 0.53 %), and the figure says which months it covers
    v = fig(COUNTY, "2026", "BED_OCC")
    assert (v.numerator, v.denominator, v.value) == (D("20"), D("732"), D("2.73"))
    assert v.extra["note"] == "仅2026年3–4月有数据"
    assert queries.period_coverage(parse_period("2026")) == "2026年3–4月"
    assert queries.period_coverage(parse_period("2026-03")) == ""


def test_costs_leave_out_encounters_without_a_cost(world):
    # outpatient cost: E1 50 + E2 100 + E4 300 + E5 200 = 650 over 4 costed visits (E3 has none) = 162.50
    assert fig(COUNTY, "2026-03", "OP_COST").value == D("162.50")
    # cost per discharge: (2000 + 6000) / 2 = 4000.00
    assert fig(COUNTY, "2026-03", "IP_COST").value == D("4000.00")


def test_drug_ratio_and_materials_per_hundred(world):
    # revenue = 650 (visits) + 8000 (E7, E8) = 8650; drugs 20+40+90+60+700+1500 = 2410, of which E2's 15 are
    # 中药饮片, which 药占比 leaves out: 2395/8650 = 27.688 % → 27.69 (with them: 27.86)
    v = fig(COUNTY, "2026-03", "DRUG_RATIO")
    assert (v.numerator, v.denominator, v.value) == (D("2395.00"), D("8650.00"), D("27.69"))
    # materials 0+10+30+20+300+1200 = 1560 per 100 yuan of revenue *excluding drugs* (国办发〔2015〕38号):
    # 1560 / (8650 − 2410 = 6240) × 100 = 25.00 yuan (over all revenue it would read 18.03)
    v = fig(COUNTY, "2026-03", "MATERIAL_100")
    assert (v.numerator, v.denominator, v.value) == (D("1560.00"), D("6240.00"), D("25.00"))


def test_cost_growth_against_the_same_month_last_year(world):
    # revenue March 2025 = 40 (E9); March 2026 = 8650 → (8650 − 40)/40 = 21525.00 %
    assert fig(COUNTY, "2026-03", "COST_GROWTH").value == D("21525.00")
    # grassroots visits 1 → 3: +200.00 %
    assert fig(COUNTY, "2026-03", "GR_VISIT_GROWTH").value == D("200.00")


def test_growth_needs_every_month_it_compares_with(world):
    # 2026 has data in March–April; of 2025's March–April only March has data: comparing two months with
    # one would read +22 000 %, so there is no figure, and the reason is given
    v = fig(COUNTY, "2026", "COST_GROWTH")
    assert v.value is None
    assert v.extra["note"] == "上年同期（2025年3–4月）数据不全，仅2025年3月有数据"
    # settlements exist only from March 2026: N10G for March has no 2025 settlements to compare with
    v = fig(COUNTY, "2026-03", "N10G")
    assert v.value is None and v.extra["note"] == "上年同期（2025年3月）数据不全，无数据"


def test_fund_share_in_county_excludes_pharmacies(world):
    # county insureds' fund, pharmacies out (S5): in county S1 4200 + S2 1500 − S2R 1500 + S2B 1600 + S4 30
    # = 5830; out of county S3 18000 + S7 6000 (郸城 is another county) → 5830/29830 = 19.54 %. S6 is 郸城's.
    v = fig(COUNTY, "2026-03", "N08")
    assert (v.numerator, v.denominator, v.value) == (D("5830.00"), D("29830.00"), D("19.54"))
    # grassroots share of in-county fund: (1500 − 1500 + 1600 + 30)/5830 = 27.96 %
    assert fig(COUNTY, "2026-03", "N09").value == D("27.96")


def test_in_county_admission_share_and_cost_per_admission(world):
    # admissions of county insureds: S1 and S2 in the county — S2 was reversed (S2R, −1) and settled again
    # (S2B), so it counts once — S3 S7 outside → (1 + 1 − 1 + 1)/4 = 50.00 % (counting the reversal row as
    # a stay would read 4/6 = 66.67 %)
    v = fig(COUNTY, "2026-03", "N11")
    assert (v.numerator, v.denominator, v.value) == (D("2"), D("4"), D("50.00"))
    # cost per admission (6000 + 2000 − 2000 + 2100)/2 = 4050.00
    assert fig(COUNTY, "2026-03", "N10").value == D("4050.00")
    # 县域就诊率 counts outpatient care too: in county S1 S2 −S2R S2B S4 = 3 of 3 + S3 + S7 = 5 → 60.00 %
    v = fig(COUNTY, "2026-03", "ALIAS_COUNTY_RATE")
    assert (v.numerator, v.denominator, v.value) == (D("3"), D("5"), D("60.00"))


def test_township_figures_use_its_facilities_and_its_insureds(world):
    # 塔峰镇: facilities 塔峰镇卫生院 + 大塘村卫生室: visits E1 E2 → both grassroots → 100 %
    assert fig(TAFENG, "2026-03", "N07").value == D("100.00")
    # insureds living in 塔峰镇 (resident): admissions S1 (in county), S3 (outside) → 50 %
    assert fig(TAFENG, "2026-03", "N11").value == D("50.00")


def test_zero_denominator_is_no_value_not_zero(world):
    # May 2026 has no data at all: every figure is None (shown "—"), counts too — a month past the data's
    # end is unknown, not zero
    assert fig(COUNTY, "2026-05", "N07").value is None
    assert fig(COUNTY, "2026-05", "ALOS").value is None
    v = fig(COUNTY, "2026-05", "VISITS")
    assert v.value is None and v.extra["note"] == "本期无数据"
    # a month with data (April: discharges) but no visit: the TCM share has a zero denominator, no value;
    # the count of visits is a true 0
    assert fig(COUNTY, "2026-04", "N12").value is None
    assert fig(COUNTY, "2026-04", "VISITS").value == D("0")
    assert fig(COUNTY, "2026-04", "DISCHARGES").value == D("2")


def test_quarter_sums_months_before_dividing(world):
    # Q1 2026 = March only for visits; ALOS over Q1 = March's 8/2 = 4.00 (E6 is discharged in Q2)
    assert fig(COUNTY, "2026-Q1", "ALOS").value == D("4.00")
    assert fig(COUNTY, "2026-04-ytd", "DISCHARGES").value == D("4")  # E7 E8 (March), E6 E11 (April)
    assert fig(COUNTY, "2026", "ALOS").value == D("4.50")  # (4 + 4 + 9 + 1) / 4


def test_ranking_of_townships_puts_the_better_first(world):
    # the grassroots share is ranked by where patients live: 塔峰镇 residents' visits E1 E2 both grassroots
    # → 100 %; 总市镇: E3 at a village clinic, E4 at the county hospital → 50 %; E5's patient lives in
    # another county and is in no township of ours
    rows = queries.ranking(COUNTY, parse_period("2026-03"), "N07")
    assert [(r["rank"], r["name"], r["value"]) for r in rows] == [(1, "塔峰镇", D("100.00")), (2, "总市镇", D("50.00"))]


def test_ranking_of_facilities_by_length_of_stay(world):
    # April: 塔峰镇卫生院 discharged E11 the day it came (1 day) → 1.00; 县中心医院 E6 after 9 days → 9.00
    rows = queries.ranking(COUNTY, parse_period("2026-04"), "ALOS", by="facility")
    assert [(r["name"], r["value"], r["rank"]) for r in rows] == [("塔峰镇卫生院", D("1.00"), 1),
                                                                ("蓝山县中心医院", D("9.00"), 2)]
    # March: 大塘村卫生室 and 石桥村卫生室 are village clinics (ranked within their township); 塔峰镇卫生院
    # E7 4 days, 县中心医院 E8 4 days: a tie, both ranked
    rows = queries.ranking(COUNTY, parse_period("2026-03"), "ALOS", by="facility")
    assert sorted((r["name"], r["value"]) for r in rows) == [("塔峰镇卫生院", D("4.00")), ("蓝山县中心医院", D("4.00"))]


def test_patient_flow_indicators_rank_places_not_facilities(world):
    # a county hospital's "grassroots share" is 0 by definition: N07 ranks townships by residence only
    assert queries.ranking(COUNTY, parse_period("2026-03"), "N07", by="facility") == []
    assert queries.ranking(COUNTY, parse_period("2026-03"), "GR_VISITS", by="facility") == []


def test_grassroots_follows_ws218_types_c2xx_b_and_d_codes(world):
    # June 2026, in 塔峰镇: a 中心卫生院 (C210), a 街道卫生院 (C100), a 社区卫生服务站 (B200), a private 诊所
    # (D200, ownership 民营 — not a type) and a private general hospital (A100): 4 of 5 visits are grassroots
    # → 80.00 %; their fund is grassroots fund in N09. The county hospital-level private hospital is not.
    from yigongti.orgs.models import Facility, FacilityType, Ownership

    town, made = world.township, {}
    for code, ftype, own in (("431127100C21099", FacilityType.CENTRAL_TOWNSHIP_CENTER, Ownership.PUBLIC),
                             ("431127100C10099", FacilityType.SUBDISTRICT_CENTER, Ownership.PUBLIC),
                             ("431127100B20099", FacilityType.COMMUNITY_STATION, Ownership.PUBLIC),
                             ("431127100D20099", FacilityType.CLINIC, Ownership.PRIVATE),
                             ("431127A10099", FacilityType.GENERAL_HOSPITAL, Ownership.PRIVATE)):
        made[ftype] = Facility.objects.create(code=code, name=f"测试{ftype.label}", type=ftype, ownership=own,
                                              region=town)
    from tests.indicators.world import _enc, _st

    for f in made.values():
        _enc(world, "resident", f, "outpatient", dt.date(2026, 6, 3), total="10", drug="5", material="0")
        _st(world, f"J{f.code}", "resident", "outpatient", f.code, "431127", f.care_level.value, dt.date(2026, 6, 3),
            "10", "6")
    assert [f.is_grassroots for f in made.values()] == [True, True, True, True, False]
    refresh_facts()
    v = fig(COUNTY, "2026-06", "N07")
    assert (v.numerator, v.denominator, v.value) == (D("4"), D("5"), D("80.00"))
    v = fig(COUNTY, "2026-06", "N09")
    assert (v.numerator, v.denominator, v.value) == (D("24.00"), D("30.00"), D("80.00"))


def test_posted_mid_senior_physicians_per_10000(world):
    # 塔峰镇 and 总市镇 have 10,000 people (population table); posted to grassroots with a post (编制) at the
    # county hospital: an intermediate physician and an associate-senior assistant physician at 塔峰镇卫生院
    # → 2; not counted: a junior one, a nurse, one whose post is at the township itself, an inactive one
    from yigongti.encounters.models import PopulationByAge
    from yigongti.orgs.models import Profession, Staff, Title

    for area, n in (("431127100000", 6000), ("431127101000", 4000)):
        PopulationByAge.objects.create(area_code=area, year=2026, sex="M", age_from=30, population=n)
    h, c = world.county_hospital, world.township_center
    for prof, title, post, active in ((Profession.PHYSICIAN, Title.INTERMEDIATE, h, True),
                                      (Profession.ASSISTANT_PHYSICIAN, Title.ASSOCIATE_SENIOR, h, True),
                                      (Profession.PHYSICIAN, Title.JUNIOR, h, True),
                                      (Profession.NURSE, Title.INTERMEDIATE, h, True),
                                      (Profession.PHYSICIAN, Title.SENIOR, c, True),
                                      (Profession.PHYSICIAN, Title.SENIOR, h, False)):
        Staff.objects.create(name="派驻", sex="M", profession=prof, title=title, establishment_facility=post,
                             work_facility=c, is_active=active)
    v = fig(COUNTY, "2026-03", "N04")
    assert (v.numerator, v.denominator, v.value) == (D("2"), D("10000"), D("2.00"))
    v = fig(TAFENG, "2026-03", "N04")  # 2 of 塔峰镇's 6,000 → 3.33 per 10,000
    assert (v.numerator, v.denominator, v.value) == (D("2"), D("6000"), D("3.33"))
    assert INDICATORS["N04"].refine  # the definition says what the workforce module will refine


def test_admission_rate_of_managed_chronic_patients(world):
    # managed (tagged hypertension/diabetes) in the county: resident (htn, from the cast), neighbour (t2dm and
    # htn: once), and a third person with diabetes who was not admitted; far_resident lives in another county.
    # March inpatient settlements: resident S1, S3; neighbour S2 (reversed) and S2B, S7 → 2 of 3 = 66.67 %
    from yigongti.residents.models import KeyPopulation, Resident, ResidentTag

    third = Resident.objects.create(name="赵六", sex="F", birth_date=dt.date(1960, 1, 1),
                                    area_code=world.village.code, village=world.village)
    for r, tag in ((world.neighbour, KeyPopulation.DIABETES),
                   (world.neighbour, KeyPopulation.HYPERTENSION), (third, KeyPopulation.DIABETES),
                   (world.far_resident, KeyPopulation.DIABETES)):
        ResidentTag.objects.create(resident=r, tag=tag)
    v = fig(COUNTY, "2026-03", "N13")
    assert (v.numerator, v.denominator, v.value) == (D("2"), D("3"), D("66.67"))
    # a managed patient whose only stay was reversed (冲销) was not admitted: 塔峰镇 has resident and third;
    # reversing all of resident's stays leaves 0 of 2
    from yigongti.encounters.models import InsuranceSettlement

    for s in InsuranceSettlement.objects.filter(resident=world.resident, type="inpatient"):
        InsuranceSettlement.objects.create(
            settlement_no=f"{s.settlement_no}R", resident=s.resident, area_code=s.area_code,
            residence_county=s.residence_county, type=s.type, facility_code=s.facility_code,
            facility_county=s.facility_county, facility_level=s.facility_level, admit_date=s.admit_date,
            discharge_date=s.discharge_date, settle_date=s.settle_date, total_cost=-s.total_cost,
            fund_paid=-s.fund_paid, reverses_no=s.settlement_no)
    v = fig(TAFENG, "2026-03", "N13")
    assert (v.numerator, v.denominator, v.value) == (D("0"), D("2"), D("0.00"))
    assert INDICATORS["N13"].refine


def test_bed_occupancy_has_a_two_sided_band():
    from yigongti.indicators.definitions import rag

    bed = INDICATORS["BED_OCC"]
    assert bed.target_label == "75–93%"
    assert [rag(bed, D(x)) for x in ("80", "93", "95", "105", "73", "60")] == \
        ["green", "green", "amber", "red", "amber", "red"]  # over 100 % is a problem, not a pass


def test_every_target_names_its_source_or_is_a_local_default():
    from yigongti.indicators.definitions import LOCAL_DEFAULT

    for ind in INDICATORS.values():
        if ind.target is not None:
            assert ind.target_origin == (ind.target_source or LOCAL_DEFAULT)
    assert INDICATORS["MATERIAL_100"].target_origin == "国办发〔2015〕38号"
    assert INDICATORS["DRUG_RATIO"].target_origin == "国办发〔2015〕38号"
    assert INDICATORS["N07"].target_origin == "国办发〔2015〕70号"
    assert INDICATORS["ALOS"].target_origin == LOCAL_DEFAULT


def test_aliases_are_notes_on_the_card_they_alias(world):
    cards = {c.indicator.code: c for c in queries.figures(COUNTY, parse_period("2026-03"))}
    assert "ALIAS_COUNTY_RATE" not in cards and "ALIAS_GRASSROOTS_RATE" not in cards
    assert [(a.indicator.code, a.value) for a in cards["N11"].aliases] == [("ALIAS_COUNTY_RATE", D("60.00"))]
    assert [(a.indicator.code, a.value) for a in cards["N07"].aliases] == [("ALIAS_GRASSROOTS_RATE", D("60.00"))]
