"""Authentication as a hospital expects: lock-out per account and per client, trusted proxies only, two-factor login
for privileged accounts, a password policy, an absolute session limit, and no open redirects."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.cast import PASSWORD, SYSTEM, as_
from yigongti.core.models import AuditEvent
from yigongti.orgs.auth_otp import needs_two_factor
from yigongti.orgs.models import Role, User
from yigongti.orgs.services import create_account, issue_token

WRONG = "Falsch-Kennwort-77"


def _post_login(c: Client, username: str, password: str, ip: str, **extra):
    return c.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def _locked(response) -> bool:
    return response.status_code == 429 and "锁定" in response.content.decode()


def _spare_accounts(cast, n: int) -> list[str]:
    names = []
    for i in range(n):
        name = f"spray{i:02d}"
        create_account(actor=SYSTEM, username=name, role=Role.DOCTOR, password=PASSWORD, facility=cast.township_center)
        names.append(name)
    return names


# ---- lock-out per account and per client --------------------------------------------------------------------


def test_a_password_spray_from_one_address_locks_that_address(cast):
    """4 wrong passwords at each of 14 accounts: no (account, address) pair reaches its limit of 5, but the
    address does (30), so the spray stops and the address cannot log in anywhere until the cool-off."""
    targets = _spare_accounts(cast, 14)
    attacker = Client()
    answers = [_post_login(attacker, name, WRONG, "203.0.113.66") for name in targets for _ in range(4)]
    assert any(_locked(r) for r in answers)
    assert _locked(answers[-1])
    # not even a right password gets through from there now
    assert _locked(_post_login(Client(), "township_doctor", PASSWORD, "203.0.113.66"))
    # from anywhere else the same account logs in
    assert _post_login(Client(), "township_doctor", PASSWORD, "198.51.100.20").status_code == 302
    locks = AuditEvent.objects.filter(action="login_locked")
    assert locks.exists() and locks.first().detail["limit"] == "client"
    assert locks.first().ip == "203.0.113.66"


def test_failures_from_many_addresses_throttle_the_account(cast):
    """80 failures from 20 addresses, 4 each: the account's own limit (10) stops the guessing at it."""
    answers = [_post_login(Client(), "village_doctor", WRONG, f"192.0.2.{i}") for i in range(1, 21) for _ in range(4)]
    assert _locked(answers[-1])
    assert _locked(_post_login(Client(), "village_doctor", PASSWORD, "192.0.2.200"))
    assert AuditEvent.objects.filter(action="login_locked", detail__limit="account").exists()
    # another account from one of those addresses is not affected
    assert _post_login(Client(), "township_doctor", PASSWORD, "192.0.2.1").status_code == 302


def test_the_real_user_on_a_browser_they_used_before_is_not_locked_out_by_the_attacker(cast):
    own_browser = Client()
    assert _post_login(own_browser, "village_doctor", PASSWORD, "10.20.0.5").status_code == 302
    own_browser.post("/logout/", REMOTE_ADDR="10.20.0.5")
    for i in range(12):
        _post_login(Client(), "village_doctor", WRONG, f"192.0.2.{i + 1}")
    assert _locked(_post_login(Client(), "village_doctor", PASSWORD, "10.20.0.5"))  # a new browser waits
    assert _post_login(own_browser, "village_doctor", PASSWORD, "10.20.0.5").status_code == 302
    own_browser.post("/logout/", REMOTE_ADDR="10.20.0.5")
    # the known-device cookie is for that account only
    for i in range(12):
        _post_login(Client(), "township_doctor", WRONG, f"192.0.2.{i + 1}")
    assert _locked(_post_login(own_browser, "township_doctor", PASSWORD, "10.20.0.5"))


def test_a_lock_lifts_after_the_cool_off_and_is_not_stretched_by_more_failures(cast, settings):
    for _ in range(5):
        _post_login(Client(), "village_doctor", WRONG, "203.0.113.7")
    assert _locked(_post_login(Client(), "village_doctor", PASSWORD, "203.0.113.7"))
    counted = sum(AccessAttempt.objects.values_list("failures_since_start", flat=True))
    for _ in range(5):  # hammering a locked door is refused but not counted
        _post_login(Client(), "village_doctor", WRONG, "203.0.113.7")
    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == counted
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.first().attempt_time
                                 - settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=1))
    assert _post_login(Client(), "village_doctor", PASSWORD, "203.0.113.7").status_code == 302


