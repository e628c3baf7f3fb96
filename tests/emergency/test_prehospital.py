"""The crew's pre-hospital record: vital signs within plausible ranges and times, the working impression, the
12-lead ECG sent to the community's ECG center as an emergency order (from a DICOM / aECG file or the simulator),
the receiving hospital ranked by capability then road time, and the pages and API the crew uses."""

from __future__ import annotations

import datetime as dt

import networkx as nx
import pytest
from django.urls import reverse
from django.utils import timezone

from tests.cast import as_
from tests.telemedicine.conftest import build_centers
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.core.models import AuditEvent, Notification
from yigongti.emergency.models import CallEvent, Mission, MissionStatus, RoadEdge, VitalSigns
from yigongti.emergency.services import prehospital
from yigongti.telemedicine.ecg.simulate import twelve_lead
from yigongti.telemedicine.ecg.write import aecg_xml
from yigongti.telemedicine.models import EcgRecording, OrderStatus, Urgency

pytestmark = pytest.mark.django_db


class StandInGraph:
    """A networkx stand-in of H1's ``road_graph()`` over the fixture's grid (node ids = RoadNode pks)."""

    def __init__(self, network):
        self.g = nx.DiGraph()
        for e in RoadEdge.objects.filter(network=network):
            self.g.add_edge(e.source_id, e.target_id, w=e.length_m / (e.speed_kmh / 3.6))

    def eta_s(self, a, b):
        return nx.shortest_path_length(self.g, a, b, weight="w")

    def nearest(self, lon, lat):
        from yigongti.emergency.models import RoadNode

        return min(RoadNode.objects.all(), key=lambda n: (n.lon - lon) ** 2 + (n.lat - lat) ** 2).pk


def use_road(ems, monkeypatch):
    """H1's graph when it is there, else the stand-in."""
    try:
        from yigongti.emergency.roads.graph import clear_cache, road_graph

        clear_cache()
        road_graph()
    except Exception:
        graph = StandInGraph(ems.network)
        monkeypatch.setattr(prehospital, "_graph", lambda: graph)
    return ems


@pytest.fixture
def road(ems, monkeypatch):
    return use_road(ems, monkeypatch)


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.YIGONGTI_ECG_SIMULATOR = True


@pytest.fixture
def centers(ems):
    return build_centers(ems.cast)


def dispatched(ems, vehicle="A1", *, complaint="chest_pain", resident=True, minutes_ago=6) -> Mission:
    """A chest-pain call from the cast's resident's village, answered and dispatched through H2's services."""
    from yigongti.emergency.services.calls import dispatch, take_call

    c = ems.cast
    call = take_call(as_(ems.dispatcher), caller_phone="13874601234",
                     rang_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
                     resident=c.resident.pk if resident else None, region=c.village.code,
                     chief_complaint="胸痛2小时，大汗", complaint_code=complaint, priority=1)
    mission = dispatch(as_(ems.dispatcher), call, ems.vehicles[vehicle], candidates=[])
    # as if sent a minute after the call rang (the crew's steps follow in the past)
    sent = call.rang_at + dt.timedelta(minutes=1)
    Mission.objects.filter(pk=mission.pk).update(dispatched_at=sent)
    CallEvent.objects.filter(mission=mission, kind="dispatch_order").update(at=sent)
    mission.refresh_from_db()
    return mission


@pytest.fixture
def mission(ems):
    return dispatched(ems)


# ---- vital signs --------------------------------------------------------------------------------------------

def test_crew_records_vital_signs_once_per_idempotency_key(ems, mission):
    crew = as_(ems.crew_a1)
    v = prehospital.record_vitals(crew, mission, sbp="92", dbp="60", heart_rate=48, spo2=94, temperature="36.6",
                                  idempotency_key="tap-1")
    again = prehospital.record_vitals(crew, mission, sbp=92, idempotency_key="tap-1")
    assert again.pk == v.pk and VitalSigns.objects.count() == 1
    assert (v.sbp, v.dbp, v.heart_rate, str(v.temperature), v.gcs) == (92, 60, 48, "36.6", None)
    assert v.record.resident_id == ems.cast.resident.pk and v.by == ems.crew_a1
    assert AuditEvent.objects.filter(action="create", object_type="ems_vitals", object_id=str(v.pk)).exists()


def test_implausible_or_missing_vitals_are_refused_with_every_field_named(ems, mission):
    crew = as_(ems.crew_a1)
    with pytest.raises(InvalidInput) as e:
        prehospital.record_vitals(crew, mission, sbp=400, spo2="九十", gcs="2.5")
    assert set(e.value.errors) == {"sbp", "spo2", "gcs"} and "30–300" in e.value.errors["sbp"][0]
    with pytest.raises(InvalidInput, match="舒张压须低于收缩压"):
        prehospital.record_vitals(crew, mission, sbp=80, dbp=90)
    with pytest.raises(InvalidInput, match="至少填写一项"):
        prehospital.record_vitals(crew, mission, sbp="")
    with pytest.raises(InvalidInput, match="未知"):
        prehospital.record_vitals(crew, mission, pain=5)


