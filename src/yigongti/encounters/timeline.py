"""What other apps add to a resident's timeline: a registry the higher apps fill at start-up (encounters must
not import them). Each registers a function returning the resident's entries it may show this reader —
dicts with ``when``, ``title``, ``facility``, ``text``, ``url`` and optionally ``critical`` — reading through its
own scoped, audited queries:

    from yigongti.encounters import timeline
    timeline.register("telemedicine", _("检查检验报告"), timeline_entries)
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger("yigongti.encounters")

SECTIONS: dict[str, tuple[object, Callable]] = {}


def register(key: str, title, entries: Callable) -> None:
    SECTIONS[key] = (title, entries)


def sections_for(actor, resident) -> list[tuple[str, str, list[dict]]]:
    out = []
    for key, (title, fn) in sorted(SECTIONS.items()):
        try:
            out.append((key, str(title), list(fn(actor, resident))))
        except Exception:  # one app's section must not take the timeline down
            log.exception("timeline section %s failed", key)
    return out
