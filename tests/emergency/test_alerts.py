"""The pre-arrival alert: the receiving hospital's doctors and nurses are told (with the ECG link and the ETA), the
chest-pain case opens before the door with the time points already known, a clinician there acknowledges once;
the live list, the detail page, the home panel and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.cast import _account, as_
from tests.emergency.test_prehospital import dispatched, use_road
from tests.telemedicine.conftest import build_centers
from yigongti.core.errors import Forbidden, NotFound
from yigongti.core.models import AuditEvent, Notification
from yigongti.emergency.models import PreArrivalAlert
from yigongti.emergency.services import alerts, prehospital
from yigongti.orgs.models import Role
from yigongti.pathways.models import Case, CaseEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.YIGONGTI_ECG_SIMULATOR = True


@pytest.fixture
def road(ems, monkeypatch):
    return use_road(ems, monkeypatch)


@pytest.fixture
def centers(ems):
    return build_centers(ems.cast)


@pytest.fixture
def stemi(road, centers):
    """A1 on a chest-pain call: on scene (FMC recorded by the crew), STEMI impression, ECG sent."""
    from yigongti.emergency.services.missions import step

    m = dispatched(road, minutes_ago=20)
    crew = as_(road.crew_a1)
    t0 = m.call.rang_at
    for kind, minutes in (("crew_ack", 1), ("wheels_rolling", 2), ("on_scene", 9), ("fmc", 10)):
        step(crew, m, kind, at=t0 + dt.timedelta(minutes=minutes))
    prehospital.set_impression(crew, m, "", "stemi")
    prehospital.attach_ecg(crew, m, recording={"seed": 5, "stemi": "inferior"})
    m.refresh_from_db()
    return m


def test_alert_tells_the_receiving_team_with_the_ecg_and_eta_and_opens_the_chest_pain_case(road, stemi):
    c = road.cast
    nurse = _account("er_nurse", Role.NURSE, c.county_hospital)
    alert = alerts.send_alert(as_(road.crew_a1), stemi)
    assert alert.facility == c.county_hospital and alert.pathway == "chest_pain"
    assert alert.ecg_order == stemi.record.ecg_order and alert.call == stemi.call
    assert alert.eta_at is not None and alert.eta_at >= alert.sent_at
    stemi.refresh_from_db()
    assert stemi.destination == c.county_hospital  # the first of destinations(): the PCI center
    told = Notification.objects.filter(kind=alerts.ALERT_KIND, urgent=True)
    assert {n.recipient for n in told} >= {c.county_doctor, nurse}
    assert c.township_doctor not in {n.recipient for n in told}
    n = told.get(recipient=c.county_doctor)
    assert "急性ST段抬高型心肌梗死" in n.title and "预计" in n.title and stemi.vehicle.call_sign in n.title
    assert reverse("telemedicine:order", args=[alert.ecg_order_id]) in n.body
    assert n.url == reverse("emergency:alert", args=[alert.pk])
    case = alerts.case_of(alert)
    assert case is not None and case.kind == "chest_pain" and case.subtype == "stemi"
    assert case.facility == c.county_hospital and case.arrival_mode == "ems" and case.call == stemi.call
    assert case.ecg_order == alert.ecg_order and case.resident == c.resident
    codes = dict(CaseEvent.objects.filter(case=case, active=True).values_list("code", "at"))
    assert codes["fmc"] == stemi.call.rang_at + dt.timedelta(minutes=10)
    assert codes["call_120"] == stemi.call.rang_at and "first_ecg" in codes
    assert "door" not in codes  # the patient has not arrived yet
    assert AuditEvent.objects.filter(action="create", object_type="ems_alert", object_id=str(alert.pk)).exists()


def test_sending_again_refreshes_the_same_alert_without_a_second_message(road, stemi):
    crew = as_(road.crew_a1)
    first = alerts.send_alert(crew, stemi)
    again = alerts.send_alert(crew, stemi)
    assert again.pk == first.pk and PreArrivalAlert.objects.count() == 1
    assert Notification.objects.filter(kind=alerts.ALERT_KIND, recipient=road.cast.county_doctor).count() == 1
    assert Case.objects.count() == 1


def test_a_dispatcher_may_send_it_and_the_case_is_opened_on_its_behalf(road, stemi):
    alert = alerts.send_alert(as_(road.dispatcher), stemi, facility=road.cast.county_hospital)
    case = alerts.case_of(alert)
    assert case is not None and case.opened_by is None and alert.sent_by == road.dispatcher


def test_the_alert_joins_the_case_the_patient_already_has(road, stemi):
    from yigongti.pathways.services import open_case

    c = road.cast
    case = open_case(as_(c.township_doctor), c.resident, "chest_pain", facility=c.county_hospital,
                     first_facility=c.township_center, arrival_mode="transfer")
    alert = alerts.send_alert(as_(road.crew_a1), stemi)
    assert alerts.case_of(alert) == case and Case.objects.count() == 1
    case.refresh_from_db()
    assert case.call == stemi.call and case.ecg_order == stemi.record.ecg_order


def test_an_alert_loaded_without_its_call_reads_the_missions(road, stemi):
    alert = alerts.send_alert(as_(road.crew_a1), stemi)
    PreArrivalAlert.objects.filter(pk=alert.pk).update(call=None)  # as the demo's bulk load writes them
    shown = alerts.alert_for(as_(road.cast.county_doctor), alert.pk)
    assert shown.call == stemi.call and alerts.case_of(shown) is not None
    assert alerts.incoming(as_(road.cast.county_doctor))[0].call.resident == road.cast.resident


def test_without_a_patient_or_a_pathway_the_alert_goes_but_no_case_opens(road, centers):
    m = dispatched(road, "A2", resident=False, complaint="trauma")
    alert = alerts.send_alert(as_(road.dispatcher), m, facility=road.cast.county_hospital)
    assert alert.pathway == "" and alerts.case_of(alert) is None and Case.objects.count() == 0
    assert Notification.objects.filter(kind=alerts.ALERT_KIND).exists()


def test_others_cannot_send_it(road, stemi):
    for who in (road.crew_b1, road.cast.county_doctor, road.cast.township_doctor):
        with pytest.raises(Forbidden):
            alerts.send_alert(as_(who), stemi)


def test_a_clinician_of_the_receiving_hospital_acknowledges_once_and_the_sender_hears_it(road, stemi):
    c = road.cast
    alert = alerts.send_alert(as_(road.crew_a1), stemi)
    with pytest.raises(Forbidden):
        alerts.ack_alert(as_(c.township_doctor), alert)
    with pytest.raises(Forbidden):
        alerts.ack_alert(as_(road.crew_a1), alert)
    done = alerts.ack_alert(as_(c.county_doctor), alert)
    later = alerts.ack_alert(as_(c.county_doctor), alert)
    assert done.acknowledged_by == c.county_doctor and later.acknowledged_at == done.acknowledged_at
    assert Notification.objects.filter(kind=alerts.ACK_KIND, recipient=road.crew_a1).count() == 1


def test_reads_are_for_the_receiving_hospital_the_sender_and_dispatchers(road, stemi):
    c = road.cast
    alert = alerts.send_alert(as_(road.crew_a1), stemi)
    for who in (c.county_doctor, road.crew_a1, road.dispatcher):
        assert alerts.alert_for(as_(who), alert.pk).pk == alert.pk
    for who in (c.township_doctor, c.outsider):
        with pytest.raises(NotFound):
            alerts.alert_for(as_(who), alert.pk)
    assert [a.pk for a in alerts.incoming(as_(c.county_doctor))] == [alert.pk]
    assert alerts.incoming(as_(c.township_doctor)) == []
    assert AuditEvent.objects.filter(action="view", object_type="ems_alert").exists()


def test_unacknowledged_alerts_come_first_then_the_newest(road, stemi):
    c = road.cast
    first = alerts.send_alert(as_(road.crew_a1), stemi)
    alerts.ack_alert(as_(c.county_doctor), first)
    other = dispatched(road, "A2", minutes_ago=3)
    second = alerts.send_alert(as_(road.dispatcher), other, facility=c.county_hospital)
    old = dispatched(road, "A3", minutes_ago=2)
    third = alerts.send_alert(as_(road.dispatcher), old, facility=c.county_hospital)
    PreArrivalAlert.objects.filter(pk=third.pk).update(sent_at=timezone.now() - dt.timedelta(hours=30))
    assert [a.pk for a in alerts.incoming(as_(c.county_doctor))] == [second.pk, first.pk]


# ---- pages, home panel, API ---------------------------------------------------------------------------------

def test_alerts_page_lists_them_and_polls_and_the_detail_page_acknowledges(road, stemi, client, login):
    c = road.cast
    alert = alerts.send_alert(as_(road.crew_a1), stemi)
    login(c.county_doctor)
    page = client.get(reverse("emergency:alerts")).content.decode()
    assert f'data-testid="alert-row-{alert.pk}"' in page and 'hx-trigger="every 10s"' in page
    assert "1 条待确认" in page and c.resident.name in page
    rows = client.get(reverse("emergency:alerts"), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in rows and f"alert-row-{alert.pk}" in rows
    detail = client.get(reverse("emergency:alert", args=[alert.pk])).content.decode()
    assert alert.ecg_order.accession_no in detail and 'data-testid="alert-ack"' in detail
    case = alerts.case_of(alert)
    assert case.case_no in detail
    r = client.post(reverse("emergency:alert_ack", args=[alert.pk]))
    assert r.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == c.county_doctor
    assert 'data-testid="alert-acked"' in client.get(reverse("emergency:alert", args=[alert.pk])).content.decode()


def test_other_hospitals_get_a_404_for_the_alert(road, stemi, client, login):
    alert = alerts.send_alert(as_(road.crew_a1), stemi)
    login(road.cast.township_doctor)
    assert client.get(reverse("emergency:alert", args=[alert.pk])).status_code == 404
    assert client.post(reverse("emergency:alert_ack", args=[alert.pk])).status_code == 404


def test_home_panel_shows_the_incoming_alerts_to_the_receiving_clinicians(road, stemi, client, login):
    from yigongti.emergency.home import alerts_panel

    c = road.cast
    assert alerts_panel(as_(c.county_doctor)).items == []  # a chest-pain center: the panel, empty
    alert = alerts.send_alert(as_(road.crew_a1), stemi)
    panel = alerts_panel(as_(c.county_doctor))
    assert [i.testid for i in panel.items] == [f"home-ems-alert-{alert.pk}"] and panel.items[0].tone == "danger"
    assert alerts_panel(as_(c.village_doctor)) is None and alerts_panel(as_(road.dispatcher)) is None
    login(c.county_doctor)
    assert f"home-ems-alert-{alert.pk}" in client.get("/").content.decode()


def test_api_send_list_get_and_ack(road, stemi, client, login):
    c = road.cast
    login(road.crew_a1)
    r = client.post("/api/v1/emergency/alerts", {"mission": stemi.pk}, content_type="application/json")
    assert r.status_code == 201
    body = r.json()
    assert body["facility_id"] == c.county_hospital.pk and body["case_id"] is not None
    assert body["ecg_order_id"] == stemi.record.ecg_order_id and body["eta_at"]
    client.logout()
    login(c.county_doctor)
    assert [a["id"] for a in client.get("/api/v1/emergency/alerts").json()] == [body["id"]]
    r = client.post(f"/api/v1/emergency/alerts/{body['id']}/ack")
    assert r.status_code == 200 and r.json()["acknowledged_at"]
    client.logout()
    login(c.township_doctor)
    r = client.get(f"/api/v1/emergency/alerts/{body['id']}")
    assert r.status_code == 404 and r["Content-Type"].startswith("application/problem+json")
