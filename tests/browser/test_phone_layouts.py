"""The village and township pages on a 390 px phone: the home page's to-dos, the referral lists as cards, the
resident list and record, the inbox, and every role's home page — none wider than the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import build_referral_loop
from tests.cast import as_

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def login_on_phone(page, username):
    """Log in through the real form (the menu is open at desktop width), then turn the screen into a phone."""
    from tests.browser.conftest import login_through_form

    login_through_form(page, username)
    page.wait_for_load_state("load")
    page.set_viewport_size(PHONE)


def assert_fits(page, what: str):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what}: the page is {width} px wide on a {PHONE['width']} px phone"


def assert_cards(page, table: str):
    """The table's rows are laid out as cards (blocks no wider than the screen), its header row hidden."""
    got = page.evaluate("""(sel) => {
        const t = document.querySelector(sel);
        const rows = [...t.querySelectorAll('tbody tr')];
        return {thead: getComputedStyle(t.querySelector('thead')).display,
                rows: rows.map(r => [getComputedStyle(r).display, r.getBoundingClientRect().width]),
                cells: [...t.querySelectorAll('tbody td')].map(c => c.getBoundingClientRect().width)};
    }""", table)
    assert got["thead"] == "none"
    assert got["rows"] and all(d == "block" and w <= PHONE["width"] for d, w in got["rows"]), got["rows"]
    # no one-character columns: every cell spans the card
    assert min(got["cells"]) > PHONE["width"] * 0.6, got["cells"]


@pytest.fixture
def loop(cast):
    return build_referral_loop(cast)


def test_village_doctor_works_from_a_phone(loop, page, screenshot):
    login_on_phone(page, "village_doctor")
    page.goto("/")
    todo = page.locator("[data-testid=down-referral]")
    expect(todo).to_be_visible()
    expect(todo).to_contain_text("李建国")
    expect(page.locator("[data-testid=follow-up-due]")).to_be_visible()
    assert_fits(page, "village doctor's home")
    screenshot("phone-village-home")

    # the to-do opens the referral where it is handled
    todo.click()
    expect(page.locator("h1 [data-testid=status]")).to_have_text("待接收")
    assert page.url.endswith(f"/referrals/{loop.down.pk}/")
    assert_fits(page, "down-referral detail")
    screenshot("phone-village-referral")

    page.goto("/referrals/")
    page.wait_for_selector("[data-testid=referral-table]")
    assert_cards(page, "[data-testid=referral-table]")
    assert_cards(page, "[data-testid=follow-up-todo]")
    assert_fits(page, "referral list")
    screenshot("phone-village-referrals")

    page.goto("/residents/")
    assert_cards(page, "[data-testid=resident-table]")
    assert_fits(page, "resident list")
    page.locator("[data-testid=resident-table] tbody a").first.click()
    page.wait_for_selector("[data-testid=source-records]")
    assert_fits(page, "resident record")

    page.goto("/inbox/")
    expect(page.locator("[data-testid=inbox]")).to_contain_text("下转")
    assert_fits(page, "inbox")


def test_township_doctor_on_a_phone_sees_the_referrals_waiting_for_an_answer(loop, page, screenshot):
    login_on_phone(page, "township_doctor")
    page.goto("/")
    waiting = page.locator(f"[data-testid=awaiting-answer][href='/referrals/{loop.waiting.pk}/']")
    expect(waiting).to_be_visible()
    expect(waiting).to_contain_text("重症肺炎")
    assert_fits(page, "township doctor's home")
    screenshot("phone-township-home")

    page.goto("/referrals/?box=out")
    assert_cards(page, "[data-testid=referral-table]")
    assert_fits(page, "sent referrals")
    waiting = page.locator(f"[data-testid=referral-table] tr[data-referral='{loop.waiting.pk}']")
    expect(waiting).to_contain_text("重症肺炎")
    waiting.locator("a").first.click()
    expect(page.locator("[data-testid=referral-facts]")).to_be_visible()
    assert_fits(page, "referral detail")
    screenshot("phone-township-referral")
    for url in ("/referrals/new/", "/residents/find/", f"/encounters/residents/{loop.resident.pk}/", "/inbox/"):
        page.goto(url)
        assert_fits(page, url)


def test_the_referral_center_queue_on_a_phone(loop, page, screenshot):
    login_on_phone(page, "center_desk")
    page.goto("/")
    expect(page.locator("[data-testid=home-referrals-center]")).to_contain_text("转诊中心待处理（1）")
    expect(page.locator("[data-testid=queue-urgent] [data-testid=value]")).to_have_text("1")
    assert_fits(page, "center's home")
    screenshot("phone-center-home")
    page.click("[data-testid=queue-urgent]")
    page.wait_for_selector("[data-testid=queue-table]")
    assert_cards(page, "[data-testid=queue-table]")
    assert_fits(page, "center queue")
    screenshot("phone-center-queue")


def test_the_bureau_home_on_a_phone_shows_red_indicators_and_county_totals(cast, page, screenshot):
    from tests.indicators.world import build_world
    from yigongti.indicators.services import refresh_facts

    build_world(cast)
    refresh_facts()
    login_on_phone(page, "bureau")
    page.goto("/")
    red = page.locator("[data-testid=home-indicators-red] a[data-testid^=indicator-]")
    expect(red.first).to_be_visible()
    expect(page.locator("[data-testid=facility-total]")).to_have_text("5")
    assert_fits(page, "bureau's home")
    screenshot("phone-bureau-home")
    red.first.click()
    page.wait_for_url("**/indicators/**")


def test_the_auditor_home_on_a_phone_shows_recent_refusals(cast, page, screenshot):
    from yigongti.core.errors import NotFound
    from yigongti.residents.queries import get_resident_for

    with pytest.raises(NotFound):
        get_resident_for(as_(cast.village_doctor), cast.neighbour.pk)
    login_on_phone(page, "auditor")
    page.goto("/")
    expect(page.locator("[data-testid=alert-denied] [data-testid=value]")).to_have_text("1")
    expect(page.locator("[data-testid=denial]").first).to_contain_text("village_doctor")
    assert page.locator("[data-testid=resident-total]").count() == 0
    assert_fits(page, "auditor's home")
    screenshot("phone-auditor-home")
