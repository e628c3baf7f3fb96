"""Maternal care (services.maternal, queries.maternal, the pages and /api/v1/publichealth/maternal): 建册 with the
first antenatal visit, dates refused before registration or in the future, out-of-window visits flagged (超窗),
BP through the chronic validation, the five-colour grade moving the pregnancy to the county with a notification,
the delivery and the postpartum visits, scope and audit."""

import datetime as dt

import pytest

from tests.cast import as_
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yigongti.core.models import AuditEvent, Notification
from yigongti.core.validation import today
from yigongti.publichealth.models import MaternalVisit, Pregnancy
from yigongti.publichealth.queries import maternal as q
from yigongti.publichealth.services import maternal as services

D = dt.timedelta


def register(care, days_pregnant=60, **kw):
    data = {"lmp": (today() - D(days=days_pregnant)).isoformat(), "registered_on": today().isoformat(),
            "sbp": "112", "dbp": "70", "weight_kg": "55", "haemoglobin": "120", **kw}
    return services.register_pregnancy(as_(care.cast.village_doctor), care.mother, data)


def test_registration_writes_the_pregnancy_and_the_first_visit(care):
    p = register(care)
    assert p.registered_week == 8 and p.edd == p.lmp + D(days=280)
    assert p.facility == care.cast.village_clinic == p.managing_facility
    assert p.schedule_edition == "BPHS-3-2017-maternal" and p.risk_grade == "green"
    first = MaternalVisit.objects.get(pregnancy=p)
    assert (first.kind, first.gest_week, first.sbp) == ("first", 8, 112)
    assert AuditEvent.objects.filter(action="create", object_type="pregnancy", object_id=str(p.pk)).exists()
    assert register(care).pk == p.pk  # the same registration sent twice


def test_one_open_pregnancy_per_woman(care):
    register(care)
    with pytest.raises(Conflict):
        register(care, days_pregnant=70)


@pytest.mark.parametrize("kw,field", [
    ({"lmp": (dt.date.today() + D(days=3)).isoformat()}, "lmp"),
    ({"registered_on": (dt.date.today() + D(days=1)).isoformat()}, "registered_on"),
    ({"registered_on": (dt.date.today() - D(days=90)).isoformat()}, "registered_on"),  # before the LMP
    ({"lmp": "2026-02-30"}, "lmp"),
    ({"sbp": "300"}, "sbp"),
    ({"parity": "3", "gravidity": "2"}, "parity"),
])
def test_bad_registrations_are_refused_with_the_field_named(care, kw, field):
    with pytest.raises(InvalidInput) as e:
        register(care, **kw)
    assert field in e.value.errors
    assert not Pregnancy.objects.exists()


def test_a_man_cannot_be_registered(care):
    with pytest.raises(InvalidInput) as e:
        services.register_pregnancy(as_(care.cast.village_doctor), care.grandfather,
                                    {"lmp": (today() - D(days=50)).isoformat()})
    assert "resident" in e.value.errors


def test_unlikely_bp_needs_a_confirmation(care):
    with pytest.raises(InvalidInput) as e:
        register(care, sbp="200", dbp="120")
    assert e.value.code == "unlikely_values"
    p = services.register_pregnancy(as_(care.cast.village_doctor), care.mother, {
        "lmp": (today() - D(days=60)).isoformat(), "sbp": "200", "dbp": "120"}, confirm_unlikely=True)
    assert p.visits.get().sbp == 200


def test_visits_before_registration_or_in_the_future_are_refused_out_of_window_flagged(care):
    p = register(care, days_pregnant=20 * 7, registered_on=(today() - D(days=30)).isoformat())
    actor = as_(care.cast.village_doctor)
    for date in (today() + D(days=1), today() - D(days=31)):
        with pytest.raises(InvalidInput) as e:
            services.record_visit(actor, p, {"kind": "antenatal_2", "date": date.isoformat()})
        assert "date" in e.value.errors
    v = services.record_visit(actor, p, {"kind": "antenatal_2", "date": (today() - D(days=10)).isoformat(),
                                         "sbp": "118", "dbp": "76"})
    assert v.window == "ok" and v.gest_week == 18
    late = services.record_visit(actor, p, {"kind": "antenatal_3", "date": today().isoformat()})
    assert late.window == "early"  # 20 weeks: before the 21–24 window, saved and flagged
    with pytest.raises(Conflict):
        services.record_visit(actor, p, {"kind": "antenatal_2", "date": today().isoformat()})
    with pytest.raises(InvalidInput) as e:
        services.record_visit(actor, p, {"kind": "postpartum", "date": today().isoformat()})
    assert "kind" in e.value.errors  # not delivered yet


def test_the_grade_moves_orange_to_the_county_hospital_and_notifies_its_doctors(care):
    p = register(care)
    with pytest.raises(Forbidden):  # a village doctor registers, a doctor grades
        services.grade_risk(as_(care.cast.village_doctor), p, {"factors": ["twins"]})
    doctor = as_(care.cast.township_doctor)
    p = services.grade_risk(doctor, p, {"factors": ["twins"]})
    assert p.risk_grade == "yellow" and p.managing_facility == care.cast.village_clinic
    assert not Notification.objects.exists()
    p = services.grade_risk(doctor, p, {"factors": ["severe_pe"]})
    assert p.risk_grade == "orange" and p.managing_facility == care.cast.county_hospital
    n = Notification.objects.get(kind="maternal_risk")
    assert n.recipient == care.cast.county_doctor and f"/publichealth/pregnancies/{p.pk}/" == n.url
    # the county doctor reads and serves it (managing facility)
    assert q.get_pregnancy(as_(care.cast.county_doctor), p.pk).pregnancy.pk == p.pk
    p = services.grade_risk(doctor, p, {"factors": []})
    assert p.risk_grade == "green" and p.managing_facility == care.cast.village_clinic
    with pytest.raises(InvalidInput) as e:
        services.grade_risk(doctor, p, {"factors": ["nope"]})
    assert "factors" in e.value.errors


