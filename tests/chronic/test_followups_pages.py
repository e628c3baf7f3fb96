"""The pages and the API of enrolment and follow-ups: the village doctor's phone form, the confirm step for
unlikely readings, the patient page with its chart, the candidates; scoped and in English too."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from tests.cast import as_
from yigongti.chronic.models import Decision, Enrolment, FollowUp
from yigongti.chronic.services import enrolment as enrol_svc
from yigongti.chronic.services import followups as fu_svc
from yigongti.core.actor import Actor
from yigongti.referrals.services import setup_center


@pytest.fixture
def enrolment(care):
    return enrol_svc.enrol(as_(care.cast.village_doctor), care.grandfather, "htn",
                           enrolled_on=timezone.localdate() - dt.timedelta(days=100))


def today():
    return timezone.localdate().isoformat()


def test_the_follow_up_form_saves_and_shows_the_decision_on_the_patient_page(care, enrolment, login, client):
    login(care.cast.village_doctor)
    page = client.get(f"/chronic/patients/{enrolment.pk}/follow-up/")
    assert page.status_code == 200 and "收缩压" in page.content.decode() and 'name="key"' in page.content.decode()
    resp = client.post(f"/chronic/patients/{enrolment.pk}/follow-up/", {
        "visit_date": today(), "mode": "home", "sbp": "150", "dbp": "95", "heart_rate": "76",
        "symptoms": ["headache"], "med_name": ["氨氯地平片", ""], "med_dose": ["5mg", ""], "med_frequency": ["qd", ""],
        "key": "abc"})
    assert resp.status_code == 302
    fu = FollowUp.objects.get()
    assert (fu.decision, fu.mode, fu.symptoms) == (Decision.ADJUST, "home", ["headache"])
    assert fu.medication == [{"name": "氨氯地平片", "dose": "5mg", "frequency": "qd"}]
    body = client.get(resp["Location"]).content.decode()
    assert "调整用药，2周内随访" in body and "chronic-chart-data" in body


def test_impossible_readings_come_back_with_the_field_named_and_the_values_kept(care, enrolment, login, client):
    login(care.cast.village_doctor)
    resp = client.post(f"/chronic/patients/{enrolment.pk}/follow-up/", {"visit_date": today(), "sbp": "300",
                                                                         "dbp": "20", "advice": "低盐饮食"})
    body = resp.content.decode()
    assert resp.status_code == 400 and "不可能" in body and 'id="fu-sbp" class="form-control is-invalid"' in body
    assert "低盐饮食" in body and not FollowUp.objects.exists()


def test_unlikely_readings_ask_to_confirm_then_save_on_the_urgent_path(care, enrolment, login, client):
    login(care.cast.village_doctor)
    url = f"/chronic/patients/{enrolment.pk}/follow-up/"
    data = {"visit_date": today(), "sbp": "200", "dbp": "120", "key": "k"}
    resp = client.post(url, data)
    assert resp.status_code == 400 and "确认读数" in resp.content.decode() and not FollowUp.objects.exists()
    resp = client.post(url, {**data, "confirm": "1"})
    assert resp.status_code == 302
    assert FollowUp.objects.get().decision == Decision.URGENT


def test_urgent_draft_referral_is_submitted_from_the_patient_page(care, enrolment, login, client):
    setup_center(care.cast.community, actor=Actor.system("test"), members=[care.cast.county_doctor])
    fu = fu_svc.record_follow_up(as_(care.cast.village_doctor), enrolment, {"sbp": 185, "dbp": 100})
    login(care.cast.village_doctor)
    body = client.get(f"/chronic/patients/{enrolment.pk}/").content.decode()
    assert 'data-testid="submit-referral"' in body
    resp = client.post(f"/chronic/follow-ups/{fu.pk}/submit-referral/")
    assert resp.status_code == 302
    fu.refresh_from_db()
    assert fu.referral.status == "submitted"


def test_another_villages_doctor_gets_404_and_a_nurse_may_record(care, enrolment, login, client):
    login(care.cast.other_village_doctor)
    assert client.get(f"/chronic/patients/{enrolment.pk}/").status_code == 404
    assert client.get(f"/chronic/patients/{enrolment.pk}/follow-up/").status_code == 404
    login(care.nurse)
    assert client.get(f"/chronic/patients/{enrolment.pk}/follow-up/").status_code == 200


def test_patients_list_filters_and_is_scoped(care, enrolment, login, client):
    fu_svc.record_follow_up(as_(care.cast.village_doctor), enrolment, {"sbp": 150, "dbp": 95})
    login(care.cast.village_doctor)
    body = client.get("/chronic/patients/", {"state": "uncontrolled"}).content.decode()
    assert care.grandfather.name in body
    assert care.grandfather.name not in client.get("/chronic/patients/", {"condition": "t2dm"}).content.decode()
    assert client.get("/chronic/patients/", {"state": "bad"}).status_code == 400
    login(care.cast.other_village_doctor)
    assert care.grandfather.name not in client.get("/chronic/patients/").content.decode()


def test_enrol_from_the_candidates_page(care, login, client):
    from tests.chronic.test_enrolment import encounter

    enc = encounter(care.grandfather, care.cast.township_center, "I10.x00",
                    timezone.localdate() - dt.timedelta(days=5))
    login(care.cast.village_doctor)
    body = client.get("/chronic/candidates/").content.decode()
    assert care.grandfather.name in body and f"encounter={enc.pk}" in body
    resp = client.post("/chronic/enrol/", {"resident": care.grandfather.pk, "condition": "htn",
                                           "encounter": enc.pk, "enrolled_on": today()})
    assert resp.status_code == 302
    e = Enrolment.objects.get()
    assert e.source_encounter == enc and e.diagnosed_on == enc.admit_date
    resp = client.post("/chronic/enrol/", {"resident": care.mother.pk, "condition": "htn"})
    assert resp.status_code == 400 and "35" in resp.content.decode()


def test_the_pages_in_english(care, enrolment, login, client):
    login(care.cast.village_doctor)
    client.post("/i18n/setlang/", {"language": "en"})  # the page's own language menu
    body = client.get(f"/chronic/patients/{enrolment.pk}/follow-up/").content.decode()
    assert "Altered consciousness" in body  # the danger signs' English labels from the rules data


def test_the_api_enrols_records_and_lists(care, login, client):
    setup_center(care.cast.community, actor=Actor.system("test"), members=[care.cast.county_doctor])
    login(care.cast.village_doctor)
    r = client.post("/api/v1/chronic/patients", json.dumps({"resident": care.grandfather.pk, "condition": "htn",
                                                              "enrolled_on": "2026-01-05"}),
                    content_type="application/json")
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    again = client.post("/api/v1/chronic/patients", json.dumps({"resident": care.grandfather.pk, "condition": "htn"}),
                        content_type="application/json")
    assert again.status_code == 409
    bad = client.post("/api/v1/chronic/follow-ups", json.dumps({"patient": pid, "sbp": 300, "dbp": 20}),
                      content_type="application/json")
    assert bad.status_code == 422 and bad.headers["Content-Type"].startswith("application/problem+json")
    assert "sbp" in json.dumps(bad.json(), ensure_ascii=False)
    unlikely = client.post("/api/v1/chronic/follow-ups", json.dumps({"patient": pid, "sbp": 200, "dbp": 120}),
                           content_type="application/json")
    assert unlikely.status_code == 422 and unlikely.json()["code"] == "unlikely_values"
    first = client.post("/api/v1/chronic/follow-ups", json.dumps({"patient": pid, "sbp": 150, "dbp": 96,
                                                                   "visit_date": "2026-03-01"}),
                        content_type="application/json").json()
    assert first["decision"] == "adjust"
    second = client.post("/api/v1/chronic/follow-ups", json.dumps({"patient": pid, "sbp": 152, "dbp": 94,
                                                                    "visit_date": "2026-03-14"}),
                         content_type="application/json").json()
    assert second["decision"] == "refer" and second["referral_id"] and "second_uncontrolled" in second["reasons"]
    listed = client.get("/api/v1/chronic/follow-ups", {"patient": pid}).json()
    assert [f["id"] for f in listed] == [second["id"], first["id"]]
    one = client.get(f"/api/v1/chronic/patients/{pid}").json()
    assert one["uncontrolled_streak"] == 2 and one["next_due"] == "2026-03-28"
    assert client.get("/api/v1/chronic/patients", {"state": "referred"}).json()["items"][0]["id"] == pid
    assert "danger_signs" in client.get("/api/v1/chronic/follow-ups/rules").json()
    login(care.cast.other_village_doctor)
    assert client.get(f"/api/v1/chronic/patients/{pid}").status_code == 404


def test_the_resident_page_shows_the_management_or_the_way_to_enrol(care, enrolment, login, client):
    login(care.cast.village_doctor)
    body = client.get(f"/residents/{care.grandfather.pk}/").content.decode()
    assert f"/chronic/patients/{enrolment.pk}/" in body
    body = client.get(f"/residents/{care.grandmother.pk}/").content.decode()
    assert f"/chronic/enrol/?resident={care.grandmother.pk}" in body
    body = client.get(f"/residents/{care.mother.pk}/").content.decode()
    assert "/chronic/enrol/" not in body  # under 35


def test_the_patients_page_costs_the_same_queries_for_more_patients(care, login, client,
                                                                   django_assert_max_num_queries):
    actor = as_(care.cast.village_doctor)
    login(care.cast.village_doctor)
    enrol_svc.enrol(actor, care.grandfather, "htn")
    client.get("/chronic/patients/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get("/chronic/patients/")
    enrol_svc.enrol(actor, care.grandmother, "htn")
    enrol_svc.enrol(actor, care.grandmother, "t2dm")
    with django_assert_max_num_queries(len(one.captured_queries)):
        body = client.get("/chronic/patients/").content.decode()
    assert body.count('data-testid="patient-row"') == 3


def test_the_forms_live_check_shows_the_decision_without_saving(care, enrolment, login, client):
    login(care.cast.village_doctor)
    url = f"/chronic/patients/{enrolment.pk}/follow-up/check/"
    body = client.post(url, {"visit_date": today(), "sbp": "182", "dbp": "100"}).content.decode()
    assert "紧急转诊" in body and "血压 ≥180/110 mmHg" in body
    body = client.post(url, {"visit_date": today(), "sbp": "300", "dbp": "90"}).content.decode()
    assert "不可能" in body
    assert not FollowUp.objects.exists()
    login(care.cast.other_village_doctor)
    assert client.post(url, {"sbp": "120", "dbp": "80"}).status_code == 404


def test_every_role_opens_the_pages_without_a_server_error(care, enrolment, login, client):
    cast = care.cast
    urls = ["/chronic/patients/", "/chronic/candidates/", f"/chronic/patients/{enrolment.pk}/",
            f"/chronic/patients/{enrolment.pk}/follow-up/", f"/chronic/enrol/?resident={care.grandfather.pk}",
            "/api/v1/chronic/patients", f"/api/v1/chronic/follow-ups?patient={enrolment.pk}",
            "/api/v1/chronic/patients/candidates"]
    for user in (cast.county_doctor, cast.township_doctor, cast.village_doctor, cast.other_village_doctor,
                 cast.manager, cast.bureau, cast.city, cast.auditor, cast.outsider, care.nurse, care.public_health):
        login(user)
        for url in urls:
            status = client.get(url).status_code
            assert status in (200, 403, 404), (user.username, url, status)
        client.logout()


def test_the_medication_typed_comes_back_with_the_form(care, enrolment, login, client):
    login(care.cast.village_doctor)
    body = client.post(f"/chronic/patients/{enrolment.pk}/follow-up/", {
        "visit_date": today(), "sbp": "300", "dbp": "90", "med_name": ["氨氯地平片", ""], "med_dose": ["5mg", ""],
        "med_frequency": ["qd", ""]}).content.decode()
    assert 'value="氨氯地平片"' in body and 'value="5mg"' in body
