"""The year-end forecast: pure, from the seasonal shares of past years, with a range and the month the
budget runs out."""

from __future__ import annotations

from decimal import Decimal

from yigongti.insurance.forecast import forecast, warning

SEASON = [Decimal(x) for x in (120, 100, 100, 90, 90, 80, 80, 90, 100, 100, 110, 140)]  # sums to 1,200


def _months(scale: str, n: int) -> dict[int, Decimal]:
    return {m: SEASON[m - 1] * Decimal(scale) for m in range(1, n + 1)}


def test_a_year_that_follows_last_years_season_projects_its_total():
    f = forecast(2026, _months("1.1", 6), {2025: SEASON}, Decimal(1400))
    assert f.expected == Decimal("1320.00")  # 1,200 × 1.1
    assert f.low <= f.expected <= f.high
    assert f.runs_out_month is None and warning(f) == ""
    assert f.past_years == [2025] and "2025" in f.basis and "仅一年" in f.basis
    assert f.path[5] == sum(_months("1.1", 6).values()) and f.projected[6] and not f.projected[5]


def test_a_tight_budget_names_the_month_it_runs_out():
    f = forecast(2026, _months("1.1", 6), {2025: SEASON}, Decimal(1250))
    # cumulative 1.1 × (120+100+100+90+90+80+80+90+100+100+110) = 1,166 by November, 1,320 by December
    assert f.runs_out_month == 12
    assert warning(f) == "预计 12 月超出预算"
    f = forecast(2026, _months("1.1", 6), {2025: SEASON}, Decimal(1000))
    assert f.runs_out_month == 10  # 1.1 × 850 = 935 by September, 1.1 × 950 = 1,045 by October
    assert f.gap == Decimal(1000) - f.expected < 0


def test_several_past_years_give_the_range_of_their_projections():
    flat = [Decimal(100)] * 12
    f = forecast(2026, _months("1", 3), {2024: flat, 2025: SEASON}, None)
    # Jan–Mar are 320/1200 of 2025 and 300/1200 of 2024: projections 1,200 and 1,280
    assert Decimal(1200) <= f.expected <= Decimal(1280)
    assert f.low <= Decimal(1200) and f.high >= Decimal(1280)
    assert f.past_years == [2024, 2025]


def test_without_past_years_the_months_are_equal_and_the_basis_says_so():
    f = forecast(2026, {1: Decimal(100), 2: Decimal(100)}, {}, Decimal(1000))
    assert f.expected == Decimal("1200.00") and f.runs_out_month == 11  # 1,000 by October is not over it
    assert "1/12" in f.basis


def test_an_incomplete_past_year_is_not_a_basis_and_nothing_posted_forecasts_nothing():
    f = forecast(2026, {}, {2025: SEASON[:6] + [Decimal(0)] * 6}, Decimal(1000))
    assert f.expected == 0 and f.past_years == [] and f.runs_out_month is None


def test_a_high_month_widens_the_range_and_may_warn_before_the_expected_path_does():
    months = _months("1", 6)
    months[6] = SEASON[5] * Decimal("1.6")
    f = forecast(2026, months, {2025: SEASON}, Decimal(1330))
    assert f.high - f.low > Decimal(50)
    assert f.runs_out_month_high is not None
    assert f.runs_out_month is None or f.runs_out_month >= f.runs_out_month_high
