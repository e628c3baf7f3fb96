"""Failed-login throttling per account, per client address and per (account, address), on django-axes' records.

django-axes alone locks one key (here it was username + address): an attacker who sprays a few guesses at many
accounts, or guesses at one account from many addresses, was never stopped. This handler keeps axes' storage (one
``AccessAttempt`` row per username, address and user agent with its failure count) and counts three ways over the
cool-off window, each with its own limit:

* one account from one client address: ``YIGONGTI_LOGIN_FAILURE_LIMIT`` (5) — someone mistyping;
* one account from all addresses:       ``YIGONGTI_LOGIN_ACCOUNT_LIMIT`` (10) — a distributed guess at one account;
* one client address for all accounts:  ``YIGONGTI_LOGIN_CLIENT_LIMIT`` (30) — a password spray.

The lock is temporary: it lifts ``YIGONGTI_LOGIN_COOLOFF_MINUTES`` (15) after the last counted failure, and
failures while locked are not counted, so a lock cannot be stretched by hammering it.

The trade-off: a per-account lock lets anyone lock a real user out by guessing at their account. So a browser that
has logged in to an account before carries a signed *known-device* cookie for it (OWASP's "device cookie"), and
the account-wide and address-wide locks do not apply to that account from that browser; only the per-(account,
address) limit does. The attacker does not get that cookie without the password. A new browser of the real user
waits for the cool-off like the attacker. The address-wide limit is higher than the others because a hospital
behind one NAT address shares it; configure ``YIGONGTI_TRUSTED_PROXIES`` so that the address is the client's, not
the proxy's (``core.actor.client_ip``, which is also axes' ``AXES_CLIENT_IP_CALLABLE``).
"""

from __future__ import annotations

import hashlib

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.core import signing
from django.db.models import Q, Sum

DEVICE_COOKIE = "ygt_known_device"
_DEVICE_SALT = "yigongti.orgs.auth_throttle.known-device"
_DEVICE_MAX_AGE = 180 * 24 * 3600
_DEVICE_MAX_ACCOUNTS = 5


def _tag(username: str) -> str:
    return hashlib.sha256(username.encode()).hexdigest()[:16]


def _device_tags(request) -> list[str]:
    try:
        value = request.get_signed_cookie(DEVICE_COOKIE, default="", salt=_DEVICE_SALT, max_age=_DEVICE_MAX_AGE)
    except (signing.BadSignature, KeyError):  # pragma: no cover - get_signed_cookie returns default instead
        return []
    return [t for t in (value or "").split(",") if t]


def is_known_device(request, username: str | None) -> bool:
    """Has this browser logged in to ``username`` before (a valid signed cookie says so)?"""
    if not username or request is None:
        return False
    return _tag(username) in _device_tags(request)


def remember_device(response, request, username: str) -> None:
    """After a successful login: mark this browser as known for ``username`` (keeps the last few accounts)."""
    tags = [t for t in _device_tags(request) if t != _tag(username)]
    tags = [_tag(username), *tags][:_DEVICE_MAX_ACCOUNTS]
    response.set_signed_cookie(DEVICE_COOKIE, ",".join(tags), salt=_DEVICE_SALT, max_age=_DEVICE_MAX_AGE,
                               httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)


def failure_counts(request, credentials: dict | None) -> dict[str, int]:
    """Failures within the cool-off window: for the (account, address) pair, the account, the address."""
    username = get_client_username(request, credentials)
    ip = getattr(request, "axes_ip_address", None)
    recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
    pair = Q(username=username, ip_address=ip)
    account = Q(username=username)
    client = Q(ip_address=ip)
    if not username:  # no account named: only the address counts
        pair = account = Q(pk__in=[])
    found = recent.filter(account | client).aggregate(
        pair=Sum("failures_since_start", filter=pair), account=Sum("failures_since_start", filter=account),
        client=Sum("failures_since_start", filter=client))
    return {k: v or 0 for k, v in found.items()}


def limits() -> dict[str, int]:
    return {"pair": settings.AXES_FAILURE_LIMIT, "account": settings.YIGONGTI_LOGIN_ACCOUNT_LIMIT,
            "client": settings.YIGONGTI_LOGIN_CLIENT_LIMIT}


def locked_by(request, credentials: dict | None) -> str | None:
    """Which limit is reached for this attempt ("pair", "account", "client"), or None."""
    counts = failure_counts(request, credentials)
    lim = limits()
    if counts["pair"] >= lim["pair"]:
        return "pair"
    if is_known_device(request, get_client_username(request, credentials)):
        return None
    if counts["client"] >= lim["client"]:
        return "client"
    if counts["account"] >= lim["account"]:
        return "account"
    return None


class AccountAndClientHandler(AxesDatabaseHandler):
    """axes' database handler with three separate limits (see the module docstring)."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        # What axes compares with AXES_FAILURE_LIMIT itself: the (account, address) pair.
        return failure_counts(request, credentials)["pair"]

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        # axes.conf fills in this default (True) at import; our settings module leaves it unset
        if not getattr(settings, "AXES_LOCK_OUT_AT_FAILURE", True):
            return False
        return locked_by(request, credentials) is not None

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        was_locked = bool(getattr(request, "axes_locked_out", False))
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None or was_locked:
            return
        reason = locked_by(request, credentials)
        if reason is None:
            return
        username = get_client_username(request, credentials)
        if not getattr(request, "axes_locked_out", False):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)
        from yigongti.core import audit

        audit.record(request, "login_locked", "account", "", username=str(username or "")[:150], limit=reason)

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """A successful login clears that account's failures only, never the address's failures at other
        accounts (else one valid account would reset a spray's count)."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count
