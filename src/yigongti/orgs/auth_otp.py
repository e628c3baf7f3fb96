"""Two-factor login (TOTP with django-otp) for privileged accounts, and what pages and the API ask of it.

Who needs it: the bureau, the city, community managers, facility administrators, auditors, superusers, and
every account that may unmask personal data. After the password such an account is signed in but not verified;
``RequireTwoFactorMiddleware`` then lets it reach only the verification (or, without a device yet, the
enrolment) page, logout and language switch. The API does not accept such a half-signed-in session (401), but
personal access tokens are unaffected: a token is its own second factor for a system.

A device is a TOTP authenticator app (enrolled by scanning a QR code rendered here as SVG) plus ten one-use
recovery codes (django-otp's static device). django-otp throttles wrong codes per device with exponential
back-off.
"""

from __future__ import annotations

import time

import segno
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Role

PRIVILEGED_ROLES = frozenset({Role.BUREAU, Role.CITY, Role.COMMUNITY_MANAGER, Role.FACILITY_ADMIN, Role.AUDITOR})
RECOVERY_CODES = 10
_NEED_KEY = "_ygt_2fa_needed"  # (user pk, needed, checked at) cached in the session
_RECHECK_SECONDS = 300


def needs_two_factor(user) -> bool:
    """Must this account pass a second factor after its password?"""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.role in PRIVILEGED_ROLES:
        return True
    return user.has_perm("orgs.unmask_personal_data")


def _needs_two_factor_cached(request) -> bool:
    # The privilege lookup costs two queries; a privilege granted mid-session takes effect within 5 minutes.
    user = request.user
    cached = request.session.get(_NEED_KEY)
    now = time.time()
    if cached and cached[0] == user.pk and now - cached[2] < _RECHECK_SECONDS:
        return bool(cached[1])
    # Anyone who enrolled an authenticator of their own accord is held to it too.
    needed = needs_two_factor(user) or TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    request.session[_NEED_KEY] = [user.pk, needed, now]
    return needed


def is_verified(user) -> bool:
    return bool(getattr(user, "is_verified", lambda: False)())


def totp_device(user, confirmed: bool | None = True) -> TOTPDevice | None:
    qs = TOTPDevice.objects.filter(user=user)
    if confirmed is not None:
        qs = qs.filter(confirmed=confirmed)
    return qs.order_by("-id").first()


def has_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists() or \
        StaticDevice.objects.filter(user=user, confirmed=True, token_set__isnull=False).exists()


def pending_totp_device(user) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled (a fresh secret until the first code confirms it)."""
    device = totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code (rendered here: no image service, no CDN)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def secret_base32(device: TOTPDevice) -> str:
    import base64

    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def new_recovery_codes(user) -> list[str]:
    """Replace the account's recovery codes with ten new ones; returns them (shown once, stored as given)."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def confirm_enrolment(request, device: TOTPDevice, code: str) -> tuple[list[str] | None, str]:
    """Check the first code from the app; on success confirm the device, verify this session and return the new
    recovery codes. Returns (codes, "") or (None, error message)."""
    from yigongti.core import audit

    allowed, _info = device.verify_is_allowed()
    if not allowed:
        return None, _("验证码错误次数过多，请稍后再试")
    if not device.verify_token(_digits(code)):
        audit.record(request, "otp_enrol_failed", "account", request.user.pk)
        return None, _("验证码错误，请确认手机时间准确后重试")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = new_recovery_codes(device.user)
    otp_login(request, device)
    audit.record(request, "otp_enrol", "account", request.user.pk)
    return codes, ""


def _digits(code: str) -> str:
    return "".join(c for c in (code or "") if c.isdigit())


def verify_code(request, code: str):
    """Verify a code from the authenticator (six digits) or a recovery code; on success mark the session
    verified. Returns (device, error message)."""
    from yigongti.core import audit

    user = request.user
    code = (code or "").strip().replace(" ", "").replace("-", "").lower()
    if code.isdigit():
        device = totp_device(user)
        kind = "totp"
    else:
        device = StaticDevice.objects.filter(user=user, confirmed=True).first()
        kind = "recovery"
    if device is None or not code:
        return None, _("验证码错误")
    allowed, _info = device.verify_is_allowed()
    if not allowed:
        audit.record(request, "otp_failed", "account", user.pk, kind=kind, throttled=True)
        return None, _("验证码错误次数过多，请稍后再试")
    with transaction.atomic():
        device = type(device).objects.select_for_update().get(pk=device.pk)
        ok = device.verify_token(code)
    if not ok:
        audit.record(request, "otp_failed", "account", user.pk, kind=kind)
        return None, _("验证码错误")
    otp_login(request, device)
    audit.record(request, "otp_verified", "account", user.pk, kind=kind)
    return device, ""


def _exempt(path: str) -> bool:
    prefixes = [reverse("login"), reverse("logout"), reverse("account:two_factor"), reverse("account:two_factor_setup"),
                "/i18n/", settings.STATIC_URL]
    return any(path.startswith(p) for p in prefixes)


class RequireTwoFactorMiddleware:
    """A privileged account signed in with its password only reaches the second-factor pages (see module doc).

    Sits after django-otp's OTPMiddleware (which sets ``request.user.is_verified()``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or _exempt(request.path):
            return self.get_response(request)
        if DEVICE_ID_SESSION_KEY in request.session and is_verified(user):
            return self.get_response(request)
        if not _needs_two_factor_cached(request):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            if "HTTP_AUTHORIZATION" in request.META or "HTTP_X_API_TOKEN" in request.META:
                request.user = AnonymousUser()  # the token alone decides
                return self.get_response(request)
            return JsonResponse({"type": "/api/v1/problems/two_factor_required", "title": _("需要先完成二次验证"),
                                 "status": 401, "code": "two_factor_required"}, status=401,
                                content_type="application/problem+json")
        target = "account:two_factor" if has_device(user) else "account:two_factor_setup"
        if request.headers.get("HX-Request"):  # an HTMX fragment: send the whole page there, not into the fragment
            response = HttpResponse(status=204)
            response["HX-Redirect"] = reverse(target)
            return response
        query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
        return redirect(reverse(target) + (f"?{query}" if query else ""))


def enrol_demo_logins(logins: list[dict]) -> None:
    """The demo: accounts that need two-factor login get an authenticator secret and recovery codes already,
    added to their rows of the printed logins (``totp_secret``, ``recovery_codes``), so that the demo can be used
    without a phone (a recovery code) or with one (add the secret to any authenticator app). Real accounts enrol
    themselves on the enrolment page."""
    from .models import User

    users = {u.username: u for u in User.objects.filter(username__in=[row["username"] for row in logins])}
    for row in logins:
        user = users.get(row["username"])
        if user is None or not needs_two_factor(user):
            continue
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name="demo authenticator", confirmed=True)
        row["totp_secret"] = secret_base32(device).replace(" ", "")
        row["recovery_codes"] = new_recovery_codes(user)
