"""Time points captured once where they happen: the 120 record, the ECG center, the laboratory and CT — onto the
resident's open case, as the system; what happened before the case was opened is backfilled."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.cast import SYSTEM, as_
from tests.telemedicine.conftest import build_centers, make_order
from yigongti.emergency.models import Call, CallEvent, Mission
from yigongti.pathways import capture, services
from yigongti.pathways.models import Case, CaseEvent
from yigongti.telemedicine import lab
from yigongti.telemedicine.rules import install_findings
from yigongti.telemedicine.services.orders import mark_acquired, sign_report


def ago(minutes: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=minutes)


def points(case: Case) -> dict[str, CaseEvent]:
    return {e.code: e for e in case.events.filter(active=True)}


@pytest.fixture
def centers(ems):
    return build_centers(ems.cast)


def _call(ems, *, minutes=60, kind="emergency", from_facility=None, destination=None):
    c = ems.cast
    call = Call.objects.create(call_no=f"120-26120{Call.objects.count() + 1:05d}", rang_at=ago(minutes),
                               resident=c.resident, kind=kind, from_facility=from_facility)
    mission = Mission.objects.create(call=call, vehicle=ems.vehicles["A1"], dispatched_at=ago(minutes - 1),
                                     destination=destination or c.county_hospital)
    return call, mission


def test_the_120_record_fills_the_case_of_its_call(ems):
    c = ems.cast
    call, mission = _call(ems)
    CallEvent.objects.create(call=call, kind="ring", at=call.rang_at)  # before the case: backfilled
    case = services.open_case(SYSTEM, c.resident, "chest_pain", facility=c.county_hospital, call=call)
    assert points(case)["call_120"].source == "emergency"
    fmc = CallEvent.objects.create(call=call, mission=mission, kind="fmc", at=ago(45))
    CallEvent.objects.create(call=call, mission=mission, kind="on_scene", at=ago(46))  # not a pathway point
    CallEvent.objects.create(call=call, mission=mission, kind="arrive_hospital", at=ago(20))
    p = points(case)
    assert p["fmc"].at == fmc.at and p["fmc"].source_ref == f"callevent:{fmc.pk}" and p["fmc"].recorded_by is None
    assert abs((p["door"].at - ago(20)).total_seconds()) < 5
    assert p["door"].facility == c.county_hospital
    assert set(p) == {"call_120", "fmc", "door"}
    # a direct call from the crew's service and the signal do not double it
    assert capture.on_call_event(fmc)[0].pk == p["fmc"].pk
    assert case.events.count() == 3


def test_a_transfer_leaving_the_township_is_door_out(ems):
    c = ems.cast
    call, mission = _call(ems, kind="transfer", from_facility=c.township_center)
    case = services.open_case(as_(c.township_doctor), c.resident, "chest_pain", facility=c.county_hospital,
                              first_facility=c.township_center, arrival_mode="transfer", call=call)
    services.record_event(as_(c.township_doctor), case, "first_door", at=ago(55))
    CallEvent.objects.create(call=call, mission=mission, kind="leave_scene", at=ago(30))
    CallEvent.objects.create(call=call, mission=mission, kind="arrive_hospital", at=ago(5))
    p = points(case)
    assert p["door_out"].facility == c.township_center and p["door"].facility == c.county_hospital
    dido = {m.code: m for m in services.case_metrics(case)}["dido"]
    assert dido.minutes == pytest.approx(25, abs=0.2) and dido.met


def test_a_refused_time_is_skipped_without_breaking_the_writer(ems):
    c = ems.cast
    call, mission = _call(ems, minutes=30)
    case = services.open_case(SYSTEM, c.resident, "chest_pain", facility=c.county_hospital, call=call)
    ev = CallEvent.objects.create(call=call, mission=mission, kind="fmc", at=ago(45))  # before the call
    assert CallEvent.objects.filter(pk=ev.pk).exists()
    assert "fmc" not in points(case)


def test_no_open_case_no_capture(ems):
    call, mission = _call(ems)
    CallEvent.objects.create(call=call, mission=mission, kind="fmc", at=ago(45))
    assert not CaseEvent.objects.exists()


def test_the_ecg_center_gives_first_ecg_and_a_stemi_diagnosis(ems, centers):
    c = ems.cast
    install_findings()
    case = services.open_case(as_(c.township_doctor), c.resident, "chest_pain", facility=c.county_hospital,
                              first_facility=c.township_center, arrival_mode="transfer")
    order = make_order(centers, "ECG12", by=c.township_doctor, resident=c.resident, urgency="emergency")
    mark_acquired(order, actor=as_(c.township_doctor), at=ago(12))
    sign_report(order.pk, {"conclusion": "急性下壁 ST 段抬高型心肌梗死", "critical_findings": ["ECG-STEMI"]},
                actor=as_(centers.reader))
    case.refresh_from_db()
    p = points(case)
    assert p["first_ecg"].source == "telemedicine" and p["first_ecg"].facility == c.township_center
    assert p["ecg_diagnosis"].value.startswith("急性下壁")
    assert case.subtype == "stemi" and case.ecg_order_id == order.pk
    m = {m.code: m for m in services.case_metrics(case)}["ecg_to_diagnosis"]
    assert m.done and m.minutes == pytest.approx(12, abs=0.3) and m.met is False


def test_an_ecg_taken_before_the_case_is_backfilled(ems, centers):
    c = ems.cast
    order = make_order(centers, "ECG12", by=c.township_doctor, resident=c.resident, urgency="emergency")
    mark_acquired(order, actor=as_(c.township_doctor), at=ago(20))
    case = services.open_case(as_(c.county_doctor), c.resident, "chest_pain", facility=c.county_hospital)
    assert points(case)["first_ecg"].source_ref == f"order:{order.pk}"


def test_troponin_and_its_blood_draw_from_the_laboratory(ems, centers):
    c = ems.cast
    case = services.open_case(as_(c.township_doctor), c.resident, "chest_pain", facility=c.county_hospital,
                              first_facility=c.township_center, arrival_mode="transfer")
    order = make_order(centers, "TROP", by=c.township_doctor, resident=c.resident, urgency="emergency")
    mark_acquired(order, actor=as_(c.township_doctor), at=ago(25))
    lab.enter_results(order.pk, [{"analyte": "CTNI", "value": "2.31"}], actor=as_(c.township_doctor))
    p = points(case)
    assert p["troponin"].source == "lab" and "2.31" in p["troponin"].value
    assert p["blood_draw"].source_ref == f"order:{order.pk}"
    assert {m.code: m for m in services.case_metrics(case)}["troponin_tat"].met is False  # 25 min > 20


def test_a_head_ct_for_a_stroke(ems, centers):
    c = ems.cast
    case = services.open_case(as_(c.county_doctor), c.resident, "stroke", facility=c.county_hospital,
                              subtype="ischaemic")
    services.record_event(as_(c.county_doctor), case, "door", at=ago(30))
    order = make_order(centers, "CT-HEAD", by=c.county_doctor, resident=c.resident, urgency="emergency")
    mark_acquired(order, actor=as_(c.county_doctor), at=ago(10))
    sign_report(order.pk, {"conclusion": "未见颅内出血"}, actor=as_(centers.reader))
    p = points(case)
    assert p["ct"].source == "imaging" and p["ct_report"].value == "未见颅内出血"
    assert {m.code: m for m in services.case_metrics(case)}["door_to_ct"].met is True


def test_the_call_event_map_is_pure():
    case = Case(kind="neonatal", facility_id=1)
    assert capture.call_event_codes(case, "wheels_rolling", destination_id=1, transfer_from_id=None) == \
        ["team_depart"]
    chest = Case(kind="chest_pain", facility_id=1, first_facility_id=2)
    assert capture.call_event_codes(chest, "arrive_hospital", destination_id=2, transfer_from_id=None) == \
        ["first_door"]
    assert capture.call_event_codes(chest, "arrive_hospital", destination_id=3, transfer_from_id=None) == []
    assert capture.call_event_codes(chest, "leave_scene", destination_id=1, transfer_from_id=2) == ["door_out"]
    assert capture.call_event_codes(chest, "leave_scene", destination_id=1, transfer_from_id=None) == []
    assert capture.call_event_codes(chest, "ring", destination_id=None, transfer_from_id=None) == ["call_120"]
    assert capture.call_event_codes(chest, "ring", destination_id=None, transfer_from_id=2) == []


def test_the_whole_120_chain_through_the_emergency_services_fills_the_case(ems):
    """A call taken by the dispatcher, the crew's steps on its phone: the pathway gets call, FMC and door."""
    from yigongti.emergency.services import calls, missions, prehospital

    c = ems.cast
    d = as_(ems.dispatcher)
    call = calls.take_call(d, caller_phone=c.resident.phone, priority=1, chief_complaint="胸痛大汗",
                           region=c.village.code, resident=c.resident.pk)
    mission = calls.dispatch(d, call, ems.vehicles["A1"], candidates=[])
    prehospital.choose_destination(d, mission, c.county_hospital, "PCI")
    crew = as_(ems.crew_a1)
    for kind in ("crew_ack", "wheels_rolling", "on_scene", "fmc"):
        missions.step(crew, mission, kind)
    case = services.open_case(SYSTEM, c.resident, "chest_pain", facility=c.county_hospital, call=call)
    assert {"call_120", "fmc"} <= set(points(case))  # backfilled
    missions.step(crew, mission, "leave_scene")
    missions.step(crew, mission, "arrive_hospital")
    p = points(case)
    assert p["door"].source == "emergency" and p["door"].facility == c.county_hospital
    assert set(p) == {"call_120", "fmc", "door"}
