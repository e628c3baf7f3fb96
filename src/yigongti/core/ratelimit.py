"""Rate limits for the lookups that answer a guess, and alerts when someone keeps guessing.

A registration search, the candidates API, the duplicate-ID check of 建档 and an unmask each tell the caller
something about a person he may not otherwise see: with enough tries they are oracles (7,600 guessed phones
recovered one in 74 s in the probe). ``hit(actor, bucket)`` counts a lookup per account and per client
address in fixed windows of Django's cache and refuses with ``RateLimited`` (429, a Chinese message) past the
limit; the refusal is a ``denied`` audit event.

Alerts go to the inbox of the auditors (the security officer's role): once per window when an account's
lookups reach ``ALERT_LOOKUPS`` and once per window when an account's (or, for anonymous callers, an
address's) denied accesses reach ``ALERT_DENIALS``. ``note_denial`` is called for every ``denied`` audit
event (``core.signals``), so refusals anywhere in the platform count; it costs one cache increment.

Limits are settings (``YIGONGTI_RATE_LIMITS``, ``YIGONGTI_ALERT_LOOKUPS``, ``YIGONGTI_ALERT_DENIALS``) so that
a county can tune them; the defaults allow a busy registration desk (a patient a minute, two or three
searches each) and stop an enumeration within minutes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.utils.translation import gettext as _

from .actor import Actor
from .errors import DomainError

log = logging.getLogger("yigongti.ratelimit")

# bucket → ((per-account limit, per-address limit), window seconds)
DEFAULT_LIMITS: dict[str, tuple[tuple[int, int], int]] = {
    "person_lookup": ((60, 240), 600),  # registration search, candidates API, ID duplicate check
    "unmask": ((30, 120), 3600),
}
DEFAULT_ALERT_LOOKUPS = (30, 600)  # lookups by one account within the window
DEFAULT_ALERT_DENIALS = (20, 600)  # denied accesses by one account (or address) within the window


class RateLimited(DomainError):
    status = 429

    def __init__(self, retry_after: int):
        minutes = max(1, (retry_after + 59) // 60)
        super().__init__("rate_limited",
                         _("查询过于频繁，请 %(minutes)s 分钟后再试（本次已记入审计）") % {"minutes": minutes})
        self.retry_after = retry_after


@dataclass(frozen=True)
class Hit:
    user_count: int
    ip_count: int


def _limits(bucket: str) -> tuple[tuple[int, int], int]:
    configured = getattr(settings, "YIGONGTI_RATE_LIMITS", {}) or {}
    return configured.get(bucket) or DEFAULT_LIMITS[bucket]


def _incr(key: str, window: int) -> int:
    if cache.add(key, 1, window + 5):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, window + 5)
        return 1


def _incr_all(counters: list[tuple[str, int]]) -> list[int]:
    """``_incr`` of each (key, window) counter; on a single Redis one round trip (MULTI: SET NX with the expiry,
    INCR, per counter) instead of three commands per counter — an ID search counts three."""
    backend = caches["default"]  # ``cache`` is a proxy of it
    client = getattr(backend, "_cache", None) if isinstance(backend, RedisCache) else None
    if client is not None and len(getattr(client, "_servers", ())) == 1:
        keys = [backend.make_and_validate_key(key) for key, _w in counters]
        pipe = client.get_client(keys[0], write=True).pipeline(transaction=True)
        for key, (_k, window) in zip(keys, counters, strict=True):
            pipe.set(key, 0, ex=window + 5, nx=True)
            pipe.incr(key)
        return [int(n) for n in pipe.execute()[1::2]]
    return [_incr(key, window) for key, window in counters]


def _window(window: int, now: float | None = None) -> tuple[int, int]:
    now = time.time() if now is None else now
    start = int(now // window) * window
    return start, int(start + window - now)


def _who(actor: Actor) -> str:
    return f"u{actor.user_id}" if actor.user_id is not None else f"ip{actor.ip}"


def hit(actor: Actor, bucket: str) -> Hit:
    """Count one lookup; raise RateLimited (and audit the refusal) past the account's or the address's limit.

    The system actor (CLI, worker) is not limited. Alerts the auditors when the account reaches the burst
    threshold."""
    if actor.is_system:
        return Hit(0, 0)
    (per_user, per_ip), window = _limits(bucket)
    start, remaining = _window(window)
    alert_threshold, alert_window = getattr(settings, "YIGONGTI_ALERT_LOOKUPS", DEFAULT_ALERT_LOOKUPS)
    alert_start, _ = _window(alert_window)
    counters = [(f"rl:{bucket}:{_who(actor)}:{start}", window)]
    if actor.ip:
        counters.append((f"rl:{bucket}:ip{actor.ip}:{start}", window))
    counters.append((f"al:lookups:{_who(actor)}:{alert_start}", alert_window))
    counts = _incr_all(counters)
    user_count, ip_count = counts[0], (counts[1] if actor.ip else 0)
    _maybe_alert_lookups(actor, counts[-1], alert_threshold, alert_window, alert_start)
    if user_count > per_user or (actor.ip and ip_count > per_ip):
        from . import audit

        audit.record(actor, "denied", "ratelimit", bucket, attempted=f"ratelimit:{bucket}",
                     count=user_count, client_count=ip_count, window=window)
        raise RateLimited(remaining)
    return Hit(user_count, ip_count)


def _area_of(user) -> str:
    """The region code where an account works (its facility's, else its own region's); "" if unknown."""
    if user is None:
        return ""
    facility = getattr(user, "facility", None) if getattr(user, "facility_id", None) else None
    if facility is not None:
        return facility.region.code
    region = getattr(user, "region", None) if getattr(user, "region_id", None) else None
    return region.code if region is not None else ""


def _auditors(user=None) -> list:
    """The auditors whose region covers where the account works; every auditor when none does (or the caller
    is anonymous), so that an alert always reaches someone."""
    from django.contrib.auth import get_user_model

    everyone = list(get_user_model().objects.filter(role="auditor", is_active=True).select_related("region"))
    area = _area_of(user)
    local = [a for a in everyone if area and a.region is not None and area.startswith(a.region.prefix)]
    return local or everyone


def _alert(key: str, window: int, title: str, body: str, user=None, user_id: int | None = None) -> None:
    if not cache.add(key, 1, window + 5):  # once per window
        return
    from .notify import notify

    if user is None and user_id is not None:
        user = _account(user_id)
    try:
        notify(_auditors(user), "security_alert", title, body, url="/audit/", urgent=True,
               public_title="安全提醒：平台检测到异常访问，请登录审计页面查看")
    except Exception:  # an alert must never break the request that triggered it
        log.exception("security alert failed")


def _maybe_alert_lookups(actor: Actor, count: int, threshold: int, window: int, start: int) -> None:
    if count >= threshold:
        _alert(f"al:lookups:sent:{_who(actor)}:{start}", window,
               f"检索频繁：{actor.username} 在 {window // 60} 分钟内查询居民 {count} 次",
               f"账号 {actor.username}（角色 {actor.role or '—'}，地址 {actor.ip or '—'}）"
               f"短时间内大量检索或核对居民身份，可能在猜测身份证号或电话。请在审计日志中核查。", actor.user)


def note_denial(actor_id: int | None, username: str, role: str, ip: str) -> None:
    """Count one denied access (called after each ``denied`` audit event); alert the auditors on a burst.
    Only the alert itself (once a window) reads the account, to address the auditors of its region."""
    threshold, window = getattr(settings, "YIGONGTI_ALERT_DENIALS", DEFAULT_ALERT_DENIALS)
    who = f"u{actor_id}" if actor_id is not None else f"ip{ip}"
    start, _ = _window(window)
    count = _incr(f"al:denied:{who}:{start}", window)
    if count >= threshold:
        _alert(f"al:denied:sent:{who}:{start}", window,
               f"越权访问频繁：{username} 在 {window // 60} 分钟内被拒绝 {count} 次",
               f"账号 {username}（角色 {role or '—'}，地址 {ip or '—'}）短时间内多次访问无权查看的数据或功能。"
               f"请在审计日志中核查（操作：越权访问被拒）。", user_id=actor_id)


def _account(user_id: int | None):
    if user_id is None:
        return None
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user_id).select_related("facility__region", "region").first()
