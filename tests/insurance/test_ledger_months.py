"""The ledger's and the budget's months are grouped in SQL by date ranges (no per-row month function): the
first and last day of a month, and a range across a year's end, land in the right month."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tests.cast import as_
from yigongti.insurance.budget import month_index, month_start, monthly_spend, spend_by_month
from yigongti.insurance.ledger import aggregate, post_month, post_year
from yigongti.insurance.models import LedgerEntry


def test_month_start_counts_across_years():
    assert month_start(dt.date(2025, 11, 17)) == dt.date(2025, 11, 1)
    assert month_start(dt.date(2025, 11, 17), 2) == dt.date(2026, 1, 1)
    assert month_start(dt.date(2025, 1, 31), 23) == dt.date(2026, 12, 1)
    assert month_index(dt.date(2025, 1, 1), 1).value == 0  # one month: a constant, no CASE


def _edges(world):
    """Settlements on the first and the last day of months, and on New Year's Eve and Day."""
    for day, fund in ((dt.date(2024, 12, 31), 7), (dt.date(2025, 1, 1), 11), (dt.date(2025, 1, 31), 13),
                      (dt.date(2025, 2, 1), 17), (dt.date(2025, 2, 28), 19), (dt.date(2025, 12, 31), 23),
                      (dt.date(2026, 1, 1), 29)):
        world.settle(day, fund, level="township")


def test_monthly_spend_puts_edge_days_in_their_month(cast):
    from tests.insurance.conftest import InsuranceWorld

    w = InsuranceWorld(cast)
    _edges(w)
    months = monthly_spend(cast.community, 2025, "resident")
    assert months[:2] == [Decimal(24), Decimal(36)] and months[11] == Decimal(23) and sum(months) == 83
    before, prior = spend_by_month(cast.community, 2024, 2, "resident")
    assert before[11] == Decimal(7) and sum(before) == 7 and prior == months


def test_posting_puts_edge_days_in_their_month_and_a_range_across_new_year_keeps_month_numbers(cast, officer):
    from tests.insurance.conftest import InsuranceWorld

    w = InsuranceWorld(cast)
    _edges(w)
    post_year(cast.community, 2025, actor=as_(officer))
    by_month = {m: sum(e.fund_paid for e in LedgerEntry.objects.filter(year=2025, month=m)) for m in (1, 2, 12)}
    assert by_month == {1: Decimal(24), 2: Decimal(36), 12: Decimal(23)}
    assert LedgerEntry.objects.filter(year=2025).count() == 3
    post_month(cast.community, 2025, 2, actor=as_(officer))  # one month alone: the same rows
    assert sum(e.fund_paid for e in LedgerEntry.objects.filter(year=2025, month=2)) == Decimal(36)
    rows = aggregate(cast.community, dt.date(2024, 12, 15), dt.date(2025, 2, 1))
    assert sorted((r["m"], r["fund"]) for r in rows) == [(1, Decimal(24)), (12, Decimal(7))]
