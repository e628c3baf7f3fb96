"""一键呼叫: a township or village doctor's one button makes the green-channel up-referral, the 120 transfer, the
county team's alert with the ECG and the chest-pain (or stroke) case together; pressing again returns the same; the
resident page's panel, the confirm page and the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.cast import SYSTEM, _account, as_
from tests.emergency.test_prehospital import use_road
from tests.telemedicine.conftest import build_centers, make_order
from yigongti.core.errors import Forbidden, InvalidInput, NotFound
from yigongti.core.models import Notification
from yigongti.emergency.models import Call, CallEvent, CallKind, PreArrivalAlert
from yigongti.orgs.models import Role
from yigongti.pathways import green_channel as gc
from yigongti.pathways.models import Case, CaseEvent
from yigongti.referrals.models import Referral, Urgency

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


@pytest.fixture
def county(ems, monkeypatch):
    """The 120 network, the ECG center, the referral center at the county hospital, and the road graph (H1's, or
    a stand-in)."""
    from yigongti.referrals.services import install_starter_rules, setup_center

    use_road(ems, monkeypatch)
    c = ems.cast
    desk = _account("gc_desk", Role.NURSE, c.county_hospital)
    setup_center(c.community, members=[desk], actor=SYSTEM)
    install_starter_rules(actor=SYSTEM)
    ems.centers = build_centers(c)
    ems.desk = desk
    return ems


def _ecg(county, by):
    from yigongti.telemedicine import ecg
    from yigongti.telemedicine.ecg.simulate import twelve_lead
    from yigongti.telemedicine.ecg.write import dicom_ecg

    c = county.cast
    order = make_order(county.centers, "ECG12", by=by, resident=c.resident, urgency="emergency")
    samples, rate, uv = twelve_lead(4, stemi="inferior", hr=88)
    r = c.resident
    data = dicom_ecg(samples, rate, uv, order.accession_no, {"id": str(r.pk), "name": r.name,
                                                             "birth_date": r.birth_date, "sex": r.sex})
    ecg.receive_file(order.pk, data, "ecg.dcm", actor=as_(by))
    return order


def test_township_doctor_presses_once_and_everything_starts_together(county):
    c = county.cast
    order = _ecg(county, c.township_doctor)
    done = gc.press(as_(c.township_doctor), c.resident, kind="chest_pain", note="胸痛1小时，下壁ST段抬高")
    # the green-channel up-referral to the PCI center
    r = done.referral
    assert r.urgency == Urgency.GREEN and r.direction == "up" and r.to_facility == c.county_hospital
    assert r.from_facility == c.township_center and r.icd10.startswith("I21") and r.status == "submitted"
    # the 120 transfer: priority I, at the township, on the dispatchers' board
    call = done.call
    assert call.kind == CallKind.GREEN_CHANNEL and call.priority == 1 and call.referral == r
    assert call.from_facility == c.township_center and call.resident == c.resident and call.status == "open"
    assert call.complaint_code == "chest_pain" and "下壁ST段抬高" in call.chief_complaint
    assert Notification.objects.filter(recipient=county.dispatcher, kind="ems_transfer").exists()
    # the county team's alert with the ECG, before any ambulance is sent
    a = done.alert
    assert a.facility == c.county_hospital and a.ecg_order == order and a.mission is None and a.call == call
    assert a.pathway == "chest_pain" and a.eta_at is not None
    assert Notification.objects.filter(recipient=c.county_doctor, kind="ems_pre_arrival", urgent=True).exists()
    # the case at the county center, the township as the first facility
    case = done.case
    assert case.kind == "chest_pain" and case.subtype == "stemi" and case.facility == c.county_hospital
    assert case.first_facility == c.township_center and case.arrival_mode == "transfer"
    assert case.call == call and case.referral == r and case.ecg_order == order
    assert CaseEvent.objects.filter(case=case, code="first_ecg", active=True).exists()


def test_pressing_again_returns_the_same_four(county):
    c = county.cast
    _ecg(county, c.township_doctor)
    first = gc.press(as_(c.township_doctor), c.resident, kind="chest_pain")
    again = gc.press(as_(c.township_doctor), c.resident, kind="chest_pain", idempotency_key="other")
    assert (again.referral.pk, again.call.pk, again.alert.pk, again.case.pk) == (
        first.referral.pk, first.call.pk, first.alert.pk, first.case.pk)
    assert Referral.objects.count() == 1 and Call.objects.count() == 1 and PreArrivalAlert.objects.count() == 1
    assert Case.objects.count() == 1
    assert Notification.objects.filter(recipient=c.county_doctor, kind="ems_pre_arrival").count() == 1


def test_a_press_that_fails_part_way_leaves_nothing_and_the_retry_makes_all_four(county, monkeypatch):
    c = county.cast
    from yigongti.emergency.services import calls

    real = calls.create_transfer

    def broken(*args, **kwargs):
        raise RuntimeError("the network dropped")

    monkeypatch.setattr(calls, "create_transfer", broken)
    with pytest.raises(RuntimeError):
        gc.press(as_(c.township_doctor), c.resident, kind="stroke", idempotency_key="k1")
    assert Referral.objects.count() == 0 and Call.objects.count() == 0 and Case.objects.count() == 0
    assert not Notification.objects.filter(kind="referral_submitted").exists()
    monkeypatch.setattr(calls, "create_transfer", real)
    done = gc.press(as_(c.township_doctor), c.resident, kind="stroke", idempotency_key="k1")
    assert Referral.objects.count() == 1 and done.referral.icd10.startswith("I63")
    assert done.case.kind == "stroke" and done.alert.pathway == "stroke" and done.alert.ecg_order is None


def test_a_second_doctor_pressing_for_the_same_patient_joins_the_first(county):
    c = county.cast
    first = gc.press(as_(c.village_doctor), c.resident, kind="chest_pain")
    second = gc.press(as_(c.township_doctor), c.resident, kind="chest_pain")
    assert second.call.pk == first.call.pk and second.case.pk == first.case.pk and Referral.objects.count() == 1


def test_village_doctor_presses_for_a_stroke_and_the_stroke_center_is_chosen(county):
    c = county.cast
    done = gc.press(as_(c.village_doctor), c.resident, kind="stroke")
    assert done.referral.to_facility == c.county_hospital and done.call.from_facility == c.village_clinic
    assert done.case.first_facility == c.village_clinic and done.case.subtype == "ischaemic"


def test_who_may_press_and_for_whom(county):
    c = county.cast
    with pytest.raises(Forbidden):
        gc.press(as_(county.crew_b1), c.resident)  # a nurse
    with pytest.raises(Forbidden):
        gc.press(as_(county.dispatcher), c.resident)
    with pytest.raises(NotFound):
        gc.press(as_(c.village_doctor), c.neighbour)  # another village's resident
    with pytest.raises(InvalidInput, match="胸痛"):
        gc.press(as_(c.township_doctor), c.resident, kind="trauma")
    other = make_order(county.centers, "ECG12", by=c.other_village_doctor, resident=c.neighbour)
    with pytest.raises(InvalidInput, match="不属于该患者"):
        gc.press(as_(c.township_doctor), c.resident, ecg_order=other.pk)
    assert Call.objects.count() == 0


def test_when_the_ambulance_is_sent_the_crews_alert_joins_the_same_one(county):
    from yigongti.emergency.services.calls import dispatch

    c = county.cast
    done = gc.press(as_(c.township_doctor), c.resident, kind="chest_pain")
    mission = dispatch(as_(county.dispatcher), done.call, county.vehicles["A1"], candidates=[])
    assert mission.destination == c.county_hospital  # the referral's destination
    from yigongti.emergency.services import alerts

    alert = alerts.send_alert(as_(county.crew_a1), mission)
    assert alert.pk == done.alert.pk and alert.mission == mission
    assert Case.objects.filter(kind="chest_pain").count() == 1
    assert CallEvent.objects.filter(call=done.call, kind="dispatch_order").exists()


# ---- pages and API ------------------------------------------------------------------------------------------

def test_resident_page_shows_the_button_to_doctors_only(county, client, login):
    c = county.cast
    login(c.township_doctor)
    page = client.get(reverse("residents:detail", args=[c.resident.pk])).content.decode()
    assert reverse("pathways:green_channel", args=[c.resident.pk]) in page and "一键呼叫" in page
    client.logout()
    nurse = _account("tc_nurse", Role.NURSE, c.township_center)
    login(nurse)
    page = client.get(reverse("residents:detail", args=[c.resident.pk])).content.decode()
    assert reverse("pathways:green_channel", args=[c.resident.pk]) not in page


def test_confirm_page_and_press_land_on_the_summary(county, client, login):
    c = county.cast
    order = _ecg(county, c.township_doctor)
    login(c.township_doctor)
    url = reverse("pathways:green_channel", args=[c.resident.pk])
    page = client.get(url).content.decode()
    assert order.accession_no in page and 'data-testid="gc-press"' in page and 'name="viewport"' in page
    r = client.post(url, {"kind": "chest_pain", "note": "胸痛", "key": "abc", "ecg_order": order.pk})
    call = Call.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("pathways:green_channel_done", args=[call.pk])
    done = client.get(r["Location"]).content.decode()
    assert call.call_no in done and "蓝山县中心医院" in done and Case.objects.get().case_no in done
    r = client.post(url, {"kind": "chest_pain", "key": "abc"})  # a double tap
    assert r.status_code == 302 and Call.objects.count() == 1
    r = client.post(url, {"kind": "nothing"})
    assert r.status_code == 400 and "胸痛" in r.content.decode()
    client.logout()
    login(c.other_village_doctor)
    assert client.get(reverse("pathways:green_channel_done", args=[call.pk])).status_code == 404
    assert client.get(url).status_code == 404


def test_api_press_and_read(county, client, login):
    c = county.cast
    login(c.village_doctor)
    r = client.post(f"/api/v1/pathways/green-channel/{c.resident.pk}", {"kind": "stroke"},
                    content_type="application/json")
    assert r.status_code == 201
    body = r.json()
    assert body["facility_id"] == c.county_hospital.pk and body["case_no"] and body["referral_id"]
    again = client.post(f"/api/v1/pathways/green-channel/{c.resident.pk}", {"kind": "stroke"},
                        content_type="application/json")
    assert again.json()["call_id"] == body["call_id"]
    assert client.get(f"/api/v1/pathways/green-channel/calls/{body['call_id']}").json()["case_id"] == body["case_id"]
    r = client.post(f"/api/v1/pathways/green-channel/{c.neighbour.pk}", {}, content_type="application/json")
    assert r.status_code == 404
