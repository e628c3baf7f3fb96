"""The resident's own session (居民端): not a staff account.

A resident who passed the phone + one-time-code login is kept in the session under ``SESSION_KEY`` (the
resident's id and when they logged in), beside — never instead of — Django's staff authentication: no ``User`` is
created, no role is added to ``orgs.Role``, and nothing a staff permission, scope or menu decides applies to it.
``resident_required`` is the door of every resident page: it loads the principal or sends the browser to the
login page; every read and write of the resident pages goes through the principal, which sees only its own
resident's rows.

The principal's ``actor`` (for ``core.audit``) is the anonymous actor with role "resident" and the resident's id
in every event's detail: an anonymous actor is refused by every staff verb and read category
(``orgs.permissions.check``), so a resident's actor handed by mistake to a staff service is refused, never taken
for the system."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import wraps

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from yigongti.core.actor import Actor, client_ip
from yigongti.residents.models import Resident

SESSION_KEY = "ihospital_resident"
MAX_AGE_SECONDS = 8 * 3600  # a resident session ends after eight hours whatever its activity


@dataclass(frozen=True)
class ResidentPrincipal:
    resident: Resident
    actor: Actor

    @property
    def resident_id(self) -> int:
        return int(self.resident.pk)


def resident_actor(request) -> Actor:
    return Actor(None, None, "anonymous", "resident", None, client_ip(request),
                 request.META.get("HTTP_USER_AGENT", "")[:300])


def log_in(request, resident: Resident) -> None:
    request.session.cycle_key()  # no session fixation
    request.session[SESSION_KEY] = {"id": resident.pk, "at": int(time.time())}


def log_out(request) -> None:
    request.session.pop(SESSION_KEY, None)


def principal_of(request) -> ResidentPrincipal | None:
    held = request.session.get(SESSION_KEY)
    if not isinstance(held, dict) or not isinstance(held.get("id"), int):
        return None
    if time.time() - float(held.get("at", 0)) > MAX_AGE_SECONDS:
        log_out(request)
        return None
    resident = (Resident.objects.filter(pk=held["id"], merged_into__isnull=True)
                .select_related("village__parent").first())
    if resident is None:
        log_out(request)
        return None
    return ResidentPrincipal(resident, resident_actor(request))


def resident_required(view):
    """The resident pages' door: the principal as ``request.resident``, or the login page; never cached."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        p = principal_of(request)
        if p is None:
            return redirect(f"{reverse('ihospital:login')}?next={request.path}")
        request.resident = p
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        response["Cache-Control"] += ", private, no-store"
        return response

    return wrapper
