"""Shared fixtures of the insurance tests: an insurance officer of the cast's county, a small world of
settlements of the county's insureds over two years (every level, out-of-county care, a pharmacy, a
reversal, and a far-county insured who must not count), and a budget.

    def test_something(insurance_world, officer): ...
    insurance_world.settle(dt.date(2026, 3, 5), 1200, level="county")   # one more settlement

The world's money is chosen so that sums are easy to check by hand: see ``MONTHLY`` below."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

PAST, YEAR = 2025, 2026  # a complete past year, and the year in progress (January–June settled)
POSTED_MONTHS = 6
# the fund paid at each place of care each month of the past year (a seasonal month factor multiplies them)
MONTHLY = {"county": Decimal(1000), "township": Decimal(300), "village": Decimal(100),
           "out_of_county": Decimal(500), "pharmacy": Decimal(50)}
SEASON = [Decimal(x) for x in ("1.2", "1.0", "1.0", "0.9", "0.9", "0.8", "0.8", "0.9", "1.0", "1.0", "1.1",
                               "1.4")]
GROWTH = Decimal("1.10")  # the year in progress spends 10 % more
_numbers = itertools.count(1)


@pytest.fixture
def officer(cast):
    """医保经办 of the cast's county."""
    from tests.cast import SYSTEM
    from yigongti.orgs.models import Role
    from yigongti.orgs.services import create_account

    user, _ = create_account(username="insurance", role=Role.INSURANCE_OFFICER, password="Ceshi-mima-2026",
                             region=cast.county, actor=SYSTEM)
    return user


@dataclass
class InsuranceWorld:
    cast: Any
    created: list = field(default_factory=list)

    @property
    def county(self) -> str:
        return self.cast.county.code[:6]

    def settle(self, day: dt.date, fund, *, level: str = "county", scheme: str = "resident", kind: str = "",
               icd10: str = "J18.9", reverses: str = "", county: str | None = None, total=None):
        """One settlement of an insured of the county (``county`` to make it another county's insured)."""
        from yigongti.encounters.models import InsuranceSettlement

        c = self.cast
        facility = {"county": c.county_hospital, "township": c.township_center, "village": c.village_clinic}.get(level)
        code = facility.code if facility else ("P431127000001" if level == "pharmacy" else "H430100000001")
        fcounty = self.county if level != "out_of_county" else "430100"
        kind = kind or ("pharmacy" if level == "pharmacy" else "inpatient" if level in ("county", "out_of_county")
                        else "outpatient")
        fund = Decimal(str(fund))
        s = InsuranceSettlement.objects.create(
            settlement_no=f"T{next(_numbers):09d}", area_code=c.village.code, residence_county=county or self.county,
            scheme=scheme, type=kind, facility_code=code, facility_name=facility.name if facility else "",
            facility_county=fcounty, facility_level=level, admit_date=day, settle_date=day,
            discharge_date=day if kind == "inpatient" else None,
            total_cost=Decimal(str(total)) if total is not None else fund * 2, fund_paid=fund,
            self_pay=fund if total is None else Decimal(0), main_icd10=icd10 if kind != "pharmacy" else "",
            reverses_no=reverses)
        self.created.append(s)
        return s

    def fund_of(self, year: int, month: int | None = None, scheme: str = "resident") -> Decimal:
        return sum((s.fund_paid for s in self.created if s.settle_date.year == year and s.scheme == scheme
                    and s.residence_county == self.county and (month is None or s.settle_date.month == month)),
                   Decimal(0))


@pytest.fixture
def insurance_world(cast) -> InsuranceWorld:
    """Two years of settlements: PAST complete, YEAR January–June; plus in YEAR-03 a county stay reversed and
    settled again (98 % of it), an employee settlement, and a far-county insured's claim (never ours)."""
    w = InsuranceWorld(cast)
    for year, months, factor in ((PAST, 12, Decimal(1)), (YEAR, POSTED_MONTHS, GROWTH)):
        for m in range(1, months + 1):
            for level, fund in MONTHLY.items():
                icd = {"county": "I63.9", "out_of_county": "C34.9"}.get(level, "J06.9")
                w.settle(dt.date(year, m, 10), (fund * SEASON[m - 1] * factor).quantize(Decimal("0.01")),
                         level=level, icd10=icd)
    original = w.settle(dt.date(YEAR, 3, 12), 800, level="county", icd10="K80.1")
    w.settle(dt.date(YEAR, 3, 20), -800, level="county", icd10="K80.1", reverses=original.settlement_no)
    w.settle(dt.date(YEAR, 3, 20), 784, level="county", icd10="K80.1")
    w.settle(dt.date(YEAR, 3, 15), 2000, level="county", scheme="employee", icd10="I21.0")
    w.settle(dt.date(YEAR, 3, 15), 9999, level="county", county=cast.far_county.code[:6])
    return w


@pytest.fixture
def budget_of_year(insurance_world, officer):
    """The YEAR budget of the resident scheme (v1) set by the officer from the PAST spend, +5 %."""
    from tests.cast import as_
    from yigongti.insurance.budget import set_budget

    return set_budget(insurance_world.cast.community, YEAR, "resident",
                      {"growth_rate": "0.05", "withholding_rate": "0.05", "prealloc": "seasonal",
                       "retained_share": "0.6", "overspend_cap": "0.1", "overspend_share": "0.5",
                       "out_of_county_deduction": "0.1"}, actor=as_(officer))


@pytest.fixture
def posted(insurance_world, officer):
    """PAST and YEAR posted to the ledger."""
    from tests.cast import as_
    from yigongti.insurance.ledger import post_year

    for y in (PAST, YEAR):
        post_year(insurance_world.cast.community, y, actor=as_(officer))
    return insurance_world