def test_delivery_opens_the_postpartum_visits_and_the_42_day_check_closes(care):
    p = register(care, days_pregnant=280, registered_on=(today() - D(days=200)).isoformat())
    actor = as_(care.cast.village_doctor)
    with pytest.raises(InvalidInput):
        services.record_delivery(actor, p, {"delivered_on": (today() + D(days=1)).isoformat(),
                                            "outcome": "live_birth"})
    p = services.record_delivery(actor, p, {"delivered_on": (today() - D(days=45)).isoformat(),
                                            "outcome": "live_birth", "delivery_facility": "蓝山县中心医院"})
    assert p.status == "postpartum"
    with pytest.raises(InvalidInput) as e:
        services.record_visit(actor, p, {"kind": "postpartum", "date": (today() - D(days=46)).isoformat()})
    assert "date" in e.value.errors  # before the delivery
    v = services.record_visit(actor, p, {"kind": "postpartum", "date": (today() - D(days=40)).isoformat()})
    assert v.window == "ok"
    services.record_visit(actor, p, {"kind": "postpartum_42", "date": today().isoformat()})
    p.refresh_from_db()
    assert p.status == "closed"


def test_lists_are_scoped_filtered_and_audited(care):
    p = register(care, days_pregnant=18 * 7, registered_on=(today() - D(days=40)).isoformat())
    vd = as_(care.cast.village_doctor)
    page = q.list_pregnancies(vd)
    assert [r.pregnancy.pk for r in page.items] == [p.pk]
    row = page.items[0]
    assert row.next_item.window.code == "antenatal_2" and row.next_item.status == "due"
    assert [r.pregnancy.pk for r in q.list_pregnancies(vd, due="due").items] == [p.pk]
    assert not q.list_pregnancies(vd, due="overdue").items
    assert not q.list_pregnancies(as_(care.cast.other_village_doctor)).items
    with pytest.raises(NotFound):
        q.get_pregnancy(as_(care.cast.other_village_doctor), p.pk)
    with pytest.raises(InvalidInput):
        q.list_pregnancies(vd, grade="blue")
    assert AuditEvent.objects.filter(action="list", object_type="pregnancy").exists()
    assert q.counts(care.cast.village_doctor)["due"] == 1


def test_pages(care, client, login):
    login(care.cast.village_doctor)
    url = f"/publichealth/pregnancies/new/?resident={care.mother.pk}"
    assert client.get(url).status_code == 200
    r = client.post(url, {"resident": care.mother.pk, "lmp": (today() - D(days=60)).isoformat(),
                          "registered_on": today().isoformat(), "sbp": "300", "dbp": "80"})
    assert r.status_code == 422 and "is-invalid" in r.content.decode()
    r = client.post(url, {"resident": care.mother.pk, "lmp": (today() - D(days=60)).isoformat(),
                          "registered_on": today().isoformat()})
    assert r.status_code == 302
    p = Pregnancy.objects.get()
    page = client.get(f"/publichealth/pregnancies/{p.pk}/").content.decode()
    assert care.mother.name in page and 'data-testid="plan-first"' in page
    assert care.mother.name in client.get("/publichealth/pregnancies/").content.decode()
    r = client.post(f"/publichealth/pregnancies/{p.pk}/visit/", {"kind": "antenatal_2",
                                                                 "date": (today() + D(days=2)).isoformat()})
    assert r.status_code == 422
    assert client.get(f"/publichealth/pregnancies/{p.pk}/visit/").status_code == 200
    r = client.post(f"/publichealth/pregnancies/{p.pk}/grade/", {"factors": ["twins"]})
    assert r.status_code == 403  # village doctors do not grade
    login(care.cast.township_doctor)
    r = client.post(f"/publichealth/pregnancies/{p.pk}/grade/", {"factors": ["twins", "gh"]})
    assert r.status_code == 302
    p.refresh_from_db()
    assert p.risk_grade == "yellow"


def test_api(care, client, login):
    login(care.cast.village_doctor)
    body = {"resident_id": care.mother.pk, "lmp": (today() - D(days=60)).isoformat()}
    r = client.post("/api/v1/publichealth/maternal", {**body, "sbp": 300, "dbp": 80},
                    content_type="application/json")
    assert r.status_code == 422 and "sbp" in r.json()["errors"]
    r = client.post("/api/v1/publichealth/maternal", body, content_type="application/json")
    assert r.status_code == 201
    pk = r.json()["id"]
    r = client.post(f"/api/v1/publichealth/maternal/{pk}/visits",
                    {"kind": "antenatal_2", "date": today().isoformat()}, content_type="application/json")
    assert r.status_code == 201 and r.json()["window"] == "early"
    got = client.get(f"/api/v1/publichealth/maternal/{pk}").json()
    assert [v["kind"] for v in got["visits"]] == ["first", "antenatal_2"]
    assert {i["code"]: i["timing"] for i in got["plan"]}["antenatal_2"] == "early"
    listed = client.get("/api/v1/publichealth/maternal").json()
    assert listed["count"] == 1 and listed["items"][0]["pregnancy"]["id"] == pk
    r = client.post(f"/api/v1/publichealth/maternal/{pk}/risk", {"factors": ["heart_severe"]},
                    content_type="application/json")
    assert r.status_code == 403
