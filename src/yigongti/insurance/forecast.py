"""The year-end forecast of the fund spend (pure: plain numbers in, a ``Forecast`` out).

Method (seasonal projection):

1. For each past year with spend in all twelve months, the *seasonal share* of each month is its spend ÷ the
   year's total. The share of the months posted so far this year, S_y, says how much of a year they usually
   carry.
2. Each past year gives a projection of this year's total: spend to date ÷ S_y. The forecast is their mean.
3. The range: the lowest and highest of those projections, widened by ±k × σ × (the remaining share), where σ
   is the standard deviation of this year's monthly "surprise" (a month's actual ÷ what the seasonal shares
   expected of it). With one past year (the demo has two years of settlements) the range comes from σ alone.
   Without past years the months are taken as equal (1/12 each) and the basis says so.
4. The monthly path: posted months as they are, the remaining months at forecast × their mean seasonal share.
   The month in which the cumulative spend first passes the budget is the month the budget runs out
   (“预计 11 月超出预算”); the same is reported for the high end of the range (“最早可能在 9 月”).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

CENT = Decimal("0.01")
K_SPREAD = 1.0  # the range is ±K_SPREAD × σ of the monthly surprises over the remaining share


@dataclass(frozen=True)
class Forecast:
    year: int
    months_posted: list[int]
    spend_to_date: Decimal
    expected: Decimal  # year-end spend
    low: Decimal
    high: Decimal
    basis: str  # in words: which past years, which method
    past_years: list[int]
    shares: list[float]  # the seasonal share of each month (mean of the past years), Jan…Dec
    path: list[Decimal] = field(default_factory=list)  # cumulative spend by month: actual, then projected
    projected: list[bool] = field(default_factory=list)  # which months of ``path`` are projections
    budget: Decimal | None = None
    runs_out_month: int | None = None  # by the expected path
    runs_out_month_high: int | None = None  # by the high end of the range
    gap: Decimal | None = None  # budget − expected (negative: overspend)

    @property
    def execution_expected(self) -> float | None:
        return float(self.expected / self.budget) if self.budget else None


def _money(x: float | Decimal) -> Decimal:
    return Decimal(str(x)).quantize(CENT, rounding=ROUND_HALF_UP)


def _shares(history: dict[int, list[Decimal]]) -> tuple[list[int], list[list[float]]]:
    years, shares = [], []
    for y in sorted(history):
        months = [float(v) for v in history[y]]
        total = sum(months)
        if len(months) == 12 and total > 0 and all(v > 0 for v in months):
            years.append(y)
            shares.append([v / total for v in months])
    return years, shares


def _crossing(path: list[Decimal], budget: Decimal | None) -> int | None:
    if budget is None or budget <= 0:
        return None
    for i, cum in enumerate(path):
        if cum > budget:
            return i + 1
    return None


def forecast(year: int, actual: dict[int, Decimal], history: dict[int, list[Decimal]],
             budget: Decimal | None = None, *, k: float = K_SPREAD) -> Forecast:
    """``actual``: month (1–12) → spend posted this year; ``history``: past year → its twelve monthly spends."""
    posted = sorted(m for m in actual if 1 <= m <= 12)
    to_date = sum((actual[m] for m in posted), Decimal(0))
    years, shares = _shares({y: v for y, v in history.items() if y < year})
    if years:
        mean = [sum(s[m] for s in shares) / len(shares) for m in range(12)]
        basis = (_("按 %(years)s 年各月支出占全年的比例（季节性）推算，区间为各年推算的最低与最高值")
                 % {"years": "、".join(str(y) for y in years)} if len(years) > 1 else
                 _("按 %(year)s 年各月支出占全年的比例（季节性）推算；仅一年可比，区间按本年各月偏差估计")
                 % {"year": years[0]})
    else:
        mean = [1 / 12] * 12
        shares = [mean]
        basis = _("无往年完整数据，按各月平均（1/12）推算")
    if not posted:
        expected = Decimal(0)
        return Forecast(year, [], to_date, expected, expected, expected, basis + _("；本年尚无已过账月份"), years, mean,
                        budget=budget, gap=(budget - expected) if budget is not None else None)
    covered = [sum(s[m - 1] for m in posted) for s in shares]
    projections = [float(to_date) / c for c in covered if c > 0]
    expected_f = sum(projections) / len(projections)
    seen = sum(mean[m - 1] for m in posted)
    surprises = [float(actual[m]) / (expected_f * mean[m - 1]) for m in posted if mean[m - 1] > 0 and expected_f > 0]
    sigma = _stdev(surprises)
    remaining_f = expected_f * (1 - seen)
    low_f = min(projections) - k * sigma * remaining_f
    high_f = max(projections) + k * sigma * remaining_f
    low_f = max(low_f, float(to_date))
    path: list[Decimal] = []
    path_high: list[Decimal] = []
    flags: list[bool] = []
    cum = cum_high = Decimal(0)
    rest = 1 - seen
    for m in range(1, 13):
        if m <= posted[-1]:
            cum += actual.get(m, Decimal(0))
            cum_high += actual.get(m, Decimal(0))
            flags.append(False)
        else:
            cum += _money(expected_f * mean[m - 1])
            cum_high += _money((high_f - float(to_date)) * mean[m - 1] / rest) if rest > 0 else Decimal(0)
            flags.append(True)
        path.append(cum)
        path_high.append(cum_high)
    expected = _money(expected_f)
    return Forecast(year, posted, to_date, expected, _money(low_f), _money(max(high_f, expected_f)), basis, years,
                    mean, path, flags, budget, _crossing(path, budget), _crossing(path_high, budget),
                    (budget - expected) if budget is not None else None)


def _stdev(values: list[float]) -> float:
    if len(values) < 2:
        return 0.05  # one month says nothing about its spread: assume ±5 %
    mu = sum(values) / len(values)
    return math.sqrt(sum((v - mu) ** 2 for v in values) / (len(values) - 1))


def warning(f: Forecast) -> str:
    """The sentence the ledger page shows."""
    if f.budget is None:
        return ""
    if f.runs_out_month:
        return _("预计 %(m)s 月超出预算") % {"m": f.runs_out_month}
    if f.runs_out_month_high:
        return _("按区间上限，最早可能在 %(m)s 月超出预算") % {"m": f.runs_out_month_high}
    return ""
