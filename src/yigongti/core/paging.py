"""One way to page: ``slice_page`` fetches size+1 rows (no count of a county's table), ``page_dict`` is the
API's output of a page, ``page_field``/``size_field`` are the bounded query parameters. Page numbers are
capped at MAX_PAGE so that an OFFSET never overflows the database's integers."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from ninja import Field

# 10 000 pages of the largest page size is two million rows: past that, search instead of paging.
MAX_PAGE = 10_000


@dataclass
class Page:
    """A page of rows fetched as size+1 to know whether another follows, without counting
    a whole county's table on every request; ``count`` is filled where it is cheap."""

    items: list
    number: int
    size: int
    has_next: bool
    count: int | None

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def clamp_page(page) -> int:
    try:
        n = int(page or 1)
    except (TypeError, ValueError):
        return 1
    return min(max(n, 1), MAX_PAGE)


def slice_page(qs, page: int, size: int, count: int | None = None) -> Page:
    page = clamp_page(page)
    size = min(max(int(size or 1), 1), max(settings.YIGONGTI_MAX_PAGE_SIZE, 500))
    rows = list(qs[(page - 1) * size: page * size + 1])
    return Page(rows[:size], page, size, len(rows) > size, count)


def page_dict(page: Page, count: int | bool | None = True) -> dict:
    """The API's shape of a page: {items, page, page_size, has_next, count}; ``count=False`` leaves it null."""
    return {"items": page.items, "page": page.number, "page_size": page.size, "has_next": page.has_next,
            "count": page.count if count is True else None}


def page_field():
    return Field(1, ge=1, le=MAX_PAGE, description=f"页码（1–{MAX_PAGE}）")


def size_field():
    return Field(settings.YIGONGTI_PAGE_SIZE, ge=1, le=settings.YIGONGTI_MAX_PAGE_SIZE,
                 description=f"每页条数（1–{settings.YIGONGTI_MAX_PAGE_SIZE}）")


def page_links(number: int, total: int, around: int = 2) -> list[int | None]:
    """Page numbers to show: the first, the last and a window around the current one (None for "…")."""
    shown = sorted({1, total, *range(max(1, number - around), min(total, number + around) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


def pager_context(page: Page, keep: dict) -> dict:
    """What the shared ``_pager.html`` needs: page numbers, a jump box, and the filter to carry along. A list
    whose filter is in the query string need not call this (the template takes it from the request); a list
    searched by POST passes ``keep`` itself (never an ID number: it would land in URLs and access logs)."""
    from urllib.parse import urlencode

    known = -(-page.count // page.size) if page.count is not None else None
    total = known if known is not None else page.number + (1 if page.has_next else 0)
    total = max(total, page.number, 1)
    keep = {k: v for k, v in keep.items() if k not in ("page", "jump") and v not in ("", None)}
    return {"pager_query": urlencode(keep), "pager_params": list(keep.items()), "page_total": total,
            "page_total_known": known is not None, "page_links": page_links(page.number, total)}
