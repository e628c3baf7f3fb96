"""A mission on the crew's side: the vehicle goes out, each step is recorded once and moves the vehicle, a repeat
or a replay with the same key records nothing new, times in the future or before the call are refused, only the
vehicle's crew (or a dispatcher) may step it, a GPS fix moves the vehicle."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from tests.cast import _account, as_
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.core.models import AuditEvent
from yigongti.emergency.models import (
    Call,
    CallEvent,
    EventKind,
    Mission,
    MissionStatus,
    Priority,
    VehiclePosition,
    VehicleStatus,
)
from yigongti.emergency.services import missions
from yigongti.orgs.models import Role

pytestmark = pytest.mark.django_db
E, V = EventKind, VehicleStatus
_numbers = itertools.count(1)


def send(ems, sign: str = "A1", *, rang_ago: int = 10, dispatched_ago: int = 8) -> Mission:
    """A call (rang ``rang_ago`` minutes ago) and the vehicle sent to it (a stand-in for the dispatch)."""
    now = timezone.now()
    call = Call.objects.create(call_no=f"120-T{next(_numbers):07d}", rang_at=now - dt.timedelta(minutes=rang_ago),
                               chief_complaint="胸痛2小时", complaint_code="chest_pain", priority=Priority.CRITICAL,
                               region=ems.cast.village, address="大塘村村委会旁", status="dispatched",
                               resident=ems.cast.resident, patient_description="男，约65岁")
    vehicle = missions.prepare_dispatch(ems.vehicles[sign])
    mission = Mission.objects.create(call=call, vehicle=vehicle, dispatched_by=ems.dispatcher,
                                     dispatched_at=now - dt.timedelta(minutes=dispatched_ago))
    return missions.start(mission)


def status_of(ems, sign: str) -> str:
    ems.vehicles[sign].refresh_from_db()
    return ems.vehicles[sign].status


def test_start_sends_the_vehicle_out(ems):
    m = send(ems)
    assert status_of(ems, "A1") == V.DISPATCHED
    assert missions.start(m).pk == m.pk  # starting again changes nothing
    assert status_of(ems, "A1") == V.DISPATCHED


def test_the_crew_steps_the_vehicle_through_its_statuses_and_the_mission_completes(ems):
    m = send(ems)
    crew = as_(ems.crew_a1)
    now = timezone.now()
    plan = [(E.CREW_ACK, V.DISPATCHED), (E.WHEELS_ROLLING, V.DISPATCHED), (E.ON_SCENE, V.ON_SCENE),
            (E.FMC, V.ON_SCENE), (E.LEAVE_SCENE, V.TRANSPORTING), (E.ARRIVE_HOSPITAL, V.AT_HOSPITAL),
            (E.HANDOVER, V.RETURNING), (E.AVAILABLE, V.AVAILABLE)]
    for n, (kind, status) in enumerate(plan):
        ev = missions.step(crew, m, kind, at=now - dt.timedelta(minutes=7 - n * 0.5))
        assert ev.kind == kind and ev.mission_id == m.pk and ev.call_id == m.call_id and ev.by == ems.crew_a1
        assert status_of(ems, "A1") == status
    m.refresh_from_db()
    assert m.status == MissionStatus.COMPLETED
    assert list(CallEvent.objects.filter(mission=m).order_by("at").values_list("kind", flat=True)) == \
        [k for k, _ in plan]
    assert AuditEvent.objects.filter(object_type="emergency_call_event", action="create").count() == len(plan)
    assert missions.step(crew, m, E.FMC).at == now - dt.timedelta(minutes=5.5)  # a late replay: the first


def test_the_button_pressed_twice_records_one_event(ems):
    m = send(ems)
    first = missions.step(as_(ems.crew_a1), m, E.CREW_ACK)
    again = missions.step(as_(ems.crew_a1), m, E.CREW_ACK, at=timezone.now())
    assert again.pk == first.pk and again.at == first.at
    assert CallEvent.objects.filter(mission=m, kind=E.CREW_ACK).count() == 1


def test_an_offline_replay_with_the_same_key_records_one_event_at_the_time_of_the_press(ems):
    m = send(ems)
    pressed = timezone.now() - dt.timedelta(minutes=3)
    first = missions.step(as_(ems.crew_a1), m, E.ON_SCENE, at=pressed, idempotency_key="phone-1-on_scene",
                          source="replay")
    replay = missions.step(as_(ems.crew_a1), m, E.ON_SCENE, at=pressed, idempotency_key="phone-1-on_scene",
                           source="replay")
    assert replay.pk == first.pk and first.at == pressed and first.source == "replay"
    assert CallEvent.objects.filter(mission=m).count() == 1
    assert status_of(ems, "A1") == V.ON_SCENE


def test_a_key_reused_for_another_step_is_refused(ems):
    m = send(ems)
    missions.step(as_(ems.crew_a1), m, E.CREW_ACK, idempotency_key="k1")
    with pytest.raises(Conflict) as e:
        missions.step(as_(ems.crew_a1), m, E.WHEELS_ROLLING, idempotency_key="k1")
    assert e.value.code == "idempotency_key_reused"


def test_a_time_in_the_future_is_refused_with_a_reason(ems):
    m = send(ems)
    with pytest.raises(InvalidInput) as e:
        missions.step(as_(ems.crew_a1), m, E.CREW_ACK, at=timezone.now() + dt.timedelta(minutes=10))
    assert e.value.code == "future_time" and "未来" in e.value.message and e.value.field == "at"
    assert not CallEvent.objects.exists()
    assert status_of(ems, "A1") == V.DISPATCHED


def test_a_phone_clock_a_little_ahead_is_taken_as_now(ems):
    m = send(ems)
    ev = missions.step(as_(ems.crew_a1), m, E.CREW_ACK, at=timezone.now() + dt.timedelta(seconds=30))
    assert ev.at <= timezone.now()


def test_a_time_before_the_call_is_refused_with_a_reason(ems):
    m = send(ems, rang_ago=10)
    with pytest.raises(InvalidInput) as e:
        missions.step(as_(ems.crew_a1), m, E.CREW_ACK, at=timezone.now() - dt.timedelta(minutes=30))
    assert e.value.code == "before_call" and "振铃" in e.value.message


def test_a_time_before_the_dispatch_or_the_previous_step_is_refused(ems):
    m = send(ems, rang_ago=10, dispatched_ago=8)
    with pytest.raises(InvalidInput) as e:
        missions.step(as_(ems.crew_a1), m, E.CREW_ACK, at=timezone.now() - dt.timedelta(minutes=9))
    assert e.value.code == "before_dispatch"
    missions.step(as_(ems.crew_a1), m, E.ON_SCENE, at=timezone.now() - dt.timedelta(minutes=2))
    with pytest.raises(InvalidInput) as e:
        missions.step(as_(ems.crew_a1), m, E.FMC, at=timezone.now() - dt.timedelta(minutes=5))
    assert e.value.code == "before_previous_step" and "到达现场" in e.value.message


def test_a_step_out_of_order_is_refused_and_changes_nothing(ems):
    m = send(ems)
    with pytest.raises(Conflict) as e:
        missions.step(as_(ems.crew_a1), m, E.ARRIVE_HOSPITAL)
    assert e.value.code == "step_not_allowed" and "出车" in e.value.message
    assert status_of(ems, "A1") == V.DISPATCHED and not CallEvent.objects.exists()


def test_a_call_time_point_is_not_a_crew_step(ems):
    m = send(ems)
    with pytest.raises(InvalidInput) as e:
        missions.step(as_(ems.crew_a1), m, "ring")
    assert e.value.code == "unknown_step"


# ---- permissions by object ---------------------------------------------------------------------------------

def test_only_the_vehicles_crew_or_a_dispatcher_may_step_it(ems):
    m = send(ems, "A1")
    with pytest.raises(Forbidden):
        missions.step(as_(ems.crew_b1), m, E.CREW_ACK)  # the township nurse rides B1, not A1
    with pytest.raises(Forbidden):
        missions.step(as_(ems.cast.village_doctor), m, E.CREW_ACK)
    with pytest.raises(Forbidden):
        missions.step(as_(ems.cast.manager), m, E.CREW_ACK)
    assert AuditEvent.objects.filter(action="denied", detail__attempted="emergency.crew_status").count() == 3
    assert missions.step(as_(ems.dispatcher), m, E.CREW_ACK).by == ems.dispatcher
    b = send(ems, "B1")
    assert missions.step(as_(ems.crew_b1), b, E.CREW_ACK).kind == E.CREW_ACK


def test_a_seat_on_the_vehicle_lets_a_nurse_of_another_facility_step_it(ems):
    from yigongti.emergency.models import CrewMember

    m = send(ems, "A3")  # the county hospital's vehicle
    with pytest.raises(Forbidden):
        missions.step(as_(ems.crew_b1), m, E.CREW_ACK)
    CrewMember.objects.create(vehicle=ems.vehicles["A3"], user=ems.crew_b1, name="急救护士乙", role="nurse")
    assert missions.step(as_(ems.crew_b1), m, E.CREW_ACK).kind == E.CREW_ACK


# ---- dispatch of a busy or returning vehicle ---------------------------------------------------------------

def test_a_busy_vehicle_cannot_be_prepared_for_another_dispatch(ems):
    send(ems, "A1")
    with pytest.raises(Conflict) as e:
        missions.prepare_dispatch(ems.vehicles["A1"])
    assert e.value.code == "vehicle_busy"


def test_a_returning_vehicle_sent_again_ends_its_mission_as_available(ems):
    m = send(ems, "A1")
    crew = as_(ems.crew_a1)
    for kind in (E.ON_SCENE, E.LEAVE_SCENE, E.ARRIVE_HOSPITAL, E.HANDOVER):
        missions.step(crew, m, kind)
    assert status_of(ems, "A1") == V.RETURNING
    second = send(ems, "A1", rang_ago=1, dispatched_ago=0)
    m.refresh_from_db()
    assert m.status == MissionStatus.COMPLETED
    assert CallEvent.objects.get(mission=m, kind=E.AVAILABLE).source == "system"
    assert second.status == MissionStatus.ACTIVE and status_of(ems, "A1") == V.DISPATCHED


def test_the_dispatcher_aborts_a_mission_and_the_vehicle_is_free(ems):
    m = send(ems)
    with pytest.raises(Forbidden):
        missions.abort(as_(ems.crew_a1), m, "呼救取消")
    with pytest.raises(InvalidInput):
        missions.abort(as_(ems.dispatcher), m, " ")
    missions.abort(as_(ems.dispatcher), m, "患者已自行就医")
    m.refresh_from_db()
    assert m.status == MissionStatus.ABORTED and m.abort_reason == "患者已自行就医"
    assert status_of(ems, "A1") == V.AVAILABLE
    with pytest.raises(Conflict) as e:  # nothing more on a mission called off
        missions.step(as_(ems.crew_a1), m, E.CREW_ACK)
    assert e.value.code == "mission_closed"


def test_subscribers_hear_of_each_new_step_after_commit_once(ems, django_capture_on_commit_callbacks):
    m = send(ems)
    heard = []
    missions.AFTER_STEP.append(heard.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            ev = missions.step(as_(ems.crew_a1), m, E.CREW_ACK)
            missions.step(as_(ems.crew_a1), m, E.CREW_ACK)
    finally:
        missions.AFTER_STEP.remove(heard.append)
    assert heard == [ev]


# ---- GPS fixes ------------------------------------------------------------------------------------------------

def test_a_fix_moves_the_vehicle_and_an_older_one_only_joins_the_trail(ems):
    v = ems.vehicles["A1"]
    now = timezone.now()
    missions.record_position(as_(ems.crew_a1), v, 112.15, 25.34, now - dt.timedelta(seconds=10), speed=40.0)
    missions.record_position(as_(ems.crew_a1), v, 112.11, 25.31, now - dt.timedelta(seconds=60))
    v.refresh_from_db()
    assert (v.lon, v.lat) == (112.15, 25.34)
    assert VehiclePosition.objects.filter(vehicle=v).count() == 2


def test_a_bad_fix_is_refused(ems):
    v = ems.vehicles["A1"]
    with pytest.raises(InvalidInput) as e:
        missions.record_position(as_(ems.crew_a1), v, 200.0, 25.3, timezone.now())
    assert e.value.field == "lon"
    with pytest.raises(InvalidInput) as e:
        missions.record_position(as_(ems.crew_a1), v, 112.1, 25.3, timezone.now() + dt.timedelta(hours=1))
    assert e.value.code == "future_time"
    with pytest.raises(Forbidden):
        missions.record_position(as_(ems.crew_b1), v, 112.1, 25.3, timezone.now())
    admin = _account("fleet_admin", Role.FACILITY_ADMIN, ems.command.facility)
    with pytest.raises(Forbidden):
        missions.record_position(as_(admin), v, 112.1, 25.3, timezone.now())
