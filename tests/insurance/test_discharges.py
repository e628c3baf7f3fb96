"""The settlement list (结算清单): built from the encounters, checked for what blocks grouping, completed by the
facility's coder, grouped under CHS-DRG 2.0 and 1.1 side by side; scoped, audited, and problem+json on bad
input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.cast import SYSTEM, as_
from tests.insurance.fixtures_cases import (
    CHOLECYSTECTOMY,
    DELIVERY,
    NOT_MAIN,
    PNEUMONIA,
    PRETERM,
    PROSTATE,
    UNKNOWN_PROCEDURE,
    D,
    stay,
)
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.core.models import AuditEvent
from yigongti.insurance import discharges
from yigongti.insurance.discharges import problems_of
from yigongti.insurance.drg import VERSIONS, pack_for
from yigongti.insurance.models import CaseGroup, Discharge, GroupStatus

V20, V11 = VERSIONS


def fields(**kw):
    base = {"diagnoses": [PNEUMONIA], "procedures": [], "sex": "1", "age_years": 60, "age_days": None,
            "birth_weight_g": None, "admit_date": D(2026, 3, 1), "discharge_date": D(2026, 3, 8), "los_days": 7,
            "ventilation_hours": 0, "discharge_mode": "1"}
    return {**base, **kw}


# ---- the pure completeness check ----------------------------------------------------------------------------

def test_a_complete_list_has_no_problems():
    assert problems_of(fields(procedures=[CHOLECYSTECTOMY]), pack_for(V20)) == []


def test_a_list_without_main_diagnosis_cannot_group():
    assert problems_of(fields(diagnoses=[]), pack_for(V20)) == ["缺少主要诊断"]


def test_a_main_diagnosis_not_valid_as_main_is_named():
    problems = problems_of(fields(diagnoses=[NOT_MAIN]), pack_for(V20))
    assert problems == [f"{NOT_MAIN} 不能作为主要诊断（CHS-DRG 2.0规定其只能作为其他诊断）"]
    assert "不是CHS-DRG 2.0医保版 ICD-10 中的有效编码" in problems_of(fields(diagnoses=["X99.999"]),
                                                                   pack_for(V20))[0]


def test_a_procedure_not_in_the_versions_table_is_named():
    problems = problems_of(fields(procedures=[CHOLECYSTECTOMY, UNKNOWN_PROCEDURE]), pack_for(V20))
    assert problems == [f"手术操作 {UNKNOWN_PROCEDURE} 不在CHS-DRG 2.0的手术操作编码表（ICD-9-CM-3）中"]
    # 1.1 lists only the procedures that group: a well-formed code outside its lists does not block grouping
    assert problems_of(fields(procedures=[CHOLECYSTECTOMY, UNKNOWN_PROCEDURE]), pack_for(V11)) == []


def test_a_newborn_without_birth_weight_cannot_group():
    newborn = fields(diagnoses=[PRETERM], age_years=0, age_days=5)
    assert problems_of(newborn, pack_for(V20)) == ["新生儿（5 天）缺少出生体重"]
    assert problems_of({**newborn, "birth_weight_g": 2100}, pack_for(V20)) == []
    assert "出生体重 90000 克不合理" in problems_of({**newborn, "birth_weight_g": 90000}, pack_for(V20))[0]


def test_diagnoses_that_contradict_the_sex_are_named():
    assert problems_of(fields(diagnoses=[PROSTATE], sex="2"), pack_for(V20)) == [
        f"诊断 {PROSTATE} 只见于男性，与患者性别（女）矛盾"]
    assert problems_of(fields(diagnoses=[DELIVERY], sex="1", age_years=30), pack_for(V20)) == [
        f"诊断 {DELIVERY} 只见于女性，与患者性别（男）矛盾"]
    assert problems_of(fields(sex=""), pack_for(V20)) == ["缺少性别"]


def test_ages_that_contradict_the_diagnosis_are_named():
    assert "与患者年龄（70 岁）矛盾" in problems_of(fields(diagnoses=[DELIVERY], sex="2", age_years=70),
                                                 pack_for(V20))[0]
    assert "与患者年龄（45 岁）矛盾" in problems_of(fields(diagnoses=[PRETERM], age_years=45), pack_for(V20))[0]


def test_a_discharge_before_admission_is_named():
    assert problems_of(fields(admit_date=D(2026, 3, 8), discharge_date=D(2026, 3, 1))) == [
        "出院日期 2026-03-01 早于入院日期 2026-03-08"]


def test_bad_lists_are_ungroupable_with_the_reason_never_a_wrong_group():
    rows = [Discharge(pk=i, **f) for i, f in enumerate([
        fields(diagnoses=[NOT_MAIN]), fields(procedures=[UNKNOWN_PROCEDURE]),
        fields(diagnoses=[PRETERM], age_years=0, age_days=3), fields(diagnoses=[PROSTATE], sex="2"),
        fields()], 1)]
    results = discharges.results_for(pack_for(V20), rows)
    assert [r.status for r in results] == ["ungroupable"] * 4 + ["grouped"]
    assert all(not r.drg for r in results[:4])
    assert results[0].trace[1].startswith(NOT_MAIN)
    assert results[4].drg == "ES35"


# ---- building the lists from the encounters -----------------------------------------------------------------

@pytest.fixture
def stays(cast):
    h, c = cast.county_hospital, cast.township_center
    return {
        "pneumonia": stay(cast, "resident", h, D(2026, 3, 1), D(2026, 3, 8), PNEUMONIA, secondary=("I10.x00",),
                          procedures=(CHOLECYSTECTOMY,), fund="4200"),
        "township": stay(cast, "neighbour", c, D(2026, 3, 10), D(2026, 3, 14), PNEUMONIA, total="2000"),
        "prostate": stay(cast, "neighbour", h, D(2026, 4, 2), D(2026, 4, 6), PROSTATE),  # she is a woman
        "in_hospital": stay(cast, "resident", h, D(2026, 4, 20), None),
    }


def test_sync_builds_a_list_for_every_discharged_stay(cast, stays):
    result = discharges.sync_discharges(actor=SYSTEM)
    assert (result.created, result.updated) == (3, 0)
    d = Discharge.objects.get(encounter=stays["pneumonia"])
    assert d.diagnoses == [PNEUMONIA, "I10.x00"] and d.procedures == [CHOLECYSTECTOMY]
    assert (d.sex, d.age_years, d.age_days, d.los_days) == ("1", 67, None, 7)
    assert d.facility == cast.county_hospital and d.department == "呼吸内科" and d.scheme == "resident"
    assert (d.total_cost, d.fund_paid) == (Decimal("6000"), Decimal("4200"))
    assert d.problems == ["其他诊断 I10.x00 不是CHS-DRG 2.0医保版 ICD-10 中的有效编码"]
    assert Discharge.objects.get(encounter=stays["township"]).fund_paid == Decimal("1200")  # no settlement yet
    assert Discharge.objects.get(encounter=stays["prostate"]).problems == [
        f"诊断 {PROSTATE} 只见于男性，与患者性别（女）矛盾"]
    assert not Discharge.objects.filter(encounter=stays["in_hospital"]).exists()
    again = discharges.sync_discharges(actor=SYSTEM)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_sync_keeps_what_the_coder_coded(cast, stays):
    discharges.sync_discharges(actor=SYSTEM)
    d = Discharge.objects.get(encounter=stays["pneumonia"])
    discharges.update_discharge(d, {"diagnoses": [PNEUMONIA]}, actor=as_(cast.county_doctor))
    stays["pneumonia"].total_cost = Decimal("6500")
    stays["pneumonia"].save()
    discharges.sync_discharges(2026, actor=SYSTEM)
    d.refresh_from_db()
    assert d.diagnoses == [PNEUMONIA] and d.total_cost == Decimal("6500") and d.problems == []


def test_only_the_insurance_officer_syncs_and_groups_in_batch(cast, stays, officer):
    with pytest.raises(Forbidden):
        discharges.sync_discharges(actor=as_(cast.county_doctor))
    with pytest.raises(Forbidden):
        discharges.group_discharges(actor=as_(cast.county_doctor))
    assert discharges.sync_discharges(actor=as_(officer)).created == 3


# ---- grouping ---------------------------------------------------------------------------------------------

def test_grouping_stores_the_group_under_both_versions_with_the_trace(cast, stays, officer):
    discharges.sync_discharges(actor=SYSTEM)
    summaries = discharges.group_discharges(actor=as_(officer))
    assert [(s.version, s.grouped, s.ungroupable) for s in summaries] == [(V20, 1, 2), (V11, 1, 2)]
    d = Discharge.objects.get(encounter=stays["township"])
    groups = {g.version: g for g in d.groups.all()}
    assert set(groups) == {V20, V11}
    assert (groups[V20].status, groups[V20].mdc, groups[V20].adrg, groups[V20].drg) == ("grouped", "MDCE", "ES3",
                                                                                      "ES35")
    assert groups[V11].drg == "ES35" and any("ES3" in line for line in groups[V11].trace)
    bad = CaseGroup.objects.get(discharge__encounter=stays["prostate"], version=V20)
    assert bad.status == GroupStatus.UNGROUPABLE and bad.drg == "" and "只见于男性" in bad.trace[1]
    discharges.group_discharges(actor=as_(officer), version=V11)  # upserts: still one row per version
    assert CaseGroup.objects.filter(discharge=d).count() == 2
    assert AuditEvent.objects.filter(action="group", object_type="discharge", actor="insurance").count() == 2


def test_an_unknown_version_is_refused(cast, stays, officer):
    with pytest.raises(InvalidInput):
        discharges.group_discharges(actor=as_(officer), version="CHS-DRG 9.9")


# ---- the coder's edit -------------------------------------------------------------------------------------

def test_the_coder_of_the_discharging_facility_completes_the_list(cast, stays):
    discharges.sync_discharges(actor=SYSTEM)
    d = Discharge.objects.get(encounter=stays["pneumonia"])
    discharges.update_discharge(d, {"diagnoses": f"{PNEUMONIA}\nJ44.100", "procedures": "", "ventilation_hours": "12",
                                    "discharge_mode": "2", "special_review": True}, actor=as_(cast.county_doctor))
    d.refresh_from_db()
    assert d.diagnoses == [PNEUMONIA, "J44.100"] and d.procedures == [] and d.ventilation_hours == 12
    assert d.discharge_mode == "2" and d.special_review and d.problems == [] and d.coded_by == cast.county_doctor
    assert {g.version: g.status for g in d.groups.all()} == {V20: "grouped", V11: "grouped"}
    ev = AuditEvent.objects.filter(action="update", object_type="discharge", object_id=str(d.pk)).get()
    assert ev.actor == "county_doctor" and set(ev.detail["fields"]) >= {"diagnoses", "procedures", "special_review"}


def test_a_doctor_of_another_facility_cannot_code_the_list(cast, stays):
    discharges.sync_discharges(actor=SYSTEM)
    d = Discharge.objects.get(encounter=stays["pneumonia"])
    with pytest.raises(Forbidden):
        discharges.update_discharge(d, {"diagnoses": [NOT_MAIN]}, actor=as_(cast.township_doctor))
    d.refresh_from_db()
    assert d.diagnoses == [PNEUMONIA, "I10.x00"]
    assert AuditEvent.objects.filter(action="denied", object_type="discharge", object_id=str(d.pk),
                                     actor="township_doctor").exists()


def test_bad_coder_input_names_each_field(cast, stays):
    discharges.sync_discharges(actor=SYSTEM)
    d = Discharge.objects.get(encounter=stays["pneumonia"])
    with pytest.raises(InvalidInput) as e:
        discharges.update_discharge(d, {"ventilation_hours": "abc", "diagnoses": "肺炎"}, actor=as_(cast.county_doctor))
    assert set(e.value.errors) == {"ventilation_hours", "diagnoses"}
    with pytest.raises(InvalidInput):
        discharges.update_discharge(d, {"discharge_mode": "7"}, actor=as_(cast.county_doctor))


# ---- the pages and the API ------------------------------------------------------------------------------------

@pytest.fixture
def grouped(cast, stays):
    discharges.sync_discharges(actor=SYSTEM)
    discharges.group_discharges(actor=SYSTEM)
    return {k: Discharge.objects.filter(encounter=e).first() for k, e in stays.items()}


def test_a_township_doctor_does_not_see_the_county_hospitals_discharges(cast, grouped, login):
    c = login(cast.township_doctor)
    r = c.get("/insurance/cases/")
    assert r.status_code == 200
    assert [d.pk for d in r.context["page"].items] == [grouped["township"].pk]
    assert c.get(f"/insurance/cases/{grouped['pneumonia'].pk}/").status_code == 404
    assert c.get(f"/api/v1/insurance/cases/{grouped['pneumonia'].pk}").status_code == 404
    assert AuditEvent.objects.filter(action="denied", object_type="discharge",
                                     object_id=str(grouped["pneumonia"].pk)).exists()


def test_the_officer_sees_the_county_with_names_masked(cast, grouped, officer, login):
    c = login(officer)
    r = c.get("/insurance/cases/")
    assert {d.pk for d in r.context["page"].items} == {grouped["pneumonia"].pk, grouped["township"].pk,
                                                       grouped["prostate"].pk}
    assert "李*国" in r.content.decode() and "李建国" not in r.content.decode()
    ev = AuditEvent.objects.filter(action="list", object_type="discharge", actor="insurance").get()
    assert len(ev.detail["ids"]) == 3
    r = c.get("/insurance/cases/", {"status": "ungroupable"})
    assert {d.pk for d in r.context["page"].items} == {grouped["pneumonia"].pk, grouped["prostate"].pk}
    r = c.get("/insurance/cases/", {"drg": "es35", "facility": str(cast.township_center.pk), "month": "2026-03"})
    assert [d.pk for d in r.context["page"].items] == [grouped["township"].pk]
    assert c.get("/insurance/cases/", {"month": "2026-13"}).context["page"].items == []


def test_managers_do_not_read_settlement_lists(cast, grouped, login):
    assert login(cast.manager).get("/insurance/cases/").status_code == 403


def test_the_discharge_page_shows_both_versions_and_the_coders_form(cast, grouped, login):
    c = login(cast.county_doctor)
    r = c.get(f"/insurance/cases/{grouped['prostate'].pk}/")
    body = r.content.decode()
    assert r.status_code == 200 and V20 in body and V11 in body and "只见于男性" in body
    assert 'data-testid="code-form"' in body and "王秀英" in body  # the treating facility sees the name
    assert AuditEvent.objects.filter(action="view", object_type="discharge", actor="county_doctor").exists()
    r = c.post(f"/insurance/cases/{grouped['prostate'].pk}/", {"diagnoses": PNEUMONIA, "procedures": "",
                                                               "ventilation_hours": "", "discharge_mode": "1"})
    assert r.status_code == 302
    assert CaseGroup.objects.get(discharge=grouped["prostate"], version=V20).drg == "ES35"
    r = c.post(f"/insurance/cases/{grouped['prostate'].pk}/", {"diagnoses": PNEUMONIA, "ventilation_hours": "x"})
    assert r.status_code == 200 and "呼吸机使用时长应为" in r.content.decode()
    assert c.post(f"/insurance/cases/{grouped['prostate'].pk}/regroup/").status_code == 302


def test_the_officer_sees_no_coders_form(cast, grouped, officer, login):
    body = login(officer).get(f"/insurance/cases/{grouped['pneumonia'].pk}/").content.decode()
    assert 'data-testid="code-form"' not in body and 'data-testid="regroup"' in body


def test_the_api_refuses_a_bad_patch_with_problem_json(cast, grouped, login):
    c = login(cast.county_doctor)
    url = f"/api/v1/insurance/cases/{grouped['pneumonia'].pk}"
    r = c.patch(url, {"ventilation_hours": -3, "discharge_mode": "1"}, content_type="application/json")
    assert r.status_code == 422 and r["Content-Type"].startswith("application/problem+json")
    r = c.patch(url, {"diagnoses": ["肺炎"], "discharge_mode": "7"}, content_type="application/json")
    assert r.status_code == 422 and r["Content-Type"].startswith("application/problem+json")
    assert {"diagnoses", "discharge_mode"} <= set(r.json()["errors"])
    assert Discharge.objects.get(pk=grouped["pneumonia"].pk).discharge_mode == "1"
    r = c.patch(url, {"diagnoses": [PNEUMONIA], "procedures": []}, content_type="application/json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["problems"] == [] and [g["drg"] for g in body["groups"]] == ["ES35", "ES35"]
    assert body["groups"][0]["trace"]


def test_the_api_lists_and_groups_in_batch(cast, grouped, officer, login):
    c = login(officer)
    r = c.get("/api/v1/insurance/cases", {"status": "grouped"})
    assert r.status_code == 200 and [x["id"] for x in r.json()["items"]] == [grouped["township"].pk]
    assert r.json()["items"][0]["group"]["drg"] == "ES35"
    r = c.post("/api/v1/insurance/cases/group", {"ids": [grouped["township"].pk], "version": V11},
               content_type="application/json")
    assert r.status_code == 200 and r.json() == [{"version": V11, "grouped": 1, "ungroupable": 0}]
    refused = login(cast.county_doctor).post("/api/v1/insurance/cases/group", {}, content_type="application/json")
    assert refused.status_code == 403 and refused["Content-Type"].startswith("application/problem+json")


def test_age_on_counts_days_for_infants():
    assert discharges.age_on(dt.date(2026, 3, 1), dt.date(2026, 3, 6)) == (0, 5)
    assert discharges.age_on(dt.date(1958, 3, 14), dt.date(2026, 3, 13)) == (67, None)
