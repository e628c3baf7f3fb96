"""``{% pager_state as p %}``: the page numbers and jump box of the shared ``_pager.html`` for any list that
puts a ``Page`` in the context as ``page``; the filter to keep comes from the view (``pager_context``) or, by
default, from the request's query string."""

from __future__ import annotations

from django import template

from yigongti.core.paging import pager_context

register = template.Library()


@register.simple_tag(takes_context=True)
def pager_state(context) -> dict:
    page = context.get("page")
    if page is None:
        return {}
    if context.get("page_links") is not None:  # the view built it (a list searched by POST)
        return {k: context.get(k) for k in ("pager_query", "pager_params", "page_total", "page_links")} | {
            "page_total_known": page.count is not None}
    request = context.get("request")
    keep = dict(request.GET.items()) if request is not None else {}
    return pager_context(page, keep)
