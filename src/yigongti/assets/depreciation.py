"""Depreciation of fixed assets per 《政府会计准则第3号——固定资产》 (财政部, 2016) and its 应用指南 (财会〔2017〕4号):
pure functions over plain data, tested without a database.

- Two methods: 年限平均法 (straight line over the useful life in years) and 工作量法 (units of use: the share of
  the planned total units used so far).
- Monthly; no salvage value (政府会计主体计提折旧不考虑预计净残值).
- The first month depreciated is ``FIRST_MONTH_OFFSET`` months after the month of acceptance (验收 = 交付使用):
  0 = 当月增加、当月开始计提, as we read the standard for government units (企业会计准则 would be 1, the month
  after). One constant, so that a community's finance office that books otherwise changes one number.
- The month an asset leaves (报废, ``ended_on``) is not depreciated; an asset scrapped early is not topped up
  (提前报废不再补提), and one fully depreciated is not depreciated further (提足折旧后不再计提).
- Never beyond the price: accumulated depreciation is capped at the price by construction (straight line), and
  units beyond the planned total are refused (``check_units``) rather than silently capped.

Amounts are ``Decimal`` in yuan, rounded to the fen on the accumulated amount (so the months add up exactly to
the price: the last month takes the rounding)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

FIRST_MONTH_OFFSET = 0
FEN = Decimal("0.01")
ZERO = Decimal("0.00")


class DepreciationError(ValueError):
    """Input that would depreciate beyond the price or cannot be depreciated; ``str()`` is the Chinese reason."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Basis:
    """What depreciation needs of an asset."""

    price: Decimal
    accepted_on: dt.date
    method: str  # "straight_line" | "units"
    useful_life_years: int | None = None
    planned_units: int | None = None
    ended_on: dt.date | None = None  # scrapped on (no depreciation from that month)


def month_index(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def first_month(accepted_on: dt.date) -> int:
    return month_index(accepted_on) + FIRST_MONTH_OFFSET


def months_depreciated(b: Basis, at: dt.date) -> int:
    """Months depreciated up to and including ``at``'s month (straight line), within the useful life."""
    if not b.useful_life_years:
        raise DepreciationError("no_useful_life", _("年限平均法须填写使用年限"))
    last = month_index(at)
    if b.ended_on is not None:
        last = min(last, month_index(b.ended_on) - 1)
    n = last - first_month(b.accepted_on) + 1
    return max(0, min(n, b.useful_life_years * 12))


def _round(x: Decimal) -> Decimal:
    return x.quantize(FEN, rounding=ROUND_HALF_UP)


def validate_basis(b: Basis) -> None:
    """Refuse what cannot be depreciated (the register form shows the reason)."""
    if b.price is None or b.price <= 0:
        raise DepreciationError("invalid_price", _("原值须大于 0"))
    if b.method == "straight_line":
        if not b.useful_life_years or b.useful_life_years < 1:
            raise DepreciationError("no_useful_life", _("年限平均法须填写使用年限（至少 1 年）"))
    elif b.method == "units":
        if not b.planned_units or b.planned_units < 1:
            raise DepreciationError("no_planned_units", _("工作量法须填写预计总工作量"))
    else:
        raise DepreciationError("invalid_method", _("请选择折旧方法"))


def _units_to(usages: Iterable[tuple[dt.date, int]], b: Basis, at: dt.date) -> int:
    first, last = first_month(b.accepted_on), month_index(at)
    if b.ended_on is not None:
        last = min(last, month_index(b.ended_on) - 1)
    return sum(u for m, u in usages if first <= month_index(m) <= last)


def check_units(planned_units: int, recorded: int, new_units: int) -> None:
    """Refuse a month's units that would take the total beyond the planned total: the depreciation would pass the
    price (工作量法 never depreciates more than the price)."""
    if new_units < 0:
        raise DepreciationError("invalid_units", _("工作量不能为负数"))
    if recorded + new_units > planned_units:
        raise DepreciationError(
            "beyond_price",
            _("累计工作量 %(used)s 将超过预计总工作量 %(planned)s，折旧将超过原值：请核对工作量或调整预计总工作量")
            % {"used": recorded + new_units, "planned": planned_units})


def accumulated(b: Basis, at: dt.date, usages: Iterable[tuple[dt.date, int]] = ()) -> Decimal:
    """累计折旧 at the end of ``at``'s month."""
    validate_basis(b)
    if b.method == "straight_line":
        assert b.useful_life_years
        total = b.useful_life_years * 12
        n = months_depreciated(b, at)
        return b.price if n >= total else _round(b.price * n / total)
    assert b.planned_units
    used = _units_to(usages, b, at)
    if used > b.planned_units:
        raise DepreciationError("beyond_price", _("累计工作量 %(used)s 超过预计总工作量 %(planned)s，折旧将超过原值")
                               % {"used": used, "planned": b.planned_units})
    return b.price if used == b.planned_units else _round(b.price * used / b.planned_units)


def net_book_value(b: Basis, at: dt.date, usages: Iterable[tuple[dt.date, int]] = ()) -> Decimal:
    """账面净值 = 原值 − 累计折旧."""
    return b.price - accumulated(b, at, usages)


def monthly_charge(b: Basis, month: dt.date, usages: Iterable[tuple[dt.date, int]] = ()) -> Decimal:
    """The charge of one month (本月计提折旧额): the difference of the accumulated amounts."""
    usages = list(usages)
    before = month.replace(day=1) - dt.timedelta(days=1)
    return accumulated(b, month, usages) - accumulated(b, before, usages)


@dataclass(frozen=True)
class YearLine:
    year: int
    charge: Decimal
    accumulated: Decimal
    net: Decimal


def yearly_schedule(b: Basis, until: dt.date, usages: Iterable[tuple[dt.date, int]] = ()) -> list[YearLine]:
    """One line per calendar year from acceptance to ``until`` (the detail page's table)."""
    usages = list(usages)
    out: list[YearLine] = []
    prev = ZERO
    for year in range(b.accepted_on.year, until.year + 1):
        end = min(dt.date(year, 12, 31), until)
        acc = accumulated(b, end, usages)
        out.append(YearLine(year, acc - prev, acc, b.price - acc))
        prev = acc
    return out
