"""The fund's indicators (insurance/indicators.py) on the dashboard, in the monthly report and on the officer's
home page; N08 of the indicators engine agrees with the ledger's in-county share."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.cast import SYSTEM, as_
from tests.insurance.conftest import PAST, POSTED_MONTHS, YEAR
from tests.insurance.fixtures_cases import PNEUMONIA, stay
from yigongti.indicators import queries
from yigongti.indicators.definitions import INDICATORS
from yigongti.indicators.periods import parse_period
from yigongti.insurance import indicators as fund


def _county(cast):
    return queries._region_area(cast.county)


def _figure(area, period: str, code: str):
    return {c.indicator.code: c.value for c in queries.figures(area, parse_period(period), [code])}[code]


def test_the_funds_indicators_are_registered_with_both_languages():
    for code in fund.FIGURES:
        ind = INDICATORS[code]
        assert ind.kind == "registry" and ind.dimension == fund.D_FUND
        assert ind.definition and ind.definition_en and ind.name_en
        assert code in queries.DISPLAY_ORDER and code in queries.REGISTRY_FIGURES


@pytest.mark.parametrize("period", [f"{YEAR}-03", f"{YEAR}-Q1", f"{YEAR}-{POSTED_MONTHS:02d}-ytd", str(PAST)])
def test_n08_of_the_indicators_engine_equals_the_ledgers_in_county_share(posted, period):
    from yigongti.encounters.models import InsuranceSettlement
    from yigongti.indicators.services import refresh_facts

    cast = posted.cast
    far = cast.far_county.code
    # the world's far-county insured lives where their insurance is (the facts follow the area code, the ledger
    # the insurance's county: they coincide for real data)
    InsuranceSettlement.objects.filter(residence_county=far[:6]).update(area_code=far)
    refresh_facts()
    engine = _figure(_county(cast), period, "N08")
    months = [(int(m[:4]), int(m[5:])) for m in parse_period(period).months if int(m[:4]) < YEAR
              or int(m[5:]) <= POSTED_MONTHS]
    assert engine.value is not None
    assert engine.value == fund.ledger_in_county_share(cast.community, months)


def test_budget_execution_against_the_monthly_allocation(posted, budget_of_year):
    cast = posted.cast
    v = _figure(_county(cast), f"{YEAR}-Q1", "INS_EXEC")
    spend = sum((posted.fund_of(YEAR, m, s) for m in (1, 2, 3) for s in ("resident", "employee")), Decimal(0))
    from yigongti.insurance.budget import prealloc_of

    allocated = sum(prealloc_of(budget_of_year)[:3], Decimal(0))
    assert v.numerator == spend and v.denominator == allocated
    assert v.value == (spend / allocated * 100).quantize(Decimal("0.01"))
    # a year without a budget, a township (the fund is the community's), a month not posted
    assert _figure(_county(cast), f"{PAST}-03", "INS_EXEC").extra["note"] == "本年度未设定预算"
    township = queries._region_area(cast.township)
    assert _figure(township, f"{YEAR}-03", "INS_EXEC").value is None
    assert _figure(_county(cast), f"{YEAR}-11", "INS_EXEC").extra["note"] == "本期台账未过账"


def test_the_forecast_gap_is_the_ledgers_forecast_against_the_budget(posted, budget_of_year):
    from yigongti.insurance.queries.ledger import forecast_for

    cast = posted.cast
    v = _figure(_county(cast), f"{YEAR}-{POSTED_MONTHS:02d}", "INS_GAP")
    f = forecast_for(cast.community, YEAR, "resident")
    assert v.numerator == f.expected and v.denominator == budget_of_year.amount
    assert v.value == ((f.expected - budget_of_year.amount) / budget_of_year.amount * 100).quantize(Decimal("0.01"))
    # the world spends 10 % more than the year before against a budget 5 % higher: it runs out, and says when
    assert v.value > 0 and f.runs_out_month and v.extra["note"] == f"预计{f.runs_out_month}月用完预算"


def test_out_of_county_spend_names_its_costliest_disease_groups(posted):
    cast = posted.cast
    v = _figure(_county(cast), f"{YEAR}-Q1", "INS_OUT")
    out = sum((s.fund_paid for s in posted.created if s.facility_level == "out_of_county"
               and s.settle_date.year == YEAR and s.settle_date.month <= 3
               and s.residence_county == posted.county), Decimal(0))
    assert v.value == (out / 10000).quantize(Decimal("0.01"))
    assert v.extra["note"].startswith("前三：C34")


def _grouped_stays(cast):
    from yigongti.insurance.discharges import group_discharges, sync_discharges
    from yigongti.insurance.models import CaseGroup, DrgWeight

    day = dt.date(YEAR, 3, 1)
    stay(cast, "resident", cast.county_hospital, day, day + dt.timedelta(days=6))
    stay(cast, "neighbour", cast.county_hospital, day, day + dt.timedelta(days=8), secondary=("J96.000",))
    stay(cast, "resident", cast.township_center, day, day + dt.timedelta(days=5), main=PNEUMONIA)
    sync_discharges(actor=SYSTEM)
    group_discharges(actor=SYSTEM)
    groups = list(CaseGroup.objects.filter(version="CHS-DRG 2.0", status="grouped").select_related(
        "discharge__facility"))
    assert len(groups) == 3
    weights = {}
    for g in groups:
        weights[g.drg] = Decimal("0.8") if g.drg.endswith("5") else Decimal("1.6")
    for drg, w in weights.items():
        DrgWeight.objects.create(version="CHS-DRG 2.0", year=YEAR, drg=drg, weight=w, grassroots=drg.endswith("5"))
    return groups, weights


def test_case_mix_index_and_the_grassroots_share_of_grassroots_drgs(cast):
    groups, weights = _grouped_stays(cast)
    period = f"{YEAR}-03"
    v = _figure(_county(cast), period, "INS_CMI")
    total = sum((weights[g.drg] for g in groups), Decimal(0))
    assert v.denominator == 3 and v.value == (total / 3).quantize(Decimal("0.01"))
    hospital = queries.Area("facility", cast.county_hospital.code, "", cast.county_hospital.region.code,
                            cast.county_hospital.code)
    mine = [g for g in groups if g.discharge.facility_id == cast.county_hospital.pk]
    assert _figure(hospital, period, "INS_CMI").denominator == len(mine)
    share = _figure(_county(cast), period, "INS_GR_SHARE")
    listed = [g for g in groups if g.drg.endswith("5")]
    at_grassroots = [g for g in listed if g.discharge.facility_id == cast.township_center.pk]
    assert share.denominator == len(listed) and share.numerator == len(at_grassroots) == 1
    assert _figure(_county(cast), f"{YEAR}-05", "INS_CMI").value is None  # no discharges that month


def test_the_dashboard_and_the_monthly_report_show_the_fund(posted, budget_of_year, officer, login):
    from yigongti.indicators import reports

    cast = posted.cast
    c = login(officer)
    page = c.get(f"/indicators/?area={_county(cast).key}&period={YEAR}-03").content.decode()
    assert fund.D_FUND in page
    for code in fund.FIGURES:
        assert f'data-testid="card-{code}"' in page
    assert c.get(f"/indicators/INS_EXEC/?area={_county(cast).key}&period={YEAR}-03").status_code == 200
    overview = reports.sections(_county(cast), parse_period(f"{YEAR}-03"))["overview"]
    assert {row[0] for row in overview} >= set(fund.FIGURES)


def test_the_officers_home_panel_shows_execution_the_forecast_and_lists_to_complete(posted, budget_of_year,
                                                                                   officer, monkeypatch):
    from django.utils import timezone

    from yigongti.insurance.home import fund_panel
    from yigongti.insurance.models import Discharge

    cast = posted.cast
    monkeypatch.setattr(timezone, "localdate", lambda *a: dt.date(YEAR, POSTED_MONTHS + 1, 5))
    stay(cast, "resident", cast.county_hospital, dt.date(YEAR, 3, 1), dt.date(YEAR, 3, 4), main="J18.9")
    from yigongti.insurance.discharges import sync_discharges

    sync_discharges(actor=SYSTEM)
    assert Discharge.objects.exclude(problems=[]).count() == 1
    panel = fund_panel(as_(officer))
    ids = [i.testid for i in panel.items]
    assert ids == ["insurance-execution", "insurance-forecast", "insurance-n08", "insurance-incomplete"]
    months = [(YEAR, m) for m in range(1, POSTED_MONTHS + 1)]
    assert panel.items[2].value == f"{fund.ledger_in_county_share(cast.community, months)}%"
    assert panel.items[1].tone == "danger"  # the world's budget runs out
    assert fund_panel(as_(cast.village_doctor)) is None
