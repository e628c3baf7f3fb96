"""The ledger: posted by month, level, facility, scheme and group; idempotent; totals equal the settlements;
the page for the fund's readers only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum

from tests.cast import as_
from tests.insurance.conftest import PAST, POSTED_MONTHS, YEAR
from yigongti.core.errors import Forbidden
from yigongti.insurance.ledger import post_month, post_year
from yigongti.insurance.models import LedgerEntry
from yigongti.insurance.queries.ledger import compute_summary, ledger_summary


def _fund(**filters) -> Decimal:
    return LedgerEntry.objects.filter(**filters).aggregate(s=Sum("fund_paid"))["s"] or Decimal(0)


def test_posted_totals_equal_the_settlements_of_the_countys_insureds_with_reversals_netted(posted):
    w = posted
    for year in (PAST, YEAR):
        assert _fund(year=year, scheme="resident") == w.fund_of(year)
    assert _fund(year=YEAR, scheme="employee") == Decimal(2000)
    # the far-county insured's 9,999 is not ours
    assert not LedgerEntry.objects.filter(fund_paid=Decimal(9999)).exists()
    march = LedgerEntry.objects.filter(year=YEAR, month=3, scheme="resident", group="K80")
    assert march.aggregate(n=Sum("cases"), f=Sum("fund_paid")) == {"n": 1, "f": Decimal(784)}


def test_posting_a_month_again_replaces_its_rows(posted, officer):
    c = posted.cast.community
    before = list(LedgerEntry.objects.filter(year=YEAR, month=3).values_list("level", "group", "fund_paid")
                  .order_by("level", "group", "fund_paid"))
    post_month(c, YEAR, 3, actor=as_(officer))
    post_month(c, YEAR, 3, actor=as_(officer))
    after = list(LedgerEntry.objects.filter(year=YEAR, month=3).values_list("level", "group", "fund_paid")
                 .order_by("level", "group", "fund_paid"))
    assert after == before
    posted.settle(dt.date(YEAR, 3, 28), 100, level="village")
    post_month(c, YEAR, 3, actor=as_(officer))
    assert _fund(year=YEAR, month=3, scheme="resident") == posted.fund_of(YEAR, 3)


def test_levels_members_and_out_of_county_are_split_as_the_indicators_define_them(posted):
    cast = posted.cast
    rows = LedgerEntry.objects.filter(year=PAST, month=1)
    by_level = {r["level"]: r["f"] for r in rows.values("level").annotate(f=Sum("fund_paid"))}
    assert by_level == {"county": Decimal("1200.00"), "township": Decimal("360.00"), "village": Decimal("120.00"),
                        "out_of_county": Decimal("600.00"), "pharmacy": Decimal("60.00")}
    assert rows.get(level="county").facility_id == cast.county_hospital.pk
    assert rows.get(level="village").facility_id == cast.village_clinic.pk
    assert rows.get(level="out_of_county").facility_id is None
    assert rows.get(level="pharmacy").facility_id is None
    assert rows.get(level="county").group == "I63"  # no DRG grouped: the ICD-10 category
    assert rows.get(level="pharmacy").group == ""


def test_a_grouped_discharge_posts_under_its_drg(insurance_world, officer, cast):
    from yigongti.encounters.models import Encounter
    from yigongti.insurance.models import CaseGroup, Discharge

    day = dt.date(YEAR, 2, 3)
    enc = Encounter.objects.create(area_code=cast.village.code, residence_county=insurance_world.county,
                                   facility=cast.county_hospital, type="inpatient", admit_date=day,
                                   discharge_date=day, main_icd10="I63.9")
    d = Discharge.objects.create(encounter=enc, facility=cast.county_hospital, sex="1", age_years=70, admit_date=day,
                                 discharge_date=day, los_days=1, diagnoses=["I63.9"])
    CaseGroup.objects.create(discharge=d, version="CHS-DRG 2.0", mdc="MDCB", adrg="BR2", drg="BR23",
                             status="grouped")
    s = insurance_world.settle(day, 5000, level="county", icd10="I63.9")
    s.encounter = enc
    s.save()
    post_month(cast.community, YEAR, 2, actor=as_(officer))
    assert LedgerEntry.objects.get(year=YEAR, month=2, group="BR23").fund_paid == Decimal(5000)


def test_a_doctor_cannot_post_and_the_refusal_is_audited(insurance_world):
    from yigongti.core.models import AuditEvent

    doctor = insurance_world.cast.county_doctor
    with pytest.raises(Forbidden):
        post_year(insurance_world.cast.community, YEAR, actor=as_(doctor))
    assert AuditEvent.objects.filter(action="denied", actor_id=doctor.pk).exists()
    assert not LedgerEntry.objects.exists()


def test_the_summary_shows_spend_against_budget_and_is_cached_until_the_next_post(posted, budget_of_year, officer,
                                                                                  django_capture_on_commit_callbacks):
    c = posted.cast.community
    s = ledger_summary(c, YEAR, "resident")
    assert s["posted"] == list(range(1, POSTED_MONTHS + 1))
    assert s["to_date"] == posted.fund_of(YEAR)
    assert s["execution"] == pytest.approx(float(posted.fund_of(YEAR) / budget_of_year.amount))
    oc = next(lv for lv in s["levels"] if lv["level"] == "out_of_county")
    assert s["out_of_county"] == oc["fund"] and 0 < s["out_of_county_share"] < 1
    assert s["groups"][0]["group"] == "I63"
    posted.settle(dt.date(YEAR, 6, 28), 1000, level="county")
    assert ledger_summary(c, YEAR, "resident")["to_date"] == s["to_date"]  # cached
    with django_capture_on_commit_callbacks(execute=True):
        post_month(c, YEAR, 6, actor=as_(officer))  # moves the ledger version after the commit
    assert ledger_summary(c, YEAR, "resident")["to_date"] == s["to_date"] + 1000
    assert compute_summary(c, YEAR, "resident")["to_date"] == s["to_date"] + 1000


@pytest.mark.parametrize("who", ["manager", "bureau", "city"])
def test_the_ledger_page_renders_for_the_funds_readers(posted, budget_of_year, login, who):
    r = login(getattr(posted.cast, who)).get(f"/insurance/?year={YEAR}")
    assert r.status_code == 200
    for testid in ("budget-amount", "execution-rate", "monthly-bars", "spend-by-level", "top-groups",
                   "forecast-expected"):
        assert f'data-testid="{testid}"' in r.text
    assert 'data-testid="post-ledger"' not in r.text  # only the officer posts


def test_the_ledger_page_is_refused_to_a_doctor(posted, login):
    assert login(posted.cast.county_doctor).get("/insurance/").status_code == 403
    assert login(posted.cast.county_doctor).get("/api/v1/insurance/budget/ledger").status_code == 403


def test_the_officer_posts_from_the_page_and_reads_the_api(insurance_world, officer, login):
    client = login(officer)
    r = client.post("/insurance/post/", {"year": YEAR, "scheme": "resident"})
    assert r.status_code == 302
    assert _fund(year=YEAR, scheme="resident") == insurance_world.fund_of(YEAR)
    r = client.get(f"/api/v1/insurance/budget/ledger?year={YEAR}")
    assert r.status_code == 200 and Decimal(r.json()["to_date"]) == insurance_world.fund_of(YEAR)
    r = client.post("/api/v1/insurance/budget/ledger/post", {"year": YEAR, "month": 13},
                    content_type="application/json")
    assert r.status_code == 422


def test_the_ledger_page_speaks_english_too(posted, budget_of_year, login, settings):
    client = login(posted.cast.manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    r = client.get(f"/insurance/?year={YEAR}", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200 and "Insurance fund ledger" in r.text and "The 15 costliest disease groups" in r.text


def test_the_api_summary_and_forecast_carry_the_budget_and_the_tight_month(posted, budget_of_year, login):
    client = login(posted.cast.bureau)
    s = client.get(f"/api/v1/insurance/budget/ledger?year={YEAR}").json()
    assert s["budget"]["version"] == 1 and Decimal(s["amount"]) == budget_of_year.amount
    assert [m["month"] for m in s["months"]] == list(range(1, 13)) and len(s["groups"]) <= 15
    f = client.get(f"/api/v1/insurance/budget/forecast?year={YEAR}").json()
    # the world spends 10 % more than last year on a budget of +5 %: it runs out in December
    assert f["runs_out_month"] == 12 and f["warning"] == "预计 12 月超出预算"
    assert Decimal(f["low"]) <= Decimal(f["expected"]) <= Decimal(f["high"])
