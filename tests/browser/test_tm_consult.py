"""A remote consultation in the browser: a township doctor requests one from the resident page (on a phone, with
a photograph), the consultation center schedules it with a specialist and a video link, the specialist reads
the shared record and writes the opinion, and the township doctor reads it from the inbox."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.cast import _account
from yigongti.orgs.models import Profession, Role

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _files(settings, tmp_path):
    settings.YIGONGTI_TM_ATTACHMENT_DIR = tmp_path / "tm"


@pytest.fixture
def as_user(browser, live_server):
    contexts = []

    def _open(username, viewport=None):
        from tests.browser.conftest import login_through_form

        ctx = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                  viewport={"width": 1280, "height": 900})
        pg = ctx.new_page()
        pg.set_default_timeout(15_000)
        login_through_form(pg, username)
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


def test_township_doctor_requests_the_center_schedules_and_the_specialist_answers(cast, as_user, tmp_path):
    from tests.telemedicine.conftest import build_centers
    from yigongti.telemedicine.models import CenterMember, Consultation

    centers = build_centers(cast)
    desk = _account("consult_desk", Role.NURSE, cast.county_hospital, profession=Profession.NURSE)
    CenterMember.objects.create(center=centers.consultation, user=desk)
    photo = tmp_path / "ecg.png"
    photo.write_bytes(PNG)

    # the township doctor, on a phone, from the resident's page
    doc = as_user("township_doctor", PHONE)
    doc.goto(f"/residents/{cast.resident.pk}/")
    panel = doc.get_by_test_id("panel-consultations")
    panel.get_by_role("link", name="申请远程会诊").click()
    expect(doc.get_by_test_id("patient")).to_contain_text(cast.resident.name)
    _fits(doc, "consultation form")
    doc.get_by_test_id("item").select_option(label="心血管内科远程会诊")
    doc.get_by_test_id("urgency-urgent").check()
    doc.get_by_test_id("question").fill("反复胸闷1月，心电图 T 波倒置，是否需要冠脉造影？")
    doc.get_by_test_id("summary").fill("66岁男性，高血压10年，服氨氯地平。")
    doc.get_by_test_id("files").set_input_files(str(photo))
    doc.get_by_test_id("submit-consultation").click()
    expect(doc.get_by_test_id("status")).to_have_text("待安排")
    expect(doc.get_by_test_id("attachments")).to_contain_text("ecg.png")
    _fits(doc, "consultation page")
    doc.wait_for_load_state("networkidle")  # the photograph's request (audited) before the next account's
    consultation = Consultation.objects.get()

    # the consultation center's desk schedules it
    nurse = as_user("consult_desk")
    nurse.goto("/centers/consultations/")
    row = nurse.locator(f"tr[data-consultation='{consultation.pk}']")
    expect(row).to_contain_text(cast.resident.name)
    row.get_by_test_id("open-consultation").click()
    nurse.wait_for_load_state("networkidle")
    nurse.get_by_test_id("specialist-select").select_option(value=str(cast.county_doctor.pk))
    when = timezone.localtime() + dt.timedelta(hours=2)
    nurse.get_by_test_id("scheduled-at-input").fill(when.strftime("%Y-%m-%dT%H:%M"))
    nurse.get_by_test_id("video-url").fill("https://meet.lanshan.example/room/8841")
    nurse.get_by_test_id("schedule").click()
    expect(nurse.get_by_test_id("status")).to_have_text("已安排")
    expect(nurse.get_by_test_id("video-link")).to_have_attribute("href", "https://meet.lanshan.example/room/8841")

    # the specialist finds it in their own list, reads the shared record and answers
    expert = as_user("county_doctor")
    expert.goto("/centers/consultations/?tab=assigned")
    expert.locator(f"tr[data-consultation='{consultation.pk}']").get_by_test_id("open-consultation").click()
    expect(expert.get_by_test_id("shared-record")).to_be_visible()
    expert.wait_for_load_state("networkidle")
    expect(expert.get_by_test_id("question")).to_contain_text("冠脉造影")
    expert.get_by_test_id("opinion-input").fill("考虑不稳定型心绞痛可能，建议尽快上转行冠脉造影，期间阿司匹林、他汀。")
    expert.get_by_test_id("answer").click()
    expect(expert.get_by_test_id("status")).to_have_text("已出具意见")

    # the township doctor reads the opinion from the inbox
    doc.goto("/inbox/")
    doc.get_by_role("link", name="远程会诊意见已出具").first.click()
    expect(doc.get_by_test_id("opinion")).to_contain_text("冠脉造影")
    consultation.refresh_from_db()
    assert consultation.status == "answered" and consultation.specialist == cast.county_doctor
