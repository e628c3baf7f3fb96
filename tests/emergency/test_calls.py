"""Taking, completing, dispatching, merging and closing 120 calls (services.calls), the caller lookup in the resident
index (queries.lookup) and the switchboard adapter (telephony)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.cast import SYSTEM, as_
from yigongti.core.audit import AuditEvent
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yigongti.core.ratelimit import RateLimited
from yigongti.emergency import telephony
from yigongti.emergency.models import (
    Call,
    CallEvent,
    CallKind,
    CallStatus,
    EventKind,
    Landmark,
    Mission,
    MissionStatus,
    VehicleStatus,
)
from yigongti.emergency.queries import lookup
from yigongti.emergency.roads.graph import clear_cache
from yigongti.emergency.services import calls as svc
from yigongti.encounters.models import Diagnosis, Encounter


@pytest.fixture(autouse=True)
def _fresh_graph():
    clear_cache()
    yield
    clear_cache()


def kinds(call) -> set[str]:
    return set(CallEvent.objects.filter(call=call, mission__isnull=True).values_list("kind", flat=True))


# ---- taking a call --------------------------------------------------------------------------------------------


def test_a_dispatcher_takes_a_call_with_its_number_ring_and_answer(ems):
    rang = timezone.now() - dt.timedelta(seconds=7)
    call = svc.take_call(as_(ems.dispatcher), caller_phone="138 7460 1234", rang_at=rang,
                         chief_complaint="胸痛一小时", complaint_code="chest_pain", priority="I",
                         region=ems.cast.village.code)
    assert call.call_no.startswith(f"120-{timezone.localdate():%y%m%d}") and len(call.call_no) == 14
    assert call.caller_phone == "13874601234" and call.priority == 1 and call.status == CallStatus.OPEN
    assert kinds(call) == {"ring", "answer", "address_confirmed", "priority"}
    ring = CallEvent.objects.get(call=call, kind="ring")
    assert abs((ring.at - rang).total_seconds()) < 1
    place = ems.places[ems.cast.village.code]
    assert call.node_id == place.node_id and call.area_code == ems.cast.village.code  # located by its village
    assert AuditEvent.objects.filter(action="create", object_type="ems_call", object_id=str(call.pk)).exists()


def test_call_numbers_follow_each_other_within_the_day(ems):
    a = svc.take_call(as_(ems.dispatcher))
    b = svc.take_call(as_(ems.dispatcher))
    assert int(b.call_no[-4:]) == int(a.call_no[-4:]) + 1


def test_a_retry_with_the_same_key_makes_one_call(ems):
    a = svc.take_call(as_(ems.dispatcher), caller_phone="13874601234", idempotency_key="k1")
    b = svc.take_call(as_(ems.dispatcher), caller_phone="13874601234", idempotency_key="k1")
    assert a.pk == b.pk and Call.objects.count() == 1


def test_only_dispatchers_take_calls(ems):
    with pytest.raises(Forbidden):
        svc.take_call(as_(ems.cast.county_doctor), caller_phone="13874601234")
    assert Call.objects.count() == 0


@pytest.mark.parametrize(("rang", "answered", "code"), [
    (dt.timedelta(minutes=10), None, "time_in_future"),
    (-dt.timedelta(seconds=30), -dt.timedelta(seconds=40), "time_before_call"),
])
def test_times_in_the_future_or_before_the_ring_are_refused_with_a_reason(ems, rang, answered, code):
    now = timezone.now()
    with pytest.raises(InvalidInput) as e:
        svc.take_call(as_(ems.dispatcher), rang_at=now + rang, answered_at=now + answered if answered else None)
    assert e.value.code == code and ("晚于当前时间" in e.value.message or "早于振铃时间" in e.value.message)


@pytest.mark.parametrize(("field", "value"), [("priority", "V"), ("special_needs", ["helicopter"]),
                                              ("lon", "abc"), ("complaint_code", "nonsense"), ("region", "999")])
def test_bad_fields_are_refused_by_name(ems, field, value):
    extra = {"lat": 25.3} if field == "lon" else {}
    with pytest.raises(InvalidInput) as e:
        svc.take_call(as_(ems.dispatcher), **{field: value}, **extra)
    assert e.value.field == field


def test_a_bad_caller_number_is_refused_but_a_short_code_is_kept(ems):
    with pytest.raises(InvalidInput):
        svc.take_call(as_(ems.dispatcher), caller_phone="call me")
    assert svc.take_call(as_(ems.dispatcher), caller_phone="12345").caller_phone == "12345"


def test_coordinates_place_the_call_on_the_nearest_road_node(ems):
    n = ems.node(6, 7)
    call = svc.take_call(as_(ems.dispatcher), lon=n.lon + 0.002, lat=n.lat - 0.001)
    assert call.node_id == n.pk and "address_confirmed" in kinds(call)


def test_a_known_landmark_places_the_call_and_an_unknown_one_is_kept_with_the_address(ems):
    mark = Landmark.objects.create(network=ems.network, name="大塘小学", region=ems.cast.village,
                                   lon=ems.node(7, 7).lon, lat=ems.node(7, 7).lat, node=ems.node(7, 7))
    call = svc.take_call(as_(ems.dispatcher), landmark="大塘小学")
    assert call.landmark_id == mark.pk and call.node_id == mark.node_id and call.area_code == ems.cast.village.code
    other = svc.take_call(as_(ems.dispatcher), landmark="老樟树下", address="桥头")
    assert other.landmark_id is None and other.address == "老樟树下 桥头" and other.node_id is None


def test_address_and_priority_time_points_are_recorded_once(ems):
    call = svc.take_call(as_(ems.dispatcher))
    assert kinds(call) == {"ring", "answer"}
    svc.update_call(as_(ems.dispatcher), call, priority=2, region=ems.cast.township.code)
    first = CallEvent.objects.get(call=call, kind="priority").at
    svc.update_call(as_(ems.dispatcher), call, priority=1, address="镇政府对面")
    call.refresh_from_db()
    assert call.priority == 1 and call.address == "镇政府对面"
    assert CallEvent.objects.filter(call=call, kind="priority").count() == 1
    assert CallEvent.objects.get(call=call, kind="priority").at == first


# ---- dispatch -------------------------------------------------------------------------------------------------


def test_dispatch_sends_the_vehicle_records_the_order_and_the_ranking(ems):
    call = svc.take_call(as_(ems.dispatcher), region=ems.cast.village.code, priority=1)
    mission = svc.dispatch(as_(ems.dispatcher), call, ems.vehicles["A1"])
    call.refresh_from_db()
    v = ems.vehicles["A1"]
    v.refresh_from_db()
    assert call.status == CallStatus.DISPATCHED and v.status == VehicleStatus.DISPATCHED
    assert mission.status == MissionStatus.ACTIVE and mission.dispatched_by == ems.dispatcher
    assert mission.recommended_rank is not None and mission.eta_s and mission.eta_s > 0
    assert CallEvent.objects.filter(mission=mission, kind=EventKind.DISPATCH_ORDER).count() == 1


def test_a_busy_vehicle_cannot_be_sent_again_and_the_message_says_where_it_is(ems):
    first = svc.take_call(as_(ems.dispatcher), region=ems.cast.village.code)
    second = svc.take_call(as_(ems.dispatcher), region=ems.cast.township.code)
    svc.dispatch(as_(ems.dispatcher), first, ems.vehicles["A1"])
    with pytest.raises(Conflict) as e:
        svc.dispatch(as_(ems.dispatcher), second, ems.vehicles["A1"])
    assert e.value.code == "vehicle_unavailable" and first.call_no in e.value.message and "A1" in e.value.message
    assert Mission.objects.filter(vehicle=ems.vehicles["A1"]).count() == 1


def test_a_dispatch_retried_with_its_key_makes_one_mission(ems):
    call = svc.take_call(as_(ems.dispatcher))
    a = svc.dispatch(as_(ems.dispatcher), call, ems.vehicles["A2"], idempotency_key="d1")
    b = svc.dispatch(as_(ems.dispatcher), call, ems.vehicles["A2"], idempotency_key="d1")
    assert a.pk == b.pk and Mission.objects.count() == 1


def test_a_call_with_an_unknown_location_can_still_be_dispatched(ems):
    call = svc.take_call(as_(ems.dispatcher), chief_complaint="说不清在哪，只知道在山上")
    assert call.node_id is None
    mission = svc.dispatch(as_(ems.dispatcher), call, ems.vehicles["B1"])
    assert mission.eta_s is None and mission.vehicle == ems.vehicles["B1"]


def test_a_returning_vehicle_may_be_sent_on_and_its_last_mission_ends(ems):
    first = svc.take_call(as_(ems.dispatcher))
    old = svc.dispatch(as_(ems.dispatcher), first, ems.vehicles["A1"])
    v = ems.vehicles["A1"]
    v.refresh_from_db()
    v.status = VehicleStatus.RETURNING
    v.save()
    second = svc.take_call(as_(ems.dispatcher))
    new = svc.dispatch(as_(ems.dispatcher), second, v)
    old.refresh_from_db()
    assert old.status == MissionStatus.COMPLETED and new.status == MissionStatus.ACTIVE


def test_vehicles_under_maintenance_are_refused(ems):
    v = ems.vehicles["A2"]
    v.status = VehicleStatus.MAINTENANCE
    v.save()
    with pytest.raises(Conflict):
        svc.dispatch(as_(ems.dispatcher), svc.take_call(as_(ems.dispatcher)), v)


def test_only_dispatchers_dispatch(ems):
    call = svc.take_call(as_(ems.dispatcher))
    with pytest.raises(Forbidden):
        svc.dispatch(as_(ems.crew_a1), call, ems.vehicles["A1"])


# ---- merge and close ------------------------------------------------------------------------------------------


def test_a_duplicate_call_merges_into_the_first_and_brings_what_it_knew(ems):
    first = svc.take_call(as_(ems.dispatcher), chief_complaint="车祸，两人受伤")
    dup = svc.take_call(as_(ems.dispatcher), caller_phone="13874601234", region=ems.cast.village.code,
                        resident=ems.cast.resident.pk, chief_complaint="车祸")
    target = svc.merge_call(as_(ems.dispatcher), dup, first)
    dup.refresh_from_db()
    assert dup.status == CallStatus.MERGED and dup.merged_into_id == first.pk and first.call_no in dup.close_reason
    assert target.resident_id == ems.cast.resident.pk and target.node_id == dup.node_id
    assert target.chief_complaint == "车祸，两人受伤"  # what the first call had stays


def test_a_dispatched_duplicate_or_a_closed_call_cannot_be_merged(ems):
    a, b = svc.take_call(as_(ems.dispatcher)), svc.take_call(as_(ems.dispatcher))
    svc.dispatch(as_(ems.dispatcher), b, ems.vehicles["A2"])
    with pytest.raises(Conflict):
        svc.merge_call(as_(ems.dispatcher), b, a)
    with pytest.raises(InvalidInput):
        svc.merge_call(as_(ems.dispatcher), a, a)
    svc.close_call(as_(ems.dispatcher), a, "误报")
    with pytest.raises(Conflict):
        svc.merge_call(as_(ems.dispatcher), svc.take_call(as_(ems.dispatcher)), a)


def test_close_cancels_a_call_without_vehicle_and_needs_a_reason(ems):
    call = svc.take_call(as_(ems.dispatcher))
    with pytest.raises(InvalidInput):
        svc.close_call(as_(ems.dispatcher), call, " ")
    closed = svc.close_call(as_(ems.dispatcher), call, "患者自行就医")
    assert closed.status == CallStatus.CANCELLED and closed.close_reason == "患者自行就医" and closed.closed_at


def test_a_call_whose_vehicle_is_still_out_cannot_be_closed(ems):
    call = svc.take_call(as_(ems.dispatcher))
    svc.dispatch(as_(ems.dispatcher), call, ems.vehicles["A1"])
    with pytest.raises(Conflict) as e:
        svc.close_call(as_(ems.dispatcher), call, "结束")
    assert e.value.code == "mission_active"
    with pytest.raises(Conflict):
        svc.update_call(as_(ems.dispatcher), svc.close_call(as_(ems.dispatcher), svc.take_call(
            as_(ems.dispatcher)), "误报"), priority=1)


# ---- transfers ------------------------------------------------------------------------------------------------


def test_a_township_doctor_asks_for_a_transfer_located_at_the_health_center(ems):
    from yigongti.core.models import Notification

    cast = ems.cast
    call = svc.create_transfer(as_(cast.township_doctor), resident=cast.resident, from_facility=cast.township_center,
                               priority=1, chief_complaint="STEMI，拟转县医院PCI", complaint_code="chest_pain",
                               destination=cast.county_hospital, kind=CallKind.GREEN_CHANNEL)
    assert call.kind == CallKind.GREEN_CHANNEL and call.resident == cast.resident and call.priority == 1
    assert call.node_id == ems.places[cast.township.code].node_id and "蓝山县中心医院" in call.address
    assert kinds(call) == {"ring", "answer", "address_confirmed", "priority"}
    assert Notification.objects.filter(recipient=ems.dispatcher, kind="ems_transfer", urgent=True).exists()


def test_a_transfer_keeps_its_receiving_facility_and_its_mission_heads_there(ems):
    cast = ems.cast
    call = svc.create_transfer(as_(cast.township_doctor), resident=cast.resident, from_facility=cast.township_center,
                               priority=1, chief_complaint="STEMI，拟转县医院PCI", complaint_code="chest_pain",
                               destination=cast.county_hospital, kind=CallKind.GREEN_CHANNEL)
    call.refresh_from_db()
    assert call.destination == cast.county_hospital and call.from_facility == cast.township_center
    mission = svc.dispatch(as_(ems.dispatcher), call, ems.vehicles["B1"])
    assert mission.destination == cast.county_hospital
    plain = svc.create_transfer(SYSTEM, resident=cast.resident, from_facility=cast.township_center, priority=2,
                                chief_complaint="转运")
    assert plain.destination is None
    assert svc.dispatch(as_(ems.dispatcher), plain, ems.vehicles["A1"]).destination is None


def test_a_doctor_cannot_ask_a_transfer_for_another_facility_or_an_out_of_scope_resident(ems):
    cast = ems.cast
    with pytest.raises(Forbidden):
        svc.create_transfer(as_(cast.township_doctor), resident=cast.resident, from_facility=cast.county_hospital,
                            priority=1, chief_complaint="x")
    with pytest.raises(NotFound):
        svc.create_transfer(as_(cast.township_doctor), resident=cast.far_resident,
                            from_facility=cast.township_center, priority=1, chief_complaint="x")
    assert svc.create_transfer(SYSTEM, resident=cast.resident, from_facility=cast.township_center, priority=2,
                               chief_complaint="转运").kind == CallKind.TRANSFER


# ---- caller lookup --------------------------------------------------------------------------------------------


def _diagnose(cast, resident, icd10, name, extra=()):
    enc = Encounter.objects.create(resident=resident, area_code=resident.area_code, residence_county="431127",
                                   facility=cast.township_center, type="outpatient", admit_date=dt.date(2026, 5, 1),
                                   main_icd10=icd10, main_diagnosis=name, total_cost=0, drug_cost=0, material_cost=0,
                                   exam_cost=0, other_cost=0, insurance_paid=0, self_pay=0)
    for i, (code, label) in enumerate(extra, start=1):
        Diagnosis.objects.create(encounter=enc, seq=i, icd10=code, name=label)


def test_the_caller_is_found_by_phone_with_allergies_and_chronic_conditions(ems):
    cast = ems.cast
    _diagnose(cast, cast.resident, "I10.x00", "原发性高血压", [("Z88.0", "青霉素过敏史"), ("E11.900", "2型糖尿病")])
    earlier = svc.take_call(as_(ems.dispatcher), caller_phone="13874601234", chief_complaint="头晕")
    result = lookup.caller(as_(ems.dispatcher), "+86 138-7460-1234")
    assert [m.name for m in result.matches] == ["李建国"]
    m = result.matches[0]
    assert m.phone == "138****1234" and "青霉素过敏史" in m.allergies
    assert "高血压" in m.chronic and "65岁以上老年人" not in m.chronic  # a tag of age is not a condition
    assert "2型糖尿病" in m.chronic and "原发性高血压" in m.chronic
    assert [c.call_no for c in result.earlier_calls] == [earlier.call_no]
    ev = AuditEvent.objects.filter(action="lookup", object_type="resident").latest("seq")
    assert ev.detail["ids"] == [cast.resident.pk] and "13874601234" not in str(ev.detail)


def test_the_lookup_stays_within_scope_and_needs_the_emergency_category(ems):
    cast = ems.cast
    cast.far_resident.phone = "13900001111"
    cast.far_resident.save()
    assert lookup.caller(as_(ems.dispatcher), "13900001111").matches == []  # another county's resident
    with pytest.raises(Forbidden):
        lookup.caller(as_(cast.auditor), "13874601234")
    with pytest.raises(InvalidInput):
        lookup.caller(as_(ems.dispatcher), "not a phone")


def test_the_lookup_is_rate_limited_like_other_person_lookups(ems, settings):
    settings.YIGONGTI_RATE_LIMITS = {"person_lookup": ((3, 100), 600)}
    for _ in range(3):
        lookup.caller(as_(ems.dispatcher), "13874601234")
    with pytest.raises(RateLimited):
        lookup.caller(as_(ems.dispatcher), "13874601234")


# ---- telephony ------------------------------------------------------------------------------------------------


def test_the_switchboard_rings_a_call_in_once_with_its_ring_and_answer_times(ems):
    now = timezone.now()
    ring = telephony.Ring("pbx-77", "13874601234", now - dt.timedelta(seconds=12), now - dt.timedelta(seconds=3),
                          seat="dispatcher")
    call = telephony.receive(ring)
    again = telephony.receive(ring)
    assert call.pk == again.pk and call.taken_by == ems.dispatcher
    ev = {e.kind: e for e in CallEvent.objects.filter(call=call)}
    assert ev["ring"].source == "telephony" and (ev["answer"].at - ev["ring"].at).total_seconds() == pytest.approx(9)


def test_the_simulator_rings_plausible_calls_through_the_adapter_interface(ems):
    sim = telephony.Simulator(seed=3)
    sim.queue(4)
    calls = telephony.pump(sim)
    assert len(calls) == 4 and all(c.taken_by == ems.dispatcher for c in calls)
    waits = [(CallEvent.objects.get(call=c, kind="answer").at - c.rang_at).total_seconds() for c in calls]
    assert all(0 < w <= 30 for w in waits)
    assert sim.poll() == []  # the queue was drained
    assert any(c.caller_phone == ems.cast.resident.phone or c.caller_phone.startswith("1") for c in calls)


def test_a_ring_for_an_unknown_seat_is_refused(ems):
    now = timezone.now()
    with pytest.raises(InvalidInput):
        telephony.receive(telephony.Ring("pbx-1", "", now, now, seat="nobody"))
