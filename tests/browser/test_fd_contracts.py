"""A village doctor signs a household on a 390 px phone with the tablet signature (signature_pad → SVG): the sign
page fits the screen, the drawn signature is saved with every member's contract and shown on the contract page."""

from __future__ import annotations

import pytest

from tests.browser.test_phone_layouts import PHONE, assert_fits

pytestmark = pytest.mark.browser


def test_village_doctor_signs_a_household_on_a_phone(care, page, screenshot):
    from tests.browser.conftest import login_through_form
    from yigongti.familydoctor.models import Contract

    login_through_form(page, "village_doctor")
    page.wait_for_load_state("load")
    page.set_viewport_size(PHONE)
    page.goto(f"/familydoctor/sign/?household={care.household.pk}")
    assert_fits(page, "household sign page")
    page.uncheck(f"[data-testid=sign-member-{care.mother.pk}]")
    page.uncheck(f"[data-testid=sign-member-{care.child.pk}]")
    page.check("#ck-tablet")
    box = page.locator("[data-signature-pad]").bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    for i in range(1, 12):
        page.mouse.move(box["x"] + 20 + i * 20, box["y"] + 40 + (i % 3) * 25, steps=3)
    page.mouse.up()
    screenshot("fd-sign-household-390")
    page.click("[data-testid=sign-submit]")
    page.wait_for_selector("[data-testid=contract-signature]")
    assert_fits(page, "contract page")
    got = list(Contract.objects.filter(household=care.household))
    assert {c.resident_id for c in got} == {care.grandfather.pk, care.grandmother.pk}
    assert all(c.consent_kind == "tablet" and "<path" in c.consent_signature for c in got)
    assert len({c.household_batch for c in got}) == 1
