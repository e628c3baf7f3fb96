"""/api/v1/pathways/cases: the same use cases as the pages, typed, problem+json on bad input."""

import datetime as dt

import pytest
from django.utils import timezone

from yigongti.pathways.models import Case, CaseEvent

API = "/api/v1/pathways/cases"


def ago(minutes: float) -> str:
    return (timezone.now() - dt.timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def doc(ems, client, login):
    login(ems.cast.county_doctor)
    return client


def _open(client, ems, **extra):
    body = {"resident": ems.cast.resident.pk, "kind": "stroke", "subtype": "ischaemic", **extra}
    r = client.post(API, body, content_type="application/json")
    assert r.status_code == 201, r.content
    return r.json()


def test_open_record_and_read_a_stroke_case(ems, doc):
    case = _open(doc, ems)
    assert case["facility_id"] == ems.cast.county_hospital.pk and case["next"][0] == "onset"
    url = f"{API}/{case['id']}/events"
    r = doc.post(url, {"code": "door", "at": ago(50)}, content_type="application/json")
    assert r.status_code == 201 and r.json()["code"] == "door" and r.json()["source"] == "manual"
    doc.post(url, {"code": "needle", "at": ago(5)}, content_type="application/json")
    detail = doc.get(f"{API}/{case['id']}").json()
    dnt = next(m for m in detail["metrics"] if m["code"] == "dnt")
    assert dnt["minutes"] == pytest.approx(45, abs=0.2) and dnt["met"] is True and dnt["target_min"] == 60
    listed = doc.get(API, {"kind": "stroke"}).json()
    assert [c["case_no"] for c in listed] == [case["case_no"]] and listed[0]["metrics"]


def test_a_replayed_press_records_once(ems, doc):
    case = _open(doc, ems)
    url = f"{API}/{case['id']}/events"
    a = doc.post(url, {"code": "door"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="tap-1")
    b = doc.post(url, {"code": "door"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="tap-1")
    assert a.json()["id"] == b.json()["id"] and CaseEvent.objects.filter(code="door").count() == 1


def test_bad_times_and_codes_are_problems(ems, doc):
    case = _open(doc, ems)
    url = f"{API}/{case['id']}/events"
    future = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    r = doc.post(url, {"code": "door", "at": future}, content_type="application/json")
    assert r.status_code == 422 and r["Content-Type"].startswith("application/problem+json")
    assert r.json()["code"] == "invalid_time"
    assert doc.post(url, {"code": "wire"}, content_type="application/json").json()["code"] == "unknown_event"


def test_correct_delay_and_close(ems, doc):
    case = _open(doc, ems)
    url = f"{API}/{case['id']}"
    door = doc.post(f"{url}/events", {"code": "door", "at": ago(100)}, content_type="application/json").json()
    doc.post(f"{url}/events", {"code": "ct", "at": ago(60)}, content_type="application/json")
    r = doc.post(f"{url}/events/{door['id']}/correct", {"at": ago(90), "reason": ""},
                 content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    new = doc.post(f"{url}/events/{door['id']}/correct", {"at": ago(90), "reason": "挂号时间录错"},
                   content_type="application/json").json()
    assert new["replaces_id"] == door["id"] and new["active"]
    detail = doc.get(url).json()
    assert sorted(e["active"] for e in detail["events"] if e["code"] == "door") == [False, True]
    assert detail["missing_delays"] == ["door_to_ct"]  # 30 min > 25
    r = doc.post(f"{url}/close", {"outcome": "discharged"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "delay_reason_required"
    doc.post(f"{url}/delays", {"metric": "door_to_ct", "code": "imaging_delay"}, content_type="application/json")
    closed = doc.post(f"{url}/close", {"outcome": "discharged"}, content_type="application/json").json()
    assert closed["status"] == "closed" and Case.objects.get(pk=case["id"]).outcome == "discharged"


def test_others_get_404_or_403(ems, doc, client, login):
    case = _open(doc, ems)
    client.logout()
    login(ems.cast.outsider)
    assert client.get(f"{API}/{case['id']}").status_code == 404
    r = client.post(API, {"resident": ems.cast.resident.pk, "kind": "stroke", "facility": ems.cast.county_hospital.pk},
                    content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "out_of_scope"
    # the patient walked into the outsider's own hospital: its own case, not the county's
    r = client.post(API, {"resident": ems.cast.resident.pk, "kind": "stroke"}, content_type="application/json")
    assert r.status_code == 201 and r.json()["id"] != case["id"]
    assert Case.objects.get(pk=case["id"]).facility == ems.cast.county_hospital
    client.logout()
    login(ems.dispatcher)
    assert client.get(API).status_code == 403
