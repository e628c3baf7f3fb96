"""DRG payment arithmetic, weights from the community's own cases, rates, pricing the year and the efficiency
indices."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.cast import as_
from tests.insurance.fixtures_payment import YEAR, V, discharge, officer, terms
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.insurance import efficiency, payment, weights
from yigongti.insurance.models import CasePayment, DrgRate, DrgWeight
from yigongti.insurance.payment import Rate, Weight

D = Decimal
RATES = {("county", "resident"): Rate(D(10000)), ("township", "resident"): Rate(D(8000)),
         ("", "resident"): Rate(D(9000))}
FV23 = Weight(D("0.5"), D(5000))


def pay(cost, *, level="county", weight=FV23, **kw):
    return payment.drg_payment(drg="FV23", grouped=True, cost=D(cost), level=level, scheme="resident",
                               weight=weight, rates=RATES, **kw)


# ---- pure arithmetic ---------------------------------------------------------------------------------------


def test_a_normal_case_is_paid_weight_times_the_rate_of_its_level():
    p = pay(4800)
    assert (p.amount, p.outlier, p.status, p.unit_price) == (D("5000.00"), "", "paid", D(10000))
    assert any("0.5000 × 10,000.00" in line for line in p.explanation)
    assert pay(4800, level="township").amount == D("4000.00")


def test_a_high_outlier_gets_the_standard_plus_ninety_percent_above_the_threshold():
    p = pay(20000)  # threshold 3 × 5,000 = 15,000
    assert p.outlier == "high"
    assert p.amount == D("5000.00") + (D(20000) - D(15000)) * D("0.9")
    assert any("高倍率" in line for line in p.explanation)


def test_a_low_outlier_is_paid_its_cost():
    p = pay(1500)  # below 0.4 × 5,000 = 2,000
    assert (p.outlier, p.amount) == ("low", D("1500.00"))


def test_a_grassroots_drg_pays_the_same_at_county_and_township():
    w = Weight(D("0.5"), D(5000), grassroots=True)
    county, township = pay(4800, weight=w), pay(4800, level="township", weight=w)
    assert county.amount == township.amount == D("4500.00")  # 0.5 × the level-"" rate 9,000
    assert county.grassroots and any("同病同付" in line for line in county.explanation)


def test_special_review_is_paid_by_cost_even_above_the_high_threshold():
    p = pay(30000, special_review=True)
    assert (p.status, p.amount, p.outlier) == ("special_review", D("30000.00"), "")


def test_an_ungroupable_case_gets_no_drg_payment_and_is_flagged():
    p = payment.drg_payment(drg="", grouped=False, cost=D(5000), level="county", scheme="resident", weight=None,
                            rates=RATES)
    assert (p.status, p.amount, p.group) == ("ungroupable", D(0), "0000")
    assert "无法入组" in p.explanation[0]


def test_a_missing_rate_or_weight_or_a_self_payer_is_flagged_not_paid():
    assert pay(4800, level="village").status == "no_rate"
    assert pay(4800, weight=None).status == "no_weight"
    p = payment.drg_payment(drg="FV23", grouped=True, cost=D(100), level="county", scheme="none", weight=FV23,
                            rates=RATES)
    assert (p.status, p.amount) == ("self_pay", D(0))


def test_dip_pays_score_times_point_value():
    p = payment.dip_payment(group="I10|—", score=D("600.00"), point_value=D("8.5"), cost=D(4000), scheme="resident")
    assert p.amount == D("5100.00") and p.status == "paid"


# ---- weights -----------------------------------------------------------------------------------------------


def test_weights_are_the_drg_mean_over_the_overall_mean_and_small_drgs_borrow_their_adrg():
    cases = [("FV23", "FV2", "F", D(4000), 5)] * 5 + [("FV25", "FV2", "F", D(3000), 4)] * 2 \
        + [("GB15", "GB1", "G", D(16000), 10)] * 5
    rows, overall = weights.weights_from_cases(cases, min_cases=5)
    by = {r.drg: r for r in rows}
    mean = (5 * 4000 + 2 * 3000 + 5 * 16000) / 12
    assert overall == D(mean).quantize(D("0.01"))
    assert by["FV23"].weight == (D(4000) / (D(106000) / 12)).quantize(D("0.0001"))
    assert by["FV25"].source == "adrg" and by["FV25"].cases == 2
    assert by["FV25"].avg_cost == (D(26000) / 7).quantize(D("0.01"))  # FV2 altogether


@pytest.mark.django_db
def test_compute_weights_from_the_communitys_cases(cast):
    for _ in range(5):
        discharge(cast, cast.county_hospital, 4000)
        discharge(cast, cast.county_hospital, 16000, drg="GB15")
    discharge(cast, cast.county_hospital, 9999, grouped=False)  # ungroupable: not in the means
    out = weights.compute_weights(YEAR, V, actor=as_(officer(cast)))
    assert out["drgs"] == 2 and out["cases"] == 10 and out["overall_mean_cost"] == "10000.00"
    w = {x.drg: x for x in DrgWeight.objects.filter(year=YEAR, version=V)}
    assert w["FV23"].weight == D("0.4000") and w["GB15"].weight == D("1.6000")
    assert w["FV23"].grassroots and not w["GB15"].grassroots  # the default list holds FV23 (高血压)


@pytest.mark.django_db
def test_a_doctor_cannot_set_rates_or_compute_weights(cast):
    with pytest.raises(Forbidden):
        weights.set_rates(YEAR, [{"level": "county", "scheme": "resident", "rate": "10000"}],
                          actor=as_(cast.county_doctor))
    with pytest.raises(Forbidden):
        weights.compute_weights(YEAR, V, actor=as_(cast.county_doctor))
    assert not DrgRate.objects.exists()


@pytest.mark.django_db
def test_set_rates_names_every_bad_field(cast):
    with pytest.raises(InvalidInput) as e:
        weights.set_rates(YEAR, [{"level": "city", "scheme": "resident", "rate": "abc"},
                                 {"level": "county", "scheme": "resident", "rate": "5", "high_outlier": "0.5"}],
                          actor=as_(officer(cast)))
    assert {"rates.0.level", "rates.0.rate", "rates.1.rate", "rates.1.high_outlier"} <= set(e.value.errors)
    rates = weights.set_rates(YEAR, [{"level": "", "scheme": "resident", "rate": "9000"}], actor=as_(officer(cast)))
    assert rates[0].rate == D(9000) and rates[0].high_outlier == D(3)


@pytest.mark.django_db
def test_grassroots_list_must_name_drgs_with_weights(cast):
    terms(grassroots=())
    o = as_(officer(cast))
    with pytest.raises(InvalidInput):
        weights.set_grassroots(YEAR, V, ["ZZ99"], actor=o)
    assert weights.set_grassroots(YEAR, V, ["gb15"], actor=o) == ["GB15"]
    assert list(DrgWeight.objects.filter(grassroots=True).values_list("drg", flat=True)) == ["GB15"]


@pytest.mark.django_db
def test_price_cases_writes_a_drg_payment_for_every_discharge(cast):
    terms()
    a = discharge(cast, cast.county_hospital, 18000, drg="GB15")
    b = discharge(cast, cast.township_center, 4800)  # FV23 基层病组
    c = discharge(cast, cast.county_hospital, 4800, grouped=False)
    out = weights.price_cases(YEAR, actor=as_(officer(cast)))
    assert out["cases"] == 3
    drg = {p.discharge_id: p for p in CasePayment.objects.filter(method="drg")}
    assert drg[a.pk].amount == D("20000.00")  # 2.0 × 10,000
    assert drg[b.pk].amount == D("4500.00") and drg[b.pk].grassroots
    assert any("同病同付" in line for line in drg[b.pk].explanation)
    assert drg[c.pk].status == "ungroupable" and drg[c.pk].amount == 0
    assert CasePayment.objects.filter(method="dip").count() == 3  # no DIP groups yet: flagged
    weights.price_cases(YEAR, actor=as_(officer(cast)))  # again: replaced, not doubled
    assert CasePayment.objects.count() == 6


# ---- efficiency --------------------------------------------------------------------------------------------


def test_cmi_and_efficiency_indices_of_a_unit():
    rows = efficiency.indices([("A", 0.5, 4000, 5, 5000, 6), ("A", 2.0, 24000, 12, 20000, 8),
                               ("A", None, 999, 3, 0, 0), ("B", 0.5, 5000, 6, 5000, 6)])
    a = next(u for u in rows if u.key == "A")
    assert (a.cases, a.rated, a.cmi) == (3, 2, 1.25)
    assert a.cost_index == round(28000 / 25000, 4) and a.time_index == round(17 / 14, 4)
    assert efficiency.grassroots_share([(True, "township"), (True, "county"), (False, "village")]) == (1, 2, 0.5)


@pytest.mark.django_db
def test_efficiency_page_shows_each_facility_to_the_officer_not_to_a_doctor(cast, login, client):
    terms()
    discharge(cast, cast.county_hospital, 5000)
    discharge(cast, cast.township_center, 5000)
    data = efficiency.efficiency_of(as_(officer(cast)), YEAR)
    assert data["grassroots"] == {"at_grassroots": 1, "cases": 2, "share": 0.5}
    assert {r["cmi"] for r in data["facilities"]} == {0.5}
    login(cast.bureau)
    assert client.get(f"/insurance/efficiency/?year={YEAR}").status_code == 200
    login(cast.county_doctor)
    assert client.get(f"/insurance/efficiency/?year={YEAR}").status_code == 403


# ---- pages and API -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_officer_sets_a_rate_on_the_page_and_a_bad_one_is_refused_in_chinese(cast, login, client):
    terms()
    login(officer(cast))
    resp = client.post("/insurance/payment/rates/", {"year": YEAR, "level": "county", "scheme": "resident",
                                                     "rate": "abc"})
    assert resp.status_code == 200 and "金额不是数字" in resp.content.decode()
    resp = client.post("/insurance/payment/rates/", {"year": YEAR, "level": "county", "scheme": "resident",
                                                     "rate": "12000", "high_outlier": "3", "low_outlier": "0.4"})
    assert resp.status_code == 302
    assert DrgRate.objects.get(year=YEAR, level="county", scheme="resident").rate == D(12000)
    assert client.get(f"/insurance/payment/?year={YEAR}").status_code == 200


@pytest.mark.django_db
def test_api_rates_put_refuses_a_doctor_and_bad_input_as_problem_json(cast, login, client):
    login(cast.county_doctor)
    body = json.dumps({"rates": [{"level": "county", "scheme": "resident", "rate": "10000"}]})
    resp = client.put(f"/api/v1/insurance/payment/rates/{YEAR}", body, content_type="application/json")
    assert resp.status_code == 403 and resp["Content-Type"] == "application/problem+json"
    login(officer(cast))
    resp = client.put(f"/api/v1/insurance/payment/rates/{YEAR}",
                      json.dumps({"rates": [{"level": "county", "scheme": "x", "rate": "-1"}]}),
                      content_type="application/json")
    assert resp.status_code == 422 and "rates.0.scheme" in resp.json()["errors"]
    resp = client.put(f"/api/v1/insurance/payment/rates/{YEAR}", body, content_type="application/json")
    assert resp.status_code == 200 and resp.json()[0]["rate"] == "10000.00"
    assert client.get(f"/api/v1/insurance/payment/rates/{YEAR}").json()[0]["level"] == "county"


@pytest.mark.django_db
def test_every_payment_page_and_api_read_answers_every_role_without_a_server_error(cast, login, client):
    from yigongti.insurance import simulation

    terms()
    discharge(cast, cast.county_hospital, 5000)
    o = officer(cast)
    sim = simulation.run_simulation(YEAR, {}, actor=as_(o))
    pages = ["/insurance/payment/", f"/insurance/payment/?year={YEAR}&q=FV", "/insurance/payment/dip/",
             "/insurance/payment/dip/?kind=core", "/insurance/efficiency/", "/insurance/simulation/",
             f"/insurance/simulation/{sim['id']}/", "/insurance/payment/?year=abc"]
    apis = [f"/api/v1/insurance/payment/{p}" for p in (
        f"weights/{YEAR}", f"rates/{YEAR}", f"dip/{YEAR}/groups", f"dip/{YEAR}/point-values",
        f"dip/{YEAR}/level-factors",
        f"efficiency/{YEAR}", "efficiency/0", "simulations", f"simulations/{sim['id']}")]
    for user, allowed in ((o, True), (cast.manager, True), (cast.bureau, True), (cast.city, True),
                          (cast.county_doctor, False), (cast.village_doctor, False), (cast.auditor, False)):
        login(user)
        for url in pages + apis:
            status = client.get(url).status_code
            bad = url.endswith(("year=abc", "efficiency/0"))
            expected = ({200, 404} if allowed else {403, 404}) | ({400, 422} if bad else set())
            assert status in expected, (user.username, url, status)


# ---- a regrouped discharge is priced again -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_recoded_and_regrouped_discharge_is_priced_again(cast):
    import datetime as dt

    from tests.insurance.fixtures_cases import PNEUMONIA, stay
    from yigongti.insurance import discharges
    from yigongti.insurance.models import CaseGroup, Discharge

    o = as_(officer(cast))
    e = stay(cast, "resident", cast.county_hospital, dt.date(YEAR, 3, 1), dt.date(YEAR, 3, 8), PNEUMONIA,
             secondary=("I10.x00",), fund="4200")  # I10.x00 is no valid code: ungroupable
    discharges.sync_discharges(actor=o)
    discharges.group_discharges(actor=o)
    DrgRate.objects.create(year=YEAR, level="county", scheme="resident", rate=D(10000))
    weights.price_cases(YEAR, actor=o)
    d = Discharge.objects.get(encounter=e)
    assert CasePayment.objects.get(discharge=d, method="drg").status == "ungroupable"
    discharges.update_discharge(d, {"diagnoses": PNEUMONIA}, actor=as_(cast.county_doctor))  # the coder fixes it
    drg = CaseGroup.objects.get(discharge=d, version=V).drg
    p = CasePayment.objects.get(discharge=d, method="drg")
    assert drg and (p.group, p.status) == (drg, "no_weight")  # its new group, still without a weight
    DrgWeight.objects.create(version=V, year=YEAR, drg=drg, weight=D("0.6"), avg_cost=D(6000))
    discharges.regroup_discharge(d, actor=o)
    p = CasePayment.objects.get(discharge=d, method="drg")
    assert (p.status, p.amount) == ("paid", D("6000.00"))  # 0.6 × 10,000
    assert CasePayment.objects.filter(discharge=d).count() == 2  # DRG and DIP, replaced not doubled


@pytest.mark.django_db
def test_a_discharge_of_a_year_nobody_priced_gets_no_payment_rows_when_recoded(cast):
    d = discharge(cast, cast.county_hospital, 5000)
    assert weights.price_discharge(d, actor=as_(officer(cast))) == []
    assert not CasePayment.objects.exists()


def test_dip_case_points_take_the_level_factor_and_the_cost_deviation_rule():
    score, avg = D("1000.00"), D(5000)
    assert payment.dip_points(score=score, factor=D("0.6"), cost=D(3000), avg_cost=avg)[:2] == (D("600.0000"), "")
    pts, kind, _lines = payment.dip_points(score=score, factor=D("0.6"), cost=D(1200), avg_cost=avg)
    assert kind == "low" and pts == (D(1200) / D(3000) * 600).quantize(D("0.0001"))  # below 50 % of 0.6 × 5,000
    pts, kind, _l = payment.dip_points(score=score, cost=D(15000), avg_cost=avg)
    assert kind == "high" and pts == D("2000.0000")  # (15,000 ÷ 5,000 − 2 + 1) × 1000


def test_a_cheap_township_stay_of_a_grassroots_disease_is_not_paid_the_groups_mean():
    kw = {"group": "J18|—", "score": D("1000.00"), "point_value": D("5"), "scheme": "resident",
          "avg_cost": D(5000), "level": "township"}
    normal = payment.dip_payment(cost=D(4000), factor=D("0.6"), grassroots=True, **kw)
    assert normal.amount == D("5000.00") and normal.units == D(1000)  # 基层病种: factor 1 at every level
    assert any("同病同付" in line for line in normal.explanation)
    cheap = payment.dip_payment(cost=D(898), factor=D("0.6"), grassroots=True, **kw)
    assert cheap.outlier == "low" and cheap.amount == D("898.00")  # 898 ÷ 5,000 × 1000 points × 5
    other = payment.dip_payment(cost=D(3000), factor=D("0.6"), grassroots=False, **kw)
    assert other.amount == D("3000.00") and other.units == D(600)  # not 基层: 0.6 × 1000 points
