"""The 危急值 loop in the browser, on a village doctor's phone: a low potassium arrives, the doctor opens it from
the inbox's page, a wrong read-back is refused, the right one acknowledges, the action is recorded and the loop
closed; an ECG center's STEMI starts the green-channel referral in one click after the read-back."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server):
    from tests.browser.conftest import login_through_form

    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(15_000)
    login_through_form(pg, "village_doctor")  # the menu is open at desktop width; then the screen is a phone
    pg.wait_for_load_state("load")
    pg.set_viewport_size(PHONE)
    yield pg
    ctx.close()


def _fits(pg, what):
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what}: {width} px wide on a {PHONE['width']} px phone"


@pytest.fixture
def table(cast):
    from tests.cast import SYSTEM
    from tests.telemedicine.conftest import build_centers
    from yigongti.telemedicine import rules

    centers = build_centers(cast)
    rules.install_defaults(cast.community, actor=SYSTEM, start=dt.date(2020, 1, 1))
    return centers


def test_village_doctor_acknowledges_acts_and_closes_a_lab_critical_value(table, phone):
    from tests.telemedicine.test_critical import raise_k
    from yigongti.telemedicine.models import CriticalValue

    cv = raise_k(table)
    phone.goto("/centers/critical/")
    row = phone.locator(f"[data-testid=critical-mine] [data-critical='{cv.pk}']")
    expect(row).to_contain_text("李建国")
    _fits(phone, "critical list")
    row.get_by_role("link").click()
    expect(phone.get_by_test_id("critical-status")).to_have_text("已通知待确认")
    _fits(phone, "critical value")
    phone.fill("#read_back", "李建国 钾 2.8")
    phone.get_by_test_id("acknowledge").click()
    expect(phone.locator(".invalid-feedback")).to_contain_text("不一致")
    phone.fill("#read_back", "李建国 钾 2.5")
    phone.get_by_test_id("acknowledge").click()
    expect(phone.get_by_test_id("critical-status")).to_have_text("已确认待处置")
    phone.get_by_test_id("action-form").locator("#kind").select_option("call")
    phone.fill("#note", "电话通知患者口服补钾，明日复查")
    phone.get_by_test_id("record-action").click()
    expect(phone.get_by_test_id("critical-status")).to_have_text("已处置")
    phone.get_by_test_id("close").click()
    expect(phone.get_by_test_id("critical-status")).to_have_text("已闭环")
    expect(phone.locator("[data-event=closed]")).to_be_visible()
    _fits(phone, "closed critical value")
    assert CriticalValue.objects.get(pk=cv.pk).read_back == "李建国 钾 2.5"


def test_a_stemi_starts_the_green_channel_in_one_click(table, phone):
    from tests.telemedicine.test_critical import _stemi
    from yigongti.referrals.models import Referral

    cv = _stemi(table)
    phone.goto(f"/centers/critical/{cv.pk}/")
    expect(phone.get_by_test_id("green-channel")).to_be_disabled()
    phone.fill("#read_back", "急性下壁心梗")
    phone.get_by_test_id("acknowledge").click()
    phone.get_by_test_id("green-channel").click()
    phone.wait_for_url("**/referrals/*/")
    referral = Referral.objects.get()
    assert referral.urgency == "green" and referral.resident_id == table.cast.resident.pk
    _fits(phone, "green-channel referral")
