"""Issue 13's pharmacy, in the browser on a small demo county: the distribution center's pharmacist orders from
a supplier, receives the order with a lot, an expiry and one 追溯码 per box (a wrong code refused with the
reason, then accepted), and the center's stock page shows the lot; the village doctor opens the clinic's stock
page and stocktake on a phone (390 px) without sideways scrolling."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _password(logins, username: str) -> str:
    return next(row["password"] for row in logins if row["username"] == username)


@pytest.fixture
def as_user(browser, live_server):
    contexts = []

    def _open(username, password, viewport=None):
        from tests.browser.conftest import login_through_form

        ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
        pg = ctx.new_page()
        pg.set_default_timeout(30_000)
        login_through_form(pg, username, password)
        if viewport:
            pg.wait_for_load_state("load")
            pg.set_viewport_size(viewport)
        contexts.append(ctx)
        return pg

    yield _open
    for ctx in contexts:
        ctx.close()


def test_a_receipt_with_lot_and_trace_codes_shows_on_the_stock_page(as_user, screenshot):
    from django.utils import timezone

    from yigongti.demo.build import build_demo
    from yigongti.orgs.models import User
    from yigongti.pharmacy.models import DistributionCenter, Item, StockBalance, TraceCode

    logins = build_demo(population=3000, seed=7)
    dc = DistributionCenter.objects.get()
    item = Item.objects.get(generic_name="阿司匹林肠溶片")
    prefix = TraceCode.objects.filter(lot__item=item).values_list("code", flat=True).first()[:7]
    codes = [f"{prefix}{9_000_000_000_000 + i}" for i in range(3)]
    expires = (timezone.localdate() + dt.timedelta(days=720)).isoformat()

    page = as_user("pharmacist", _password(logins, "pharmacist"))
    page.goto("/pharmacy/orders/")
    page.select_option("[data-testid=order-item-1]", str(item.pk))
    page.fill("[data-testid=order-qty-1]", "3")
    page.click("[data-testid=order-submit]")
    expect(page.locator("[data-testid=order-status]")).to_have_text("已下单")
    line = page.locator(f"[data-testid=receipt-line-{item.code}]")
    line.locator("[data-testid=r-qty]").fill("3")
    line.locator("[data-testid=r-lot]").fill("PW2601")
    line.locator("[data-testid=r-exp]").fill(expires)
    line.locator("[data-testid=r-codes]").fill("\n".join([*codes[:2], "12345"]))
    page.click("[data-testid=receipt-submit]")
    expect(page.locator("[data-testid=form-errors]")).to_contain_text("20 位数字")
    line = page.locator(f"[data-testid=receipt-line-{item.code}]")
    line.locator("[data-testid=r-qty]").fill("3")
    line.locator("[data-testid=r-lot]").fill("PW2601")
    line.locator("[data-testid=r-exp]").fill(expires)
    line.locator("[data-testid=r-codes]").fill("\n".join(codes))
    page.click("[data-testid=receipt-submit]")
    page.wait_for_url(f"**/pharmacy/stock/{dc.facility_id}/")
    page.fill("[data-testid=stock-filter] input[name=q]", "阿司匹林")
    page.click("[data-testid=stock-filter] button")
    row = page.locator(f"[data-testid=stock-row-{item.code}]")
    expect(row).to_contain_text("PW2601")
    screenshot("pharmacy-stock-after-receipt")
    assert StockBalance.objects.get(facility=dc.facility, lot__number="PW2601").quantity == 3
    assert set(TraceCode.objects.filter(lot__number="PW2601").values_list("code", flat=True)) == set(codes)

    doctor = User.objects.get(username="village_doctor")
    phone = as_user("village_doctor", _password(logins, "village_doctor"), viewport=PHONE)
    phone.goto("/pharmacy/")
    phone.wait_for_url(f"**/pharmacy/stock/{doctor.facility_id}/")
    expect(phone.locator("[data-testid=stock-summary]")).to_contain_text("目标 50")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.click("[data-testid=stocktake-link]")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
