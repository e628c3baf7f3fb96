"""The internet hospital in the browser: a resident on a 390 px phone logs in with a text-message code and asks a
follow-up of a diagnosis from an offline visit (with a photograph); the township doctor reads the shared record,
replies and prescribes; the rule pack sends the prescription to review, the pharmacist approves and dispenses at
the county pharmacy and ships it; the village doctor confirms it arrived; the resident pays and sees 已送达."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _outbox(settings, tmp_path):
    settings.YIGONGTI_SMS_SENDER = "yigongti.ihospital.sms.FileSmsSender"
    settings.YIGONGTI_SMS_OUTBOX = str(tmp_path / "sms_outbox.jsonl")


@pytest.fixture
def open_page(browser, live_server):
    contexts = []

    def _open(username=None, viewport=None):
        from tests.browser.conftest import login_through_form

        ctx = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                  viewport={"width": 1280, "height": 900} if username else viewport or PHONE)
        pg = ctx.new_page()
        pg.set_default_timeout(15_000)
        if username:
            login_through_form(pg, username)  # the navbar's account name shows at desktop width
            if viewport:
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


def test_a_residents_follow_up_becomes_a_delivered_prescription(cast, open_page, tmp_path):
    from tests.ihospital.world import build_ih
    from yigongti.ihospital.models import OnlineConsultation
    from yigongti.ihospital.sms import last_code_in_outbox

    w = build_ih(cast)
    phone = cast.resident.phone

    # the resident, on the phone
    me = open_page(viewport=PHONE)
    me.goto("/ihospital/m/")
    me.wait_for_selector("[data-testid=resident-login]")
    me.fill("#ih-phone", phone)
    me.fill("#ih-name", "李建国")
    me.click("[data-testid=send-code]")
    me.wait_for_selector(".alert-info")
    code = last_code_in_outbox(phone)
    assert code and len(code) == 6
    me.fill("#ih-phone", phone)
    me.fill("#ih-name", "李建国")
    me.fill("#ih-code", code)
    me.click("[data-testid=verify-code]")
    expect(me.get_by_test_id("eligible")).to_contain_text("原发性高血压")
    _fits(me, "eligible diagnoses")
    me.locator("[data-testid=ask]").first.click()
    photo = tmp_path / "bp.png"
    photo.write_bytes(PNG)
    me.fill("#ih-q", "最近血压 150/95，药快吃完了")
    me.set_input_files("#ih-pics", str(photo))
    _fits(me, "new consultation")
    me.click("[data-testid=submit-consultation]")
    expect(me.get_by_test_id("consultation-status")).to_have_text("待接诊")
    cons = OnlineConsultation.objects.get()

    # the township doctor
    doc = open_page("township_doctor")
    doc.goto("/ihospital/")
    doc.click("[data-testid=open-consultation]")
    expect(doc.get_by_test_id("shared-record")).to_contain_text("原发性高血压")
    doc.fill("[data-testid=reply-form] textarea", "血压偏高，继续服用氨氯地平，我给您开两周的药")
    doc.click("[data-testid=reply]")
    expect(doc.get_by_test_id("consultation-status")).to_have_text("问诊中")
    doc.select_option("[data-testid=rx-item-0]", str(w.items["氨氯地平"].pk))
    doc.fill("[data-testid=rx-dose-0]", "5")
    doc.fill("[data-testid=rx-unit-0]", "mg")
    doc.fill("[data-testid=rx-days-0]", "14")
    doc.fill("[data-testid=rx-qty-0]", "1")
    doc.click("[data-testid=prescribe]")
    expect(doc.get_by_test_id("rx-status")).to_have_text("待审核")  # over seven days: the pharmacist reviews

    # the pharmacist of the county pharmacy
    ph = open_page("rx_pharmacist")
    ph.goto(f"/ihospital/c/{cons.pk}/")
    ph.click("[data-testid=approve]")
    expect(ph.get_by_test_id("rx-status")).to_have_text("审核通过")
    ph.click("[data-testid=dispense]")
    expect(ph.get_by_test_id("rx-status")).to_have_text("已发药")
    ph.goto("/ihospital/deliveries/")
    ph.click("[data-testid=ship]")
    expect(ph.get_by_test_id("row-status").first).to_have_text("已发货")

    # the resident sees it on the way and pays
    me.reload()
    expect(me.get_by_test_id("delivery-status")).to_have_text("已发货")
    me.click("[data-testid=pay]")
    me.click("[data-testid=sim-confirm]")
    expect(me.get_by_test_id("payment-status")).to_have_text("已支付")

    # the village doctor of the pickup clinic
    vd = open_page("village_doctor", viewport=PHONE)
    vd.goto("/ihospital/deliveries/")
    _fits(vd, "village delivery board")
    vd.click("[data-testid=deliver]")
    expect(vd.get_by_test_id("row-status").first).to_have_text("已送达")

    me.reload()
    expect(me.get_by_test_id("delivery-status")).to_have_text("已送达")
    _fits(me, "conversation")
