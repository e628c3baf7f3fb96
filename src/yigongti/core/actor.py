"""The one typed Actor that every service takes, keyword-only: who acts, in which role, at which facility, from where.

Pages and endpoints build it with ``Actor.from_request(request)``; the CLI, the worker and the demo with
``Actor.system("cli")``. Services read ``actor.user`` for permission and scope checks (``None`` for the
system, which is trusted) and hand the actor itself to ``core.audit.record``.

The client address is believed from ``X-Forwarded-For`` only when the direct peer is one of the configured
trusted proxies (``YIGONGTI_TRUSTED_PROXIES``), and then the right-most untrusted hop is taken, so a client
cannot write any address it likes into the audit log.
"""

from __future__ import annotations

import contextlib
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings


def _networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    nets = []
    for item in getattr(settings, "YIGONGTI_TRUSTED_PROXIES", []):
        try:
            nets.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            continue
    return nets


def _trusted(addr: str, nets) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in n for n in nets)


def client_ip(request) -> str:
    """The client's address: the peer, or through trusted proxies the first hop they did not add."""
    meta = request.META
    peer = meta.get("REMOTE_ADDR", "") or ""
    nets = _networks()
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if not forwarded or not _trusted(peer, nets):
        return peer
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, nets):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
    return hops[0] if hops else peer


@dataclass(frozen=True)
class Actor:
    """Who did it and from where. ``user`` is the account (``orgs.User``), or ``None`` for the system."""

    user: Any = field(default=None, compare=False, repr=False)
    user_id: int | None = None
    username: str = "system"
    role: str = ""
    facility_id: int | None = None
    ip: str = ""
    user_agent: str = ""

    @classmethod
    def from_request(cls, request) -> Actor:
        cached = getattr(request, "_yigongti_actor", None)
        if cached is not None and cached.user is getattr(request, "user", None):
            return cached
        actor = cls.from_user(getattr(request, "user", None), ip=client_ip(request),
                              user_agent=request.META.get("HTTP_USER_AGENT", "")[:300])
        with contextlib.suppress(AttributeError):  # exotic request objects
            request._yigongti_actor = actor
        return actor

    @classmethod
    def from_user(cls, user, *, ip: str = "", user_agent: str = "") -> Actor:
        if user is None or not getattr(user, "is_authenticated", False):
            return cls(ip=ip, user_agent=user_agent, username="anonymous")
        return cls(user, user.pk, user.get_username(), getattr(user, "role", ""), getattr(user, "facility_id", None),
                   ip, user_agent)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """The CLI, the worker or the demo generator: trusted, no account."""
        return cls(None, None, name)

    @property
    def is_system(self) -> bool:
        return self.user is None and self.username not in ("anonymous",)


def actor_of(who) -> Actor:
    """An Actor from an Actor, a request or a user (for adapters that have one of those)."""
    if isinstance(who, Actor):
        return who
    if hasattr(who, "META"):
        return Actor.from_request(who)
    return Actor.from_user(who)
