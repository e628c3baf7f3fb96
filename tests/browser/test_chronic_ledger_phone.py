"""The village doctor's day list, the village ledger, a patient's regular medicines and the monthly delivery list on
a 390 px phone: every page fits the screen (no horizontal scroll), the day list leads to the ledger, a medicine
is added from the ledger, the delivery list shows it; in Chinese and in English."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.browser.test_phone_layouts import assert_fits, login_on_phone
from tests.chronic.test_ledger import enrol
from yigongti.chronic.models import Control
from yigongti.familydoctor.models import DueItem, DueKind

pytestmark = pytest.mark.browser


def test_the_village_doctors_day_on_a_phone(care, page, screenshot):
    today = timezone.localdate()
    e = enrol(care, care.grandfather, next_due=today - dt.timedelta(days=8), last=(168, 102, None),
              control=Control.UNCONTROLLED, streak=2)
    enrol(care, care.grandmother, "t2dm", next_due=today + dt.timedelta(days=2), last=(130, 82, None),
          control=Control.CONTROLLED)
    DueItem.objects.create(resident=care.grandfather, kind=DueKind.CHRONIC_FOLLOW_UP, ref="htn", label="高血压随访",
                           due_from=today - dt.timedelta(days=22), due_by=today - dt.timedelta(days=8),
                           village=care.cast.village, area_code=care.cast.village.code, computed_at=timezone.now())
    login_on_phone(page, "village_doctor")
    page.goto("/familydoctor/day/")
    page.wait_for_selector("[data-testid=day-item]")
    assert "逾期 8 天" in page.inner_text("[data-testid=day-group-chronic]")
    assert_fits(page, "day list")
    screenshot("fd-day-390")
    page.click("[data-testid=day-ledger]")
    page.wait_for_selector("[data-testid=ledger-rows]")
    assert page.locator("[data-testid=ledger-row]").count() == 2
    assert "168/102" in page.inner_text("[data-testid=ledger-rows]")
    assert_fits(page, "ledger")
    screenshot("chronic-ledger-390")
    page.locator(f"[data-enrolment='{e.pk}'] [data-testid=ledger-medicines]").click()
    page.wait_for_selector("[data-testid=med-form]")
    assert_fits(page, "medicines")
    page.fill("#m-name", "氨氯地平片")
    page.click("[data-testid=med-add]")
    page.wait_for_selector("[data-testid=med-row]")
    assert "5mg×28片" in page.inner_text("[data-testid=med-current]")
    assert_fits(page, "medicines with one")
    page.goto("/chronic/delivery/")
    assert "氨氯地平片" in page.inner_text("[data-testid=delivery-totals]")
    assert_fits(page, "delivery list")
    screenshot("chronic-delivery-390")
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    for url in ("/familydoctor/day/", "/chronic/ledger/", f"/chronic/medicines/{e.pk}/", "/chronic/delivery/"):
        page.goto(url)
        assert_fits(page, f"{url} in English")
    page.goto("/chronic/ledger/")
    assert "Export to Excel" in page.inner_text("body")
