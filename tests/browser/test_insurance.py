"""The insurance officer's year in the browser, on a small demo county: sets this year's budget (a new version),
watches the ledger and its forecast, closes the employees' prior year and downloads a member's statement;
opens a discharge grouped under CHS-DRG 2.0 and 1.1 with its trace and its DRG and DIP payments; runs a
simulation that changes a rate and sees the effect on the members and the fund."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _officer_password(logins) -> str:
    return next(row["password"] for row in logins if row["username"] == "insurance")


def test_the_insurance_officers_year_on_the_demo_county(page, screenshot):
    from django.utils import timezone

    from tests.browser.conftest import login_through_form
    from yigongti.demo.build import build_demo
    from yigongti.insurance.models import Budget, CaseGroup, CasePayment, Simulation, YearSettlement

    logins = build_demo(population=3000, seed=7)
    year = timezone.localdate().year
    login_through_form(page, "insurance", _officer_password(logins))

    # the home page: the year's execution and the forecast's warning
    expect(page.locator("[data-testid=insurance-execution]")).to_be_visible()
    expect(page.locator("[data-testid=insurance-forecast]")).to_contain_text("月用完预算")

    # the budget: a new version of this year's resident budget from the prior year's spend and a growth rate
    before = Budget.objects.filter(year=year, scheme="resident").count()
    page.goto(f"/insurance/budget/{year}/resident/")
    expect(page.locator("[data-testid=budget-proposal]")).to_be_visible()
    form = page.locator("[data-testid=budget-form]")
    form.locator("input[name=growth_rate]").fill("0.04")
    form.locator("input[name=note]").fill("浏览器测试：按 4% 增长重新测算")
    form.locator("[data-testid=budget-save]").click()
    expect(page.locator("[data-testid=budget-versions]")).to_contain_text(f"v{before + 1}")
    assert Budget.objects.filter(year=year, scheme="resident").count() == before + 1
    screenshot("insurance-budget")

    # the ledger: spend against the budget, the out-of-county share, the forecast and when the budget runs out
    page.goto(f"/insurance/?year={year}&scheme=resident")
    expect(page.locator("[data-testid=spend-to-date]")).to_be_visible()
    expect(page.locator("[data-testid=out-of-county-share]")).to_be_visible()
    expect(page.locator("[data-testid=top-groups]")).to_be_visible()
    expect(page.locator("[data-testid=forecast-expected]")).to_be_visible()
    expect(page.locator("[data-testid=forecast-warning]")).to_contain_text("超出预算")
    screenshot("insurance-ledger")

    # the fund's indicators on the dashboard
    page.goto("/indicators/")
    expect(page.locator("[data-testid=card-INS_EXEC]")).to_be_visible()
    expect(page.locator("[data-testid=card-INS_CMI]")).to_be_visible()

    # the year-end settlement of the employees' prior year (an overspend within the reasonable cap), by workload
    page.goto(f"/insurance/settlement/{year - 1}/employee/")
    page.select_option("[data-testid=close-method]", "workload")
    page.click("[data-testid=close-year]")
    expect(page.locator("[data-testid=settlement-allocations]")).to_be_visible()
    settlement = YearSettlement.objects.get(budget__year=year - 1, budget__scheme="employee")
    assert settlement.balance < 0 and settlement.allocations.count() > 10
    with page.expect_download() as dl:
        page.locator("[data-testid=statement-xlsx]").first.click()
    assert dl.value.suggested_filename.endswith(".xlsx")
    pdf = page.request.get(page.locator("[data-testid=statement-pdf]").first.get_attribute("href"))
    assert pdf.ok and pdf.body()[:4] == b"%PDF"
    screenshot("insurance-settlement")

    # a discharge with a complication, grouped under both versions, paid by DRG and by DIP
    both = CaseGroup.objects.filter(version="CHS-DRG 1.1", status="grouped").values("discharge_id")
    group = (CaseGroup.objects.filter(version="CHS-DRG 2.0", status="grouped", drg__regex=r"[13]$",
                                      discharge_id__in=both, discharge__discharge_date__year=year)
             .order_by("discharge_id").first())
    assert group is not None
    page.goto(f"/insurance/cases/{group.discharge_id}/")
    groups = page.locator("[data-testid=groups]")
    expect(groups).to_contain_text("CHS-DRG 2.0")
    expect(groups).to_contain_text("CHS-DRG 1.1")
    expect(groups).to_contain_text(group.drg)
    expect(page.locator("[data-testid=trace]").first).to_contain_text(group.mdc)
    payments = page.locator("[data-testid=payments]")
    drg = CasePayment.objects.get(discharge_id=group.discharge_id, method="drg")
    assert CasePayment.objects.filter(discharge_id=group.discharge_id, method="dip").exists()
    expect(payments).to_contain_text("DRG")
    expect(payments).to_contain_text("DIP")
    expect(payments).to_contain_text(str(drg.amount))
    screenshot("insurance-case")

    # a simulation: the county rate 5 % lower, its effect on each member's income and on the fund
    page.goto(f"/insurance/simulation/?year={year}")
    form = page.locator("[data-testid=simulation-form]")
    form.locator("input[name=name]").fill("县级费率下调 5%")
    form.locator("input[name=rate_pct_county]").fill("-5")
    form.locator("[data-testid=run-simulation]").click()
    expect(page.locator("[data-testid=simulation-members]")).to_be_visible()
    expect(page.locator("[data-testid=simulation-fund]")).to_be_visible()
    sim = Simulation.objects.get(name="县级费率下调 5%")
    assert sim.results["total"]["scenario"] != sim.results["total"]["baseline"]
    assert float(sim.results["total"]["difference"]) < 0
    screenshot("insurance-simulation")
