"""What-if simulations: each member's income under a changed rate, weight, 基层病组 list or out-of-county deduction."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest

from tests.cast import as_
from tests.insurance.fixtures_payment import YEAR, budget, discharge, officer, terms
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.encounters.models import InsuranceSettlement
from yigongti.insurance import simulation, weights
from yigongti.insurance.models import CasePayment, Simulation


@pytest.fixture
def year(cast):
    """County: GB15 (20,000 → standard 20,000) and FV23 (基层病组, 9,000 × 0.5); township: GB15 (2 × 8,000)
    and FV23; one high outlier at the county (GB15 at 70,000), one special review, one ungroupable."""
    terms()
    h, t = cast.county_hospital, cast.township_center
    discharge(cast, h, 20000, drg="GB15")
    discharge(cast, h, 70000, drg="GB15")
    discharge(cast, h, 5000)
    discharge(cast, h, 9000, special=True)
    discharge(cast, h, 3000, grouped=False)
    discharge(cast, t, 15000, drg="GB15")
    discharge(cast, t, 5000)
    return {"officer": officer(cast)}


def _members(results):
    return {m["facility"]: m for m in results["members"]}


@pytest.mark.django_db
def test_the_baseline_equals_what_price_cases_pays(cast, year):
    o = as_(year["officer"])
    weights.price_cases(YEAR, actor=o)
    r = simulation.run_simulation(YEAR, {}, actor=o, save=False)
    for fac, m in _members(r).items():
        paid = sum(p.amount for p in CasePayment.objects.filter(method="drg", discharge__facility_id=fac))
        assert Decimal(str(m["baseline"])) == paid
        assert m["scenario"] == m["baseline"] and m["difference"] == 0
    assert r["unpaid_cases"] == 1


@pytest.mark.django_db
def test_a_county_rate_rise_changes_each_members_income_by_the_expected_amount(cast, year):
    r = simulation.run_simulation(YEAR, {"rate_pct": {"county": 10}}, actor=as_(year["officer"]))
    m = _members(r)
    county, township = m[cast.county_hospital.pk], m[cast.township_center.pk]
    # the two GB15 at the county: +10 % of their standard (2 × 20,000); the 基层病组 and special review unchanged
    assert county["difference"] == pytest.approx(2 * 2000.0)
    assert township["difference"] == 0
    assert county["percent"] == pytest.approx(4000 / county["baseline"] * 100, abs=0.01)
    assert r["total"]["difference"] == pytest.approx(4000.0)
    sim = Simulation.objects.get(pk=r["id"])
    assert sim.created_by == year["officer"] and sim.results["members"]


@pytest.mark.django_db
def test_grassroots_rate_and_list_changes(cast, year):
    o = as_(year["officer"])
    r = simulation.run_simulation(YEAR, {"rates": [{"level": "", "scheme": "resident", "rate": 10000}]}, actor=o,
                                  save=False)
    m = _members(r)  # each FV23 (weight 0.5): +500 at both levels, 同病同付
    assert m[cast.county_hospital.pk]["difference"] == pytest.approx(500.0)
    assert m[cast.township_center.pk]["difference"] == pytest.approx(500.0)
    r = simulation.run_simulation(YEAR, {"grassroots_remove": ["FV23"]}, actor=o, save=False)
    m = _members(r)  # back to the level's rate: county 10,000 (+500), township 8,000 (−500)
    assert m[cast.county_hospital.pk]["difference"] == pytest.approx(500.0)
    assert m[cast.township_center.pk]["difference"] == pytest.approx(-500.0)


@pytest.mark.django_db
def test_a_weight_change_by_mdc_and_the_out_of_county_deduction(cast, year):
    budget(cast, "1000000")
    r = cast.resident
    InsuranceSettlement.objects.create(
        settlement_no="OUT1", resident=r, area_code=r.area_code, residence_county=r.area_code[:6], type="inpatient",
        facility_code="X1", facility_county="431100", facility_level="out_of_county", admit_date=dt.date(YEAR, 2, 1),
        settle_date=dt.date(YEAR, 2, 5), total_cost=Decimal(50000), fund_paid=Decimal(30000))
    res = simulation.run_simulation(YEAR, {"weight_pct": {"MDC:G": 5}, "out_of_county_deduction": 0.5},
                                    actor=as_(cast.manager), save=False)
    m = _members(res)  # GB15: weight 2.0 → 2.1; county's high outlier keeps its extra, standard +1,000
    assert m[cast.county_hospital.pk]["difference"] == pytest.approx(2 * 1000.0)
    assert m[cast.township_center.pk]["difference"] == pytest.approx(800.0)
    f = res["fund"]
    assert (f["budget"], f["out_of_county_spend"]) == (1000000.0, 30000.0)
    assert (f["deduction_baseline"], f["deduction_scenario"]) == (9000.0, 15000.0)
    assert f["available_scenario"] == 985000.0
    assert any("外转扣减" in line for line in res["changes"])


@pytest.mark.django_db
def test_bad_parameters_are_refused_naming_each_field(cast, year):
    o = as_(year["officer"])
    with pytest.raises(InvalidInput) as e:
        simulation.run_simulation(YEAR, {"rate_pct": {"county": 500, "moon": 1}, "weight_pct": {"ZZ99": 5},
                                         "grassroots": ["QQ11"], "colour": 1}, actor=o)
    assert {"rate_pct.county", "rate_pct.moon", "weight_pct.ZZ99", "grassroots", "parameters"} <= set(e.value.errors)
    with pytest.raises(InvalidInput):
        simulation.run_simulation(YEAR, {"out_of_county_deduction": 2}, actor=o)
    assert not Simulation.objects.exists()


@pytest.mark.django_db
def test_a_doctor_cannot_run_a_simulation(cast, year):
    with pytest.raises(Forbidden):
        simulation.run_simulation(YEAR, {}, actor=as_(cast.county_doctor))


@pytest.mark.django_db
def test_the_simulation_page_runs_and_lists_saved_runs(cast, year, login, client):
    login(year["officer"])
    resp = client.post("/insurance/simulation/", {"year": YEAR, "name": "县级费率+10%", "rate_pct_county": "10"})
    assert resp.status_code == 302
    sim = Simulation.objects.get()
    assert sim.name == "县级费率+10%" and sim.parameters == {"rate_pct": {"county": 10.0}}
    page = client.get(f"/insurance/simulation/{sim.pk}/").content.decode()
    assert "蓝山县中心医院" in page and re.search(r">4,?000(\.00)?<", page)  # the county's +4,000
    assert "县级费率+10%" in client.get("/insurance/simulation/").content.decode()
    resp = client.post("/insurance/simulation/", {"year": YEAR, "rate_pct_county": "abc"})
    assert resp.status_code == 200 and "百分数" in resp.content.decode()
    login(cast.county_doctor)
    assert client.get("/insurance/simulation/").status_code == 403


@pytest.mark.django_db
def test_the_api_runs_a_simulation_and_lists_it(cast, year, login, client):
    login(year["officer"])
    resp = client.post("/api/v1/insurance/payment/simulations", json.dumps(
        {"year": YEAR, "name": "api", "parameters": {"rate_pct": 10}}), content_type="application/json")
    assert resp.status_code == 201, resp.content
    pk = resp.json()["id"]
    assert client.get("/api/v1/insurance/payment/simulations").json()[0]["id"] == pk
    assert client.get(f"/api/v1/insurance/payment/simulations/{pk}").json()["results"]["total"]["difference"] > 0
    resp = client.post("/api/v1/insurance/payment/simulations", json.dumps(
        {"year": YEAR, "parameters": {"rate_pct": "x"}}), content_type="application/json")
    assert resp.status_code == 422 and resp["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_the_deduction_change_is_spread_over_the_members_and_the_inpatient_budget_is_the_basis(cast, year):
    from yigongti.insurance.models import LedgerEntry

    budget(cast, "1000000")  # deduction 30 % of out-of-county spend
    r = cast.resident
    InsuranceSettlement.objects.create(
        settlement_no="OUT2", resident=r, area_code=r.area_code, residence_county=r.area_code[:6], type="inpatient",
        facility_code="X1", facility_county="431100", facility_level="out_of_county", admit_date=dt.date(YEAR, 2, 1),
        settle_date=dt.date(YEAR, 2, 5), total_cost=Decimal(50000), fund_paid=Decimal(20000))
    for kind, facility, fund in (("inpatient", cast.county_hospital, "450"), ("outpatient", cast.county_hospital,
                                                                              "550")):
        LedgerEntry.objects.create(community=cast.community, year=YEAR, month=3, scheme="resident", facility=facility,
                                   facility_code="x", level="county", settlement_type=kind, fund_paid=Decimal(fund))
    res = simulation.run_simulation(YEAR, {"out_of_county_deduction": 0.8}, actor=as_(year["officer"]), save=False)
    f, m = res["fund"], _members(res)
    assert (f["deduction_baseline"], f["deduction_scenario"]) == (6000.0, 16000.0)
    assert f["basis"] == "inpatient" and f["inpatient_share"] == 0.45
    assert f["inpatient_baseline"] == pytest.approx((1000000 - 6000) * 0.45)
    assert f["share_baseline"] == pytest.approx(f["drg_fund_baseline"] / f["inpatient_baseline"], abs=1e-4)
    assert any("台账" in line for line in f["basis_lines"])
    # the extra 10,000 deducted comes off the members by their share of the baseline DRG payments
    county, township = m[cast.county_hospital.pk], m[cast.township_center.pk]
    total = county["baseline"] + township["baseline"]
    assert county["difference"] == township["difference"] == 0
    assert county["deduction_change"] == pytest.approx(-10000 * county["baseline"] / total, abs=0.01)
    assert county["net_difference"] + township["net_difference"] == pytest.approx(-10000.0, abs=0.02)
    assert res["total"]["net_difference"] == pytest.approx(-10000.0)
