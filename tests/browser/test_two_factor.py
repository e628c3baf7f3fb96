"""The bureau signs in for the first time: password, then an authenticator enrolled from a QR code drawn on the
page, then the recovery codes; the next login asks for the code."""

import time

import pytest
from django_otp.oath import TOTP

from tests.cast import PASSWORD

pytestmark = pytest.mark.browser


def _code(secret: str, steps_ahead: int = 0) -> str:
    import base64

    totp = TOTP(base64.b32decode(secret.replace(" ", "")), 30, 0, 6, 0)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def test_a_bureau_account_enrols_an_authenticator_on_first_login(cast, page, screenshot):
    page.goto("/login/")
    page.fill("#id_username", "bureau")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=otp-setup-form]")
    assert page.locator("[data-testid=whoami]").count() == 0  # no menu before the second factor
    assert page.locator("[data-testid=otp-qr] svg").is_visible()
    screenshot("two-factor-enrol")
    secret = page.inner_text("[data-testid=otp-secret]")
    page.fill("#id_otp_token", _code(secret))
    page.click("[data-testid=otp-setup-form] button[type=submit]")
    codes = page.locator("[data-testid=recovery-codes] li").all_inner_texts()
    assert len(codes) == 10
    page.click("text=我已保存，继续")
    page.wait_for_selector("[data-testid=whoami]")

    # the next login asks for a code from the app
    page.context.clear_cookies()
    page.goto("/login/")
    page.fill("#id_username", "bureau")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=otp-form]")
    page.fill("#id_otp_token", _code(secret, steps_ahead=1))  # the enrolment used this 30 s window's code
    page.click("[data-testid=otp-form] button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]")
    assert "卫健局" in page.inner_text("[data-testid=whoami]")