def test_a_forged_x_forwarded_for_from_an_untrusted_peer_is_ignored(cast, settings):
    settings.YIGONGTI_TRUSTED_PROXIES = ["10.0.0.0/8"]
    answers = [_post_login(Client(), "village_doctor", WRONG, "198.51.100.9", HTTP_X_FORWARDED_FOR=f"6.6.6.{i}")
               for i in range(5)]
    assert _locked(answers[-1])  # rotating the header did not spread the failures over five "clients"
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.9"}
    ips = set(AuditEvent.objects.filter(action="login_failed").values_list("ip", flat=True))
    assert ips == {"198.51.100.9"}


def test_a_trusted_proxys_forwarded_address_is_believed(cast, settings):
    settings.YIGONGTI_TRUSTED_PROXIES = ["10.0.0.0/8"]
    proxy = "10.0.0.2"
    # the client wrote a forged hop itself; the proxy appended the address it saw
    for _ in range(5):
        _post_login(Client(), "village_doctor", WRONG, proxy, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.50")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.50"}
    assert AuditEvent.objects.filter(action="login_failed").first().ip == "203.0.113.50"
    assert _locked(_post_login(Client(), "village_doctor", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="203.0.113.50"))
    # everyone else behind the same proxy is a different client: the real user is not locked out
    ok = _post_login(Client(), "village_doctor", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="203.0.113.51")
    assert ok.status_code == 302
    assert AuditEvent.objects.filter(action="login", actor="village_doctor").first().ip == "203.0.113.51"


# ---- two-factor login ----------------------------------------------------------------------------------------


def test_privileged_roles_and_unmaskers_need_two_factor_and_others_do_not(cast):
    admin = create_account(actor=SYSTEM, username="fac_admin", role=Role.FACILITY_ADMIN, password=PASSWORD,
                           facility=cast.township_center)[0]
    root = create_account(actor=SYSTEM, username="root", role=Role.DOCTOR, password=PASSWORD,
                          facility=cast.county_hospital)[0]
    root.is_superuser = True
    root.save()
    needs = {u.username: needs_two_factor(User.objects.get(pk=u.pk)) for u in
             [cast.bureau, cast.city, cast.manager, cast.auditor, admin, root, cast.county_doctor,
              cast.township_doctor, cast.village_doctor]}
    assert needs == {"bureau": True, "city": True, "manager": True, "auditor": True, "fac_admin": True, "root": True,
                     "county_doctor": True,  # may unmask ID numbers
                     "township_doctor": False, "village_doctor": False}


def _totp_now(device: TOTPDevice, offset_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():06d}"


def test_a_bureau_account_enrols_an_authenticator_and_then_passes_it_at_every_login(cast):
    c = Client()
    assert _post_login(c, "bureau", PASSWORD, "10.1.1.1").status_code == 302
    r = c.get("/residents/")
    assert r.status_code == 302 and r["Location"].startswith("/account/two-factor/setup/")
    page = c.get(r["Location"])
    html = page.content.decode()
    assert "<svg" in html and "http" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]  # server-side QR
    assert 'data-testid="whoami"' not in html  # no menu before the second factor
    device = TOTPDevice.objects.get(user=cast.bureau, confirmed=False)
    assert c.post("/account/two-factor/setup/", {"otp_token": "000000", "next": "/residents/"}).status_code == 400
    _wait_out_the_back_off(device)
    done = c.post("/account/two-factor/setup/", {"otp_token": _totp_now(device), "next": "/residents/"})
    codes = done.context["codes"]
    assert len(codes) == 10
    assert c.get("/residents/").status_code == 200
    assert AuditEvent.objects.filter(action="otp_enrol", actor="bureau").exists()

    # next login: the verification step, where a wrong code is refused and a recovery code works once
    c2 = Client()
    _post_login(c2, "bureau", PASSWORD, "10.1.1.1")
    r = c2.get("/residents/")
    assert r.status_code == 302 and r["Location"].startswith("/account/two-factor/?next=")
    wrong = c2.post("/account/two-factor/", {"otp_token": "12345678x", "next": "/residents/"})
    assert wrong.status_code == 400 and "验证码错误" in wrong.content.decode()
    _wait_out_the_back_off(StaticDevice.objects.get(user=cast.bureau))
    ok = c2.post("/account/two-factor/", {"otp_token": codes[0], "next": "/residents/"})
    assert ok.status_code == 302 and ok["Location"] == "/residents/"
    assert c2.get("/residents/").status_code == 200
    c3 = Client()
    _post_login(c3, "bureau", PASSWORD, "10.1.1.1")
    assert c3.post("/account/two-factor/", {"otp_token": codes[0]}).status_code == 400  # used up
    device.refresh_from_db()
    assert c3.post("/account/two-factor/", {"otp_token": _totp_now(device, 1),
                                            "next": "http://evil.example/"})["Location"] == "/"
    assert AuditEvent.objects.filter(action="otp_failed", actor="bureau").count() >= 2


