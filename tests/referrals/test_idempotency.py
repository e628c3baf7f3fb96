"""Retrying a submission (a village's flaky network) never creates a duplicate."""

from tests.referrals.conftest import up
from yigongti.referrals.models import Referral


def test_the_same_key_twice_returns_the_first_referral(ref):
    a = up(ref, key="3f2a-retry")
    b = up(ref, key="3f2a-retry")
    assert a.pk == b.pk and Referral.objects.count() == 1


def test_keys_belong_to_their_submitting_doctor(ref):
    a = up(ref, key="same-key")
    b = up(ref, who=ref.village_doctor, key="same-key", icd10="I21.0", diagnosis="急性心肌梗死")
    assert a.pk != b.pk and Referral.objects.count() == 2


def test_the_page_form_posted_twice_creates_one_referral(ref, client, login):
    login(ref.township_doctor)
    form = {"resident": ref.resident.pk, "direction": "up", "urgency": "green", "to_facility": ref.county_hospital.pk,
            "icd10": "I63.9", "diagnosis": "脑梗死", "reason": "偏瘫2小时"}
    page = client.get("/referrals/new/", {"resident": ref.resident.pk}).content.decode()
    key = page.split('name="idempotency_key" value="')[1].split('"')[0]
    first = client.post("/referrals/new/", {**form, "idempotency_key": key})
    again = client.post("/referrals/new/", {**form, "idempotency_key": key})
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
    assert Referral.objects.count() == 1


def test_the_api_with_a_key_in_the_body_or_the_header_never_duplicates(ref, client, login):
    login(ref.township_doctor)
    body = {"resident": ref.resident.pk, "urgency": "green", "to_facility": ref.county_hospital.pk, "icd10": "I63.9",
            "reason": "偏瘫"}
    a = client.post("/api/v1/referrals", {**body, "idempotency_key": "body-1"}, content_type="application/json")
    b = client.post("/api/v1/referrals", {**body, "idempotency_key": "body-1"}, content_type="application/json")
    c = client.post("/api/v1/referrals", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="hdr-1")
    d = client.post("/api/v1/referrals", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="hdr-1")
    assert a.json()["id"] == b.json()["id"] and c.json()["id"] == d.json()["id"]
    assert Referral.objects.count() == 2
    assert Referral.objects.filter(idempotency_key="hdr-1").count() == 1
