"""The side menu as a registry the apps fill at start-up (``AppConfig.ready``), so that ``core`` imports no app.

    from yigongti.core import menu
    menu.register(_("双向转诊"), "referrals:list", order=80, visible=lambda u: ...)

``core.context.navigation`` shows, in ``order``, the entries whose ``visible(user)`` is true. An entry registered
with ``group=`` (a group an app declared with ``register_group``) folds into that group's drop-down, placed where
its first visible entry would be; a group with one visible entry shows as that entry alone. The administrative
pages (facilities, staff, imports, tokens, the audit log) are grouped this way so that a role's daily pages fit
on one line.
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
    group: str = ""


@dataclass(frozen=True)
class Item:
    """What the navbar draws: a link (``url``) or a drop-down group (``children``, links)."""

    label: str
    url: str = ""
    children: tuple[tuple[str, str], ...] = ()


ENTRIES: dict[str, Entry] = {}
GROUPS: dict[str, object] = {}  # key -> label (usually a lazy translation)


def register(label, url_name: str, *, order: int, visible: Callable[[object], bool] = always,
             group: str = "") -> None:
    """Add (or, registered again under the same URL name, replace) a menu entry."""
    ENTRIES[url_name] = Entry(label, url_name, order, visible, group)


def register_group(key: str, label) -> None:
    """Declare a drop-down group that entries may name with ``group=key``."""
    GROUPS[key] = label


def entries_for(user) -> list[tuple[str, str]]:
    """(label, url) of the entries this account may open, in menu order (groups ignored)."""
    return [(str(e.label), url) for e, url in _visible(user)]


def items_for(user) -> list[Item]:
    """The navbar of this account: links and groups in menu order (see the module's docstring)."""
    out: list[Item] = []
    grouped: dict[str, list[tuple[str, str]]] = {}
    for e, url in _visible(user):
        link = (str(e.label), url)
        if e.group and e.group in GROUPS:
            if e.group not in grouped:
                grouped[e.group] = []
                out.append(Item(label=e.group))  # a placeholder, filled below
            grouped[e.group].append(link)
        else:
            out.append(Item(label=link[0], url=link[1]))
    result = []
    for it in out:
        if it.url or it.label not in grouped:
            result.append(it)
            continue
        children = grouped[it.label]
        if len(children) == 1:
            result.append(Item(label=children[0][0], url=children[0][1]))
        else:
            result.append(Item(label=str(GROUPS[it.label]), children=tuple(children)))
    return result


def _visible(user) -> list[tuple[Entry, str]]:
    """The entries this account may open, with their URLs, in menu order."""
    out = []
    for e in sorted(ENTRIES.values(), key=lambda e: (e.order, e.url_name)):
        if not e.visible(user):
            continue
        try:
            out.append((e, reverse(e.url_name)))
        except NoReverseMatch:  # an app registered an entry its URLconf does not mount
            continue
    return out
