"""Helpers for page views: turn domain errors into messages and 403/404 pages."""

from __future__ import annotations

import functools
from functools import wraps

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.safestring import mark_safe

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


@functools.lru_cache(maxsize=256)
def _options_html(choices: tuple[tuple[str, str], ...]) -> str:
    return "".join(f'<option value="{escape(v)}">{escape(label)}</option>' for v, label in choices)


def option_tags(choices, selected: str = "") -> str:
    """The ``<option>`` elements of a filter select, as the template loop wrote them (the chosen one
    ``selected``), rendered once per choice list (per process): a county's ~400 villages and facilities cost
    a third of a search page's CPU when the template loop rendered them on every request."""
    html = _options_html(tuple((str(v), str(label)) for v, label in choices))  # labels in the active language
    if selected:
        tag = f'<option value="{escape(selected)}">'
        html = html.replace(tag, f'{tag[:-1]} selected>', 1)
    return mark_safe(html)  # every value and label escaped above
