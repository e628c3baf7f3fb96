"""Opening a case, recording its time points once, correcting them with a reason, delay reasons and closing."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.cast import SYSTEM, as_
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.core.models import AuditEvent
from yigongti.emergency.models import Call
from yigongti.pathways import services
from yigongti.pathways.models import Case, CaseEvent, CaseStatus, DelayReason


def ago(minutes: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=minutes)


@pytest.fixture
def case(ems):
    c = ems.cast
    return services.open_case(as_(c.county_doctor), c.resident, "chest_pain", facility=c.county_hospital,
                              subtype="stemi", at=ago(120))


def by_code(case):
    return {m.code: m for m in services.case_metrics(case)}


def test_a_township_doctor_opens_a_transfer_case_for_the_county_center(ems):
    c = ems.cast
    case = services.open_case(as_(c.township_doctor), c.resident, "chest_pain", facility=c.county_hospital,
                              first_facility=c.township_center, arrival_mode="transfer", subtype="stemi")
    assert case.case_no.startswith("XT") and len(case.case_no) == 12
    assert case.status == CaseStatus.OPEN and case.area_code == c.resident.area_code
    assert case.opened_by == c.township_doctor
    assert AuditEvent.objects.filter(action="create", object_type="pathway_case", object_id=str(case.pk)).exists()
    second = services.open_case(as_(c.county_doctor), c.resident, "stroke", facility=c.county_hospital)
    assert second.case_no.startswith("CZ") and second.case_no != case.case_no


def test_opening_again_returns_the_open_case_with_the_new_links(ems, case):
    c = ems.cast
    call = Call.objects.create(call_no="120-2612010001", rang_at=ago(150), resident=c.resident)
    again = services.open_case(SYSTEM, c.resident, "chest_pain", facility=c.county_hospital, call=call)
    assert again.pk == case.pk
    case.refresh_from_db()
    assert case.call_id == call.pk
    assert Case.objects.filter(resident=c.resident, kind="chest_pain").count() == 1


def test_an_idempotency_key_replays_the_first_case(ems):
    c = ems.cast
    a = services.open_case(as_(c.county_doctor), c.resident, "trauma", facility=c.county_hospital,
                           idempotency_key="k-1")
    services.close_case(as_(c.county_doctor), a, outcome="ruled_out")
    b = services.open_case(as_(c.county_doctor), c.resident, "trauma", facility=c.county_hospital,
                           idempotency_key="k-1")
    assert a.pk == b.pk


def test_who_may_not_open_a_case(ems):
    c = ems.cast
    with pytest.raises(Forbidden):  # a dispatcher is no clinician
        services.open_case(as_(ems.dispatcher), c.resident, "chest_pain", facility=c.county_hospital)
    with pytest.raises(Forbidden):  # a doctor of another county, for a resident out of their scope
        services.open_case(as_(c.outsider), c.resident, "chest_pain", facility=c.county_hospital)
    assert AuditEvent.objects.filter(action="denied", actor="outsider").exists()
    assert not Case.objects.exists()


def test_bad_kind_subtype_or_time_are_refused(ems):
    c = ems.cast
    doc = as_(c.county_doctor)
    for kwargs in ({"kind": "dental"}, {"kind": "stroke", "subtype": "stemi"},
                   {"kind": "chest_pain", "risk_colour": "red"}, {"kind": "chest_pain", "arrival_mode": "air"},
                   {"kind": "chest_pain", "at": timezone.now() + dt.timedelta(hours=1)},
                   {"kind": "chest_pain", "at": timezone.now() - dt.timedelta(days=90)}):
        kind = kwargs.pop("kind")
        with pytest.raises(InvalidInput):
            services.open_case(doc, c.resident, kind, facility=c.county_hospital, **kwargs)
    maternal = services.open_case(doc, c.neighbour, "maternal", facility=c.county_hospital, risk_colour="orange",
                                  subtype="pph")
    assert maternal.risk_colour == "orange"


def test_a_time_point_is_recorded_once(ems, case):
    doc = as_(ems.cast.county_doctor)
    first = services.record_event(doc, case, "door", at=ago(60))
    again = services.record_event(doc, case, "door", at=ago(50))  # pressed twice
    assert again.pk == first.pk and again.at == first.at
    replay = services.record_event(doc, case, "wire", at=ago(10), idempotency_key="btn-7")
    assert services.record_event(doc, case, "wire", at=ago(5), idempotency_key="btn-7").pk == replay.pk
    assert CaseEvent.objects.filter(case=case).count() == 2
    assert first.facility == ems.cast.county_hospital and first.recorded_by == ems.cast.county_doctor
    assert AuditEvent.objects.filter(action="create", object_type="pathway_event", object_id=str(first.pk)).exists()


def test_the_same_source_record_is_captured_once(ems, case):
    a = services.record_event(SYSTEM, case, "troponin", at=ago(30), source="lab", source_ref="labresult:9")
    b = services.record_event(SYSTEM, case, "troponin", at=ago(30), source="lab", source_ref="labresult:9")
    assert a.pk == b.pk


def test_times_in_the_future_or_absurdly_early_are_refused_with_a_reason(ems, case):
    doc = as_(ems.cast.county_doctor)
    with pytest.raises(InvalidInput, match="晚于当前时间"):
        services.record_event(doc, case, "door", at=timezone.now() + dt.timedelta(minutes=10))
    services.record_event(doc, case, "door", at=ago(60))
    with pytest.raises(InvalidInput, match="24 小时以上"):
        services.record_event(doc, case, "fmc", at=ago(60 * 26))
    with pytest.raises(InvalidInput, match="不是该救治通道的时间节点"):
        services.record_event(doc, case, "nicu", at=ago(5))
    # a minute of clock skew on a phone is fine
    assert services.record_event(doc, case, "wire", at=timezone.now() + dt.timedelta(seconds=60)).code == "wire"


def test_nothing_but_onset_precedes_the_call(ems):
    c = ems.cast
    call = Call.objects.create(call_no="120-2612010002", rang_at=ago(90), resident=c.resident)
    case = services.open_case(as_(c.county_doctor), c.resident, "stroke", facility=c.county_hospital, call=call)
    doc = as_(c.county_doctor)
    with pytest.raises(InvalidInput, match="早于120呼救时间"):
        services.record_event(doc, case, "door", at=ago(100))
    assert services.record_event(doc, case, "onset", at=ago(150)).code == "onset"


def test_a_correction_keeps_the_old_time_inactive_with_the_reason(ems, case):
    doc = as_(ems.cast.county_doctor)
    door = services.record_event(doc, case, "door", at=ago(100))
    services.record_event(doc, case, "wire", at=ago(5))
    assert by_code(case)["d2w"].met is False  # 95 minutes
    with pytest.raises(InvalidInput, match="理由"):
        services.correct_event(doc, door, at=ago(80), reason=" ")
    new = services.correct_event(doc, door, at=ago(80), reason="分诊台时钟慢，以监控时间为准")
    door.refresh_from_db()
    assert not door.active and new.active and new.replaces_id == door.pk and new.reason.startswith("分诊台")
    assert by_code(case)["d2w"].minutes == pytest.approx(75, abs=0.2) and by_code(case)["d2w"].met
    ev = AuditEvent.objects.get(action="correct", object_id=str(new.pk))
    assert ev.detail["old_at"] == door.at.isoformat() and ev.detail["reason"].startswith("分诊台")
    with pytest.raises(Conflict):  # the old row was already corrected
        services.correct_event(doc, door, at=ago(70), reason="再改一次")
    with pytest.raises(InvalidInput):
        services.correct_event(doc, new, at=timezone.now() + dt.timedelta(hours=1), reason="未来")


def test_who_may_record_and_correct(ems, case):
    c = ems.cast
    with pytest.raises(Forbidden):  # not involved in this case
        services.record_event(as_(c.other_village_doctor), case, "door", at=ago(10))
    with pytest.raises(Forbidden):
        services.record_event(as_(ems.dispatcher), case, "door", at=ago(10))
    door = services.record_event(as_(c.county_doctor), case, "door", at=ago(10))
    transfer = services.open_case(as_(c.village_doctor), c.resident, "stroke", facility=c.county_hospital,
                                  first_facility=c.village_clinic, arrival_mode="transfer")
    services.record_event(as_(c.village_doctor), transfer, "first_door", at=ago(30))
    services.record_event(as_(c.township_doctor), transfer, "door_out", at=ago(20))  # the township above
    with pytest.raises(Forbidden):  # village doctors record, doctors and nurses correct
        services.correct_event(as_(c.village_doctor), transfer.events.get(code="first_door"), at=ago(25),
                               reason="补记")
    with pytest.raises(Forbidden):
        services.correct_event(as_(c.township_doctor), door, at=ago(12), reason="不是本院病例")


def test_delay_reasons_and_closing(ems, case):
    doc = as_(ems.cast.county_doctor)
    services.record_event(doc, case, "fmc", at=ago(100))
    services.record_event(doc, case, "first_ecg", at=ago(85))  # 15 min: missed
    with pytest.raises(InvalidInput, match="首次医疗接触至首份心电图"):
        services.close_case(doc, case, outcome="discharged")
    with pytest.raises(InvalidInput):
        services.record_delay(doc, case, "dnt", "ecg_delay")  # not a chest-pain metric
    with pytest.raises(InvalidInput, match="说明"):
        services.record_delay(doc, case, "fmc_to_ecg", "other")
    services.record_delay(doc, case, "fmc_to_ecg", "other", note="心电图机电量不足")
    d = services.record_delay(doc, case, "fmc_to_ecg", "ecg_delay")
    assert DelayReason.objects.filter(case=case).count() == 1 and d.code == "ecg_delay"
    with pytest.raises(Forbidden):
        services.close_case(as_(ems.cast.township_doctor), case, outcome="discharged")
    closed = services.close_case(doc, case, outcome="discharged", diagnosis="急性下壁STEMI")
    assert closed.status == CaseStatus.CLOSED and closed.closed_at is not None
    with pytest.raises(Conflict):
        services.record_event(doc, case, "wire", at=ago(1))
    with pytest.raises(Conflict):
        services.close_case(doc, case, outcome="discharged")


def test_ruled_out_cancels_without_delay_reasons(ems, case):
    doc = as_(ems.cast.county_doctor)
    services.record_event(doc, case, "fmc", at=ago(100))
    services.record_event(doc, case, "first_ecg", at=ago(70))
    assert services.close_case(doc, case, outcome="ruled_out").status == CaseStatus.CANCELLED


def test_live_metrics_run_while_open_and_stop_when_closed(ems, case):
    doc = as_(ems.cast.county_doctor)
    services.record_event(doc, case, "door", at=ago(95))
    m = by_code(case)["d2w"]
    assert m.running and m.minutes >= 95 and m.met is False
    assert services.missing_delays(case) == []  # a running metric does not block closing
    services.set_subtype(doc, case, "nstemi", diagnosis="NSTEMI")
    assert "d2w" not in by_code(case)
    with pytest.raises(InvalidInput):
        services.set_subtype(doc, case, "ischaemic")
