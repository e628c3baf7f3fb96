"""A lab critical value arrives over HL7 (a real MLLP socket), nobody acknowledges it, it escalates up the ladder
(the worker's sweep run with the clock moved forward) to the county lab center's duty doctor, who acknowledges it
with a read-back, records the action and closes the loop in the browser; the order page shows the flagged result."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def table(cast):
    from tests.cast import SYSTEM
    from tests.telemedicine.conftest import build_centers
    from yigongti.telemedicine import rules

    centers = build_centers(cast)
    rules.install_defaults(cast.community, actor=SYSTEM, start=dt.date(2020, 1, 1))
    return centers


def test_a_critical_potassium_over_hl7_escalates_and_the_county_duty_doctor_closes_it(table, page):
    from django.utils import timezone

    from tests.browser.conftest import login_through_form
    from tests.telemedicine.conftest import make_order
    from tests.telemedicine.hl7_support import listening
    from yigongti.core.models import Notification
    from yigongti.telemedicine.hl7.ack import ack_code
    from yigongti.telemedicine.hl7.mllp import MllpClient
    from yigongti.telemedicine.hl7.sample import oru
    from yigongti.telemedicine.models import CriticalValue
    from yigongti.telemedicine.services.critical import escalate_due

    cast = table.cast
    order = make_order(table, "CHEM", by=cast.village_doctor, resident=cast.resident)
    with listening() as server, MllpClient("127.0.0.1", server.port) as lis:
        ack = lis.send(oru(order.accession_no, [("K", "6.8", "mmol/L", "3.5-5.3"), ("NA", "139", "mmol/L"),
                                                ("GLU", "5.1", "mmol/L"), ("CR", "80", "umol/L")],
                           control_id="LIS-0001", patient_name=cast.resident.name))
    assert ack_code(ack) == "AA"
    cv = CriticalValue.objects.get(order=order)
    assert cv.notified_to == cast.village_doctor and cv.status == "notified"

    # nobody acknowledges: the worker's sweep, 11 and 21 minutes later, climbs the ladder to the county
    later = timezone.now() + dt.timedelta(minutes=11)
    escalate_due(later)
    cv.refresh_from_db()
    if cv.level < 2:
        escalate_due(later + dt.timedelta(minutes=table.lab.escalate_minutes + 1))
    cv.refresh_from_db()
    assert cv.status == "escalated" and cv.level == 2 and cv.notified_to == table.reader
    assert Notification.objects.filter(recipient=table.reader, kind="critical_value", urgent=True).exists()

    login_through_form(page, "center_reader")
    page.goto(f"/centers/critical/{cv.pk}/")
    expect(page.get_by_test_id("critical-status")).to_have_text("已升级")
    expect(page.locator("[data-event=escalated]").last).to_contain_text("L2")
    page.fill("#read_back", f"{cast.resident.name} 钾 6.8")
    page.get_by_test_id("acknowledge").click()
    expect(page.get_by_test_id("critical-status")).to_have_text("已确认待处置")
    page.get_by_test_id("action-form").locator("#kind").select_option("call")
    page.fill("#note", "已电话联系村医与患者，嘱立即到乡镇卫生院复查血钾、心电图")
    page.get_by_test_id("record-action").click()
    expect(page.get_by_test_id("critical-status")).to_have_text("已处置")
    page.get_by_test_id("close").click()
    expect(page.get_by_test_id("critical-status")).to_have_text("已闭环")
    expect(page.locator("[data-event=closed]")).to_be_visible()

    page.goto(f"/centers/orders/{order.pk}/")
    expect(page.get_by_test_id("order-status")).to_have_text("已报告")
    expect(page.locator("[data-testid=lab-results] [data-analyte=K]")).to_have_attribute("data-flag", "HH")
    cv.refresh_from_db()
    assert cv.status == "closed" and cv.acknowledged_by == table.reader and cv.action_kind == "call"
    kinds = set(cv.events.values_list("kind", flat=True))  # (the sweep's events carry the moved clock's time)
    assert {"detected", "notified", "escalated", "acknowledged", "action", "closed"} <= kinds


def test_a_township_doctor_enters_a_small_analysers_results_on_a_phone(table, page):
    from tests.browser.conftest import login_through_form
    from tests.telemedicine.conftest import make_order
    from yigongti.telemedicine.models import CriticalValue

    cast = table.cast
    order = make_order(table, "CBC", by=cast.township_doctor, resident=cast.resident)
    login_through_form(page, "township_doctor")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/centers/orders/{order.pk}/")
    expect(page.get_by_test_id("no-results")).to_be_visible()
    page.get_by_test_id("enter-results").click()
    expect(page.get_by_test_id("entry-form")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.fill("#v-WBC", "abc")
    page.get_by_test_id("save-results").click()
    expect(page.locator(".invalid-feedback").first).to_contain_text("请填写数值")
    page.fill("#v-WBC", "6.1")
    page.fill("#v-HGB", "4.1")
    page.select_option("select[name=unit_HGB]", "g/dL")
    page.fill("#v-PLT", "210")
    page.get_by_test_id("save-results").click()
    expect(page.locator("[data-testid=lab-results] [data-analyte=HGB]")).to_have_attribute("data-flag", "LL")
    expect(page.get_by_test_id("order-criticals")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert CriticalValue.objects.get(order=order).notified_to == cast.township_doctor
