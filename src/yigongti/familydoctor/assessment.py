"""The monthly assessment of a family-doctor team (月考核), as pure functions over counts.

Four parts, each a rate in [0, 1] turned into points by its weight (``WEIGHTS``, data with its source):

- **fulfilment (履约)**: scheduled services of the team's contracts in force during the month, due by the month's
  end (since the start of each contract year), that were delivered by then ÷ those due;
- **timeliness (及时性)**: scheduled services due within the month delivered on or before their due date ÷ those
  due within the month;
- **chronic outcomes (慢病管理成效)**: of the hypertension and diabetes patients managed in the team's villages at
  the month's end, the share followed up on time (their last follow-up's next visit date not passed at the month's
  end; a patient enrolled in the last 14 days counts as on time) and the share controlled at their last follow-up
  within the past year (the glossary's 控制率: at target at the last follow-up ÷ managed), half the weight each;
- **118 sessions**: the weeks of the month (counted by their Mondays in the month) with at least one session of at
  least 8 hours ÷ the weeks of the month (capped at 1).

A part whose denominator is zero (no service due yet, no managed patient) is *not applicable*: the total is then
the weighted mean of the applicable parts, so a new team is neither rewarded nor punished for what it could not do
yet; a team with no applicable part gets no rank. Ties share a rank (1, 2, 2, 4)."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

EDITION = "2026"
SOURCE = ("县域家庭医生签约服务月考核（本地权重，可调整）：依据《关于推进家庭医生签约服务高质量发展的指导意见》"
          "（国卫基层发〔2022〕10号）“以签约居民服务数量、质量和健康结果为核心开展考核”与“118”服务模式"
          "（每周1天、不少于8小时）；权重为本县考核办法的取值，不是国家标准。")
SOURCE_EN = ("County monthly family-doctor assessment (local weights, adjustable), after the NHC's 2022 guidance on "
             "high-quality family-doctor contract services (Guo Wei Ji Ceng Fa [2022] No. 10: assess on the quantity "
             "and quality of services and on health outcomes) and the '118' mode (one day a week, at least 8 hours); "
             "the weights are a county choice, not a national standard.")
WEIGHTS: dict[str, Decimal] = {
    "fulfilment": Decimal(40),
    "timeliness": Decimal(20),
    "outcomes": Decimal(30),  # half on-time follow-up, half control
    "sessions": Decimal(10),
}
SESSION_HOURS = Decimal(8)
NEW_ENROLMENT_GRACE_DAYS = 14
PARTS = tuple(WEIGHTS)


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def parse_month(text: str | None, today: dt.date | None = None) -> dt.date:
    """``YYYY-MM`` → the month's first day; empty → last month (the month an assessment is about)."""
    if not text:
        first = (today or dt.date.today()).replace(day=1)
        return (first - dt.timedelta(days=1)).replace(day=1)
    year, mon = str(text).strip().split("-")[:2]
    return dt.date(int(year), int(mon), 1)


def mondays(month: dt.date) -> list[dt.date]:
    first, last = month_bounds(month)
    d = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    out = []
    while d <= last:
        out.append(d)
        d += dt.timedelta(days=7)
    return out


def session_hours(starts: dt.time, ends: dt.time) -> Decimal:
    minutes = (ends.hour * 60 + ends.minute) - (starts.hour * 60 + starts.minute)
    return (Decimal(max(0, minutes)) / 60).quantize(Decimal("0.1"), ROUND_HALF_UP)


def weeks_held(month: dt.date, sessions: Iterable[tuple[dt.date, Decimal]]) -> int:
    """Weeks of the month (each named by its Monday in the month) with a session of ≥ 8 hours."""
    monday_set = set(mondays(month))
    held = set()
    for day, hours in sessions:
        monday = day - dt.timedelta(days=day.weekday())
        if hours >= SESSION_HOURS and monday in monday_set:
            held.add(monday)
    return len(held)


@dataclass
class TeamCounts:
    due: int = 0  # scheduled services due by the month's end
    done: int = 0  # of those, delivered by the month's end
    due_in_month: int = 0
    on_time_in_month: int = 0
    managed: int = 0  # chronic patients managed at the month's end
    on_time_follow_up: int = 0
    controlled: int = 0
    weeks: int = 0  # weeks of the month
    weeks_held: int = 0  # with a session ≥ 8 h
    sessions: int = 0
    session_hours: Decimal = Decimal(0)

    def as_dict(self) -> dict:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self.__dict__.items()}


@dataclass
class Score:
    fulfilment: Decimal
    timeliness: Decimal
    outcomes: Decimal
    sessions: Decimal
    total: Decimal
    rates: dict[str, float | None] = field(default_factory=dict)  # None: not applicable

    @property
    def rankable(self) -> bool:
        return any(v is not None for v in self.rates.values())


def _rate(num: int, den: int) -> float | None:
    return None if den <= 0 else min(1.0, num / den)


def _pts(x: float | Decimal) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def rates(c: TeamCounts) -> dict[str, float | None]:
    on_time = _rate(c.on_time_follow_up, c.managed)
    control = _rate(c.controlled, c.managed)
    return {
        "fulfilment": _rate(c.done, c.due),
        "timeliness": _rate(c.on_time_in_month, c.due_in_month),
        "outcomes": None if on_time is None or control is None else (on_time + control) / 2,
        "sessions": _rate(c.weeks_held, c.weeks),
        "follow_up_on_time": on_time,
        "control": control,
    }


def score(c: TeamCounts, weights: Mapping[str, Decimal] = WEIGHTS) -> Score:
    r = rates(c)
    points = {p: Decimal(0) if r[p] is None else _pts(weights[p] * Decimal(str(r[p]))) for p in PARTS}
    applicable = [p for p in PARTS if r[p] is not None]
    weight = sum((weights[p] for p in applicable), Decimal(0))
    total = Decimal(0) if not weight else _pts(sum(
        (weights[p] * Decimal(str(r[p])) for p in applicable), Decimal(0)) * 100 / weight)
    return Score(points["fulfilment"], points["timeliness"], points["outcomes"], points["sessions"], total, r)


def rank(totals: Mapping[int, Decimal | None]) -> dict[int, int | None]:
    """Competition ranking (1, 2, 2, 4) by total, highest first; ``None`` totals are unranked."""
    ranked = sorted(((t, k) for k, t in totals.items() if t is not None), key=lambda x: (-x[0], x[1]))
    out: dict[int, int | None] = {k: None for k, t in totals.items() if t is None}
    prev, prev_rank = None, 0
    for i, (t, k) in enumerate(ranked, start=1):
        if t != prev:
            prev, prev_rank = t, i
        out[k] = prev_rank
    return out


def follow_up_on_time(last_next_visit: dt.date | None, enrolled_on: dt.date, month_end: dt.date) -> bool:
    """Whether a managed patient is followed up on time at the month's end."""
    if last_next_visit is not None:
        return last_next_visit >= month_end
    return (month_end - enrolled_on).days <= NEW_ENROLMENT_GRACE_DAYS
