"""Issue 13's prescription review, in the browser on a small demo county: the county doctor writes a prescription
whose dose the rule pack flags, so it waits for a pharmacist; the pharmacist finds it in the review queue, sees
the finding and approves it, then dispenses it scanning the box's 追溯码 (a wrong code refused with the reason);
the box leaves the stock and the prescription shows its code. The village doctor's dispensing list at 390 px."""

from __future__ import annotations

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


def test_a_flagged_prescription_is_reviewed_approved_and_dispensed_with_its_trace_code(as_user, screenshot):
    from yigongti.demo.build import build_demo
    from yigongti.orgs.models import User
    from yigongti.pharmacy.models import Item, StockBalance, TraceCode
    from yigongti.prescribing.models import Prescription
    from yigongti.residents.models import Resident

    logins = build_demo(population=3000, seed=7)
    doctor = User.objects.get(username="county_doctor")
    lead = doctor.facility
    item = Item.objects.filter(atc="C08CA01", min_level="village").first()
    code = TraceCode.objects.filter(lot__item=item, facility=lead, status="in_stock").order_by("pk").first()
    assert code is not None
    before = sum(StockBalance.objects.filter(facility=lead, item=item).values_list("quantity", flat=True))
    resident = Resident.objects.filter(merged_into__isnull=True).order_by("pk").first()

    page = as_user("county_doctor", _password(logins, "county_doctor"))
    page.goto(f"/prescribing/new/?resident={resident.pk}")
    page.fill("#f-diag", "I10")
    page.fill("[data-testid=rx-search-0]", "氨氯地平")
    page.wait_for_timeout(600)
    page.select_option("[data-testid=rx-item-0]", str(item.pk))
    line = page.locator("[data-testid=rx-line-0]")
    line.locator("[name=line-0-dose]").fill("10")
    line.locator("[name=line-0-unit]").fill("mg")
    line.locator("[name=line-0-frequency]").select_option("bid")
    line.locator("[name=line-0-days]").fill("7")
    line.locator("[name=line-0-quantity]").fill("1")
    page.click("[data-testid=rx-submit]")
    expect(page.locator("[data-testid=rx-status]")).to_have_text("待审核")
    expect(page.locator("[data-testid=rx-findings]")).to_contain_text("氨氯地平日剂量超出范围")
    p = Prescription.objects.filter(doctor=doctor).latest("pk")

    ph = as_user("pharmacist", _password(logins, "pharmacist"))
    ph.goto("/prescribing/queue/")
    ph.locator("[data-testid=rx-queue]").get_by_role("link", name=str(p.pk), exact=True).click()
    expect(ph.locator("[data-testid=rx-findings]")).to_contain_text("日剂量 20mg 超过 10mg")
    ph.fill("#r-reason", "高血压急症，已与医生确认")
    ph.click("[data-testid=rx-approve]")
    expect(ph.locator("[data-testid=rx-status]")).to_have_text("审核通过")
    ph.fill("[data-testid=rx-codes]", "12345")
    ph.click("[data-testid=rx-dispense-go]")
    expect(ph.locator("body")).to_contain_text("追溯码应为 20 位数字")
    expect(ph.locator("[data-testid=rx-status]")).to_have_text("审核通过")
    ph.fill("[data-testid=rx-codes]", code.code)
    ph.click("[data-testid=rx-dispense-go]")
    expect(ph.locator("[data-testid=rx-status]")).to_have_text("已发药")
    expect(ph.locator("[data-testid=rx-dispensed]")).to_contain_text(code.code)
    screenshot("prescribing-dispensed")
    code.refresh_from_db()
    assert code.status == "dispensed" and code.source == f"prescription:{p.pk}"
    after = sum(StockBalance.objects.filter(facility=lead, item=item).values_list("quantity", flat=True))
    assert after == before - 1

    vd = as_user("village_doctor", _password(logins, "village_doctor"), viewport=PHONE)
    vd.goto("/prescribing/dispensing/")
    expect(vd.locator("h1")).to_contain_text("待发药处方")
    assert vd.evaluate("document.documentElement.scrollWidth") <= 392
