"""The service ledger, recording a delivery and logging a 118 session on a 390 px phone (Playwright, Chromium):
every page fits the screen, in Chinese and in English. Run singly:
``python -m pytest -q tests/familydoctor/test_fulfilment_phone.py``."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.browser.test_phone_layouts import assert_fits, login_on_phone
from tests.familydoctor.test_fulfilment import make_contract
from yigongti.familydoctor.models import ServiceDelivery, TeamSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ledger_delivery_and_session_on_a_phone(care, page, screenshot):
    today = timezone.localdate()
    contract = make_contract(care, care.grandfather, start=today.replace(month=1, day=1))
    make_contract(care, care.mother, start=today.replace(month=1, day=1))
    login_on_phone(page, "village_doctor")
    page.goto("/familydoctor/ledger/")
    page.wait_for_selector("[data-testid=ledger-table]")
    assert page.locator("[data-testid=ledger-row]").count() == 2
    assert_fits(page, "ledger")
    screenshot("fd-ledger-390")
    page.goto(f"/familydoctor/contracts/{contract.pk}/deliver/")
    page.select_option("#d-service", str(care.services["EDU"].pk))
    page.fill("#d-note", "低盐饮食指导")
    assert_fits(page, "deliver")
    page.click("[data-testid=deliver-submit]")
    page.wait_for_selector("[data-testid=deliver-history]")
    assert "低盐饮食指导" in page.inner_text("[data-testid=deliver-history]")
    assert ServiceDelivery.objects.filter(contract=contract).count() == 1
    page.goto(f"/familydoctor/sessions/new/?team={care.team.pk}")
    assert_fits(page, "session form")
    page.click("[data-testid=session-submit]")
    page.wait_for_selector("[data-testid=session-row]")
    assert TeamSession.objects.filter(team=care.team).count() == 1
    assert_fits(page, "sessions")
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    for url in ("/familydoctor/ledger/", f"/familydoctor/contracts/{contract.pk}/deliver/",
                f"/familydoctor/sessions/?team={care.team.pk}", "/familydoctor/assessment/", "/familydoctor/ranking/"):
        page.goto(url)
        assert_fits(page, f"{url} in English")
    page.goto("/familydoctor/ledger/")
    assert "Service ledger" in page.inner_text("body") or "服务台账" in page.inner_text("body")
