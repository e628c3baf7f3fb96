"""No oracles, and identifiers out of URLs and audit details: the lookups that answer a guess are POSTed,
rate-limited per account and per client, audited with a keyed digest, and bursts alert the auditors."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from yigongti.core.idcard import make_id_number
from yigongti.core.models import AuditEvent, Notification
from yigongti.core.personal import lookup_digest

LIMITS = {"person_lookup": ((5, 8), 600), "unmask": ((3, 10), 3600)}


@pytest.fixture
def tight(settings):
    settings.YIGONGTI_RATE_LIMITS = LIMITS
    settings.YIGONGTI_ALERT_LOOKUPS = (4, 600)
    settings.YIGONGTI_ALERT_DENIALS = (3, 600)
    return settings


def _candidates(client, **body):
    return client.post("/api/v1/residents/candidates", body, content_type="application/json")


# --- identifiers out of URLs -------------------------------------------------------------------------

def test_the_candidates_api_refuses_an_id_number_in_the_url(cast, client, login):
    login(cast.village_doctor)
    r = client.get("/api/v1/residents/candidates", {"id_number": cast.resident.id_number})
    assert r.status_code == 422 and r.json()["code"] == "identifier_in_url"
    assert "POST" in r.json()["title"]
    r = client.get("/api/v1/residents/candidates", {"phone": cast.resident.phone})
    assert r.status_code == 422
    by_name = client.get("/api/v1/residents/candidates", {"name": "李建国", "birth_date": "1958-03-14"})
    assert by_name.status_code == 200 and by_name.json()["candidates"][0]["resident_id"] == cast.resident.pk


def test_the_candidates_api_takes_the_id_number_in_a_post_body(cast, client, login):
    login(cast.village_doctor)
    body = _candidates(client, id_number=cast.resident.id_number).json()
    assert body["candidates"][0]["resident_id"] == cast.resident.pk


def test_the_registration_search_page_posts_and_ignores_identifiers_in_the_url(cast, client, login):
    login(cast.village_doctor)
    page = client.get("/residents/find/", {"id_number": cast.resident.id_number}).content.decode()
    assert "身份证号和电话不能放在网址中" in page and 'data-testid="candidate"' not in page
    assert 'method="post"' in page
    found = client.post("/residents/find/", {"id_number": cast.resident.id_number}).content.decode()
    assert f"/residents/{cast.resident.pk}/" in found
    # "none of these, create" carries what was typed in a POST body, never in a link
    assert "?name=" not in found and "id_number=" not in found


def test_the_create_page_is_prefilled_from_a_post(cast, client, login):
    login(cast.village_doctor)
    number = make_id_number("431127", dt.date(1970, 5, 6), 77, "F")
    page = client.post("/residents/new/", {"prefill": "1", "name": "赵小红", "id_number": number}).content.decode()
    assert 'value="赵小红"' in page and number in page  # the desk's own typing, in the form
    assert "请选择性别" not in page  # not validated yet


def test_the_resident_list_searches_id_numbers_by_post_only(cast, client, login):
    login(cast.village_doctor)
    page = client.get("/residents/", {"q": cast.resident.id_number}).content.decode()
    assert "身份证号不能放在网址中" in page
    found = client.post("/residents/", {"q": cast.resident.id_number}).content.decode()
    assert f"/residents/{cast.resident.pk}/" in found
    assert cast.resident.id_number not in found.split('name="q"')[0]  # pager links never carry it
    api = client.get("/api/v1/residents", {"q": cast.resident.id_number})
    assert api.status_code == 422 and api.json()["code"] == "id_in_url"
    api = client.post("/api/v1/residents/search", {"q": cast.resident.id_number}, content_type="application/json")
    assert [r["id"] for r in api.json()["items"]] == [cast.resident.pk]


def test_a_partial_id_number_does_not_spell_out_a_number_for_users_without_the_privilege(cast, client, login):
    login(cast.village_doctor)
    prefix = cast.resident.id_number[:14]
    r = client.post("/api/v1/residents/search", {"q": prefix}, content_type="application/json").json()
    assert r["items"] == []
    login(cast.county_doctor)  # may unmask: a prefix search is a convenience
    r = client.post("/api/v1/residents/search", {"q": prefix}, content_type="application/json").json()
    assert [x["id"] for x in r["items"]] == [cast.resident.pk]


# --- audit details without identifiers in clear ------------------------------------------------------

def test_searched_identifiers_are_audited_as_a_keyed_digest_never_in_clear(cast, client, login):
    login(cast.village_doctor)
    number, phone = cast.resident.id_number, cast.resident.phone
    _candidates(client, id_number=number, phone=phone)
    client.post("/residents/find/", {"id_number": number})
    client.post("/residents/", {"q": number})
    client.post("/api/v1/residents/search", {"q": number}, content_type="application/json")
    events = list(AuditEvent.objects.filter(action="list"))
    dump = json.dumps([e.detail for e in events], ensure_ascii=False)
    assert number not in dump and phone not in dump
    digests = [e.detail.get("probe", {}).get("id_digest") or (e.detail.get("query") or {}).get("q_digest")
               for e in events if isinstance(e.detail.get("query"), dict) or "probe" in e.detail]
    assert digests.count(lookup_digest(number)) == 4
    (probe,) = [e.detail["probe"] for e in events if "phone" in e.detail.get("probe", {}).get("fields", [])]
    assert probe["id_number"].startswith(number[:2]) and "*" in probe["id_number"]
    assert probe["phone_digest"] == lookup_digest(phone)


def test_the_id_duplicate_check_is_audited(cast, client, login):
    login(cast.village_doctor)
    r = client.post("/api/v1/residents", {"name": "李建民", "id_number": cast.resident.id_number,
                                          "village": cast.village.code}, content_type="application/json")
    assert r.status_code == 409
    ev = AuditEvent.objects.get(detail__query="id_duplicate_check")
    assert ev.detail["probe"]["id_digest"] == lookup_digest(cast.resident.id_number)
    assert cast.resident.id_number not in json.dumps(ev.detail)


# --- rate limits -------------------------------------------------------------------------------------

def test_registration_searches_are_limited_per_account(cast, client, login, tight):
    login(cast.village_doctor)
    codes = [_candidates(client, name="李建国", birth_date="1958-03-14").status_code for _ in range(7)]
    assert codes == [200] * 5 + [429] * 2
    r = _candidates(client, name="李建国")
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.json()["code"] == "rate_limited" and "分钟后再试" in r.json()["title"]
    assert AuditEvent.objects.filter(action="denied", detail__attempted="ratelimit:person_lookup").count() == 3
    page = client.post("/residents/find/", {"name": "李建国"})
    assert page.status_code == 429 and "查询过于频繁" in page.content.decode() and page["Retry-After"]


def test_the_limit_also_counts_per_client_address(cast, client, login, tight):
    """Two accounts on one address share the address's budget (8), though each has its own (5)."""
    login(cast.village_doctor)
    codes = [_candidates(client, name="李建国").status_code for _ in range(5)]
    client.force_login(cast.township_doctor)
    codes += [_candidates(client, name="李建国").status_code for _ in range(4)]
    assert codes == [200] * 8 + [429]


