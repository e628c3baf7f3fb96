"""What other apps show on a resident's page: a registry the higher apps fill at start-up.

The resident index sits below encounters and referrals and must not import them. Each app registers a
function that returns its rows for one resident, reading through its own scoped queries and writing its own
audit event, or ``None`` when the reader's role may not read that category (the panel is then not shown):

    from yigongti.residents import panels
    panels.register("referrals", _("未结转诊"), order=10, rows=open_referrals_panel)
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("yigongti.residents")


@dataclass(frozen=True)
class Row:
    when: dt.date | dt.datetime | None
    text: str
    url: str = ""
    badge: str = ""  # a short status ("待接收", "已逾期")
    alert: bool = False  # shown in red (an overdue follow-up)


@dataclass
class Shown:
    key: str
    title: str
    rows: list[Row] = field(default_factory=list)
    more_url: str = ""


RowsFn = Callable[..., "tuple[list[Row], str] | None"]


@dataclass(frozen=True)
class Panel:
    key: str
    title: object  # usually a lazy translation
    order: int
    rows: RowsFn  # (actor, resident) → (rows, "more" url) or None when the role may not read it


PANELS: dict[str, Panel] = {}


def register(key: str, title, *, order: int, rows: RowsFn) -> None:
    """Add (or replace, under the same key) a panel of the resident page."""
    PANELS[key] = Panel(key, title, order, rows)


def panels_for(actor, resident) -> list[Shown]:
    """The panels this reader may see for this resident, in order; each read is audited by its app."""
    out = []
    for p in sorted(PANELS.values(), key=lambda p: (p.order, p.key)):
        got = p.rows(actor, resident)
        if got is None:
            continue
        rows, more = got
        out.append(Shown(p.key, str(p.title), list(rows), more))
    return out
