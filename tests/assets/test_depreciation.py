"""Depreciation per 政府会计准则第3号: pure functions, no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from yigongti.assets import depreciation as dep
from yigongti.assets.depreciation import Basis, DepreciationError

D = Decimal


def sl(price="12000.00", years=5, accepted=dt.date(2024, 3, 15), ended=None) -> Basis:
    return Basis(D(price), accepted, "straight_line", useful_life_years=years, ended_on=ended)


def test_straight_line_charges_price_over_life_in_months_without_salvage():
    b = sl()
    first = dt.date(2024, 3, 1).replace(day=1)
    first = first if dep.FIRST_MONTH_OFFSET == 0 else dt.date(2024, 4, 1)
    assert dep.monthly_charge(b, first) == D("200.00")  # 12 000 / 60
    assert dep.accumulated(b, first - dt.timedelta(days=1)) == D("0.00")


def test_the_first_month_follows_the_one_constant():
    b = sl()
    months = dep.months_depreciated(b, dt.date(2024, 12, 31))
    assert months == 10 - dep.FIRST_MONTH_OFFSET  # March…December


def test_accumulated_never_passes_the_price_and_the_net_value_ends_at_zero():
    b = sl("1000.00", 3)
    assert dep.accumulated(b, dt.date(2040, 1, 1)) == D("1000.00")
    assert dep.net_book_value(b, dt.date(2040, 1, 1)) == D("0.00")
    assert dep.monthly_charge(b, dt.date(2040, 1, 1)) == D("0.00")  # 提足折旧后不再计提


def test_the_months_add_up_exactly_to_the_price_despite_rounding():
    b = sl("1000.00", 3)  # 27.777… a month
    total = sum(dep.monthly_charge(b, dt.date(y, m, 1)) for y in range(2024, 2028) for m in range(1, 13))
    assert total == D("1000.00")


def test_a_scrapped_asset_is_not_depreciated_from_the_month_it_leaves():
    b = sl(ended=dt.date(2025, 3, 10))
    at_leaving = dep.accumulated(b, dt.date(2025, 2, 28))
    assert dep.accumulated(b, dt.date(2026, 6, 30)) == at_leaving  # 提前报废不再补提


def test_units_of_use_depreciate_by_the_share_of_planned_units():
    b = Basis(D("50000.00"), dt.date(2024, 1, 10), "units", planned_units=10_000)
    usages = [(dt.date(2024, 1, 1), 100), (dt.date(2024, 2, 1), 400), (dt.date(2024, 3, 1), 500)]
    assert dep.accumulated(b, dt.date(2024, 3, 31), usages) == D("5000.00")
    assert dep.monthly_charge(b, dt.date(2024, 2, 1), usages) == D("2000.00")
    assert dep.net_book_value(b, dt.date(2024, 3, 31), usages) == D("45000.00")


def test_units_beyond_the_planned_total_are_refused_with_the_reason():
    with pytest.raises(DepreciationError) as e:
        dep.check_units(10_000, 9_900, 200)
    assert e.value.code == "beyond_price" and "超过预计总工作量" in e.value.message
    dep.check_units(10_000, 9_900, 100)  # exactly the total: fully depreciated, allowed
    b = Basis(D("100.00"), dt.date(2024, 1, 1), "units", planned_units=10)
    with pytest.raises(DepreciationError):
        dep.accumulated(b, dt.date(2024, 2, 1), [(dt.date(2024, 1, 1), 11)])


@pytest.mark.parametrize("basis,code", [
    (Basis(D("0"), dt.date(2024, 1, 1), "straight_line", useful_life_years=5), "invalid_price"),
    (Basis(D("10"), dt.date(2024, 1, 1), "straight_line"), "no_useful_life"),
    (Basis(D("10"), dt.date(2024, 1, 1), "units"), "no_planned_units"),
    (Basis(D("10"), dt.date(2024, 1, 1), "sum_of_years", useful_life_years=5), "invalid_method"),
])
def test_what_cannot_be_depreciated_is_refused(basis, code):
    with pytest.raises(DepreciationError) as e:
        dep.validate_basis(basis)
    assert e.value.code == code


def test_the_yearly_schedule_adds_up_to_the_accumulated_amount():
    b = sl()
    lines = dep.yearly_schedule(b, dt.date(2026, 6, 30))
    assert [ln.year for ln in lines] == [2024, 2025, 2026]
    assert sum(ln.charge for ln in lines) == lines[-1].accumulated == dep.accumulated(b, dt.date(2026, 6, 30))
    assert lines[-1].net == b.price - lines[-1].accumulated