def test_vitals_in_the_future_or_before_the_call_are_refused(ems, mission):
    crew = as_(ems.crew_a1)
    with pytest.raises(InvalidInput, match="晚于当前时间"):
        prehospital.record_vitals(crew, mission, sbp=120, at=timezone.now() + dt.timedelta(minutes=10))
    with pytest.raises(InvalidInput, match="早于呼救振铃时间"):
        prehospital.record_vitals(crew, mission, sbp=120, at=mission.call.rang_at - dt.timedelta(minutes=1))
    ok = prehospital.record_vitals(crew, mission, sbp=120, at=mission.call.rang_at + dt.timedelta(minutes=3))
    assert ok.at == mission.call.rang_at + dt.timedelta(minutes=3)


def test_only_the_vehicles_crew_keeps_the_record(ems, mission):
    for who in (ems.crew_b1, ems.dispatcher, ems.cast.county_doctor):
        with pytest.raises(Forbidden):
            prehospital.record_vitals(as_(who), mission, sbp=120)
    Mission.objects.filter(pk=mission.pk).update(status=MissionStatus.COMPLETED)
    mission.refresh_from_db()
    with pytest.raises(Conflict):
        prehospital.record_vitals(as_(ems.crew_a1), mission, sbp=120)


# ---- impression ---------------------------------------------------------------------------------------------

def test_impression_sets_the_pathway_and_its_icd10(ems, mission):
    record = prehospital.set_impression(as_(ems.crew_a1), mission, "", "stemi")
    assert (record.impression, record.impression_code, record.icd10) == ("急性ST段抬高型心肌梗死", "stemi", "I21.9")
    assert prehospital.pathway_of(record.impression_code) == ("chest_pain", "stemi")
    record = prehospital.set_impression(as_(ems.crew_a1), mission, "右侧肢体无力", "stroke_ischaemic", "i63.5")
    assert (record.impression, record.icd10) == ("右侧肢体无力", "I63.5")
    mission.call.refresh_from_db()
    assert mission.call.complaint_code == "stroke"
    with pytest.raises(InvalidInput):
        prehospital.set_impression(as_(ems.crew_a1), mission, "x", "flu")


# ---- ECG ----------------------------------------------------------------------------------------------------

def test_simulated_stemi_ecg_goes_to_the_ecg_centers_worklist_as_an_emergency(ems, centers, mission, settings):
    crew = as_(ems.crew_a1)
    prehospital.set_impression(crew, mission, "", "stemi")
    order = prehospital.attach_ecg(crew, mission, recording={"seed": 3, "stemi": "inferior", "hr": 80})
    assert order.center == centers.ecg and order.urgency == Urgency.EMERGENCY
    assert order.status == OrderStatus.ACQUIRED and order.resident == ems.cast.resident
    assert mission.call.call_no in order.clinical_question and "急性ST段抬高型心肌梗死" in order.clinical_question
    rec = EcgRecording.objects.get(order=order)
    assert rec.source_format == "dicom" and rec.measurements["st"]["III"] >= 0.15
    assert (settings.DATA_DIR / "ecg" / rec.file).read_bytes()[128:132] == b"DICM"
    mission.refresh_from_db()
    assert mission.record.ecg_order_id == order.pk
    # the center's readers were told of an emergency order
    assert Notification.objects.filter(recipient=centers.reader, kind="tm_order_emergency", urgent=True).exists()


def test_an_uploaded_aecg_replaces_the_recording_of_the_same_order(ems, centers, mission):
    crew = as_(ems.crew_a1)
    first = prehospital.attach_ecg(crew, mission, recording={"seed": 1})
    samples, rate, uv = twelve_lead(9, stemi="anterior", hr=90)
    r = ems.cast.resident
    data = aecg_xml(samples, rate, uv, first.accession_no, {"id": str(r.pk), "name": r.name,
                                                            "birth_date": r.birth_date, "sex": r.sex})
    second = prehospital.attach_ecg(crew, mission, upload=data, filename="ecg.xml")
    assert second.pk == first.pk and EcgRecording.objects.get(order=first).source_format == "aecg"


