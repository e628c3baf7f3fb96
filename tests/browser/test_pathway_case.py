"""A chest-pain case on the county doctor's phone: press the next time point, watch the metric run, and see a
time captured elsewhere (the ECG center, the cath lab) appear without reloading."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_phone_layouts import assert_fits, login_on_phone
from tests.cast import as_
from tests.emergency.conftest import build_ems
from yigongti.pathways import services

pytestmark = pytest.mark.browser


@pytest.fixture
def case(cast):
    build_ems(cast)
    case = services.open_case(as_(cast.township_doctor), cast.resident, "chest_pain", facility=cast.county_hospital,
                              first_facility=cast.township_center, arrival_mode="transfer", subtype="stemi")
    now = timezone.now()
    services.record_event(as_(cast.township_doctor), case, "fmc", at=now - dt.timedelta(minutes=70))
    services.record_event(as_(cast.township_doctor), case, "first_ecg", at=now - dt.timedelta(minutes=64))
    return case


def test_the_county_doctor_presses_door_and_sees_d2w_run_live(cast, case, page, screenshot):
    login_on_phone(page, "county_doctor")
    page.goto(f"/pathways/cases/{case.pk}/")
    expect(page.locator("[data-testid=metric-fmc_to_ecg]")).to_have_attribute("data-met", "met")
    page.click("[data-testid=press-door]")
    expect(page.locator("[data-testid=point-door]")).to_be_visible()
    d2w = page.locator("[data-testid=metric-d2w]")
    expect(d2w).to_contain_text("计时中")
    assert_fits(page, "the case page")
    screenshot("phone-pathway-case")
    # the cath lab's wire crossing recorded elsewhere shows up with the next refresh (≤ 10 s)
    services.record_event(as_(cast.county_doctor), case, "wire")
    expect(page.locator("[data-testid=point-wire]")).to_be_visible(timeout=15_000)
    expect(d2w).to_have_attribute("data-met", "met")
    page.goto("/pathways/")
    expect(page.locator(f"[data-case='{case.case_no}']")).to_be_visible()
    assert_fits(page, "the case list")
