"""The maternal and child visit schedules as versioned data (``schedules/{maternal,child}_basic_ps_3rd.json``).

Each JSON file has an ``edition``, a ``source`` (the 规范 and its document number) and ``items``: one visit window
each, with ``start``/``end`` as inclusive day offsets from a ``basis``:

- ``lmp_days``: days since the first day of the last menstrual period (antenatal visits; week ``w`` starts on day
  ``7 * w``);
- ``delivery_days``: days since the delivery (postpartum visits);
- ``birth_days``: days since birth (children 0–6).

A new edition is a new JSON file and a change of ``MATERNAL``/``CHILD``; records keep the edition they were
checked against (``schedule_edition``). Pure: no database here (the due engine and the services read these)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import get_language

MATERNAL = "maternal_basic_ps_3rd.json"
CHILD = "child_basic_ps_3rd.json"
BASES = ("lmp_days", "delivery_days", "birth_days")
_DIR = Path(__file__).resolve().parent / "schedules"


@dataclass(frozen=True)
class Window:
    code: str
    label: str
    label_en: str
    start: int  # inclusive day offset from the basis
    end: int  # inclusive
    basis: str  # lmp_days | delivery_days | birth_days

    @property
    def name(self) -> str:
        """The label in the active language."""
        return self.label_en if (get_language() or "").startswith("en") else self.label

    def due_from(self, anchor: dt.date) -> dt.date:
        return anchor + dt.timedelta(days=self.start)

    def due_by(self, anchor: dt.date) -> dt.date:
        return anchor + dt.timedelta(days=self.end)

    def contains(self, anchor: dt.date, on: dt.date) -> bool:
        return self.start <= (on - anchor).days <= self.end


@dataclass(frozen=True)
class Schedule:
    edition: str
    source: str
    visits: list[Window]
    title: str = ""
    title_en: str = ""

    def window(self, code: str) -> Window | None:
        return next((w for w in self.visits if w.code == code), None)

    @property
    def codes(self) -> list[str]:
        return [w.code for w in self.visits]

    def by_basis(self, basis: str) -> list[Window]:
        return [w for w in self.visits if w.basis == basis]


def parse(data: dict) -> Schedule:
    """A schedule from its JSON data; a malformed file fails loudly (ValueError naming the item)."""
    for key in ("edition", "source", "items"):
        if key not in data:
            raise ValueError(f"schedule: missing {key!r}")
    visits = []
    seen: set[str] = set()
    for item in data["items"]:
        window = Window(code=str(item["code"]), label=item["label"], label_en=item.get("label_en", item["label"]),
                        start=int(item["start"]), end=int(item["end"]), basis=item["basis"])
        if window.basis not in BASES:
            raise ValueError(f"schedule {data['edition']}: {window.code}: unknown basis {window.basis!r}")
        if window.start < 0 or window.end < window.start:
            raise ValueError(f"schedule {data['edition']}: {window.code}: bad window {window.start}..{window.end}")
        if window.code in seen:
            raise ValueError(f"schedule {data['edition']}: {window.code} twice")
        seen.add(window.code)
        visits.append(window)
    return Schedule(edition=data["edition"], source=data["source"], visits=visits, title=data.get("title", ""),
                    title_en=data.get("title_en", ""))


@cache
def load(filename: str) -> Schedule:
    with open(_DIR / filename, encoding="utf-8") as f:
        return parse(json.load(f))


def maternal() -> Schedule:
    """The maternal schedule in force (建册 before 13 weeks, four antenatal visits, postpartum and 42-day)."""
    return load(MATERNAL)


def child() -> Schedule:
    """The children 0–6 schedule in force (newborn, 满月, 3 … 36 months, then yearly to 6)."""
    return load(CHILD)


LAST_GRACE_DAYS = 30  # the last visit of a basis stays overdue this long after its window (then: missed)


def overdue_until(schedule: Schedule, window: Window) -> int:
    """The last day offset on which a visit not done is *overdue*; afterwards it is *missed* (the next visit of the
    same basis has opened, so that visit is what to do). The last visit of a basis: ``LAST_GRACE_DAYS``."""
    same = schedule.by_basis(window.basis)
    later = [w.start for w in same if w.start > window.start]
    return min(later) - 1 if later else window.end + LAST_GRACE_DAYS


@dataclass(frozen=True)
class PlanItem:
    window: Window
    status: str  # done | due | overdue | missed | upcoming | waiting (anchor unknown, e.g. not delivered yet)
    due_from: dt.date | None
    due_by: dt.date | None
    done_on: dt.date | None = None
    timing: str = ""  # for done visits: ok | early | late (超窗)


def next_item(items: list[PlanItem]) -> PlanItem | None:
    """What to do next in a plan: the first visit due or overdue, else the first upcoming one."""
    return next((p for p in items if p.status in ("overdue", "due")), None) or next(
        (p for p in items if p.status == "upcoming"), None)


def overdue(items: list[PlanItem]) -> list[PlanItem]:
    return [p for p in items if p.status == "overdue"]


def plan(schedule: Schedule, anchors: dict[str, dt.date | None], on: dt.date,
         done: dict[str, dt.date]) -> list[PlanItem]:
    """Every visit of ``schedule`` with its status on ``on``. ``anchors`` maps a basis to its day zero (LMP,
    delivery, birth; None when not known yet); ``done`` maps visit codes to the day they were done."""
    out = []
    for w in schedule.visits:
        anchor = anchors.get(w.basis)
        if anchor is None:
            out.append(PlanItem(w, "done" if w.code in done else "waiting", None, None, done.get(w.code)))
            continue
        start, end = w.due_from(anchor), w.due_by(anchor)
        if w.code in done:
            offset = (done[w.code] - anchor).days
            timing = "early" if offset < w.start else "late" if offset > w.end else "ok"
            out.append(PlanItem(w, "done", start, end, done[w.code], timing))
            continue
        age = (on - anchor).days
        status = ("upcoming" if age < w.start else "due" if age <= w.end else
                  "overdue" if age <= overdue_until(schedule, w) else "missed")
        out.append(PlanItem(w, status, start, end))
    return out