def test_ecg_needs_a_patient_a_file_and_an_ecg_center(ems, mission):
    crew = as_(ems.crew_a1)
    with pytest.raises(InvalidInput, match="心电诊断中心"):
        prehospital.attach_ecg(crew, mission, recording={"seed": 1})
    with pytest.raises(InvalidInput, match="请选择心电图文件"):
        prehospital.attach_ecg(crew, mission)
    anonymous = dispatched(ems, "A2", resident=False)
    with pytest.raises(InvalidInput, match="患者身份"):
        prehospital.attach_ecg(crew, anonymous, recording={"seed": 1})


def test_a_file_that_is_not_an_ecg_is_refused_with_the_reason(ems, centers, mission):
    with pytest.raises(InvalidInput, match="不是有效的"):
        prehospital.attach_ecg(as_(ems.crew_a1), mission, upload=b"hello", filename="x.dcm")


# ---- destination --------------------------------------------------------------------------------------------

def test_stemi_goes_to_the_pci_center_even_when_a_thrombolysis_unit_is_nearer(road, mission):
    c = road.cast
    prehospital.set_impression(as_(road.crew_a1), mission, "", "stemi")
    # the ambulance is next to 塔峰镇卫生院's place (the county's (4,4)); put it near the township unit instead
    from yigongti.emergency.models import Vehicle

    Vehicle.objects.filter(pk=mission.vehicle_id).update(node=road.node(9, 9))
    mission.refresh_from_db()
    ranked = prehospital.destinations(mission)
    assert ranked[0].facility == c.county_hospital and ranked[0].meets and "急诊PCI" in ranked[0].reason
    unit = next(d for d in ranked if d.facility == c.township_center)
    assert not unit.meets and "不具备急诊PCI" in unit.reason
    assert ranked[0].eta_s is not None and ranked[0].eta_s > 0 and "车程约" in ranked[0].reason


def test_undifferentiated_chest_pain_ranks_by_capability_then_road_time(road, mission):
    prehospital.set_impression(as_(road.crew_a1), mission, "胸闷", "acs")
    ranked = prehospital.destinations(mission)
    assert [d.facility for d in ranked][:2] == [road.cast.county_hospital, road.cast.township_center]


def test_an_impression_without_a_center_falls_back_to_the_communitys_hospitals(road, mission):
    prehospital.set_impression(as_(road.crew_a1), mission, "发热", "other")
    from yigongti.emergency.models import Call

    Call.objects.filter(pk=mission.call_id).update(complaint_code="fever")
    mission.refresh_from_db()
    names = {d.facility.name for d in prehospital.destinations(mission)}
    assert "蓝山县中心医院" in names and "大塘村卫生室" not in names and "蓝山县急救中心" not in names


def test_dispatcher_or_crew_chooses_a_receiving_hospital_of_the_community(road, mission):
    c = road.cast
    prehospital.set_impression(as_(road.crew_a1), mission, "", "stemi")
    m = prehospital.choose_destination(as_(road.dispatcher), mission, c.county_hospital)
    m.refresh_from_db()
    assert m.destination == c.county_hospital and "急诊PCI" in m.destination_reason
    with pytest.raises(InvalidInput, match="本医共体"):
        prehospital.choose_destination(as_(road.crew_a1), mission, c.far_hospital)
    with pytest.raises(InvalidInput):
        prehospital.choose_destination(as_(road.crew_a1), mission, c.village_clinic)
    with pytest.raises(Forbidden):
        prehospital.choose_destination(as_(c.county_doctor), mission, c.county_hospital)


def test_the_trip_starts_from_the_scene_once_the_crew_is_there(road, mission):
    from yigongti.emergency.models import Vehicle
    from yigongti.emergency.services.missions import step

    c = road.cast
    # A1 stands at (4, 4), the county hospital's station; the call is in 大塘村 at (7, 8)
    before = prehospital.mission_eta_s(mission, c.county_hospital)
    for kind in ("crew_ack", "wheels_rolling", "on_scene"):
        step(as_(road.crew_a1), mission, kind)
    mission.refresh_from_db()
    at_scene = prehospital.mission_eta_s(mission, c.county_hospital)
    assert at_scene > 0 and before == pytest.approx(2 * at_scene)  # there and back on the same roads
    assert prehospital.mission_node(mission) == mission.call.node_id
    Vehicle.objects.filter(pk=mission.vehicle_id).update(node=road.node(5, 5), position_at=timezone.now())
    mission.refresh_from_db()
    assert prehospital.mission_node(mission) == road.node(5, 5).pk  # a GPS fix newer than the arrival on scene


def test_eta_is_unknown_but_the_list_still_shows_without_a_road_graph(ems, mission, monkeypatch):
    def broken():
        raise LookupError("no network")

    monkeypatch.setattr(prehospital, "_graph", broken)
    prehospital.set_impression(as_(ems.crew_a1), mission, "", "stemi")
    from yigongti.emergency.models import Vehicle

    Vehicle.objects.filter(pk=mission.vehicle_id).update(node=ems.node(9, 9))
    mission.refresh_from_db()
    ranked = prehospital.destinations(mission)
    assert ranked[0].facility == ems.cast.county_hospital and ranked[0].eta_s is None


