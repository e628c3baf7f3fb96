"""Orders and reads in the browser: a village doctor on a phone orders a chest X-ray from the resident page, the
county imaging center's reader takes it from the worklist and signs the report from a template, the village
doctor finds the report on the home page and the resident's page, and ordering it again offers the result for
mutual recognition instead of a repeat."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def as_user(browser, live_server):
    contexts = []

    def _open(username, viewport=None):
        from tests.browser.conftest import login_through_form

        ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
        pg = ctx.new_page()
        pg.set_default_timeout(15_000)
        login_through_form(pg, username)
        if viewport:  # the menu folds on a phone: log in wide, then narrow
            pg.wait_for_load_state("load")
            pg.set_viewport_size(viewport)
        contexts.append(ctx)
        return pg

    yield _open
    for ctx in contexts:
        ctx.close()


def _fits(pg, what):
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what}: {width} px wide on a {PHONE['width']} px phone"


def test_village_doctor_orders_the_center_reads_and_the_result_is_recognised(cast, as_user):
    from tests.telemedicine.conftest import build_centers
    from yigongti.telemedicine.models import Order, Recognition

    build_centers(cast)
    village = as_user("village_doctor", PHONE)
    village.goto(f"/residents/{cast.resident.pk}/")
    village.get_by_text("＋ 开具检查检验申请").click()
    expect(village.get_by_test_id("order-form")).to_be_visible()
    _fits(village, "order form")
    village.get_by_test_id("item").select_option(label="胸部正位 DR（互认）")
    village.wait_for_load_state("load")
    village.get_by_test_id("urgency").select_option("urgent")
    village.fill("#clinical_question", "咳嗽、发热 3 天")
    village.get_by_test_id("submit-order").click()
    expect(village.get_by_test_id("accession")).to_be_visible()
    order = Order.objects.get()
    expect(village.get_by_test_id("accession")).to_have_text(order.accession_no)
    expect(village.get_by_test_id("order-status")).to_have_text("已申请")
    _fits(village, "order page")

    reader = as_user("center_reader")
    reader.goto("/centers/")
    reader.locator("[data-center=imaging]").click()
    row = reader.locator(f"tr[data-order='{order.pk}']")
    expect(row).to_contain_text("加急")
    expect(row.get_by_test_id("time-left")).to_contain_text("分钟")
    row.get_by_test_id("read").click()
    reader.get_by_test_id("start").click()
    reader.get_by_test_id("template").select_option(label="胸部正位片未见异常")
    expect(reader.locator("#conclusion")).to_have_value("胸部正位片未见明显异常")
    reader.fill("#s_technique", "DR 后前位")
    reader.get_by_test_id("sign").click()
    expect(reader.get_by_test_id("worklist")).to_contain_text("当前没有待处理的申请")

    village.goto("/")
    expect(village.get_by_test_id("home-telemedicine-results")).to_contain_text(cast.resident.name)
    village.get_by_test_id(f"home-tm-report-{order.pk}").first.click()
    expect(village.get_by_test_id("report-conclusion")).to_have_text("胸部正位片未见明显异常")
    expect(village.get_by_test_id("report-structured")).to_contain_text("DR 后前位")
    _fits(village, "report")
    village.goto(f"/residents/{cast.resident.pk}/")
    expect(village.get_by_test_id("panel-telemedicine")).to_contain_text("胸部正位片未见明显异常")

    # ordering it again: the recent result comes first and is recognised, nothing is repeated
    village.get_by_text("＋ 开具检查检验申请").click()
    village.get_by_test_id("item").select_option(label="胸部正位 DR（互认）")
    expect(village.get_by_test_id("recognition")).to_contain_text("胸部正位片未见明显异常")
    _fits(village, "recognition step")
    village.get_by_test_id("recognise").click()
    expect(village.get_by_test_id("accession")).to_have_text(order.accession_no)
    assert Order.objects.count() == 1 and Recognition.objects.get().decision == "recognised"
