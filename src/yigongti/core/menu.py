"""The side menu as a registry the apps fill at start-up (``AppConfig.ready``), so that ``core`` imports no app.

    from yigongti.core import menu
    menu.register(_("双向转诊"), "referrals:list", order=80, visible=lambda u: ...)

``core.context.navigation`` shows, in ``order``, the entries whose ``visible(user)`` is true.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


def always(user) -> bool:
    return True


@dataclass(frozen=True)
class Entry:
    label: str  # usually a lazy translation
    url_name: str
    order: int
    visible: Callable[[object], bool] = always


ENTRIES: dict[str, Entry] = {}


def register(label, url_name: str, *, order: int, visible: Callable[[object], bool] = always) -> None:
    """Add (or, registered again under the same URL name, replace) a menu entry."""
    ENTRIES[url_name] = Entry(label, url_name, order, visible)


def entries_for(user) -> list[tuple[str, str]]:
    """(label, url) of the entries this account may open, in menu order."""
    out = []
    for e in sorted(ENTRIES.values(), key=lambda e: (e.order, e.url_name)):
        if not e.visible(user):
            continue
        try:
            out.append((str(e.label), reverse(e.url_name)))
        except NoReverseMatch:  # an app registered an entry its URLconf does not mount
            continue
    return out