# ---- the page and the API -----------------------------------------------------------------------------------

def test_crew_page_records_vitals_impression_ecg_and_destination(road, centers, mission, client, login):
    login(road.crew_a1)
    c = client
    url = reverse("emergency:prehospital", args=[mission.pk])
    page = c.get(url)
    assert page.status_code == 200 and 'name="viewport"' in page.content.decode()
    assert mission.call.call_no in page.content.decode()
    r = c.post(url, {"action": "vitals", "sbp": "88", "dbp": "55", "heart_rate": "46", "spo2": "93"})
    assert r.status_code == 302 and VitalSigns.objects.get().sbp == 88
    r = c.post(url, {"action": "vitals", "sbp": "500"})
    assert r.status_code == 400 and "30–300" in r.content.decode()
    c.post(url, {"action": "impression", "code": "stemi", "text": ""})
    r = c.post(url, {"action": "ecg", "simulate": "inferior"})
    assert r.status_code == 302
    mission.refresh_from_db()
    assert mission.record.ecg_order.status == OrderStatus.ACQUIRED
    page = c.get(url).content.decode()
    assert "蓝山县中心医院" in page and mission.record.ecg_order.accession_no in page
    r = c.post(url, {"action": "destination", "facility": str(road.cast.county_hospital.pk)})
    mission.refresh_from_db()
    assert r.status_code == 302 and mission.destination == road.cast.county_hospital


def test_without_the_simulator_switched_on_only_a_device_file_is_taken(ems, centers, mission, client, login,
                                                                        settings):
    settings.YIGONGTI_ECG_SIMULATOR = False
    login(ems.crew_a1)
    url = reverse("emergency:prehospital", args=[mission.pk])
    assert 'data-testid="ecg-simulate-form"' not in client.get(url).content.decode()
    r = client.post(url, {"action": "ecg", "simulate": "inferior"})
    assert r.status_code == 400 and "请选择心电图文件" in r.content.decode()
    r = client.post(f"/api/v1/emergency/prehospital/{mission.pk}/ecg", {"simulate": "inferior"},
                    content_type="application/json")
    assert r.status_code == 404


def test_the_dispatcher_sees_the_record_and_may_choose_and_alert_but_not_write_it(ems, mission, client, login):
    login(ems.dispatcher)
    page = client.get(reverse("emergency:prehospital", args=[mission.pk])).content.decode()
    assert 'data-testid="vitals-form"' not in page and 'data-testid="ecg-form"' not in page
    assert f'data-testid="alert-{ems.cast.county_hospital.pk}"' in page
    r = client.post(reverse("emergency:prehospital", args=[mission.pk]), {"action": "vitals", "sbp": "120"})
    assert r.status_code == 403


def test_someone_elses_mission_page_is_refused(ems, mission, client, login):
    login(ems.crew_b1)
    c = client
    assert c.get(reverse("emergency:prehospital", args=[mission.pk])).status_code == 403
    assert c.get(reverse("emergency:prehospital", args=[999999])).status_code == 404


def test_api_vitals_impression_ecg_and_destinations(road, centers, mission, client, login):
    login(road.crew_a1)
    c = client
    base = f"/api/v1/emergency/prehospital/{mission.pk}"
    r = c.post(f"{base}/vitals", {"sbp": 90, "heart_rate": 50}, content_type="application/json")
    assert r.status_code == 201 and r.json()["sbp"] == 90
    r = c.post(f"{base}/vitals", {"sbp": 999}, content_type="application/json")
    assert r.status_code == 422 and r["Content-Type"].startswith("application/problem+json")
    r = c.post(f"{base}/impression", {"code": "stemi"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["impression_code"] == "stemi"
    r = c.post(f"{base}/ecg", {"simulate": "inferior"}, content_type="application/json")
    assert r.status_code == 201 and r.json()["urgency"] == "emergency" and r.json()["status"] == "acquired"
    r = c.get(f"{base}/destinations")
    assert r.status_code == 200 and r.json()[0]["facility_id"] == road.cast.county_hospital.pk
    assert r.json()[0]["meets"] is True and r.json()[0]["eta_s"] > 0  # to the scene and back
    r = c.post(f"{base}/destination", {"facility": road.cast.county_hospital.pk}, content_type="application/json")
    assert r.status_code == 200 and r.json()["destination_id"] == road.cast.county_hospital.pk
    r = c.get(f"{base}")
    assert r.status_code == 200 and r.json()["vitals"][0]["sbp"] == 90
