"""A village doctor logs in through the real login form and sees only their village's residents."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.cast import as_
from yigongti.core.idcard import make_id_number
from yigongti.residents.services import register_resident

pytestmark = pytest.mark.browser


def _more_residents(cast):
    for i, (name, village, who) in enumerate([("陈小梅", cast.village, cast.village_doctor),
                                             ("刘大山", cast.other_village, cast.other_village_doctor),
                                             ("黄春燕", cast.other_village, cast.other_village_doctor)]):
        register_resident({"name": name, "village": village.code,
                           "id_number": make_id_number("431127", dt.date(1980, 1, 1 + i), 60 + i, "F")}, actor=as_(who))


def login(page, username):
    from tests.browser.conftest import login_through_form

    login_through_form(page, username)  # with the second factor for privileged accounts
    page.wait_for_load_state("load")  # app.js (deferred) must have attached its listeners


def test_village_doctor_sees_only_their_villages_residents(cast, page, screenshot):
    _more_residents(cast)
    login(page, "village_doctor")
    assert "乡村医生" in page.inner_text("[data-testid=whoami]")
    assert page.inner_text("[data-testid=resident-total]") == "2"
    page.click("text=居民")
    page.wait_for_selector("[data-testid=resident-table]")
    rows = page.locator("[data-testid=resident-table] tbody tr")
    names = rows.locator("td:first-child").all_inner_texts()
    assert sorted(names) == ["李建国", "陈小梅"]
    assert set(page.locator("[data-testid=village]").all_inner_texts()) == {"大塘村"}
    # masked identifiers only
    assert "********" in page.inner_text("[data-testid=resident-table]")
    screenshot("village-doctor-residents")

    # searching for a resident of another village finds nothing (HTMX partial update)
    page.fill("[data-testid=resident-search]", "刘大山")
    expect(page.locator("[data-testid=resident-table] tbody")).to_contain_text("没有符合条件的居民")
    # and opening them by id is refused
    other = cast.neighbour.pk
    resp = page.goto(f"/residents/{other}/")
    assert resp.status == 404
    assert "不在您的管辖范围内" in page.inner_text("[data-testid=error]")


def test_the_interface_switches_to_english(cast, page, screenshot):
    login(page, "bureau")
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert "Residents" in page.inner_text("nav")
    screenshot("bureau-home-english")
