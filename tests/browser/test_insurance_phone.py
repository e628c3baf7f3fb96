"""The insurance pages on a 390 px phone, on a small demo county: the insurance officer opens every page of the
one insurance tab bar (ledger, budget, reconciliation, year-end settlement and a closed year, settlement lists and
a discharge, out-of-county filings, pay-later, rates and weights, DIP, efficiency, simulation and a simulation's
result) — none wider than the screen, in Chinese and in English; the tab bar shows a township doctor only the
settlement-list tabs and the community's manager only the fund's."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_phone_layouts import PHONE, assert_fits

pytestmark = pytest.mark.browser

FUND_TABS = ["ledger", "budget", "reconcile", "settlement", "payment", "dip", "efficiency", "simulation"]
CASE_TABS = ["cases", "filings", "pay_later"]
ACTIVE = re.compile(r"\bactive\b")


def _password(logins, username: str) -> str:
    return next(row["password"] for row in logins if row["username"] == username)


def _tabs(page) -> list[str]:
    return page.locator("[data-testid=insurance-nav] [data-tab]").evaluate_all("els => els.map(e => e.dataset.tab)")


def _pages(year: int) -> list[tuple[str, str]]:
    """(url, the tab it shows as active) of the officer's insurance pages."""
    from yigongti.insurance.models import Discharge, YearSettlement

    closed = YearSettlement.objects.select_related("budget").order_by("-budget__year").first()
    discharge = Discharge.objects.order_by("pk").first()
    pages = [("/insurance/", "ledger"), ("/insurance/budget/", "budget"), ("/insurance/reconcile/", "reconcile"),
             ("/insurance/settlement/", "settlement"), (f"/insurance/settlement/{year}/resident/", "settlement"),
             ("/insurance/cases/", "cases"), ("/insurance/filings/", "filings"), ("/insurance/pay-later/", "pay_later"),
             (f"/insurance/payment/?year={year}", "payment"), (f"/insurance/payment/dip/?year={year}", "dip"),
             (f"/insurance/efficiency/?year={year}", "efficiency"),
             (f"/insurance/simulation/?year={year}", "simulation")]
    if closed is not None:  # the demo's closed prior year
        pages.append((f"/insurance/settlement/{closed.budget.year}/{closed.budget.scheme}/", "settlement"))
    if discharge is not None:
        pages.append((f"/insurance/cases/{discharge.pk}/", "cases"))
    return pages


def _walk(page, pages, what: str) -> None:
    for url, tab in pages:
        response = page.goto(url)
        assert response is not None and response.ok, f"{what} {url}: {response and response.status}"
        expect(page.locator(f"[data-testid=insurance-nav] [data-tab={tab}]")).to_have_class(ACTIVE)
        assert_fits(page, f"{what} {url}")


def test_the_insurance_pages_fit_a_phone(browser, live_server, page, screenshot):
    from django.utils import timezone

    from tests.browser.conftest import login_through_form
    from yigongti.demo.build import build_demo

    logins = build_demo(population=3000, seed=7)
    year = timezone.localdate().year
    login_through_form(page, "insurance", _password(logins, "insurance"))
    page.wait_for_load_state("load")
    page.set_viewport_size(PHONE)

    # one tab bar over every insurance page, with every tab for the insurance officer
    page.goto("/insurance/")
    assert _tabs(page) == FUND_TABS[:4] + CASE_TABS + FUND_TABS[4:]
    # the ledger links to the indicators it feeds
    for code in ("N08", "N09", "N10", "N11"):
        href = page.locator(f"[data-testid=indicator-{code}]").get_attribute("href")
        assert href.startswith(f"/indicators/{code}/?period={year}"), href
    screenshot("phone-insurance-ledger")

    # a simulation's result, run through the page's own form
    page.goto(f"/insurance/simulation/?year={year}")
    form = page.locator("[data-testid=simulation-form]")
    form.locator("input[name=name]").fill("县级费率上调 3%")
    form.locator("input[name=rate_pct_county]").fill("3")
    form.locator("[data-testid=run-simulation]").click()
    expect(page.locator("[data-testid=simulation-members]")).to_be_visible()
    assert_fits(page, "simulation result")
    simulation_url = page.url

    pages = [*_pages(year), (simulation_url, "simulation")]
    _walk(page, pages, "zh")
    screenshot("phone-insurance-last")

    # the same pages in English (the page's own language menu)
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    _walk(page, pages, "en")
    page.goto("/insurance/")
    screenshot("phone-insurance-ledger-en")

    # a township doctor sees only the settlement-list tabs
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    doctor = ctx.new_page()
    doctor.set_default_timeout(15_000)
    login_through_form(doctor, "township_doctor", _password(logins, "township_doctor"))  # the menu is open
    doctor.set_viewport_size(PHONE)
    doctor.goto("/insurance/cases/")
    assert _tabs(doctor) == CASE_TABS
    assert_fits(doctor, "township doctor's settlement lists")
    ctx.close()

    # the community's manager reads the fund's aggregates, not the lists: only the fund's tabs
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    manager = ctx.new_page()
    manager.set_default_timeout(15_000)
    login_through_form(manager, "manager", _password(logins, "manager"))
    manager.set_viewport_size(PHONE)
    manager.goto("/insurance/")
    assert _tabs(manager) == FUND_TABS
    assert_fits(manager, "manager's ledger")
    ctx.close()
