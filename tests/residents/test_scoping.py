"""Every role tries to read every resident, by id and by search, through the pages and the API."""

import pytest

from yigongti.core.models import AuditEvent
from yigongti.core.scoping import scope_for

# who → which of (resident in 大塘村/塔峰镇, neighbour in 石桥村/总市镇, far resident in 郸城县) they may see
VISIBLE = {
    "village_doctor": {"resident"},
    "other_village_doctor": {"neighbour"},
    "township_doctor": {"resident"},
    "county_doctor": {"resident", "neighbour"},
    "manager": {"resident", "neighbour"},
    "bureau": {"resident", "neighbour"},
    "city": {"resident", "neighbour"},
    "auditor": set(),
    "outsider": {"far_resident"},
}
PEOPLE = ("resident", "neighbour", "far_resident")


def test_scopes_follow_the_facility_hierarchy(cast):
    assert scope_for(cast.village_doctor).prefixes == ("431127100201",)
    assert scope_for(cast.township_doctor).prefixes == ("431127100",)
    assert scope_for(cast.county_doctor).prefixes == ("431127",)
    assert scope_for(cast.bureau).prefixes == ("431127",)
    assert scope_for(cast.city).prefixes == ("4311",)
    assert scope_for(cast.auditor).empty


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_each_role_opens_only_the_residents_in_scope_by_page_and_api(cast, client, login, who):
    login(getattr(cast, who))
    for person in PEOPLE:
        r = getattr(cast, person)
        page = client.get(f"/residents/{r.pk}/")
        api = client.get(f"/api/v1/residents/{r.pk}")
        if person in VISIBLE[who]:
            assert page.status_code == 200 and r.name in page.content.decode()
            assert api.status_code == 200 and api.json()["name"] == r.name
        else:
            assert page.status_code == 404, (who, person)
            assert r.name not in page.content.decode()
            assert api.status_code == 404
            assert api["Content-Type"] == "application/problem+json"
            assert api.json()["code"] == "not_found"


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_each_role_finds_only_the_residents_in_scope_by_search(cast, client, login, who):
    login(getattr(cast, who))
    for person in PEOPLE:
        r = getattr(cast, person)
        for q in (r.name, r.id_number):
            page = client.post("/residents/", {"q": q}, HTTP_HX_REQUEST="true").content.decode()
            found = client.post("/api/v1/residents/search", {"q": q}, content_type="application/json").json()["items"]
            if person in VISIBLE[who]:
                assert r.name in page and [x["id"] for x in found] == [r.pk]
            else:
                assert r.name not in page, (who, person, q)
                assert found == []


def test_an_unfiltered_list_shows_only_the_users_village(cast, client, login):
    login(cast.village_doctor)
    items = client.get("/api/v1/residents", {"page_size": 200}).json()["items"]
    assert {i["village_code"] for i in items} == {"431127100201"}


def test_out_of_scope_reads_are_audited_as_denied(cast, client, login):
    login(cast.village_doctor)
    client.get(f"/residents/{cast.neighbour.pk}/")
    ev = AuditEvent.objects.filter(action="denied", object_id=str(cast.neighbour.pk)).get()
    assert ev.actor == "village_doctor" and ev.role == "village_doctor"


def test_every_read_is_audited_with_who_and_what(cast, client, login):
    login(cast.township_doctor)
    client.get(f"/residents/{cast.resident.pk}/", HTTP_USER_AGENT="pytest-browser")
    client.get("/residents/", {"q": "李"})
    view = AuditEvent.objects.get(action="view", object_type="resident", object_id=str(cast.resident.pk))
    assert (view.actor, view.role, view.facility_id) == ("township_doctor", "doctor", cast.township_center.pk)
    assert view.ip == "127.0.0.1" and view.user_agent == "pytest-browser"
    listing = AuditEvent.objects.filter(action="list").latest("seq")
    assert listing.detail["ids"] == [cast.resident.pk]


def test_anonymous_users_are_sent_to_login_and_refused_by_the_api(cast, client):
    assert client.get("/residents/").status_code == 302
    r = client.get("/api/v1/residents")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
