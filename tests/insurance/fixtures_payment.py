"""Discharges with their groups, made directly (no grouping), and the insurance officer, for the payment tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tests.cast import PASSWORD, SYSTEM
from yigongti.encounters.models import Encounter
from yigongti.insurance.models import Budget, CaseGroup, Discharge, DrgRate, DrgWeight
from yigongti.orgs.models import Role, User
from yigongti.orgs.services import create_account

V = "CHS-DRG 2.0"
YEAR = 2026


def officer(cast):
    existing = User.objects.filter(username="insurance").first()
    if existing is not None:
        return existing
    user, _pw = create_account(username="insurance", role=Role.INSURANCE_OFFICER, password=PASSWORD,
                               region=cast.county, actor=SYSTEM)
    return user


def discharge(cast, facility, cost, *, drg="FV23", los=5, scheme="resident", special=False, grouped=True,
              diagnosis="I10", procedure="", department="内科", day=dt.date(YEAR, 5, 1), fund=None) -> Discharge:
    r = cast.resident
    cost = Decimal(cost)
    enc = Encounter.objects.create(resident=r, area_code=r.area_code, residence_county=r.area_code[:6],
                                   facility=facility, type="inpatient", admit_date=day - dt.timedelta(days=los),
                                   discharge_date=day, total_cost=cost, main_icd10=diagnosis)
    d = Discharge.objects.create(
        encounter=enc, resident=r, facility=facility, department=department, scheme=scheme, sex="1", age_years=60,
        admit_date=day - dt.timedelta(days=los), discharge_date=day, los_days=los, diagnoses=[diagnosis],
        procedures=[procedure] if procedure else [], total_cost=cost,
        fund_paid=Decimal(fund) if fund is not None else (cost * Decimal("0.7")).quantize(Decimal("0.01")),
        special_review=special)
    CaseGroup.objects.create(discharge=d, version=V, mdc=drg[:1] if grouped else "", adrg=drg[:3] if grouped else "",
                             drg=drg if grouped else "", status="grouped" if grouped else "ungroupable",
                             trace=["test"])
    return d


def terms(year=YEAR, grassroots=("FV23",)):
    """Weights and rates set by hand: FV23 (weight 0.5, mean 5,000), GB15 (2.0, 20,000); rates 10,000 at county,
    8,000 at township, 7,000 at village, 9,000 for the 基层病组 (resident); employee 11,000 at county."""
    for drg, w, cost in (("FV23", "0.5", "5000"), ("GB15", "2.0", "20000")):
        DrgWeight.objects.create(version=V, year=year, drg=drg, weight=Decimal(w), avg_cost=Decimal(cost),
                                 avg_los=Decimal(6), grassroots=drg in grassroots)
    for level, scheme, rate in (("county", "resident", 10000), ("township", "resident", 8000),
                                ("village", "resident", 7000), ("", "resident", 9000),
                                ("county", "employee", 11000)):
        DrgRate.objects.create(year=year, level=level, scheme=scheme, rate=Decimal(rate))


def budget(cast, amount="1000000", year=YEAR, scheme="resident", **rules):
    return Budget.objects.create(community=cast.community, year=year, scheme=scheme, prior_spend=Decimal(amount),
                                 growth_rate=Decimal("0.05"), amount=Decimal(amount), retained_share=Decimal("0.5"),
                                 overspend_cap=Decimal("0.05"), overspend_share=Decimal("0.5"),
                                 out_of_county_deduction=Decimal("0.3"), rules=rules)
