"""The 危急值 pages and API: the told doctor acknowledges, acts and closes; the bureau sees only counts."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.cast import SYSTEM, as_
from tests.telemedicine.test_critical import raise_k
from yigongti.telemedicine import rules
from yigongti.telemedicine.models import CriticalStatus, CriticalValue


@pytest.fixture
def table(centers):
    rules.install_defaults(centers.cast.community, actor=SYSTEM, start=dt.date(2020, 1, 1))
    return centers


def test_the_village_doctor_sees_acknowledges_acts_and_closes(table, client, login):
    cv = raise_k(table)
    login(table.cast.village_doctor)
    page = client.get("/centers/critical/").content.decode()
    assert f'data-critical="{cv.pk}"' in page and "李建国" in page
    url = f"/centers/critical/{cv.pk}/"
    assert 'data-testid="ack-form"' in client.get(url).content.decode()
    r = client.post(url + "acknowledge/", {"read_back": "2.9"}, follow=True)
    assert "复述的结果与危急值不一致" in r.content.decode()
    client.post(url + "acknowledge/", {"read_back": "李建国 钾 2.5"})
    client.post(url + "action/", {"kind": "call", "note": "电话通知来院复查"})
    client.post(url + "close/")
    cv.refresh_from_db()
    assert cv.status == CriticalStatus.CLOSED and cv.action_note == "电话通知来院复查"
    events = client.get(url).content.decode()
    assert 'data-event="closed"' in events


def test_another_villages_doctor_and_the_outsider_cannot_open_it(table, client, login):
    cv = raise_k(table)
    for user in (table.cast.other_village_doctor, table.cast.outsider):
        login(user)
        assert client.get(f"/centers/critical/{cv.pk}/").status_code == 404
        assert f'data-critical="{cv.pk}"' not in client.get("/centers/critical/").content.decode()


def test_the_bureau_sees_counts_not_patients(table, client, login):
    raise_k(table)
    login(table.cast.bureau)
    page = client.get("/centers/critical/").content.decode()
    assert 'data-testid="stat-total">1<' in page and "李建国" not in page
    assert client.get("/api/v1/telemedicine/critical").status_code == 403
    stats = client.get("/api/v1/telemedicine/critical/stats").json()
    assert stats["overall"]["total"] == 1


def test_the_lab_centers_reader_sees_the_communitys_values(table, client, login):
    cv = raise_k(table)
    login(table.reader)
    assert f'data-critical="{cv.pk}"' in client.get("/centers/critical/?status=open").content.decode()


def test_api_acknowledge_twice_is_a_conflict(table, client, login):
    cv = raise_k(table)
    login(table.cast.village_doctor)
    url = f"/api/v1/telemedicine/critical/{cv.pk}/acknowledge"
    r = client.post(url, json.dumps({"read_back": "钾 2.5"}), content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    assert [e["kind"] for e in r.json()["events"]][-1] == "acknowledged"
    r = client.post(url, json.dumps({"read_back": "钾 2.5"}), content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "already_acknowledged"
    r = client.post(f"/api/v1/telemedicine/critical/{cv.pk}/action", json.dumps({"kind": "bogus", "note": "x"}),
                    content_type="application/json")
    assert r.status_code == 422
    mine = client.get("/api/v1/telemedicine/critical").json()
    assert [x["id"] for x in mine] == [cv.pk]


def test_the_rule_page_and_a_facility_override(table, client, login):
    from tests.cast import _account
    from yigongti.orgs.models import Role

    admin = _account("township_admin", Role.FACILITY_ADMIN, table.cast.township_center)
    login(admin)
    page = client.get("/centers/critical/rules/").content.decode()
    assert 'data-testid="critical-rule-table"' in page and "钾" in page
    client.post("/centers/critical/rules/", {"action": "override", "analyte": "K", "low": "3.0", "high": "6.0",
                                             "population": "all", "reason": "透析患者多"})
    page = client.get("/centers/critical/rules/").content.decode()
    assert "透析患者多" in page


def test_the_page_fits_a_phone(table, client, login):
    cv = raise_k(table)
    login(table.cast.village_doctor)
    page = client.get(f"/centers/critical/{cv.pk}/").content.decode()
    assert "table-cards" in client.get("/centers/critical/").content.decode()
    assert 'id="read_back"' in page
    assert CriticalValue.objects.count() == 1
    assert as_(table.cast.village_doctor).user_id == table.cast.village_doctor.pk


def test_the_page_in_english(table, client, login, settings):
    cv = raise_k(table)
    login(table.cast.village_doctor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Waiting for me" in client.get("/centers/critical/").content.decode()
    page = client.get(f"/centers/critical/{cv.pk}/").content.decode()
    assert "Read back and acknowledge" in page and "Loop record" in page


def test_open_count_for_badges(table):
    from yigongti.telemedicine.queries.critical import open_count

    raise_k(table)
    assert open_count(table.cast.village_doctor) == (1, 1)
    assert open_count(table.cast.other_village_doctor) == (0, 0)
