"""A village clinic orders from a phone, the distribution center approves (cutting a line), picks by lot (first
expiry first), dispatches, and the clinic receives item by item; the stock moves from the center to the village."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login_through_form
from tests.distribution.world import build_world
from yigongti.distribution.models import OrderStatus, VillageOrder
from yigongti.pharmacy import ledger

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _phone(browser, live_server, username):
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(15_000)
    login_through_form(pg, username)  # (the navbar folds away at 390 px; sign in wide, then work on the phone)
    pg.wait_for_load_state("load")
    pg.set_viewport_size(PHONE)
    return ctx, pg


def test_a_village_order_travels_from_the_phone_to_the_shelf(cast, browser, live_server, page, screenshot):
    w = build_world(cast)
    ctx, phone = _phone(browser, live_server, "village_doctor")
    phone.goto("/distribution/orders/new/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(phone.locator("[data-testid=order-form]")).to_contain_text("苯磺酸氨氯地平片")
    expect(phone.locator("[data-testid=order-form]")).not_to_contain_text("头孢曲松")
    phone.fill(f"[data-testid=qty-{w.amlodipine.code}]", "12")
    phone.fill(f"[data-testid=qty-{w.metformin.code}]", "5")
    phone.click("[data-testid=order-submit]")
    expect(phone.locator("[data-testid=order-status]")).to_have_attribute("data-status", "submitted")
    order = VillageOrder.objects.get()

    # the center: queue → approve (metformin cut to 4) → pick by lot → dispatch
    login_through_form(page, "dc_pharmacist")
    page.goto("/distribution/")
    page.click(f"text={order.number}")
    met_line = order.lines.get(item=w.metformin)
    page.fill(f"input[name=line_{met_line.pk}]", "4")
    page.click("[data-testid=approve]")
    expect(page.locator("[data-testid=order-status]")).to_have_attribute("data-status", "approved")
    page.click("[data-testid=pick-button]")
    expect(page.locator("[data-testid=order-status]")).to_have_attribute("data-status", "picked")
    picks = page.locator(f"[data-testid=line-{w.amlodipine.code}] [data-testid=pick]").all_inner_texts()
    assert picks[0].startswith("A2401") and picks[1].startswith("A2409")  # first expiry first
    screenshot("distribution-pick-list")
    page.click("[data-testid=dispatch]")
    expect(page.locator("[data-testid=order-status]")).to_have_attribute("data-status", "dispatched")
    assert ledger.on_hand(w.center, w.amlodipine) == 48

    # the clinic receives item by item on the phone
    phone.goto(f"/distribution/orders/{order.pk}/")
    phone.click("[data-testid=receive-link]")
    card = phone.locator(f"[data-testid=receive-{w.amlodipine.code}]")
    card.locator("[data-testid=confirm]").click()
    expect(phone.locator(f"[data-testid=receive-{w.amlodipine.code}] [data-testid=received]")).to_contain_text("12")
    card = phone.locator(f"[data-testid=receive-{w.metformin.code}]")
    card.locator("input[name=received]").fill("3")
    card.locator("input[name=damaged]").fill("1")
    card.locator("[data-testid=confirm]").click()
    expect(phone.locator("[data-testid=order-status]")).to_have_attribute("data-status", "partly_received")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot("distribution-received")
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTLY_RECEIVED
    assert ledger.on_hand(cast.village_clinic, w.amlodipine) == 12
    assert ledger.on_hand(cast.village_clinic, w.metformin) == 3

    # the clinic's stock page shows what arrived
    resp = phone.goto(f"/pharmacy/stock/{cast.village_clinic.pk}/")
    assert resp is not None and resp.status == 200
    expect(phone.locator("body")).to_contain_text("苯磺酸氨氯地平片")
    ctx.close()
