"""Helpers for page views: turn domain errors into messages and 403/404 pages."""

from __future__ import annotations

from functools import wraps

from django.http import HttpResponse
from django.shortcuts import render

from .errors import DomainError


def domain_errors_as_pages(view):
    """A NotFound/Forbidden raised by a query or service becomes a Chinese error page; so does bad input
    that reached no form (a hand-edited ``?period=``), as 400."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as e:
            if e.status in (403, 404, 429):  # 429: a lookup past its rate limit (core.ratelimit)
                resp = render(request, "error.html", {"status": e.status, "message": e.message}, status=e.status)
                if getattr(e, "retry_after", None):
                    resp["Retry-After"] = str(e.retry_after)
                return resp
            if e.status == 422:
                return render(request, "error.html", {"status": 400, "message": e.message}, status=400)
            raise

    return wrapper


def paginate_params(request) -> int:
    try:
        return max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        return 1


def hx_or_full(request, full: str, partial: str, context: dict) -> HttpResponse:
    """The HTMX shape: the whole page, or only the fragment that changed."""
    return render(request, partial if request.htmx and not request.htmx.boosted else full, context)
