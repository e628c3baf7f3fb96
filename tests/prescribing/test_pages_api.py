"""The pages and the API: a prescription written in the form, flagged, reviewed and dispensed with its
追溯码; the rule editor; 点评; problem+json for bad input."""

from __future__ import annotations

import json

import pytest

from tests.cast import as_
from tests.prescribing.world import line, rx_data
from yigongti.pharmacy.models import StockBalance
from yigongti.prescribing import services
from yigongti.prescribing.models import Prescription, Status

pytestmark = pytest.mark.django_db


def test_the_form_writes_a_flagged_prescription_the_pharmacist_approves_and_the_village_doctor_dispenses(
        cast, rx, login, client):
    login(cast.village_doctor)
    page = client.get(f"/prescribing/new/?resident={cast.resident.pk}")
    assert page.status_code == 200 and "氨氯地平" in page.content.decode() and "美罗培南" not in page.content.decode()
    r = client.post(f"/prescribing/new/?resident={cast.resident.pk}", {
        "diagnoses": "I10", "line-0-item": rx.items["氨氯地平"].pk, "line-0-dose": "10", "line-0-unit": "mg",
        "line-0-frequency": "bid", "line-0-route": "po", "line-0-days": "7", "line-0-quantity": "1"})
    p = Prescription.objects.get()
    assert r.status_code == 302 and p.status == Status.REVIEW_PENDING
    login(rx.pharmacist)
    assert str(p.pk) in client.get("/prescribing/queue/").content.decode()
    assert "氨氯地平日剂量超出范围" in client.get(f"/prescribing/{p.pk}/").content.decode()
    client.post(f"/prescribing/{p.pk}/review/", {"decision": "approve", "reason": "高血压急症，已电话确认"})
    p.refresh_from_db()
    assert p.status == Status.APPROVED
    login(cast.village_doctor)
    code = rx.codes[(cast.village_clinic.pk, "氨氯地平")][0]
    r = client.post(f"/prescribing/{p.pk}/dispense/", {"trace_codes": "12345"})
    p.refresh_from_db()
    assert p.status == Status.APPROVED  # refused: the message says why
    client.post(f"/prescribing/{p.pk}/dispense/", {"trace_codes": code})
    p.refresh_from_db()
    assert p.status == Status.DISPENSED
    assert code in client.get(f"/prescribing/{p.pk}/").content.decode()


def test_bad_form_input_is_shown_beside_the_fields(cast, rx, login, client):
    login(cast.village_doctor)
    r = client.post(f"/prescribing/new/?resident={cast.resident.pk}", {
        "diagnoses": "头痛", "line-0-item": rx.items["氨氯地平"].pk, "line-0-dose": "abc", "line-0-days": "3"})
    body = r.content.decode()
    assert r.status_code == 422 and "不是 ICD-10 编码" in body and "单次剂量" in body and 'value="头痛"' in body


def test_the_rule_editor_saves_and_refuses_a_bad_figure(cast, rx, login, client):
    login(rx.pharmacist)
    assert client.get("/prescribing/rules/").status_code == 200
    rule = services.pack_for(cast.community).rules.get(code="dose.amlodipine")
    r = client.post(f"/prescribing/rules/{rule.pk}/", {"message": rule.message, "severity": "3",
                                                       "params": "{not json", "enabled": "on"})
    assert r.status_code == 422 and "JSON" in r.content.decode()
    params = json.dumps({**rule.params, "day_max": 5})
    r = client.post(f"/prescribing/rules/{rule.pk}/", {"message": rule.message, "severity": "4",
                                                       "params": params, "enabled": "on"})
    rule.refresh_from_db()
    assert r.status_code == 302 and rule.params["day_max"] == 5 and rule.severity == 4
    login(cast.village_doctor)
    assert client.get("/prescribing/rules/").status_code == 403


def test_the_comment_pages_draw_classify_and_count(cast, rx, login, client):
    services.create_prescription(as_(cast.village_doctor), rx_data(rx))
    login(rx.pharmacist)
    client.post("/prescribing/comments/", {})
    from yigongti.prescribing.models import CommentSample

    s = CommentSample.objects.get()
    r = client.post(f"/prescribing/comments/{s.pk}/", {"classification": "nonstandard", "note": "未写明用法"})
    assert r.status_code == 302
    page = client.get("/prescribing/comments/").content.decode()
    assert "不规范" in page and "100.0%" in page


def test_the_api_creates_reviews_and_dispenses(cast, rx, login, client):
    login(cast.county_doctor)
    payload = rx_data(rx, cast.county_hospital, lines=[line(rx, "布洛芬", 200, "mg", "tid"),
                                                        line(rx, "华法林", 2.5, "mg")])
    r = client.post("/api/v1/prescribing/prescriptions", payload, content_type="application/json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "review_pending" and body["findings"][0]["rule"] == "ddi.warfarin.nsaid"
    bad = client.post("/api/v1/prescribing/prescriptions", {**payload, "diagnoses": []},
                      content_type="application/json")
    assert bad.status_code == 422 and bad["Content-Type"].startswith("application/problem+json")
    login(rx.pharmacist)
    pk = body["id"]
    r = client.post(f"/api/v1/prescribing/prescriptions/{pk}/dispense", {}, content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "review_pending"
    r = client.post(f"/api/v1/prescribing/prescriptions/{pk}/review", {"decision": "approve"},
                    content_type="application/json")
    assert r.json()["status"] == "approved"
    code = rx.codes[(cast.county_hospital.pk, "华法林")][0]
    r = client.post(f"/api/v1/prescribing/prescriptions/{pk}/dispense", {"trace_codes": [code]},
                    content_type="application/json")
    assert r.status_code == 201, r.content
    assert any(x["trace_codes"] == [code] for x in r.json()["lines"])
    assert StockBalance.objects.get(facility=cast.county_hospital, lot=rx.lots["华法林"]).quantity == 9
    assert client.get(f"/api/v1/prescribing/prescriptions/{pk}").json()["status"] == "dispensed"
    assert [x["id"] for x in client.get("/api/v1/prescribing/prescriptions").json()] == [pk]


def test_the_resident_page_offers_a_prescription_for_the_visit_and_lists_the_prescriptions(cast, rx, login, client):
    import datetime as dt

    from yigongti.encounters.models import Encounter

    e = Encounter.objects.create(resident=cast.resident, area_code=cast.resident.area_code,
                                 residence_county=cast.resident.area_code[:6], facility=cast.village_clinic,
                                 type="outpatient", admit_date=dt.date.today(), main_icd10="I10",
                                 main_diagnosis="高血压", total_cost="30.00", drug_cost="20.00",
                                 insurance_paid="10.00", self_pay="20.00", scheme="resident")
    p = services.create_prescription(as_(cast.village_doctor), rx_data(rx, encounter=e.pk))
    assert p.encounter == e and p.source == "encounter"
    login(cast.village_doctor)
    page = client.get(f"/residents/{cast.resident.pk}/").content.decode()
    assert f"/prescribing/new/?resident={cast.resident.pk}&amp;encounter={e.pk}" in page
    assert f"/prescribing/{p.pk}/" in page
    form = client.get(f"/prescribing/new/?resident={cast.resident.pk}&encounter={e.pk}").content.decode()
    assert 'value="I10"' in form