def test_duplicate_id_checks_share_the_lookup_limit(cast, client, login, tight):
    login(cast.village_doctor)
    guesses = [make_id_number("431127", dt.date(1958, 3, 14), s, "M") for s in range(7)]
    codes = [client.post("/api/v1/residents", {"name": "猜测", "id_number": g, "village": cast.village.code},
                         content_type="application/json").status_code for g in guesses]
    assert codes[5:] == [429, 429] and 429 not in codes[:5]
    page = client.post("/residents/new/", {"name": "猜测", "id_number": guesses[0], "village": cast.village.code,
                                           "sex": "M"})
    assert page.status_code == 429


def test_unmasking_is_limited(cast, client, login, tight):
    login(cast.county_doctor)
    codes = [client.post(f"/api/v1/residents/{cast.resident.pk}/identifiers").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


# --- alerts --------------------------------------------------------------------------------------------

def test_a_burst_of_lookups_alerts_the_auditors_once(cast, client, login, tight):
    login(cast.village_doctor)
    for _ in range(5):
        _candidates(client, name="李建国")
    alerts = Notification.objects.filter(kind="security_alert", recipient=cast.auditor)
    assert alerts.count() == 1
    assert "village_doctor" in alerts[0].title and "检索频繁" in alerts[0].title
    assert not Notification.objects.filter(kind="security_alert").exclude(recipient__role="auditor").exists()


def test_a_burst_of_denied_accesses_alerts_the_auditors(cast, client, login, tight):
    login(cast.village_doctor)
    for _ in range(4):  # the neighbour lives in another township: every try is a denied read
        client.get(f"/api/v1/residents/{cast.neighbour.pk}")
    assert AuditEvent.objects.filter(action="denied", actor="village_doctor").count() == 4
    alerts = Notification.objects.filter(kind="security_alert", recipient=cast.auditor)
    assert alerts.count() == 1 and "越权访问频繁" in alerts[0].title


def test_a_few_denials_do_not_alert(cast, client, login, tight):
    login(cast.village_doctor)
    client.get(f"/api/v1/residents/{cast.neighbour.pk}")
    assert not Notification.objects.filter(kind="security_alert").exists()


# --- the phone oracle, and the patient's own village doctor ------------------------------------------

def test_the_own_village_doctor_sees_the_phone_audited(cast, client, login):
    login(cast.village_doctor)
    api = client.get(f"/api/v1/residents/{cast.resident.pk}").json()
    assert api["phone"] == cast.resident.phone
    page = client.get(f"/residents/{cast.resident.pk}/").content.decode()
    assert cast.resident.phone in page and cast.resident.id_number not in page
    assert AuditEvent.objects.filter(action="unmask", actor="village_doctor", detail__fields=["phone"]).count() == 2
    listing = client.get("/api/v1/residents").json()["items"]
    assert all("*" in r["phone"] for r in listing if r["phone"])  # lists stay masked


def test_other_doctors_see_the_phone_masked(cast, client, login):
    login(cast.township_doctor)  # same township, not the village's own doctor
    assert client.get(f"/api/v1/residents/{cast.resident.pk}").json()["phone"] == "138****1234"
    login(cast.county_doctor)  # may unmask, but only on request
    assert client.get(f"/api/v1/residents/{cast.resident.pk}").json()["phone"] == "138****1234"
    assert not AuditEvent.objects.filter(action="unmask").exists()


def test_an_htmx_search_past_the_limit_gets_the_message_in_the_page(cast, client, login, tight):
    login(cast.village_doctor)
    for _ in range(5):
        client.post("/residents/find/", {"name": "李建国"}, HTTP_HX_REQUEST="true")
    r = client.post("/residents/find/", {"name": "李建国"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and 'data-testid="rate-limited"' in r.content.decode()
    assert "查询过于频繁" in r.content.decode() and r["Retry-After"]


def test_the_alert_goes_to_the_auditors_of_the_accounts_county(cast, client, login, tight):
    from tests.cast import SYSTEM
    from yigongti.orgs.models import Role
    from yigongti.orgs.services import create_account

    far_auditor = create_account(username="far_auditor", role=Role.AUDITOR, password="Ceshi-mima-2026",
                                 region=cast.far_county, actor=SYSTEM)[0]
    login(cast.village_doctor)
    for _ in range(4):
        _candidates(client, name="李建国")
    assert Notification.objects.filter(kind="security_alert", recipient=cast.auditor).count() == 1
    assert not Notification.objects.filter(kind="security_alert", recipient=far_auditor).exists()


def test_the_referral_forms_patient_picker_takes_an_id_number_by_post_only(cast, client, login):
    login(cast.township_doctor)
    posted = client.post("/referrals/new/patients/", {"q": cast.resident.id_number}).content.decode()
    assert "李建国" in posted
    got = client.get("/referrals/new/patients/", {"q": cast.resident.id_number}).content.decode()
    assert "李建国" not in got
    assert "李建国" in client.get("/referrals/new/patients/", {"q": "李建"}).content.decode()
