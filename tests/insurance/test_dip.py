"""DIP groups from the community's cases (core combinations and combined groups), scores and the point value."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.cast import as_
from tests.insurance.fixtures_payment import YEAR, budget, discharge, officer, terms
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.insurance import dip, weights
from yigongti.insurance.models import CasePayment, DipGroup, DipPointValue

D = Decimal


def test_combinations_above_the_threshold_are_core_groups_and_the_rest_combined():
    cases = [("I21.0", "36.0700", D(30000))] * 3 + [("I21.1", "36.0700", D(36000))] \
        + [("I21.0", "", D(9000))] * 2 + [("I21.4", "88.5501", D(6000))] + [("J18.9", "", D(5000))] * 4
    groups, overall = dip.groups_from_cases(cases, threshold=4)
    by = {g.code: g for g in groups}
    assert set(by) == {"I21|36.0700", "COMB-I21-M", "COMB-I21-P", "J18|—"}
    assert by["I21|36.0700"].kind == "core" and by["I21|36.0700"].cases == 4  # I21.0 and I21.1: one category
    assert by["COMB-I21-P"].cases == 1 and by["COMB-I21-M"].kind == "combined"
    mean = (3 * 30000 + 36000 + 2 * 9000 + 6000 + 4 * 5000) / 11
    assert overall == D(mean).quantize(D("0.01"))
    assert by["J18|—"].score == (D(5000) / (D(170000) / 11) * 1000).quantize(D("0.01"))
    assert by["J18|—"].name == "J18 保守治疗"


def test_a_case_finds_its_group_core_first_then_combined():
    core = {"I21|36.0700"}
    assert dip.group_code("I21.0", "36.0700", core) == "I21|36.0700"
    assert dip.group_code("I21.0", "36.0600", core) == "COMB-I21-P"
    assert dip.group_code("i21.0", "", core) == "COMB-I21-M"
    assert dip.group_code("", "", core) == ""


def _year(cast, year=YEAR):
    for _ in range(3):
        discharge(cast, cast.county_hospital, 8000, diagnosis="I10", day=__import__("datetime").date(year, 3, 1))
    discharge(cast, cast.county_hospital, 20000, diagnosis="K80.1", procedure="51.2300",
              day=__import__("datetime").date(year, 4, 1))


@pytest.mark.django_db
def test_build_groups_stores_core_and_combined_groups(cast):
    _year(cast)
    out = dip.build_groups(YEAR, actor=as_(officer(cast)), threshold=3)
    assert (out["core"], out["combined"], out["cases"]) == (1, 1, 4)
    g = DipGroup.objects.get(year=YEAR, code="I10|—")
    assert g.kind == "core" and g.score == D("727.27") and g.grassroots  # 8,000 ÷ 11,000 × 1000
    assert DipGroup.objects.get(year=YEAR, code="COMB-K80-P").score == D("1818.18")


@pytest.mark.django_db
def test_a_doctor_cannot_build_groups_and_a_bad_threshold_is_refused(cast):
    with pytest.raises(Forbidden):
        dip.build_groups(YEAR, actor=as_(cast.county_doctor))
    with pytest.raises(InvalidInput):
        dip.build_groups(YEAR, actor=as_(officer(cast)), threshold=0)


@pytest.mark.django_db
def test_point_value_is_estimated_from_the_budget_and_settled_on_actual_points(cast):
    _year(cast, YEAR - 1)  # last year: 3 × I10 + 1 K80 (fund 70 % of cost)
    _year(cast)
    o = as_(officer(cast))
    dip.build_groups(YEAR, actor=o, threshold=3)
    budget(cast, "100000", inpatient_share="0.5")  # no withholding: inpatient fund 50,000
    est = dip.estimate_point_value(YEAR, "resident", actor=o)
    points = D("727.27") * 3 + D("1818.18")  # last year's cases on this year's groups
    expected = (points * D("1.05")).quantize(D("0.01"))
    assert D(est["expected_points"]) == expected
    assert D(est["estimated"]) == (D(50000) / D("0.7") / expected).quantize(D("0.0001"))
    discharge(cast, cast.township_center, 8000, diagnosis="I10")  # the year turns out busier
    settled = dip.settle_point_value(YEAR, "resident", actor=o)
    actual = points + D("727.27")
    assert D(settled["total_points"]) == actual
    assert D(settled["settled"]) == (D(50000) / D("0.7") / actual).quantize(D("0.0001"))
    pv = DipPointValue.objects.get(year=YEAR, scheme="resident")
    assert pv.estimated == D(est["estimated"]) and pv.settled == D(settled["settled"])
    assert pv.settled < pv.estimated
    terms()
    weights.price_cases(YEAR, actor=o)
    p = CasePayment.objects.filter(method="dip", group="I10|—").first()
    assert p.amount == (D("727.27") * pv.settled).quantize(D("0.01")) and p.status == "paid"


@pytest.mark.django_db
def test_without_a_budget_the_point_value_cannot_be_estimated(cast):
    _year(cast)
    o = as_(officer(cast))
    dip.build_groups(YEAR, actor=o, threshold=3)
    with pytest.raises(InvalidInput) as e:
        dip.estimate_point_value(YEAR, "resident", actor=o)
    assert e.value.code == "no_budget"
    with pytest.raises(InvalidInput):
        dip.estimate_point_value(YEAR, "nobody", actor=o)


def test_level_factors_compare_each_levels_cost_with_its_groups_mean_and_are_capped():
    groups = {"K80|51.2300": (D(20000), False), "J18|—": (D(5000), True), "I21|—": (D(10000), False)}
    cases = [("county", "K80|51.2300", D(22000))] * 3 + [("county", "I21|—", D(11000))] * 3 \
        + [("township", "I21|—", D(6600))] * 3 + [("township", "J18|—", D(900))] * 5 \
        + [("village", "I21|—", D(1000))] * 3
    f = {x.level: x for x in dip.level_factors_from_cases(cases, groups, min_cases=3)}
    assert (f["county"].factor, f["county"].raw_ratio) == (D("1.0000"), D("1.1000"))
    assert f["township"].factor == D("0.6000") and f["township"].cases == 3  # 0.66 ÷ 1.10; 基层病种 left out
    assert (f["village"].factor, f["village"].source) == (D("0.5000"), "computed")  # 0.1 ÷ 1.1, capped at 0.5
    few = {x.level: x for x in dip.level_factors_from_cases(cases[:3], groups, min_cases=3)}
    assert few["township"].source == "default" and few["township"].factor == dip.DEFAULT_FACTORS["township"]


@pytest.mark.django_db
def test_building_groups_stores_the_level_factors_and_the_officers_setting_stays(cast):
    from yigongti.insurance.models import DipLevelFactor

    _year(cast)
    o = as_(officer(cast))
    out = dip.build_groups(YEAR, actor=o, threshold=3)
    assert out["level_factors"] == {"county": "1.0000", "township": "0.6000", "village": "0.5000"}  # few cases
    assert set(DipLevelFactor.objects.values_list("source", flat=True)) == {"default"}
    dip.set_level_factors(YEAR, {"township": "0.7"}, actor=o)
    dip.build_groups(YEAR, actor=o, threshold=3)
    assert dip.level_factors(YEAR)["township"] == D("0.7000")
    with pytest.raises(InvalidInput) as e:
        dip.set_level_factors(YEAR, {"township": "5", "city": "1"}, actor=o)
    assert {"factors.township", "factors.city"} <= set(e.value.errors)
    with pytest.raises(Forbidden):
        dip.set_level_factors(YEAR, {"township": "0.8"}, actor=as_(cast.county_doctor))


@pytest.mark.django_db
def test_a_township_case_of_a_non_grassroots_group_is_paid_at_its_level_factor(cast):
    import datetime as dt

    _year(cast)
    o = as_(officer(cast))
    dip.build_groups(YEAR, actor=o, threshold=3)
    t = discharge(cast, cast.township_center, 15000, diagnosis="K80.1", procedure="51.2300",
                  day=dt.date(YEAR, 6, 1))
    budget(cast, "100000", inpatient_share="0.5")
    dip.settle_point_value(YEAR, "resident", actor=o)
    terms()
    weights.price_cases(YEAR, actor=o)
    p = CasePayment.objects.get(discharge=t, method="dip")
    pv = DipPointValue.objects.get(year=YEAR, scheme="resident").settled
    assert p.units == D("1818.18") * D("0.6") and p.amount == (p.units * pv).quantize(D("0.01"))
    assert any("等级系数 0.6000" in line for line in p.explanation)
    # the settled value shares the fund out over the same points: Σ DIP payments ≈ the inpatient fund ÷ ratio
    paid = sum(x.amount for x in CasePayment.objects.filter(method="dip", status="paid"))
    assert abs(paid - D(50000) / D("0.7")) < 1


@pytest.mark.django_db
def test_without_a_budget_rule_the_inpatient_share_comes_from_the_ledger(cast):
    from yigongti.insurance.models import Budget, LedgerEntry

    b = budget(cast, "100000")
    for month, kind, facility, fund in ((1, "inpatient", cast.county_hospital, "600"), (1, "outpatient", None, "300"),
                                        (2, "inpatient", None, "100")):  # outside the community: not a member's
        LedgerEntry.objects.create(community=cast.community, year=YEAR - 1, month=month, scheme="resident",
                                   facility=facility, facility_code="x", level="county", settlement_type=kind,
                                   fund_paid=D(fund))
    lines: list[str] = []
    assert dip.inpatient_share(Budget.objects.get(pk=b.pk), (YEAR - 1, YEAR), lines) == D("0.6000")
    assert "台账" in lines[0] and "2 个月" in lines[0]
    lines = []
    assert dip.inpatient_share(b, (YEAR,), lines) == dip.DEFAULT_INPATIENT_SHARE and "默认" in lines[0]


@pytest.mark.django_db
def test_the_officer_sets_level_factors_on_the_page_and_in_the_api(cast, login, client):
    import json

    login(officer(cast))
    page = client.get(f"/insurance/payment/dip/?year={YEAR}").content.decode()
    assert "医疗机构等级系数" in page and 'name="factor_township" value="0.6000"' in page
    resp = client.post("/insurance/payment/dip/", {"year": YEAR, "action": "factors", "factor_township": "0.75"})
    assert resp.status_code == 302 and dip.level_factors(YEAR)["township"] == D("0.7500")
    resp = client.post("/insurance/payment/dip/", {"year": YEAR, "action": "factors", "factor_village": "abc"},
                       follow=True)
    assert "等级系数应在 0.1 到 2 之间" in resp.content.decode()
    url = f"/api/v1/insurance/payment/dip/{YEAR}/level-factors"
    resp = client.put(url, json.dumps({"factors": {"village": "0.55"}}), content_type="application/json")
    assert resp.status_code == 200 and {r["level"]: r["factor"] for r in resp.json()}["village"] == "0.5500"
    resp = client.put(url, json.dumps({"factors": {"moon": 1}}), content_type="application/json")
    assert resp.status_code == 422 and "factors.moon" in resp.json()["errors"]
    login(cast.county_doctor)
    assert client.put(url, json.dumps({"factors": {"village": "0.9"}}),
                      content_type="application/json").status_code == 403
