from __future__ import annotations

from dataclasses import dataclass


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


def slice_page(qs, page: int, size: int, count: int | None = None) -> Page:
    page = max(int(page or 1), 1)
    rows = list(qs[(page - 1) * size: page * size + 1])
    return Page(rows[:size], page, size, len(rows) > size, count)
