"""The outflow analysis ranks diseases leaving the county; the referral indicators count and rate the loop."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from tests.cast import as_
from tests.referrals.conftest import up
from yigongti.encounters.models import InsuranceSettlement
from yigongti.indicators.services import refresh_facts
from yigongti.referrals import indicators, services
from yigongti.referrals.outflow import outflow


def _settle(c, n, resident, icd, level, cost, fund, day=dt.date(2026, 9, 10)):
    InsuranceSettlement.objects.create(
        settlement_no=f"JS{n:06d}", resident=resident, area_code=resident.area_code, residence_county="431127",
        type="inpatient", facility_code="H43110300001" if level == "out_of_county" else "431127A100001",
        facility_county="431103" if level == "out_of_county" else "431127", facility_level=level, admit_date=day,
        discharge_date=day, settle_date=day, total_cost=Decimal(cost), fund_paid=Decimal(fund), main_icd10=icd)


def test_the_outflow_page_ranks_diseases_leaving_the_county_by_patients_cost_and_fund(cast, client, login):
    _settle(cast, 1, cast.resident, "C34.9", "out_of_county", "52000.00", "21000.00")
    _settle(cast, 2, cast.resident, "C34.9", "out_of_county", "48000.00", "20000.00", dt.date(2026, 10, 2))
    _settle(cast, 3, cast.neighbour, "I63.9", "out_of_county", "30000.00", "15000.00")
    _settle(cast, 4, cast.neighbour, "C34.9", "out_of_county", "45000.00", "19000.00")
    _settle(cast, 5, cast.resident, "I63.9", "county", "9000.00", "6000.00")
    _settle(cast, 6, cast.far_resident, "C34.9", "out_of_county", "99999.00", "50000.00")  # another county's insured
    data = outflow(cast.bureau)
    top = data.rows[0]
    assert (top.category, top.name, top.patients, top.cases) == ("C34", "支气管和肺恶性肿瘤", 2, 3)
    assert top.cost == Decimal("145000.00") and top.fund == Decimal("60000.00")
    assert top.trend[-2:] == [2, 1]  # September, October
    stroke = data.rows[1]
    assert stroke.outflow_share == Decimal("50.0")  # one admission outside, one inside
    login(cast.bureau)
    page = client.get("/referrals/outflow/?sort=fund").content.decode()
    assert "支气管和肺恶性肿瘤" in page and ">145000<" in page


def test_a_village_doctor_sees_only_their_villages_outflow(cast):
    _settle(cast, 1, cast.resident, "C34.9", "out_of_county", "52000.00", "21000.00")
    _settle(cast, 2, cast.neighbour, "I63.9", "out_of_county", "30000.00", "15000.00")
    assert [r.category for r in outflow(cast.village_doctor).rows] == ["C34"]
    assert outflow(cast.outsider).rows == []


def test_the_referral_indicators_count_the_loop(ref):
    a = up(ref)
    services.accept_referral(a.pk, actor=as_(ref.desk))
    b = up(ref, urgency="routine", icd10="I21.0", diagnosis="急性心肌梗死",
           routine_reason="发病超过 7 天，陈旧性心梗复查")
    services.decline_referral(b.pk, reason="已联系市级医院", actor=as_(ref.desk))
    up(ref, icd10="S06.5", diagnosis="颅脑损伤")
    services.arrive_referral(a.pk, actor=as_(ref.county_doctor))
    services.submit_referral({
        "resident": ref.resident.pk, "direction": "down", "to_facility": ref.village_clinic.pk, "icd10": "I63.9",
        "reason": "稳定", "rehab_plan": "康复训练", "follow_up_dates": ["2026-12-01"], "source_referral": a.pk},
        actor=as_(ref.county_doctor))
    refresh_facts()  # the figures come from the indicator engine's monthly facts
    _area, _period, figs = indicators.figures(ref.manager, period_key=timezone.localdate().strftime("%Y-%m"))
    v = {c.indicator.code: c.value.value for c in figs}
    assert v["REF_UP"] == 3 and v["REF_DOWN"] == 1
    assert v["REF_DOWN_SHARE"] == Decimal("25.00")
    assert v["REF_ACCEPT"] == Decimal("50.00") and v["REF_SLA"] == Decimal("100.00")
    assert v["REF_OVERDUE"] == 0
    assert indicators.figures(ref.outsider)[2][0].value.value == 0  # another county's referrals


def test_every_referral_indicator_is_declared_once_in_the_engine_with_a_definition():
    codes = [i.code for i in indicators.REFERRAL_INDICATORS]
    assert len(codes) == len(set(codes)) and "REF_RESPONSE" in codes
    assert all(i.definition and (i.kind == "count" or i.denominator) for i in indicators.REFERRAL_INDICATORS)
    assert all(i.dimension == "双向转诊" and i.live_only for i in indicators.REFERRAL_INDICATORS)


def test_the_stats_page_shows_the_indicators(ref, client, login):
    up(ref)
    refresh_facts()
    login(ref.manager)
    page = client.get("/referrals/stats/").content.decode()
    assert 'data-testid="value-REF_UP">1 ' in page and "按时响应率" in page


def test_the_center_queue_through_the_api_is_for_center_staff_only(ref, client, login):
    r = up(ref)
    login(ref.desk)
    items = client.get("/api/v1/referrals?box=center").json()["items"]
    assert [i["id"] for i in items] == [r.pk] and items[0]["urgency"] == "green"
    login(ref.county_doctor)
    assert client.get("/api/v1/referrals?box=center").status_code == 403


def test_accepting_through_the_api_twice_is_a_conflict_naming_who(ref, client, login):
    r = up(ref)
    login(ref.desk)
    assert client.post(f"/api/v1/referrals/{r.pk}/accept", {}, content_type="application/json").status_code == 200
    login(ref.desk2)
    again = client.post(f"/api/v1/referrals/{r.pk}/accept", {}, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "already_answered"
    assert "center_desk" in again.json()["title"]
