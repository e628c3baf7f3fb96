"""The budget: proposed from the prior year's spend, set as versions, validated in Chinese, officer only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.cast import as_
from tests.insurance.conftest import PAST, YEAR
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.insurance.budget import current_budget, propose_budget, set_budget
from yigongti.insurance.models import Budget

RULES = {"growth_rate": "0.05", "retained_share": "0.6", "overspend_cap": "0.1", "overspend_share": "0.5"}


def test_the_proposal_starts_from_last_years_fund_spend_of_the_countys_insureds(insurance_world):
    p = propose_budget(insurance_world.cast.community, YEAR, "resident")
    assert p["prior_spend"] == insurance_world.fund_of(PAST)
    assert p["amount"] == (p["prior_spend"] * Decimal("1.05")).quantize(Decimal("0.01"))
    assert sum(p["prealloc_seasonal"]) == p["amount"] and sum(p["prealloc_even"]) == p["amount"]
    # December spends most in the world's season: its seasonal pre-allocation is the largest
    assert max(p["prealloc_seasonal"]) == p["prealloc_seasonal"][11]


def test_budget_is_prior_spend_times_growth_and_withholding_is_kept_back_from_the_months(budget_of_year,
                                                                                        insurance_world):
    b = budget_of_year
    prior = insurance_world.fund_of(PAST)
    assert b.version == 1 and b.status == "active" and b.prior_spend == prior
    assert b.amount == (prior * Decimal("1.05")).quantize(Decimal("0.01"))
    monthly = [Decimal(x) for x in b.monthly_prealloc]
    assert len(monthly) == 12
    assert sum(monthly) == b.amount - (b.amount * Decimal("0.05")).quantize(Decimal("0.01"))


def test_setting_again_writes_a_new_version_and_keeps_the_old_one(budget_of_year, insurance_world, officer):
    c = insurance_world.cast.community
    v2 = set_budget(c, YEAR, "resident", {**RULES, "growth_rate": "0.08", "prealloc": "even"}, actor=as_(officer))
    assert v2.version == 2
    assert Budget.objects.filter(community=c, year=YEAR, scheme="resident").count() == 2
    assert current_budget(c, YEAR, "resident") == v2
    assert Budget.objects.get(pk=budget_of_year.pk).growth_rate == Decimal("0.05")
    assert len(set(v2.monthly_prealloc[:11])) == 1  # even: 1/12 each (cents to December)


def test_bad_rates_are_refused_with_chinese_messages_naming_each_field(insurance_world, officer):
    with pytest.raises(InvalidInput) as e:
        set_budget(insurance_world.cast.community, YEAR, "resident",
                   {**RULES, "growth_rate": "abc", "retained_share": "1.5",
                    "rules": {"out_of_county_rates": {"filed": "2"}}}, actor=as_(officer))
    errors = e.value.errors
    assert set(errors) >= {"growth_rate", "retained_share", "rules"}
    assert "增长率" in errors["growth_rate"][0]
    assert "结余留用比例" in errors["retained_share"][0]
    assert "0 到 1" in errors["rules"][0]
    assert not Budget.objects.exists()


def test_a_custom_pre_allocation_must_add_up_to_the_budget_less_withholding(insurance_world, officer):
    with pytest.raises(InvalidInput) as e:
        set_budget(insurance_world.cast.community, YEAR, "resident",
                   {**RULES, "prior_spend": "1200", "growth_rate": "0", "prealloc": "custom",
                    "monthly": ["100"] * 11 + ["0"]}, actor=as_(officer))
    assert "逐月预拨合计" in e.value.message
    b = set_budget(insurance_world.cast.community, YEAR, "resident",
                   {**RULES, "prior_spend": "1200", "growth_rate": "0", "prealloc": "custom",
                    "monthly": ["100"] * 12}, actor=as_(officer))
    assert b.amount == Decimal("1200.00")


def test_a_manager_cannot_set_a_budget_and_the_refusal_is_audited(insurance_world):
    from yigongti.core.models import AuditEvent

    manager = insurance_world.cast.manager
    with pytest.raises(Forbidden):
        set_budget(insurance_world.cast.community, YEAR, "resident", RULES, actor=as_(manager))
    assert AuditEvent.objects.filter(action="denied", actor_id=manager.pk,
                                     detail__attempted="insurance.set_budget").exists()
    assert not Budget.objects.exists()


def test_the_budget_page_shows_the_proposal_and_saves_a_version_for_the_officer(insurance_world, officer, login):
    client = login(officer)
    r = client.get("/insurance/budget/")
    assert r.status_code == 200 and 'data-testid="budget-form"' in r.text
    r = client.post(f"/insurance/budget/{YEAR}/resident/", {**RULES, "prealloc": "even", "withholding_rate": "0.05"})
    assert r.status_code == 302
    assert current_budget(insurance_world.cast.community, YEAR, "resident").version == 1
    r = client.post(f"/insurance/budget/{YEAR}/resident/", {**RULES, "growth_rate": "五"})
    assert r.status_code == 422 and "增长率" in r.text


def test_a_manager_sees_the_budgets_but_no_form(budget_of_year, insurance_world, login):
    client = login(insurance_world.cast.manager)
    r = client.get(f"/insurance/budget/{YEAR}/resident/")
    assert r.status_code == 200 and 'data-testid="budget-versions"' in r.text
    assert 'data-testid="budget-form"' not in r.text
    assert client.post(f"/insurance/budget/{YEAR}/resident/", RULES).status_code == 403


def test_the_api_lists_versions_and_answers_bad_input_with_problem_json(budget_of_year, officer, login):
    client = login(officer)
    r = client.get(f"/api/v1/insurance/budget/budgets?year={YEAR}")
    assert r.status_code == 200 and r.json()[0]["version"] == 1
    r = client.post("/api/v1/insurance/budget/budgets", {"year": YEAR, "scheme": "resident", **RULES,
                                                         "growth_rate": "0.06"}, content_type="application/json")
    assert r.status_code == 201 and r.json()["version"] == 2
    r = client.post("/api/v1/insurance/budget/budgets", {"year": YEAR, "scheme": "resident", **RULES,
                                                         "retained_share": "3"}, content_type="application/json")
    assert r.status_code == 422 and r["Content-Type"].startswith("application/problem+json")


def test_odd_addresses_answer_404_or_fall_back_never_500(insurance_world, officer, login):
    client = login(officer)
    assert client.get("/insurance/budget/1/resident/").status_code == 404
    assert client.get(f"/insurance/budget/{YEAR}/nonsense/").status_code == 200  # the resident scheme
    assert client.get("/insurance/budget/?year=abc&community=xyz").status_code == 404
    assert client.get("/insurance/?year=99999&scheme=x").status_code == 200
    assert client.get("/api/v1/insurance/budget/proposal?year=1").status_code == 422
