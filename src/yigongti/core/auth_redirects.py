"""Where to go after a form: only to our own site, never to an address a link or a form field names."""

from __future__ import annotations

from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, fallback: str = "home") -> str:
    """The ``next`` of the POST or query string if it stays on this host (and scheme, over TLS), else ``fallback``
    (a URL name or path)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return target
    return resolve_url(fallback)
