"""The village doctor's follow-up on a 390 px phone: the form fits the screen, unlikely readings ask "确认读数",
the saved visit shows the rules' decision on the patient page (with the chart), in Chinese and in English."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.browser.test_phone_layouts import PHONE, assert_fits
from tests.cast import as_

pytestmark = pytest.mark.browser


def test_village_doctor_records_a_follow_up_on_a_phone(care, page, screenshot):
    from tests.browser.conftest import login_through_form
    from yigongti.chronic.models import FollowUp
    from yigongti.chronic.services.enrolment import enrol

    e = enrol(as_(care.cast.village_doctor), care.grandfather, "htn",
              enrolled_on=timezone.localdate() - dt.timedelta(days=90))
    login_through_form(page, "village_doctor")
    page.wait_for_load_state("load")
    page.set_viewport_size(PHONE)
    page.goto(f"/chronic/patients/{e.pk}/follow-up/")
    assert_fits(page, "follow-up form")
    page.fill("#fu-sbp", "200")
    page.fill("#fu-dbp", "120")
    page.fill("#fu-hr", "88")
    page.click("[data-testid=fu-save]")
    page.wait_for_selector("[data-testid=fu-warning]")
    assert not FollowUp.objects.exists()
    assert_fits(page, "follow-up form with warnings")
    screenshot("chronic-follow-up-confirm-390")
    page.check("[data-testid=fu-confirm]")
    page.click("[data-testid=fu-save]")
    page.wait_for_selector("[data-testid=follow-ups]")
    assert "紧急转诊" in page.inner_text("[data-testid=decision]")
    assert_fits(page, "patient page")
    screenshot("chronic-patient-390")
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    page.goto(f"/chronic/patients/{e.pk}/follow-up/")
    assert "Save follow-up" in page.inner_text("[data-testid=fu-form]")
    assert_fits(page, "follow-up form in English")
