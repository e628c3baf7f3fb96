"""履约 pages and API: the service ledger (and its Excel export), recording a delivery, the 118 sessions."""

import datetime as dt
import io

import openpyxl
import pytest

from tests.familydoctor.test_fulfilment import make_contract
from yigongti.core.models import AuditEvent
from yigongti.familydoctor.models import ServiceDelivery, TeamSession


@pytest.fixture
def signed(care):
    return make_contract(care, care.grandfather), make_contract(care, care.mother)


def test_village_doctor_sees_the_ledger_of_the_team(care, signed, client, login):
    login(care.cast.village_doctor)
    r = client.get("/familydoctor/ledger/", {"village": care.cast.village.code})
    page = r.content.decode()
    assert r.status_code == 200 and page.count('data-testid="ledger-row"') == 2
    assert care.grandfather.name in page and care.grandfather.id_number not in page
    assert AuditEvent.objects.filter(action="list", object_type="fd_ledger").exists()


def test_ledger_export_has_the_services_as_columns(care, signed, client, login):
    login(care.cast.village_doctor)
    r = client.get("/familydoctor/ledger/export/", {"team": care.team.pk})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    assert header[1] == "姓名" and any("慢病随访" in str(h) for h in header)
    grandpa = next(row for row in rows[1:] if row[1] == care.grandfather.name)
    assert grandpa[4].startswith("43*") and grandpa[header.index("计划合计")] == 8


def test_other_teams_doctor_cannot_open_the_team_or_the_contract(care, signed, client, login):
    login(care.cast.other_village_doctor)
    assert client.get("/familydoctor/ledger/", {"team": care.team.pk}).status_code == 404
    assert client.get(f"/familydoctor/contracts/{signed[0].pk}/deliver/").status_code == 404
    assert client.get("/api/v1/familydoctor/fulfilment/ledger", {"team": care.team.pk}).status_code == 404


def test_manager_cannot_read_the_person_level_ledger(care, signed, client, login):
    login(care.cast.manager)
    assert client.get("/familydoctor/ledger/", {"team": care.team.pk}).status_code == 403


def test_record_a_delivery_from_the_page(care, signed, client, login):
    login(care.cast.village_doctor)
    url = f"/familydoctor/contracts/{signed[0].pk}/deliver/"
    assert client.get(url).status_code == 200
    today = dt.date.today()
    if today > signed[0].end:
        pytest.skip("the contract year is over")
    r = client.post(url, {"service": care.services["EDU"].pk, "delivered_on": today.isoformat(), "place": "入户",
                          "by": care.cast.village_doctor.staff_id, "note": "限盐"})
    assert r.status_code == 302 and ServiceDelivery.objects.get().note == "限盐"
    page = client.get(url).content.decode()
    assert "限盐" in page and "已完成" in page


def test_bad_delivery_on_the_page_keeps_the_form(care, signed, client, login):
    login(care.cast.village_doctor)
    r = client.post(f"/familydoctor/contracts/{signed[0].pk}/deliver/",
                    {"service": care.services["EDU"].pk, "delivered_on": "2099-01-01", "note": "限盐"})
    assert r.status_code == 422 and "限盐" in r.content.decode() and not ServiceDelivery.objects.exists()


def test_delivery_api_and_problem_json(care, signed, client, login):
    login(care.cast.village_doctor)
    api = "/api/v1/familydoctor/fulfilment/deliveries"
    body = {"contract": signed[0].pk, "service": care.services["FU"].pk, "delivered_on": "2026-02-02"}
    r = client.post(api, body, content_type="application/json")
    assert r.status_code == 201 and r.json()["scheduled_id"] is not None and r.json()["service"] == "慢病随访"
    bad = client.post(api, {**body, "delivered_on": "2099-02-02"}, content_type="application/json")
    assert bad.status_code == 422 and bad["Content-Type"].startswith("application/problem+json")
    assert "delivered_on" in str(bad.json())
    ledger = client.get("/api/v1/familydoctor/fulfilment/ledger",
                        {"team": care.team.pk, "village": care.cast.village.code}).json()
    row = next(x for x in ledger["rows"] if x["contract_id"] == signed[0].pk)
    assert row["done"] == 1 and row["planned"] == 8 and row["id_number"].startswith("43*")


def test_log_118_sessions_page_and_api(care, client, login):
    login(care.cast.township_doctor)
    r = client.post("/familydoctor/sessions/new/", {
        "team": care.team.pk, "date": "2026-05-06", "starts": "08:00", "ends": "17:00",
        "village": care.cast.village.pk, "present": [care.cast.township_doctor.staff_id,
                                                     care.cast.village_doctor.staff_id]})
    assert r.status_code == 302
    s = TeamSession.objects.get()
    assert s.present.count() == 2 and s.village == care.cast.village
    page = client.get("/familydoctor/sessions/", {"team": care.team.pk}).content.decode()
    assert "session-row" in page and "9.0" in page
    bad = client.post("/familydoctor/sessions/new/", {"team": care.team.pk, "date": "2026-05-07", "starts": "17:00",
                                                      "ends": "08:00"})
    assert bad.status_code == 422
    api = "/api/v1/familydoctor/fulfilment/sessions"
    r = client.post(api, {"team": care.team.pk, "date": "2026-05-13", "starts": "08:00", "ends": "12:00"},
                    content_type="application/json")
    assert r.status_code == 201 and r.json()["hours"] == 4.0
    dup = client.post(api, {"team": care.team.pk, "date": "2026-05-13", "starts": "08:00", "ends": "12:00"},
                      content_type="application/json")
    assert dup.status_code == 422
    assert len(client.get(api, {"team": care.team.pk}).json()) == 2


def test_a_non_member_cannot_log_a_session(care, client, login):
    login(care.cast.other_village_doctor)
    r = client.post("/api/v1/familydoctor/fulfilment/sessions",
                    {"team": care.other_team.pk, "date": "2026-05-13", "starts": "08:00", "ends": "17:00",
                     "present": [care.cast.village_doctor.staff_id]}, content_type="application/json")
    assert r.status_code == 422  # present: not a member of that team
    login(care.nurse)  # not a member of the other team, whose township is outside her scope
    r = client.post("/api/v1/familydoctor/fulfilment/sessions",
                    {"team": care.other_team.pk, "date": "2026-05-13", "starts": "08:00", "ends": "17:00"},
                    content_type="application/json")
    assert r.status_code == 404 and not TeamSession.objects.exists()


def test_managers_see_the_teams_sessions_but_cannot_log_one(care, client, login):
    TeamSession.objects.create(team=care.team, date=dt.date(2026, 5, 6), starts=dt.time(8), ends=dt.time(17))
    login(care.cast.manager)
    page = client.get("/familydoctor/sessions/", {"team": care.team.pk}).content.decode()
    assert "session-row" in page and "session-new" not in page
    r = client.post("/familydoctor/sessions/new/", {"team": care.team.pk, "date": "2026-05-07", "starts": "08:00",
                                                    "ends": "17:00"})
    assert r.status_code == 403 and TeamSession.objects.count() == 1