def _wait_out_the_back_off(device):
    """django-otp refuses codes for 2^(n-1) s after n wrong ones; rather than sleep, age the last failure."""
    type(device).objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))


def test_wrong_codes_back_off_so_the_six_digits_cannot_be_guessed(cast, login):
    c = Client()
    _post_login(c, "auditor", PASSWORD, "10.1.1.7")
    device = TOTPDevice.objects.create(user=cast.auditor, name="app", confirmed=True)
    for guess in ("111111", "222222"):
        assert c.post("/account/two-factor/", {"otp_token": guess}).status_code == 400
    refused = c.post("/account/two-factor/", {"otp_token": _totp_now(device)})
    assert refused.status_code == 400 and "次数过多" in refused.content.decode()
    _wait_out_the_back_off(device)
    assert c.post("/account/two-factor/", {"otp_token": _totp_now(device)}).status_code == 302


def test_a_half_signed_in_session_reaches_no_page_and_no_api_but_tokens_still_work(cast):
    c = Client()
    _post_login(c, "manager", PASSWORD, "10.1.1.2")
    for path in ("/", "/residents/", "/admin/", "/audit/", "/account/password/"):
        assert c.get(path).status_code == 302, path
    hx = c.get("/residents/", HTTP_HX_REQUEST="true")
    assert hx.status_code == 204 and hx["HX-Redirect"].startswith("/account/two-factor/")
    r = c.get("/api/v1/residents")
    assert r.status_code == 401 and r.json()["code"] == "two_factor_required"
    _tok, plain = issue_token(cast.manager, "HIS", actor=as_(cast.manager))
    assert c.get("/api/v1/residents", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 200
    assert Client().get("/api/v1/residents", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 200


def test_a_village_doctor_logs_in_with_the_password_alone(cast):
    c = Client()
    _post_login(c, "village_doctor", PASSWORD, "10.1.1.3")
    assert c.get("/residents/").status_code == 200


def test_the_login_fixture_passes_the_second_factor_without_any_bypass_setting(cast, login):
    assert login(cast.bureau).get("/residents/").status_code == 200
    assert Client().get("/residents/").status_code == 302


# ---- password policy -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", [
    "Yigongti2024", "Yigongti@2025", "Y1g0ngt1!2026", "P@ssw0rd", "P@ssw0rd!2024", "Woaini1314!", "Zhangwei@1990",
    "1qaz2wsx!QAZ", "Qwer!23456", "Lanshan#2025", "Short1!", "alllowercaseletters", "ALLUPPER123456",
    "Village_doctor2026", "1234567890"])
def test_the_password_policy_refuses_guessable_passwords(cast, password):
    with pytest.raises(ValidationError) as err:
        validate_password(password, cast.village_doctor)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in err.value.messages)  # in Chinese


@pytest.mark.parametrize("password", ["Hz7-kapo-Ruwe", "Tm4!Qa9s-Lp2x", "蓝山Gx-8817-pw"])
def test_the_password_policy_accepts_strong_passwords(cast, password):
    validate_password(password, cast.village_doctor)


