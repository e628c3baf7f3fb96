"""转外就医备案: filing from an up-referral outside the county or directly, revoking, and the reimbursement rate
a filing earns an out-of-county settlement (the year's rules, or the defaults)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tests.cast import SYSTEM, as_
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yigongti.core.models import AuditEvent
from yigongti.encounters.models import InsuranceSettlement
from yigongti.insurance import filings
from yigongti.insurance.filings import reimbursement_rate
from yigongti.insurance.models import Budget, OutOfCountyFiling
from yigongti.referrals.models import Referral

D = dt.date
RULES = {"out_of_county_rates": {"filed": "0.65", "unfiled": "0.35"}}


def settlement(**kw):
    base = {"facility_level": "out_of_county", "facility_county": "430102", "residence_county": "431127",
            "admit_date": D(2026, 5, 3), "settle_date": D(2026, 5, 10), "resident_id": 7}
    return SimpleNamespace(**{**base, **kw})


def filing(**kw):
    base = {"resident_id": 7, "valid_from": D(2026, 5, 1), "valid_until": D(2026, 10, 31), "status": "active"}
    return SimpleNamespace(**{**base, **kw})


# ---- the pure rule ------------------------------------------------------------------------------------------

def test_a_filed_out_of_county_stay_is_reimbursed_at_the_filed_rate():
    assert reimbursement_rate(settlement(), [filing()], RULES) == Decimal("0.65")
    assert reimbursement_rate(settlement(), [], RULES) == Decimal("0.35")


def test_without_rules_the_default_rates_apply():
    assert reimbursement_rate(settlement(), [filing()], {}) == filings.DEFAULT_RATE_FILED
    assert reimbursement_rate(settlement(), [], None) == filings.DEFAULT_RATE_UNFILED
    flat = {"out_of_county_rate_filed": "0.7", "out_of_county_rate_unfiled": "abc"}
    assert filings.rates_of(flat) == (Decimal("0.7"), filings.DEFAULT_RATE_UNFILED)


def test_a_filing_covers_only_its_resident_its_validity_and_while_active():
    assert reimbursement_rate(settlement(), [filing(resident_id=8)], RULES) == Decimal("0.35")
    assert reimbursement_rate(settlement(admit_date=D(2026, 11, 2)), [filing()], RULES) == Decimal("0.35")
    assert reimbursement_rate(settlement(), [filing(status="revoked")], RULES) == Decimal("0.35")


def test_care_inside_the_county_is_not_ruled_by_filings():
    assert reimbursement_rate(settlement(facility_level="county", facility_county="431127"), [], RULES) is None
    assert reimbursement_rate(settlement(facility_level="pharmacy", facility_county="431127"), [], RULES) is None
    # a county hospital of another county is out of county for our insured
    assert reimbursement_rate(settlement(facility_level="county", facility_county="411625"), [], RULES) == \
        Decimal("0.35")


# ---- the services -------------------------------------------------------------------------------------------

@pytest.fixture
def outside(cast):
    r = cast.resident
    return InsuranceSettlement.objects.create(
        settlement_no="W1", resident=r, area_code=r.area_code, residence_county="431127", type="inpatient",
        facility_code="H43010200001", facility_name="中南大学湘雅医院", facility_county="430102",
        facility_level="out_of_county", admit_date=dt.date.today(), discharge_date=dt.date.today(),
        settle_date=dt.date.today(), total_cost=Decimal(30000), fund_paid=Decimal(18000))


def test_filing_changes_the_rate_of_an_out_of_county_settlement(cast, outside, officer):
    assert filings.out_of_county_rate(outside).rate == Decimal("0.40")
    assert not filings.out_of_county_rate(outside).filed
    f = filings.file_out_of_county({"resident": cast.resident.pk, "hospital": "中南大学湘雅医院"}, actor=as_(officer))
    assert filings.filed_for(cast.resident.pk, dt.date.today()) == f
    decided = filings.out_of_county_rate(outside)
    assert decided.filed and decided.rate == Decimal("0.60") and decided.filing == f and "已办理" in decided.explanation
    assert (f.valid_until - f.valid_from).days == filings.FILING_VALID_DAYS
    filings.revoke_filing(f, actor=as_(officer), reason="患者放弃转诊")
    assert filings.out_of_county_rate(outside).rate == Decimal("0.40")
    with pytest.raises(Conflict):
        filings.revoke_filing(f, actor=as_(officer))
    assert AuditEvent.objects.filter(action="revoke", object_type="out_of_county_filing", object_id=str(f.pk)).exists()


def test_the_years_budget_rules_set_the_rates(cast, outside):
    Budget.objects.create(community=cast.community, year=dt.date.today().year, scheme="resident", prior_spend=1,
                          growth_rate=0, amount=1, retained_share=Decimal("0.5"), overspend_cap=Decimal("0.1"),
                          overspend_share=Decimal("0.5"), rules=RULES)
    assert filings.out_of_county_rate(outside).rate == Decimal("0.35")
    filings.file_out_of_county({"resident": cast.resident.pk, "hospital": "湘雅医院"}, actor=SYSTEM)
    assert filings.out_of_county_rate(outside).rate == Decimal("0.65")
    assert filings.out_of_county_rate(SimpleNamespace(facility_level="county", facility_county="431127",
                                                      residence_county="431127")) is None


def _referral(cast, **kw) -> Referral:
    r = cast.resident
    base = {"direction": "up", "status": "submitted", "resident": r, "area_code": r.area_code,
            "from_facility": cast.county_hospital, "from_level": "county", "referred_by": cast.county_doctor,
            "to_external": "中南大学湘雅医院", "to_level": "province", "icd10": "C34.900", "reason": "肺癌需手术",
            "submitted_at": dt.datetime.now(dt.UTC)}
    return Referral.objects.create(**{**base, **kw})


def test_a_doctor_files_from_an_up_referral_outside_the_county(cast):
    ref = _referral(cast)
    f = filings.file_out_of_county({"referral": ref.pk}, actor=as_(cast.county_doctor))
    assert (f.resident, f.referral, f.hospital, f.reason) == (cast.resident, ref, "中南大学湘雅医院", "肺癌需手术")
    inside = _referral(cast, to_external="", to_facility=cast.county_hospital, from_facility=cast.township_center,
                       to_level="county")
    with pytest.raises(InvalidInput) as e:
        filings.file_out_of_county({"referral": inside.pk}, actor=as_(cast.county_doctor))
    assert e.value.field == "referral"


def test_who_may_file(cast):
    with pytest.raises(Forbidden):  # a village doctor refers, but files no 备案
        filings.file_out_of_county({"resident": cast.resident.pk, "hospital": "湘雅医院"},
                                   actor=as_(cast.village_doctor))
    with pytest.raises(NotFound):  # a resident outside the doctor's scope
        filings.file_out_of_county({"resident": cast.far_resident.pk, "hospital": "湘雅医院"},
                                   actor=as_(cast.county_doctor))
    assert not OutOfCountyFiling.objects.exists()


def test_bad_filing_input_names_the_field(cast, officer):
    with pytest.raises(InvalidInput) as e:
        filings.file_out_of_county({"resident": cast.resident.pk, "hospital": "湘雅", "valid_from": "2026-13-40"},
                                   actor=as_(officer))
    assert e.value.field == "valid_from"
    with pytest.raises(InvalidInput) as e:
        filings.file_out_of_county({"resident": cast.resident.pk, "hospital": "湘雅", "valid_from": "2026-06-01",
                                    "valid_until": "2026-05-01"}, actor=as_(officer))
    assert e.value.field == "valid_until"


# ---- pages and API ------------------------------------------------------------------------------------------

def test_the_filing_page_files_lists_and_revokes(cast, officer, login):
    c = login(officer)
    r = c.post("/insurance/filings/", {"resident": cast.resident.pk, "hospital": "中南大学湘雅医院", "reason": "肺癌"})
    assert r.status_code == 302
    f = OutOfCountyFiling.objects.get()
    r = c.get("/insurance/filings/")
    assert r.status_code == 200 and [x.pk for x in r.context["page"].items] == [f.pk]
    assert c.post("/insurance/filings/", {"resident": cast.resident.pk, "hospital": ""}).status_code == 200
    assert c.post(f"/insurance/filings/{f.pk}/revoke/").status_code == 302
    f.refresh_from_db()
    assert f.status == "revoked"


def test_the_filing_api(cast, officer, login):
    c = login(officer)
    r = c.post("/api/v1/insurance/filings", {"resident": cast.resident.pk, "hospital": "湘雅医院"},
               content_type="application/json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert [x["id"] for x in c.get("/api/v1/insurance/filings").json()["items"]] == [pk]
    bad = c.post("/api/v1/insurance/filings", {"resident": cast.resident.pk, "hospital": "湘雅", "valid_from": "x"},
                 content_type="application/json")
    assert bad.status_code == 422 and bad["Content-Type"].startswith("application/problem+json")
    r = c.post(f"/api/v1/insurance/filings/{pk}/revoke", {"reason": "撤销"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert login(cast.outsider).get("/api/v1/insurance/filings").json()["items"] == []
