"""THE story of the shared ECG center, in the browser: a village doctor on a phone orders an emergency ECG from the
resident's page and uploads the electrocardiograph's DICOM file; the county ECG center's reader takes it from the
worklist, sees the 12 leads on the calibrated grid with the automatic measurements (ST elevation in II, III,
aVF), signs the report and flags the STEMI; the village doctor gets the critical value, acknowledges it by
reading it back and starts the green-channel referral to the county hospital in one click.

Played twice: on the tests' small cast (every step checked in detail) and on the demo county (3,000 residents,
a year of orders, live worklists, the demo's own accounts)."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def as_user(browser, live_server):
    contexts = []

    def _open(username, viewport=None, password=None):
        from tests.browser.conftest import login_through_form

        ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
        pg = ctx.new_page()
        pg.set_default_timeout(20_000)
        login_through_form(pg, username, password)
        if viewport:  # the menu folds on a phone: log in wide, then narrow
            pg.wait_for_load_state("load")
            pg.set_viewport_size(viewport)
        contexts.append(ctx)
        return pg

    yield _open
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def county(cast, settings, tmp_path):
    """The cast's community with its five centers, the critical-value table and finding lists, and the referral
    center that receives green-channel referrals."""
    from tests.cast import SYSTEM
    from tests.telemedicine.conftest import build_centers
    from yigongti.referrals.services import setup_center
    from yigongti.telemedicine import rules

    settings.DATA_DIR = tmp_path
    centers = build_centers(cast)
    rules.install_defaults(cast.community, actor=SYSTEM, start=dt.date(2020, 1, 1))
    setup_center(cast.community, actor=SYSTEM, members=[cast.county_doctor])
    return centers


def _fits(pg, what):
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what}: {width} px wide on a {PHONE['width']} px phone"


def _shot(pg, name):
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _drawn(pg):
    viewer = pg.get_by_test_id("ecg-viewer").first
    expect(viewer).to_have_attribute("data-drawn", "4")  # 3 rows of 4 leads and the rhythm strip
    return viewer


def _dicom_for(order):
    from yigongti.telemedicine.ecg.simulate import twelve_lead
    from yigongti.telemedicine.ecg.write import dicom_ecg

    r = order.resident
    samples, rate, uv = twelve_lead(2026, stemi="inferior", hr=88)
    return dicom_ecg(samples, rate, uv, order.accession_no,
                     {"id": str(r.pk), "name": r.name, "birth_date": r.birth_date, "sex": r.sex})


def _play(village, reader, resident, item_pk: int, *, shots: str = "", detail: bool = True):
    """The story from the village doctor's order to the green-channel referral; returns (order, critical value,
    referral)."""
    from yigongti.referrals.models import Referral
    from yigongti.telemedicine.models import CriticalStatus, CriticalValue, EcgRecording, Order

    before = set(Order.objects.filter(resident=resident).values_list("pk", flat=True))
    referrals_before = set(Referral.objects.values_list("pk", flat=True))

    # 1. the village doctor orders an emergency ECG from the resident's page, on a phone
    village.goto(f"/residents/{resident.pk}/")
    village.get_by_text("＋ 开具检查检验申请").click()
    expect(village.get_by_test_id("order-form")).to_be_visible()
    village.get_by_test_id("item").select_option(str(item_pk))
    village.wait_for_load_state("load")
    village.get_by_test_id("urgency").select_option("emergency")
    village.fill("#clinical_question", "胸骨后压榨样疼痛 1 小时，伴大汗")
    village.get_by_test_id("submit-order").click()
    expect(village.get_by_test_id("accession")).to_be_visible()
    order = Order.objects.exclude(pk__in=before).get(resident=resident)
    assert order.kind == "ecg" and order.urgency == "emergency"
    expect(village.get_by_test_id("accession")).to_have_text(order.accession_no)
    expect(village.get_by_test_id("ecg-panel")).to_contain_text("尚未上传心电图")

    # 2. … and uploads the electrocardiograph's DICOM file (an inferior STEMI)
    village.get_by_test_id("ecg-upload-link").click()
    expect(village.get_by_test_id("upload-order")).to_contain_text(order.accession_no)
    _fits(village, "ECG upload page")
    if detail:
        village.get_by_test_id("ecg-file").set_input_files(files=[{
            "name": "wrong.dcm", "mimeType": "application/dicom", "buffer": b"not an ecg at all" * 10}])
        village.get_by_test_id("ecg-upload-submit").click()
        expect(village.get_by_test_id("upload-error")).to_contain_text("不是有效的")
    village.get_by_test_id("ecg-file").set_input_files(files=[{
        "name": f"{order.accession_no}.dcm", "mimeType": "application/dicom", "buffer": _dicom_for(order)}])
    village.get_by_test_id("ecg-upload-submit").click()
    expect(village.get_by_test_id("order-status")).to_have_text("已采集")
    _drawn(village)
    expect(village.get_by_test_id("ecg-measurements")).to_contain_text("自动测量（仅供参考）")
    _fits(village, "order page with the ECG")
    assert EcgRecording.objects.filter(order=order).exists()
    if shots:
        _shot(village, f"{shots}-village-phone")
    if detail:
        village.get_by_test_id("ecg-full").click()  # the full page: fitted to the phone, the grid still calibrated
        viewer = _drawn(village)
        assert viewer.get_attribute("data-fit") == "1"
        _fits(village, "ECG page")
        village.get_by_test_id("ecg-fit").select_option("real")  # real millimetres: the drawing scrolls in its box
        expect(viewer).to_have_attribute("data-fit", "0")
        _fits(village, "ECG page at real size")

    # 3. the county ECG center's reader takes it from the worklist (急诊 first) and reads the 12 leads
    reader.goto("/centers/")
    reader.locator("[data-center=ecg]").click()
    row = reader.locator(f"tr[data-order='{order.pk}']")
    expect(row).to_contain_text("急诊")
    row.get_by_test_id("read").click()
    viewer = _drawn(reader)
    assert viewer.get_attribute("data-fit") == "0"  # at 1280 px the grid is drawn in real millimetres
    assert abs(float(viewer.get_attribute("data-px-per-mm")) - 96 / 25.4) < 0.01
    expect(reader.get_by_test_id("ecg-st")).to_contain_text("II、III、aVF")
    expect(reader.get_by_test_id("ecg-rate")).to_contain_text("次/分")
    expect(reader.locator("#s_rate")).to_have_value("88")  # the measurements prefill the structured findings
    if shots:
        _shot(reader, f"{shots}-reader")
    reader.get_by_test_id("start").click()
    reader.fill("#findings", "窦性心律，II、III、aVF 导联 ST 段抬高 0.3 mV，I、aVL 导联 ST 段压低。")
    reader.fill("#conclusion", "急性下壁 ST 段抬高型心肌梗死，请立即处置")
    reader.locator("[data-testid=critical-findings] input[data-stemi='1']").first.check()
    reader.get_by_test_id("sign").click()
    reader.wait_for_load_state("load")
    cv = CriticalValue.objects.get(order=order)
    assert cv.finding.stemi and cv.status == CriticalStatus.NOTIFIED

    # 4. the village doctor sees the critical value, reads it back and starts the green channel in one click
    village.goto("/centers/critical/")
    mine = village.locator(f"[data-testid=critical-mine] [data-critical='{cv.pk}']")
    expect(mine).to_contain_text(resident.name)
    _fits(village, "critical list")
    mine.get_by_role("link").first.click()
    expect(village.get_by_test_id("critical-status")).to_have_text("已通知待确认")
    expect(village.get_by_test_id("green-channel")).to_be_disabled()
    _fits(village, "critical value")
    village.fill("#read_back", "急性下壁心梗")
    village.get_by_test_id("acknowledge").click()
    expect(village.get_by_test_id("critical-status")).to_have_text("已确认待处置")
    village.get_by_test_id("green-channel").click()
    village.wait_for_url("**/referrals/*/")
    _fits(village, "green-channel referral")
    if shots:
        _shot(village, f"{shots}-green-channel")
    referral = Referral.objects.exclude(pk__in=referrals_before).get()
    assert referral.urgency == "green" and referral.resident_id == resident.pk
    cv.refresh_from_db()
    assert cv.status == CriticalStatus.ACTIONED and cv.action_kind == "referral"
    assert cv.action_ref == str(referral.pk) and cv.read_back == "急性下壁心梗"
    kinds = list(cv.events.values_list("kind", flat=True))
    assert kinds[0] == "detected" and "acknowledged" in kinds and kinds[-1] == "action"
    return order, cv, referral


def test_village_ecg_read_as_stemi_acknowledged_and_sent_by_the_green_channel(county, as_user):
    cast = county.cast
    village = as_user("village_doctor", PHONE)
    reader = as_user("center_reader")
    _order, cv, referral = _play(village, reader, cast.resident, county.items["ECG12"].pk, shots="tm-ecg")
    assert cv.notified_to == cast.village_doctor
    assert referral.to_facility_id == cast.county_hospital.pk


def test_the_stemi_story_on_the_demo_county(as_user, settings, tmp_path):
    from yigongti.demo.build import build_demo
    from yigongti.orgs.models import User
    from yigongti.residents.queries import residents_visible_to
    from yigongti.telemedicine.models import CatalogItem, CenterKind

    settings.DATA_DIR = tmp_path
    logins = {row["username"]: row["password"] for row in build_demo(population=3000, seed=7)}
    doctor = User.objects.get(username="village_doctor")
    resident = residents_visible_to(doctor).filter(merged_into__isnull=True).order_by("pk").first()
    item = CatalogItem.objects.filter(center__kind=CenterKind.ECG, active=True,
                                      center__community_id=doctor.facility.community_id).order_by("pk").first()
    village = as_user("village_doctor", PHONE, logins["village_doctor"])
    reader = as_user("ecg_reader", None, logins["ecg_reader"])
    _order, cv, _referral = _play(village, reader, resident, item.pk, shots="tm-ecg-demo", detail=False)
    assert cv.notified_to == doctor
