"""Guideline rules as data: the form warns when the condition should stay at this level and lets the doctor
proceed with a reason."""

import pytest

from tests.referrals.conftest import up
from yigongti.core.errors import InvalidInput
from yigongti.referrals.workflow import Rule, advise, rule_for

RULES = [Rule(1, "原发性高血压（稳定期）", "I10", "I15", "township"), Rule(2, "心绞痛等", "I20", "I25", "township"),
         Rule(3, "急性心肌梗死", "I21", "I22", "county"), Rule(4, "恶性肿瘤", "C00", "C97", "city")]


def test_the_narrowest_rule_that_covers_a_code_applies():
    assert rule_for("I21.9", RULES).name == "急性心肌梗死"
    assert rule_for("I25.1", RULES).name == "心绞痛等"
    assert rule_for("I13.0", RULES).level == "township"
    assert rule_for("C34.9", RULES).level == "city"
    assert rule_for("J06.9", RULES) is None


def test_stable_hypertension_referred_up_from_a_township_gets_a_warning():
    assert "稳定期宜在乡镇卫生院管理" in advise("I10", "up", "township", "county", RULES).warning


def test_a_village_may_refer_hypertension_to_its_township_without_warning():
    assert advise("I10", "up", "village", "township", RULES).warning == ""


def test_acute_myocardial_infarction_referred_up_is_in_line_with_the_guideline():
    advice = advise("I21.0", "up", "township", "county", RULES)
    assert advice.rule.name == "急性心肌梗死" and advice.warning == ""


def test_referring_a_cancer_down_to_a_village_warns():
    assert "下转" in advise("C34.9", "down", "county", "village", RULES).warning


def test_the_submission_stops_at_the_warning_until_a_reason_is_given(ref):
    with pytest.raises(InvalidInput) as e:
        up(ref, icd10="I10", diagnosis="原发性高血压", urgency="routine")
    assert e.value.code == "guideline_warning" and e.value.field == "override_reason"
    r = up(ref, icd10="I10", diagnosis="原发性高血压", urgency="urgent", override_reason="血压 196/118 mmHg，伴头痛")
    assert r.status == "submitted" and r.guideline_rule.name.startswith("原发性高血压")
    assert r.guideline_warning and r.override_reason == "血压 196/118 mmHg，伴头痛"


def test_the_page_form_shows_the_warning_and_keeps_what_was_typed(ref, client, login):
    login(ref.township_doctor)
    form = {"resident": ref.resident.pk, "direction": "up", "urgency": "routine", "to_facility": ref.county_hospital.pk,
            "icd10": "I10", "diagnosis": "原发性高血压", "reason": "血压控制不佳", "idempotency_key": "k-form-1"}
    r = client.post("/referrals/new/", form)
    assert r.status_code == 200 and "稳定期宜在乡镇卫生院管理" in r.content.decode()
    assert "血压控制不佳" in r.content.decode() and 'value="k-form-1"' in r.content.decode()
    r = client.post("/referrals/new/", {**form, "override_reason": "两次随访未达标"})
    assert r.status_code == 302


def test_the_live_check_answers_as_the_doctor_types(ref, client, login):
    login(ref.township_doctor)
    r = client.get("/referrals/new/guideline/",
                   {"icd10": "E11.9", "direction": "up", "to_facility": ref.county_hospital.pk})
    assert "guideline-warning" in r.content.decode()
    r = client.get("/referrals/new/guideline/",
                   {"icd10": "I63.9", "direction": "up", "to_facility": ref.county_hospital.pk})
    assert "guideline-ok" in r.content.decode()


def test_the_api_returns_the_warning_as_a_problem(ref, client, login):
    login(ref.township_doctor)
    body = {"resident": ref.resident.pk, "to_facility": ref.county_hospital.pk, "icd10": "I10", "reason": "头晕"}
    r = client.post("/api/v1/referrals", body, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "guideline_warning"
    r = client.post("/api/v1/referrals", {**body, "override_reason": "高血压急症"}, content_type="application/json")
    assert r.status_code == 201 and r.json()["guideline_warning"]
