"""Issue 13's internet hospital, in the browser on a small demo county: the demo's resident on a 390 px phone logs
in with a text-message code and asks a follow-up of a diagnosis from an offline visit at the township center
(with a photograph); the township doctor reads the shared record, replies and prescribes; the rule pack sends
the prescription to review, the demo pharmacist approves it, dispenses at the county pharmacy (the distribution
center) and ships it; the village doctor of the resident's clinic confirms it arrived; the resident pays and
sees 已送达. The demo's own consultations stand beside it on every board."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CLINIC_PASSWORD = "Cl1nic-Demo-2026"


@pytest.fixture(autouse=True)
def _outbox(settings, tmp_path):
    settings.YIGONGTI_SMS_SENDER = "yigongti.ihospital.sms.FileSmsSender"
    settings.YIGONGTI_SMS_OUTBOX = str(tmp_path / "sms_outbox.jsonl")


@pytest.fixture
def open_page(browser, live_server):
    contexts = []

    def _open(username=None, password=None, viewport=None):
        from tests.browser.conftest import login_through_form

        ctx = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                  viewport={"width": 1280, "height": 900} if username else viewport or PHONE)
        pg = ctx.new_page()
        pg.set_default_timeout(30_000)
        if username:
            login_through_form(pg, username, password)  # the navbar's account name shows at desktop width
            if viewport:
                pg.wait_for_load_state("load")
                pg.set_viewport_size(viewport)
        contexts.append(ctx)
        return pg

    yield _open
    for ctx in contexts:
        ctx.close()


def _password(logins, username: str) -> str:
    return next(row["password"] for row in logins if row["username"] == username)


def _fits(pg, what):
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what}: {width} px wide on a {PHONE['width']} px phone"


def test_a_residents_follow_up_becomes_a_delivered_prescription_on_the_demo_county(open_page, tmp_path):
    from yigongti.demo.build import build_demo
    from yigongti.ihospital.models import OnlineConsultation
    from yigongti.ihospital.queries import eligible_diagnoses
    from yigongti.ihospital.services import resident_clinic
    from yigongti.ihospital.sms import last_code_in_outbox
    from yigongti.orgs.models import Role, User
    from yigongti.pharmacy.models import DistributionCenter, Item, StockBalance
    from yigongti.residents.models import Resident

    logins = build_demo(population=3000, seed=7)
    phone = next(row["username"] for row in logins if row["role"].startswith("居民"))
    resident = Resident.objects.get(phone=phone, merged_into__isnull=True)
    township_doctor = User.objects.get(username="township_doctor")
    option = next(o for o in eligible_diagnoses(resident) if o.facility_id == township_doctor.facility_id)
    center = DistributionCenter.objects.get().facility
    item = next(i for i in Item.objects.filter(generic_name="氨氯地平片").order_by("pk")
                if sum(StockBalance.objects.filter(facility=center, item=i).values_list("quantity", flat=True)) > 0)
    clinic = resident_clinic(resident)
    assert clinic is not None
    village_doctor = User.objects.filter(facility=clinic, role=Role.VILLAGE_DOCTOR, is_active=True).order_by("pk") \
        .first()
    assert village_doctor is not None
    village_doctor.set_password(CLINIC_PASSWORD)  # the demo prints one village doctor's password; this is another's
    village_doctor.save(update_fields=["password"])
    before = OnlineConsultation.objects.count()

    # the resident, on the phone
    me = open_page(viewport=PHONE)
    me.goto("/ihospital/m/")
    me.wait_for_selector("[data-testid=resident-login]")
    me.fill("#ih-phone", phone)
    me.fill("#ih-name", resident.name)
    me.click("[data-testid=send-code]")
    me.wait_for_selector(".alert-info")
    code = last_code_in_outbox(phone)
    assert code and len(code) == 6
    me.fill("#ih-phone", phone)
    me.fill("#ih-name", resident.name)
    me.fill("#ih-code", code)
    me.click("[data-testid=verify-code]")
    expect(me.get_by_test_id("eligible")).to_contain_text(option.name)
    _fits(me, "eligible diagnoses")
    me.locator(f"[data-testid=ask][href*='encounter={option.encounter_id}&']").click()
    photo = tmp_path / "bp.png"
    photo.write_bytes(PNG)
    me.fill("#ih-q", "最近血压 150/95，药快吃完了")
    me.set_input_files("#ih-pics", str(photo))
    _fits(me, "new consultation")
    me.click("[data-testid=submit-consultation]")
    expect(me.get_by_test_id("consultation-status")).to_have_text("待接诊")
    assert OnlineConsultation.objects.count() == before + 1
    cons = OnlineConsultation.objects.filter(resident=resident).latest("pk")
    assert cons.facility_id == township_doctor.facility_id

    # the township doctor finds it among the center's consultations
    doc = open_page("township_doctor", _password(logins, "township_doctor"))
    doc.goto("/ihospital/")
    doc.click(f"[data-testid=open-consultation][href='/ihospital/c/{cons.pk}/']")
    expect(doc.get_by_test_id("shared-record")).to_contain_text(option.name)
    doc.fill("[data-testid=reply-form] textarea", "血压偏高，继续服用氨氯地平，我给您开两周的药")
    doc.click("[data-testid=reply]")
    expect(doc.get_by_test_id("consultation-status")).to_have_text("问诊中")
    doc.select_option("[data-testid=rx-item-0]", str(item.pk))
    doc.fill("[data-testid=rx-dose-0]", "5")
    doc.fill("[data-testid=rx-unit-0]", "mg")
    doc.fill("[data-testid=rx-days-0]", "14")
    doc.fill("[data-testid=rx-qty-0]", "1")
    doc.click("[data-testid=prescribe]")
    expect(doc.get_by_test_id("rx-status")).to_have_text("待审核")  # over seven days: the pharmacist reviews

    # the demo pharmacist of the county pharmacy
    ph = open_page("pharmacist", _password(logins, "pharmacist"))
    ph.goto(f"/ihospital/c/{cons.pk}/")
    ph.click("[data-testid=approve]")
    expect(ph.get_by_test_id("rx-status")).to_have_text("审核通过")
    ph.click("[data-testid=dispense]")
    expect(ph.get_by_test_id("rx-status")).to_have_text("已发药")
    ph.goto("/ihospital/deliveries/")
    row = ph.locator("[data-testid=delivery-row]", has=ph.locator(f"a[href='/ihospital/c/{cons.pk}/']"))
    row.get_by_test_id("ship").click()
    row = ph.locator("[data-testid=delivery-row]", has=ph.locator(f"a[href='/ihospital/c/{cons.pk}/']"))
    expect(row.get_by_test_id("row-status")).to_have_text("已发货")

    # the resident sees it on the way and pays
    me.reload()
    expect(me.get_by_test_id("delivery-status")).to_have_text("已发货")
    me.click("[data-testid=pay]")
    me.click("[data-testid=sim-confirm]")
    expect(me.get_by_test_id("payment-status")).to_have_text("已支付")

    # the village doctor of the resident's clinic, on a phone
    vd = open_page(village_doctor.username, CLINIC_PASSWORD, viewport=PHONE)
    vd.goto("/ihospital/deliveries/")
    _fits(vd, "village delivery board")
    row = vd.locator("[data-testid=delivery-row]", has=vd.locator(f"a[href='/ihospital/c/{cons.pk}/']"))
    row.get_by_test_id("deliver").click()
    row = vd.locator("[data-testid=delivery-row]", has=vd.locator(f"a[href='/ihospital/c/{cons.pk}/']"))
    expect(row.get_by_test_id("row-status")).to_have_text("已送达")

    me.reload()
    expect(me.get_by_test_id("delivery-status")).to_have_text("已送达")
    _fits(me, "conversation")
    cons.refresh_from_db()
    assert cons.delivery.status == "delivered" and cons.delivery.clinic_id == clinic.pk