def test_a_user_changes_their_own_password(cast, login):
    c = login(cast.village_doctor)
    assert c.get("/account/password/").status_code == 200
    weak = c.post("/account/password/", {"old_password": PASSWORD, "new_password1": "Yigongti2026",
                                         "new_password2": "Yigongti2026"})
    assert weak.status_code == 400 and "拼音" in weak.content.decode()
    wrong_old = c.post("/account/password/", {"old_password": WRONG, "new_password1": "Hz7-kapo-Ruwe",
                                              "new_password2": "Hz7-kapo-Ruwe"})
    assert wrong_old.status_code == 400
    ok = c.post("/account/password/", {"old_password": PASSWORD, "new_password1": "Hz7-kapo-Ruwe",
                                       "new_password2": "Hz7-kapo-Ruwe"})
    assert ok.status_code == 302
    assert c.get("/residents/").status_code == 200  # this session goes on
    assert _post_login(Client(), "village_doctor", "Hz7-kapo-Ruwe", "10.1.1.4").status_code == 302
    assert AuditEvent.objects.filter(action="password_change", actor="village_doctor").exists()


# ---- absolute session limit ----------------------------------------------------------------------------------


def test_a_session_ends_at_the_absolute_limit_however_active(cast, settings):
    settings.YIGONGTI_SESSION_MAX_SECONDS = 12 * 3600
    c = Client()
    _post_login(c, "village_doctor", PASSWORD, "10.1.1.5")
    assert c.get("/residents/").status_code == 200
    session = c.session
    session["_ygt_login_at"] = int(time.time()) - 12 * 3600 + 60
    session.save()
    assert c.get("/residents/").status_code == 200  # 11 h 59 min: still in
    session = c.session
    session["_ygt_login_at"] = int(time.time()) - 12 * 3600 - 1
    session.save()
    r = c.get("/residents/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert c.get("/residents/").status_code == 302  # logged out, not just bounced once
    assert AuditEvent.objects.filter(action="session_expired", actor="village_doctor").exists()


# ---- open redirects ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["http://evil.example/phish", "//evil.example/phish", "https:evil.example",
                                    "\\\\evil.example", "javascript:alert(1)"])
def test_refreshing_indicators_never_redirects_to_another_site(cast, login, target):
    r = login(cast.bureau).post("/indicators/refresh/", {"next": target})
    assert r.status_code == 302
    assert "evil" not in r["Location"] and not r["Location"].startswith("javascript")


def test_refreshing_indicators_returns_to_the_page_it_came_from(cast, login):
    r = login(cast.bureau).post("/indicators/refresh/", {"next": "/indicators/?period=2026-03"})
    assert r["Location"] == "/indicators/?period=2026-03"


def test_the_login_page_does_not_redirect_to_another_site(cast):
    r = Client().post("/login/?next=http://evil.example/", {"username": "village_doctor", "password": PASSWORD,
                                                            "next": "http://evil.example/"}, REMOTE_ADDR="10.1.1.6")
    assert r.status_code == 302 and "evil" not in r["Location"]


# ---- the demo ------------------------------------------------------------------------------------------------


def test_the_demo_prints_a_recovery_code_that_passes_the_second_factor(cast, tmp_path):
    from yigongti.cli import _print_logins
    from yigongti.orgs.auth_otp import enrol_demo_logins

    logins = [{"role": "卫健局", "username": "bureau", "password": PASSWORD, "where": "蓝山县"},
              {"role": "乡村医生", "username": "village_doctor", "password": PASSWORD, "where": "大塘村"}]
    enrol_demo_logins(logins)
    assert len(logins[0]["recovery_codes"]) == 10 and len(logins[0]["totp_secret"]) == 32
    assert "recovery_codes" not in logins[1]
    path = tmp_path / "demo-logins.tsv"
    _print_logins(logins, str(path))
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
    assert rows[0] == ["role", "username", "password", "where", "totp_secret", "recovery_codes"]
    assert (path.stat().st_mode & 0o777) == 0o600
    code = rows[1][5].split()[3]
    c = Client()
    _post_login(c, "bureau", PASSWORD, "10.1.1.8")
    assert c.post("/account/two-factor/", {"otp_token": code, "next": "/residents/"})["Location"] == "/residents/"
    assert c.get("/residents/").status_code == 200
    # and the printed TOTP secret is the device's
    device = TOTPDevice.objects.get(user=cast.bureau)
    import base64

    assert base64.b32decode(rows[1][4]) == device.bin_key


def test_a_doctor_who_enrols_of_their_own_accord_is_held_to_it(cast, login):
    TOTPDevice.objects.create(user=cast.township_doctor, name="app", confirmed=True)
    c = Client()
    _post_login(c, "township_doctor", PASSWORD, "10.1.1.9")
    r = c.get("/residents/")
    assert r.status_code == 302 and r["Location"].startswith("/account/two-factor/")
