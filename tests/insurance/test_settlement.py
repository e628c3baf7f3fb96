"""Year-end settlement: surplus retained, reasonable overspend shared, overspend beyond the cap borne by the
community, the withholding returned by the quality score, the out-of-county deduction; allocation by
workload, score and fixed shares to the cent; the close (officer only, once, from the ledger or the
settlements), its pages and its API. The race of two closes is in the PostgreSQL-only test at the end."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import time
from decimal import Decimal as D

import pytest
from django.db import connection

from tests.cast import as_
from tests.concurrency import race as _race
from yigongti.core.audit import AuditEvent
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.insurance import settlement as st
from yigongti.insurance.models import Budget, BudgetStatus, LedgerEntry, MemberAllocation, YearSettlement
from yigongti.insurance.settlement import Member, Rules, Spend, allocate, compute_settlement

_numbers = itertools.count(1)
PAST = dt.date.today().year - 1


def rules(**kw) -> Rules:
    base = {"retained_share": "0.6", "overspend_cap": "0.05", "overspend_share": "0.5"}
    extra = kw.pop("extra", None)
    base.update({k: str(v) for k, v in kw.items()})
    return Rules.build(extra=extra, **base)


# ---- the pure computation -----------------------------------------------------------------------------------


def test_a_surplus_is_retained_at_the_community_share_and_the_rest_returns_to_the_fund():
    o = compute_settlement("10000000", Spend(D("9000000"), D("800000")), rules())
    assert o.balance == D("1000000") and o.surplus == D("1000000")
    assert o.retained == D("600000.00") and o.surplus_to_fund == D("400000.00")
    assert o.community_amount == D("600000.00") and o.fund_amount == 0 and o.overspend == 0
    assert any("结余留用" in line and "600,000.00 元" in line and "返还基金 400,000.00 元" in line
               for line in o.explanation)


def test_a_reasonable_overspend_is_shared_between_the_fund_and_the_community():
    o = compute_settlement("10000000", D("10300000"), rules(overspend_share="0.7"))
    assert o.overspend == D("300000") and o.overspend_cap_amount == D("500000.00")
    assert o.reasonable_overspend == D("300000") and o.excess_overspend == 0
    assert o.fund_shared == o.fund_amount == D("210000.00") and o.community_shared == D("90000.00")
    assert o.community_amount == D("-90000.00")
    assert any("合理超支分担" in line and "210,000.00 元" in line for line in o.explanation)


def test_overspend_beyond_the_cap_is_borne_by_the_community_alone():
    o = compute_settlement("10000000", D("11200000"), rules())
    assert o.reasonable_overspend == D("500000.00") and o.excess_overspend == D("700000.00")
    assert o.fund_amount == D("250000.00")
    assert o.community_amount == -(D("250000.00") + D("700000.00"))
    assert any("超支不补" in line and "700,000.00 元" in line for line in o.explanation)


def test_spend_exactly_on_budget_leaves_nothing_to_retain_or_share():
    o = compute_settlement("5000", D("5000"), rules())
    assert o.balance == o.community_amount == o.fund_amount == 0
    assert any("持平" in line for line in o.explanation)


def test_the_withholding_is_returned_in_proportion_to_the_quality_score():
    o = compute_settlement("10000000", D("9000000"), rules(withholding_rate="0.05", extra={"quality_score": 92}))
    assert o.withheld == D("500000.00") and o.withholding_returned == D("460000.00")
    assert o.withholding_kept == D("40000.00")
    assert o.community_amount == D("600000.00") - D("40000.00")
    assert any("质量考核得分 92 分" in line and "扣减 40,000.00 元" in line for line in o.explanation)


def test_the_withholding_is_returned_by_the_bands_the_rules_give():
    bands = [[90, 1], [80, "0.8"], [60, "0.5"]]
    returned = {score: compute_settlement("1000000", D("1000000"), rules(
        withholding_rate="0.1", extra={"quality_score": score, "quality_bands": bands})).withholding_returned
        for score in (95, 90, 85, 60, 59)}
    assert returned == {95: D("100000.00"), 90: D("100000.00"), 85: D("80000.00"), 60: D("50000.00"), 59: D("0.00")}


def test_without_a_quality_score_the_withholding_is_returned_in_full():
    o = compute_settlement("1000000", D("900000"), rules(withholding_rate="0.05"))
    assert o.withholding_returned == o.withheld == D("50000.00") and o.withholding_kept == 0
    assert any("全额返还" in line for line in o.explanation)


def test_the_out_of_county_deduction_is_a_share_of_the_out_of_county_spend_taken_from_the_community():
    o = compute_settlement("1000000", Spend(D("900000"), D("200000")), rules(out_of_county_deduction="0.1"))
    assert o.out_of_county_deducted == D("20000.00")
    assert o.community_amount == D("60000.00") - D("20000.00")
    assert any("外转扣减" in line and "20,000.00 元" in line for line in o.explanation)


@pytest.mark.parametrize("kw, word", [({"retained_share": "1.2"}, "结余留用比例"),
                                      ({"extra": {"quality_score": 120}}, "质量考核得分"),
                                      ({"extra": {"quality_score": "九十"}}, "质量考核得分"),
                                      ({"extra": {"quality_bands": [[90]]}}, "返还档次")])
def test_impossible_rules_are_refused_in_chinese(kw, word):
    with pytest.raises(InvalidInput) as e:
        compute_settlement("1000", D("900"), rules(**kw))
    assert word in e.value.message


def test_an_out_of_county_spend_larger_than_the_spend_is_refused():
    with pytest.raises(InvalidInput):
        compute_settlement("1000", Spend(D("900"), D("901")), rules())


# ---- allocation ----------------------------------------------------------------------------------------------

MEMBERS = [Member(1, "A01", "县医院", 1000, 300, D("500000")), Member(2, "B01", "塔峰镇卫生院", 700, 40, D("80000")),
           Member(3, "B02", "总市镇卫生院", 333, 17, D("60000.55")),
           Member(4, "D01", "大塘村卫生室", 211, 0, D("7000"))]


@pytest.mark.parametrize("method, formula", [
    ("workload", {}), ("workload", {"basis": "fund_paid"}), ("workload", {"inpatient_factor": "2.5"}),
    ("performance", {"scores": {"A01": 91, "B01": "88.5", "B02": 77, "D01": 60}}),
    ("fixed", {"A01": "0.5", "B01": "0.2", "B02": "0.2", "D01": "0.1"})])
def test_every_allocation_sums_exactly_to_the_cent(method, formula):
    rng = random.Random(14)
    for _ in range(200):
        amount = D(rng.randint(-10**9, 10**9)) / 100
        out = allocate(amount, MEMBERS, method, formula)
        assert sum(a.amount for a in out) == amount
        assert all(a.amount == a.amount.quantize(D("0.01")) for a in out)
        assert [a.facility_id for a in out] == [1, 2, 3, 4]


def test_workload_weighs_inpatient_discharges_by_the_factor():
    out = allocate(D("1000.00"), MEMBERS[:2], "workload", {"inpatient_factor": 3})
    assert [a.basis for a in out] == [D(1900), D(820)]
    assert out[0].amount == D("698.53") and out[1].amount == D("301.47")  # 1900/2720, 820/2720


def test_leftover_cents_go_to_the_largest_remainders():
    three = [Member(i, f"F{i}", "", 1) for i in (1, 2, 3)]
    assert [a.amount for a in allocate(D("100.00"), three, "workload", {})] == [D("33.34"), D("33.33"), D("33.33")]
    assert [a.amount for a in allocate(D("-0.02"), three, "workload", {})] == [D("-0.01"), D("-0.01"), D("0.00")]


def test_fixed_shares_not_summing_to_one_are_refused_clearly():
    with pytest.raises(InvalidInput) as e:
        allocate(D("100"), MEMBERS, "fixed", {"A01": "0.5", "B01": "0.3", "B02": "0.15"})
    assert e.value.code == "bad_formula" and "固定比例之和应为 1" in e.value.message and "0.95" in e.value.message


def test_fixed_shares_name_only_members():
    with pytest.raises(InvalidInput) as e:
        allocate(D("100"), MEMBERS, "fixed", {"A01": "0.5", "X99": "0.5"})
    assert "X99" in e.value.message


def test_members_not_named_in_fixed_shares_get_nothing():
    out = allocate(D("100"), MEMBERS, "fixed", {"shares": {"A01": "0.75", "B01": "0.25"}})
    assert [a.amount for a in out] == [D("75.00"), D("25.00"), D("0.00"), D("0.00")]


def test_performance_needs_a_score_for_every_member():
    with pytest.raises(InvalidInput) as e:
        allocate(D("100"), MEMBERS, "performance", {"scores": {"A01": 90, "B01": 80}})
    assert "总市镇卫生院" in e.value.message and "大塘村卫生室" in e.value.message


def test_an_unknown_method_or_a_zero_basis_is_refused():
    with pytest.raises(InvalidInput):
        allocate(D("100"), MEMBERS, "lottery", {})
    with pytest.raises(InvalidInput) as e:
        allocate(D("100"), [Member(1, "A", "甲")], "workload", {})
    assert "分配基数合计为 0" in e.value.message
    assert [a.amount for a in allocate(D("0"), [Member(1, "A", "甲")], "workload", {})] == [D("0.00")]


def test_the_close_form_gives_percent_shares_as_fractions():
    data = {"share_1": "50", "share_2": "30%", "share_3": "20", "share_4": ""}
    formula = st.formula_from_form("fixed", data, MEMBERS)
    assert formula == {"shares": {"A01": "0.5", "B01": "0.3", "B02": "0.2"}}
    assert sum(a.amount for a in allocate(D("10"), MEMBERS, "fixed", formula)) == D("10.00")


# ---- the world: a community with settlements of a past year and a budget ----------------------------------------


def settle(cast, day, fund, *, facility=None, kind="outpatient", level=None, county=None, scheme="resident",
           reverses=""):
    from yigongti.encounters.models import InsuranceSettlement

    level = level or ("county" if facility is None else facility.care_level.value)
    code = facility.code if facility is not None else "H430100000001"
    return InsuranceSettlement.objects.create(
        settlement_no=f"S{next(_numbers):09d}", area_code=cast.village.code, residence_county=county or "431127",
        scheme=scheme, type=kind, facility_code=code, facility_name="", facility_county="431127"
        if facility is not None else "430100", facility_level=level, admit_date=day, settle_date=day,
        total_cost=D(fund) * 2, fund_paid=D(fund), self_pay=D(fund), reverses_no=reverses)


def make_budget(cast, year=PAST, amount="100000", **kw):
    fields = {"prior_spend": D(amount), "growth_rate": D(0), "amount": D(amount), "retained_share": D("0.6"),
              "overspend_cap": D("0.05"), "overspend_share": D("0.5"), "status": BudgetStatus.ACTIVE}
    fields.update(kw)
    return Budget.objects.create(community=cast.community, year=year, scheme="resident", **fields)


@pytest.fixture
def year_world(cast):
    """A past year: 90,000 元 of fund spend (of which 10,000 outside the county and 2,000 at a pharmacy)
    against a budget of 100,000 元; visits and discharges at three members."""
    day = dt.date(PAST, 6, 1)
    for _ in range(3):
        settle(cast, day, "20000", facility=cast.county_hospital, kind="inpatient")  # 60,000, 3 discharges
    for _ in range(10):
        settle(cast, day, "1000", facility=cast.township_center)  # 10,000, 10 visits
    settle(cast, day, "3000", facility=cast.village_clinic)  # 3,000, 1 visit
    settle(cast, day, "5000", facility=cast.other_center, kind="inpatient")  # 5,000, 1 discharge …
    reversed_one = settle(cast, day, "5000", facility=cast.other_center, kind="inpatient")
    settle(cast, day, "-5000", facility=cast.other_center, kind="inpatient", reverses=reversed_one.settlement_no)
    settle(cast, day, "10000", kind="inpatient", level="out_of_county")  # outside the county
    settle(cast, day, "2000", kind="pharmacy", level="pharmacy", facility=cast.county_hospital)
    settle(cast, day, "99999", facility=cast.county_hospital, county="411625")  # another county's insured
    settle(cast, day, "77777", facility=cast.county_hospital, scheme="employee")  # another scheme
    settle(cast, dt.date(PAST + 1, 1, 1), "88888", facility=cast.county_hospital)  # next year
    return make_budget(cast)


def test_the_year_figures_come_from_the_settlements_when_the_ledger_is_not_posted(year_world, cast):
    from yigongti.insurance.queries import settlement as q

    f = q.year_figures(cast.community, PAST, "resident")
    assert f.source == "settlements" and any("未过账" in n for n in f.notes)
    assert f.spend == Spend(D("90000"), D("10000"))
    by = {m.code: m for m in f.members}
    assert (by[cast.county_hospital.code].inpatient, by[cast.county_hospital.code].fund_paid) == (3, D("60000"))
    assert by[cast.township_center.code].outpatient == 10
    assert (by[cast.other_center.code].inpatient, by[cast.other_center.code].fund_paid) == (1, D("5000"))
    assert by[cast.other_clinic.code].outpatient == 0


def test_the_year_figures_come_from_the_ledger_when_every_month_is_posted(year_world, cast):
    from yigongti.insurance.queries import settlement as q

    for month in range(1, 13):
        LedgerEntry.objects.create(community=cast.community, year=PAST, month=month, scheme="resident",
                                   facility=cast.county_hospital, facility_code=cast.county_hospital.code,
                                   level="county", settlement_type="inpatient", cases=1, fund_paid=D("1000"))
    LedgerEntry.objects.create(community=cast.community, year=PAST, month=3, scheme="resident", facility=None,
                               facility_code="H430100000001", level="out_of_county", settlement_type="inpatient",
                               cases=1, fund_paid=D("500"))
    f = q.year_figures(cast.community, PAST, "resident")
    assert f.source == "ledger" and f.spend == Spend(D("12500"), D("500"))
    assert {m.code: m.inpatient for m in f.members}[cast.county_hospital.code] == 12


def test_a_partly_posted_ledger_falls_back_to_the_settlements_and_says_so(year_world, cast):
    from yigongti.insurance.queries import settlement as q

    LedgerEntry.objects.create(community=cast.community, year=PAST, month=1, scheme="resident", facility_code="X",
                               level="county", settlement_type="outpatient", cases=1, fund_paid=D("1"))
    f = q.year_figures(cast.community, PAST, "resident")
    assert f.source == "settlements" and any("仅过账 1 月" in n for n in f.notes)


# ---- the close ---------------------------------------------------------------------------------------------------


def test_the_officer_closes_a_past_year_into_a_settlement_allocated_to_the_members(year_world, cast, officer):
    s = st.close_year(year_world, "workload", {}, actor=as_(officer))
    assert s.spend == D("90000.00") and s.balance == D("10000.00") and s.community_amount == D("6000.00")
    assert s.figures["source"] == "settlements" and s.figures["retained"] == "6000.00"
    assert s.explanation[0].startswith("基金台账本年度未过账")
    allocations = list(MemberAllocation.objects.filter(settlement=s))
    assert len(allocations) == 5 and sum(a.amount for a in allocations) == D("6000.00")
    hospital = next(a for a in allocations if a.facility_id == cast.county_hospital.pk)
    assert hospital.basis == D(9) and hospital.figures["inpatient"] == 3  # 3 discharges × 3
    year_world.refresh_from_db()
    assert year_world.status == BudgetStatus.CLOSED and s.closed_by == officer
    assert AuditEvent.objects.filter(action="create", object_type="year_settlement", object_id=str(s.pk)).exists()


def test_a_manager_cannot_close_and_the_refusal_is_audited(year_world, cast):
    with pytest.raises(Forbidden):
        st.close_year(year_world, "workload", {}, actor=as_(cast.manager))
    assert not YearSettlement.objects.exists()
    assert AuditEvent.objects.filter(action="denied", actor="manager",
                                     detail__attempted="insurance.close_year").exists()


def test_closing_a_closed_year_is_refused_clearly(year_world, officer):
    st.close_year(year_world, "workload", {}, actor=as_(officer))
    with pytest.raises(Conflict) as e:
        st.close_year(year_world, "fixed", {}, actor=as_(officer))
    assert e.value.code == "already_closed" and "已清算" in e.value.message and "insurance" in e.value.message
    assert YearSettlement.objects.count() == 1


def test_only_the_current_version_of_a_budget_can_be_closed(year_world, cast, officer):
    make_budget(cast, version=2, amount="95000")
    with pytest.raises(Conflict) as e:
        st.close_year(year_world, "workload", {}, actor=as_(officer))
    assert e.value.code == "superseded"


def test_the_current_year_closes_only_when_forced_and_a_future_year_never(cast, officer):
    this = dt.date.today().year
    current, future = make_budget(cast, year=this), make_budget(cast, year=this + 1)
    with pytest.raises(InvalidInput) as e:
        st.close_year(current, "workload", {"basis": "fund_paid"}, actor=as_(officer))
    assert e.value.code == "year_not_over" and "提前清算" in e.value.message
    with pytest.raises(InvalidInput):
        st.close_year(future, "workload", {}, actor=as_(officer), force=True)
    settle(cast, dt.date(this, 1, 2), "100", facility=cast.county_hospital)
    s = st.close_year(current, "workload", {"basis": "fund_paid"}, actor=as_(officer), force=True)
    assert s.figures["forced"] is True


def test_a_bad_formula_at_close_leaves_the_year_open(year_world, officer):
    with pytest.raises(InvalidInput) as e:
        st.close_year(year_world, "fixed", {"shares": {"431127A100001": "0.4"}}, actor=as_(officer))
    assert "固定比例之和" in e.value.message
    year_world.refresh_from_db()
    assert year_world.status == BudgetStatus.ACTIVE and not YearSettlement.objects.exists()


# ---- the pages ---------------------------------------------------------------------------------------------------


def _url(year=PAST, scheme="resident"):
    return f"/insurance/settlement/{year}/{scheme}/"


def test_the_officer_sees_the_preview_and_the_close_form(year_world, officer, client, login):
    login(officer)
    r = client.get(_url())
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="close-form"' in html and "未清算（预览）" in html
    assert "6,000.00 元" in html and "塔峰镇卫生院" in html


def test_the_manager_sees_the_preview_without_the_close_form(year_world, cast, client, login):
    login(cast.manager)
    html = client.get(_url()).content.decode()
    assert "6,000.00 元" in html and 'data-testid="close-form"' not in html and "close-officer-only" in html


def test_a_doctor_may_not_open_the_settlement(year_world, cast, client, login):
    login(cast.county_doctor)
    assert client.get(_url()).status_code == 403
    assert client.get("/insurance/settlement/").status_code == 403


def test_the_index_lists_the_budgets_and_leads_to_the_year(year_world, officer, client, login):
    login(officer)
    r = client.get("/insurance/settlement/")
    assert r.status_code == 200 and f'data-testid="settlement-open-{PAST}-resident"' in r.content.decode()
    r = client.get("/insurance/settlement/", {"year": PAST, "scheme": "resident"})
    assert r.status_code == 302 and _url() in r["Location"]
    assert client.get("/insurance/settlement/", {"year": "20x5"}).status_code == 400


def test_a_year_without_a_budget_says_so(officer, client, login):
    login(officer)
    r = client.get(_url(PAST - 3))
    assert r.status_code == 200 and "settlement-no-budget" in r.content.decode()
    assert client.get(_url(PAST, "nosuch")).status_code == 404


def test_the_officer_closes_by_fixed_shares_in_the_page(year_world, cast, officer, client, login):
    login(officer)
    data = {"method": "fixed", f"share_{cast.county_hospital.pk}": "70", f"share_{cast.township_center.pk}": "30"}
    r = client.post(_url(), data)
    assert r.status_code == 302
    s = YearSettlement.objects.get()
    amounts = {a.facility_id: a.amount for a in s.allocations.all()}
    assert amounts[cast.county_hospital.pk] == D("4200.00") and amounts[cast.township_center.pk] == D("1800.00")
    html = client.get(r["Location"]).content.decode()
    assert "已清算" in html and ">4,200.00</td>" in html  # the amount as the page shows it
    assert f"/insurance/settlement/{s.pk}/statement/{cast.county_hospital.pk}.pdf" in html
    assert f"/insurance/settlement/{s.pk}/summary.xlsx" in html


def test_bad_shares_in_the_page_are_refused_and_the_typed_values_kept(year_world, cast, officer, client, login):
    login(officer)
    r = client.post(_url(), {"method": "fixed", f"share_{cast.county_hospital.pk}": "70",
                             f"share_{cast.township_center.pk}": "20"})
    html = r.content.decode()
    assert r.status_code == 400 and "固定比例之和应为 1" in html and 'value="70"' in html and 'value="20"' in html
    assert not YearSettlement.objects.exists()


def test_a_manager_posting_the_close_form_is_refused_and_audited(year_world, cast, client, login):
    login(cast.manager)
    r = client.post(_url(), {"method": "workload"})
    assert r.status_code == 403 and not YearSettlement.objects.exists()
    assert AuditEvent.objects.filter(action="denied", actor="manager").exists()


def test_closing_twice_in_the_page_says_it_is_closed(year_world, officer, client, login):
    login(officer)
    client.post(_url(), {"method": "workload"})
    r = client.post(_url(), {"method": "workload"}, follow=True)
    assert "不能重复清算" in r.content.decode() and YearSettlement.objects.count() == 1


# ---- the API -----------------------------------------------------------------------------------------------------

API = "/api/v1/insurance/settlement"


def test_the_api_previews_closes_and_returns_the_settlement(year_world, cast, officer, client, login):
    login(officer)
    r = client.get(f"{API}/preview", {"year": PAST})
    body = r.json()
    assert r.status_code == 200 and body["figures"]["community_amount"] == "6000.00" and body["settlement_id"] is None
    assert body["source"] == "settlements" and len(body["members"]) == 5
    payload = {"year": PAST, "scheme": "resident", "method": "performance",
               "formula": {"scores": {f.code: 90 for f in cast.community.members.all()}}}
    r = client.post(f"{API}/close", json.dumps(payload), content_type="application/json")
    assert r.status_code == 201, r.content
    s = r.json()
    assert sum(D(a["amount"]) for a in s["allocations"]) == D("6000.00") and s["method"] == "performance"
    again = client.post(f"{API}/close", json.dumps(payload), content_type="application/json")
    assert again.status_code == 409 and again["Content-Type"] == "application/problem+json"
    assert again.json()["code"] == "already_closed"
    assert client.get(f"{API}/{s['id']}").json()["community_amount"] == "6000.00"
    assert [x["id"] for x in client.get(API).json()] == [s["id"]]
    assert client.get(f"{API}/preview", {"year": PAST}).json()["settlement_id"] == s["id"]


def test_the_api_refuses_bad_input_with_problem_json(year_world, officer, client, login):
    login(officer)
    bad = client.post(f"{API}/close", json.dumps({"year": PAST, "scheme": "resident", "method": "fixed",
                                                  "formula": {"shares": {"431127A100001": "0.3"}}}),
                      content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "bad_formula" and "固定比例" in bad.json()["title"]
    nonsense = client.post(f"{API}/close", json.dumps({"year": PAST, "scheme": "resident", "method": "dice"}),
                           content_type="application/json")
    assert nonsense.status_code == 422 and nonsense["Content-Type"] == "application/problem+json"
    assert client.get(f"{API}/preview", {"year": PAST - 4}).status_code == 404
    assert client.get(f"{API}/99999").status_code == 404


def test_the_api_close_is_refused_for_the_bureau(year_world, cast, client, login):
    login(cast.bureau)
    assert client.get(f"{API}/preview", {"year": PAST}).status_code == 200
    r = client.post(f"{API}/close", json.dumps({"year": PAST, "scheme": "resident", "method": "workload"}),
                    content_type="application/json")
    assert r.status_code == 403 and not YearSettlement.objects.exists()


# ---- two closes at once (PostgreSQL) -----------------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_officers_closing_the_same_year_at_once_one_wins(cast, officer, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so two connections cannot race "
                    "(run with DATABASE_URL=postgresql://…)")
    from tests.cast import SYSTEM
    from yigongti.orgs.models import Role
    from yigongti.orgs.services import create_account

    other, _ = create_account(username="insurance2", role=Role.INSURANCE_OFFICER, password="Ceshi-mima-2026",
                              region=cast.county, actor=SYSTEM)
    settle(cast, dt.date(PAST, 3, 1), "90000", facility=cast.county_hospital)
    budget = make_budget(cast)
    slow = st.compute_settlement

    def compute_slowly(*args, **kwargs):  # hold the lock long enough for the other close to queue behind it
        time.sleep(0.3)
        return slow(*args, **kwargs)

    monkeypatch.setattr(st, "compute_settlement", compute_slowly)
    results = _race([lambda: st.close_year(budget.pk, "workload", {}, actor=as_(officer)),
                     lambda: st.close_year(budget.pk, "workload", {}, actor=as_(other))])
    won = [x for x in results if isinstance(x, YearSettlement)]
    lost = [x for x in results if isinstance(x, Conflict)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].code == "already_closed"
    assert YearSettlement.objects.count() == 1 and Budget.objects.get(pk=budget.pk).status == BudgetStatus.CLOSED


def test_the_page_and_the_refusals_speak_english(year_world, officer, client, login, settings):
    login(officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(_url()).content.decode()
    assert "Close the year" in html and "Allocation method" in html and "Preview with the current figures" in html
    r = client.post(_url(), {"method": "fixed", "share_1": "10"})
    assert "The fixed shares must add up to 1 (100%)" in r.content.decode()


@pytest.mark.parametrize("who", ["officer", "manager", "bureau", "city", "county_doctor", "village_doctor", "auditor",
                                 "outsider", "anonymous"])
def test_every_settlement_page_and_endpoint_answers_every_role_without_a_server_error(year_world, cast, officer, who,
                                                                                       client, login):
    s = st.close_year(year_world, "workload", {}, actor=as_(officer))
    if who != "anonymous":
        login(officer if who == "officer" else getattr(cast, who))
    h = cast.county_hospital.pk
    pages = ["/insurance/settlement/", _url(), _url(PAST + 5), f"/insurance/settlement/{s.pk}/statement/{h}.xlsx",
             f"/insurance/settlement/{s.pk}/statement/{h}.pdf", f"/insurance/settlement/{s.pk}/summary.xlsx",
             f"/insurance/settlement/{s.pk + 1}/summary.xlsx"]
    apis = [f"{API}/preview", f"{API}", f"{API}/{s.pk}", f"{API}/{s.pk}/statement/{h}.pdf",
            f"{API}/{s.pk}/summary.xlsx"]
    readers = who in ("officer", "manager", "bureau", "city")
    for url in pages + apis:
        r = client.get(url)
        assert r.status_code < 500, (url, r.status_code)
        if who == "anonymous":
            assert r.status_code in (302, 401), url
        elif not readers:
            assert r.status_code in (403, 404), url
        elif url not in (pages[2], pages[-1]):
            assert r.status_code == 200, (url, r.status_code)


def test_the_preview_reads_the_posted_months_of_the_ledger_and_says_so(year_world, cast):
    from yigongti.insurance.queries import settlement as q

    LedgerEntry.objects.create(community=cast.community, year=PAST, month=2, scheme="resident",
                               facility=cast.county_hospital, facility_code=cast.county_hospital.code, level="county",
                               settlement_type="inpatient", cases=2, fund_paid=D("700"))
    pv = q.preview(year_world)
    assert pv.figures.source == "ledger" and pv.outcome.spend == D("700.00")
    assert "已过账的 2 月" in pv.explanation[0]
    assert q.year_figures(cast.community, PAST, "resident").spend.total == D("90000")  # the close: every settlement


def test_formula_numbers_are_kept_to_what_the_allocation_rows_store(year_world, cast, officer):
    with pytest.raises(InvalidInput) as e:
        allocate(D("100"), MEMBERS, "performance", {"scores": {"A01": "1e30", "B01": 1, "B02": 1, "D01": 1}})
    assert "过大" in e.value.message
    scores = {f.code: "33.3333333" for f in cast.community.members.all()}
    s = st.close_year(year_world, "performance", {"scores": scores}, actor=as_(officer))
    assert {a.basis for a in s.allocations.all()} == {D("33.333333")}
    assert st.normalise_formula("workload", {"inpatient_factor": "10.0000001"}, MEMBERS)["inpatient_factor"] == "10"
