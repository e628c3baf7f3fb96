"""The demo county's insurance year is plausible: most discharges group (under 2.0 and 1.1) into several MDCs,
the lists agree with their encounters, weights, rates, DIP groups and payments exist, the budget and the
ledger of both years are posted, the prior year is closed with its allocation, the forecast shows a tight
month, and a few filings and pay-later accounts are there."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from django.db.models import Count, Sum

TODAY = dt.date(2026, 11, 20)  # a fixed --today, as tests/demo


def test_the_demo_countys_insurance_year_is_plausible(transactional_db):
    from yigongti.core.actor import Actor
    from yigongti.demo.build import build_demo
    from yigongti.encounters.models import Encounter
    from yigongti.insurance.discharges import sync_discharges
    from yigongti.insurance.models import (
        Budget,
        CaseGroup,
        CasePayment,
        DipGroup,
        DipPointValue,
        Discharge,
        DrgRate,
        DrgWeight,
        LedgerEntry,
        OutOfCountyFiling,
        PayLater,
        YearSettlement,
    )
    from yigongti.orgs.models import MedicalCommunity

    build_demo(population=3000, seed=7, today=TODAY)
    year = TODAY.year
    stays = Encounter.objects.filter(type="inpatient", discharge_date__isnull=False)
    n = Discharge.objects.count()
    assert n == stays.count() > 300

    # the lists say what their encounters say, and a sync from the encounters changes nothing
    mains = dict(stays.values_list("id", "main_icd10"))
    for enc, diagnoses in Discharge.objects.values_list("encounter_id", "diagnoses"):
        assert diagnoses and diagnoses[0] == mains[enc]
    again = sync_discharges(actor=Actor.system("test"))
    assert again.created == again.updated == 0
    assert not Discharge.objects.filter(sex="1", diagnoses__0__startswith="O").exists()  # no man gives birth

    # most group, under both versions, into several MDCs; a few are incomplete on purpose and say why
    for version, least in (("CHS-DRG 2.0", 0.95), ("CHS-DRG 1.1", 0.90)):
        groups = CaseGroup.objects.filter(version=version)
        status = dict(groups.values_list("status").annotate(n=Count("id")))
        assert groups.count() == n and status["grouped"] >= least * n, (version, status)
        mdcs = set(groups.filter(status="grouped").values_list("mdc", flat=True))
        assert len(mdcs) >= 8 and {"MDCB", "MDCE", "MDCF", "MDCI", "MDCO"} <= mdcs, mdcs
    incomplete = Discharge.objects.exclude(problems=[])
    assert 0 < incomplete.count() <= 0.04 * n
    assert all(d.problems for d in incomplete)
    drgs = Counter(CaseGroup.objects.filter(version="CHS-DRG 2.0", status="grouped").values_list("drg", flat=True))
    assert any(d[3] in "13" for d in drgs)  # complications (MCC/CC) change severity
    assert sum(v for d, v in drgs.items() if d[3] in "59") > sum(v for d, v in drgs.items() if d[3] == "1")
    assert Discharge.objects.filter(procedures__0__isnull=False).count() > 0.1 * n  # operations coded
    assert CaseGroup.objects.filter(version="CHS-DRG 2.0", adrg__in=["IC2", "HC2", "GE2", "LB1", "EB1"]).exists()

    # weights, rates, the 基层病组, DIP groups, point values and the year's payments
    for version in ("CHS-DRG 2.0", "CHS-DRG 1.1"):
        assert DrgWeight.objects.filter(version=version, year=year).count() > 20
    assert DrgWeight.objects.filter(version="CHS-DRG 2.0", year=year, grassroots=True).exists()
    assert set(DrgRate.objects.filter(year=year).values_list("level", flat=True)) == {"county", "township", ""}
    assert DipGroup.objects.filter(year=year, kind="core").exists()
    assert DipPointValue.objects.filter(year=year).count() == 2
    in_year = Discharge.objects.filter(discharge_date__year=year).count()
    paid = dict(CasePayment.objects.filter(discharge__discharge_date__year=year).values_list("method")
                .annotate(n=Count("id")))
    assert paid == {"drg": in_year, "dip": in_year}
    drg_total = CasePayment.objects.filter(method="drg", status="paid", discharge__discharge_date__year=year) \
        .aggregate(s=Sum("amount"))["s"]
    cost = Discharge.objects.filter(discharge_date__year=year, payments__method="drg", payments__status="paid") \
        .aggregate(s=Sum("total_cost"))["s"]
    assert Decimal("0.85") < drg_total / cost < Decimal("1.15")  # rates priced near the cases' own costs

    # the ledger of both years, budgets of both schemes, the prior year closed
    community = MedicalCommunity.objects.get()
    assert set(LedgerEntry.objects.filter(year=year - 1).values_list("month", flat=True)) == set(range(1, 13))
    assert set(LedgerEntry.objects.filter(year=year).values_list("month", flat=True)) == set(range(1, TODAY.month))
    assert set(LedgerEntry.objects.values_list("level", flat=True)) >= {"county", "township", "village",
                                                                          "out_of_county", "pharmacy"}
    for y in (year - 1, year):
        assert set(Budget.objects.filter(year=y).values_list("scheme", flat=True)) == {"resident", "employee"}
    closed = YearSettlement.objects.get()  # the residents' prior year; the employees' waits for the officer
    assert closed.budget.year == year - 1 and closed.budget.scheme == "resident"
    assert closed.allocations.count() > 10
    assert sum(a.amount for a in closed.allocations.all()) == closed.community_amount
    assert closed.balance > 0 and closed.community_amount > 0  # a surplus retained
    employees = Budget.objects.filter(year=year - 1, scheme="employee").get()
    assert employees.status == "active"
    from yigongti.insurance.queries.settlement import preview

    assert preview(employees).outcome.balance < 0  # a reasonable overspend to share when it is closed

    # the forecast: the residents' budget runs out in a month still to come, the employees' holds
    from yigongti.insurance.queries.ledger import compute_summary

    f = compute_summary(community, year, "resident")["forecast"]
    assert f.runs_out_month is not None and f.runs_out_month >= TODAY.month, f
    assert compute_summary(community, year, "employee")["forecast"].runs_out_month is None

    assert OutOfCountyFiling.objects.count() >= 5
    status = set(PayLater.objects.values_list("status", flat=True))
    assert status == {"open", "overdue", "settled"}

    # the fund's indicators read the demo (the dashboard's cards are computed, not blank)
    from yigongti.indicators import queries
    from yigongti.indicators.periods import parse_period
    from yigongti.orgs.models import Region

    county = queries._region_area(Region.objects.get(level="county"))
    ytd = parse_period(f"{year}-{TODAY.month - 1:02d}-ytd")
    cards = {c.indicator.code: c.value for c in queries.figures(county, ytd)}
    for code in ("INS_EXEC", "INS_GAP", "INS_CMI", "INS_GR_SHARE", "INS_OUT"):
        assert cards[code].value is not None, (code, cards[code].extra)
    assert cards["INS_GAP"].value > 0
