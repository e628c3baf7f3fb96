"""Village doctors' rules as plain functions (tested without the database): the licence's renewal window, the
month's working days and attendance rate (考勤), an assessment item's points from its scoring method, the
sheet's total, the ranking, the yearly result and the two-yearly licence assessment (《乡村医生从业管理条例》:
考核 every two years; a doctor passes when each year's result passed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

LICENCE_YEARS = 5  # 乡村医生执业证书 registration period
RENEWAL_WINDOW_DAYS = 90  # listed as due for renewal this long before it runs out
LICENCE_ASSESSMENT_YEARS = 2

ONE = Decimal("0.1")


def q1(x: Decimal) -> Decimal:
    return x.quantize(ONE, ROUND_HALF_UP)


def licence_valid_until(issued_on: dt.date) -> dt.date:
    """Five years from the issue date, the day before its anniversary."""
    try:
        end = issued_on.replace(year=issued_on.year + LICENCE_YEARS)
    except ValueError:  # 29 February
        end = issued_on.replace(year=issued_on.year + LICENCE_YEARS, day=28)
    return end - dt.timedelta(days=1)


def licence_state(valid_until: dt.date | None, today: dt.date) -> str:
    """``missing``, ``expired``, ``due`` (within the renewal window) or ``valid``."""
    if valid_until is None:
        return "missing"
    if valid_until < today:
        return "expired"
    if (valid_until - today).days <= RENEWAL_WINDOW_DAYS:
        return "due"
    return "valid"


def month_days(month: dt.date) -> list[dt.date]:
    first = month.replace(day=1)
    return [first + dt.timedelta(days=i) for i in range(31) if (first + dt.timedelta(days=i)).month == first.month]


def working_days(month: dt.date, holidays: Mapping[dt.date, bool], until: dt.date | None = None) -> list[dt.date]:
    """Monday–Friday of the month, less the holidays, plus the weekend days marked working (调休上班);
    ``holidays`` maps a date to whether it is a working day. Only the days up to ``until`` when given."""
    out = []
    for d in month_days(month):
        if until is not None and d > until:
            break
        working = holidays.get(d, d.weekday() < 5)
        if working:
            out.append(d)
    return out


@dataclass(frozen=True)
class MonthAttendance:
    working: int  # working days of the month (so far)
    present: int  # of them, checked in
    leave: int  # on approved leave and not checked in
    absent: int
    flagged: int  # check-ins far from the clinic
    extra: int  # check-ins on days off

    @property
    def expected(self) -> int:
        return self.working - self.leave

    @property
    def rate(self) -> Decimal | None:
        """Present ÷ (working days − approved leave) × 100, or None when nothing was expected."""
        if self.expected <= 0:
            return None
        return q1(Decimal(min(self.present, self.expected)) * 100 / Decimal(self.expected))


def attendance(work: Iterable[dt.date], present: Iterable[dt.date], leave: Iterable[dt.date],
               flagged: Iterable[dt.date] = ()) -> MonthAttendance:
    work_s, present_s, leave_s = set(work), set(present), set(leave)
    at_work = work_s & present_s
    on_leave = (work_s & leave_s) - present_s
    return MonthAttendance(len(work_s), len(at_work), len(on_leave), len(work_s - present_s - on_leave),
                           len(set(flagged) & present_s), len(present_s - work_s))


def leave_days(spans: Iterable[tuple[dt.date, dt.date]], month: dt.date) -> set[dt.date]:
    days = set(month_days(month))
    out: set[dt.date] = set()
    for start, end in spans:
        d = max(start, month.replace(day=1))
        while d <= end and d in days:
            out.add(d)
            d += dt.timedelta(days=1)
    return out


# ------------------------------------------------------------------------------------------------
# Scoring


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    method: str  # attendance / public_health / entered
    max_points: Decimal
    weight: Decimal = Decimal(1)
    target: int | None = None


@dataclass(frozen=True)
class Measures:
    """What the computed items read: the month's attendance rate (%) and public-health tasks done."""

    attendance_rate: Decimal | None = None
    tasks_done: int | None = None


class BadPoints(ValueError):
    def __init__(self, code: str, max_points: Decimal):
        super().__init__(code)
        self.code, self.max_points = code, max_points


def item_points(item: Item, m: Measures, entered: Decimal | None = None) -> tuple[Decimal | None, str]:
    """(points, basis) of one item: attendance → max × rate; public health → max × min(done ÷ target, 1);
    entered → the typed points, within 0..max (``BadPoints`` otherwise). None when not yet known."""
    if item.method == "attendance":
        if m.attendance_rate is None:
            return None, ""
        return q1(item.max_points * m.attendance_rate / 100), f"{m.attendance_rate}%"
    if item.method == "public_health":
        if m.tasks_done is None:
            return None, ""
        target = item.target or 1
        share = min(Decimal(m.tasks_done) / Decimal(target), Decimal(1))
        return q1(item.max_points * share), f"{m.tasks_done}/{target}"
    if entered is None:
        return None, ""
    if entered < 0 or entered > item.max_points:
        raise BadPoints(item.code, item.max_points)
    return q1(entered), ""


def total(items: Iterable[Item], points: Mapping[str, Decimal | None]) -> Decimal:
    """The weighted score on 100: Σ points × weight ÷ Σ max × weight × 100 (an unscored item counts 0)."""
    items = list(items)
    den = sum((i.max_points * i.weight for i in items), Decimal(0))
    if not den:
        return Decimal(0)
    num = sum(((points.get(i.code) or Decimal(0)) * i.weight for i in items), Decimal(0))
    return q1(num * 100 / den)


def ranks(totals: Mapping[int, Decimal]) -> dict[int, int]:
    """Competition ranking (1, 2, 2, 4) by total, higher first."""
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    out: dict[int, int] = {}
    prev: Decimal | None = None
    rank = 0
    for i, (key, value) in enumerate(ordered, start=1):
        if value != prev:
            rank, prev = i, value
        out[key] = rank
    return out


@dataclass(frozen=True)
class YearResult:
    year: int
    months: int
    mean: Decimal | None
    passed: bool | None  # None: no month scored


def yearly(year: int, totals: Iterable[Decimal], pass_mark: Decimal) -> YearResult:
    values = list(totals)
    if not values:
        return YearResult(year, 0, None, None)
    mean = q1(sum(values, Decimal(0)) / len(values))
    return YearResult(year, len(values), mean, mean >= pass_mark)


def licence_assessment(results: Iterable[YearResult]) -> str:
    """The two-yearly 考核: ``pass`` when both years passed, ``fail`` when one failed, else ``incomplete``."""
    rs = list(results)[-LICENCE_ASSESSMENT_YEARS:]
    if any(r.passed is False for r in rs):
        return "fail"
    if len(rs) == LICENCE_ASSESSMENT_YEARS and all(r.passed for r in rs):
        return "pass"
    return "incomplete"
