"""The vehicle's transition table (no database): which step may follow which status, the one button's step, the
status each step leaves the vehicle in, the hand-set maintenance status."""

from __future__ import annotations

import pytest

from yigongti.emergency import workflow
from yigongti.emergency.models import CallStatus, EventKind, VehicleStatus

V, E = VehicleStatus, EventKind


def test_a_mission_walks_the_vehicle_through_every_status_in_order():
    status, done, seen = V.DISPATCHED, set(), []
    while (kind := workflow.next_step(status, done)) is not None:
        status = workflow.check_step(status, kind)
        done.add(kind)
        seen.append((kind, status))
    assert seen == [(E.CREW_ACK, V.DISPATCHED), (E.WHEELS_ROLLING, V.DISPATCHED), (E.ON_SCENE, V.ON_SCENE),
                    (E.FMC, V.ON_SCENE), (E.LEAVE_SCENE, V.TRANSPORTING), (E.ARRIVE_HOSPITAL, V.AT_HOSPITAL),
                    (E.HANDOVER, V.RETURNING), (E.AVAILABLE, V.AVAILABLE)]
    assert workflow.STEPS[E.AVAILABLE].completes
    assert not any(s.completes for k, s in workflow.STEPS.items() if k != E.AVAILABLE)


def test_every_crew_step_records_its_own_event_kind_and_the_statuses_cover_the_issue():
    assert set(workflow.STEPS) == {E.CREW_ACK, E.WHEELS_ROLLING, E.ON_SCENE, E.FMC, E.LEAVE_SCENE,
                                   E.ARRIVE_HOSPITAL, E.HANDOVER, E.AVAILABLE}
    reached = {s.target for s in workflow.STEPS.values()} | {V.MAINTENANCE}
    assert reached == set(V.values)
    assert not (workflow.CREW_KINDS & workflow.CALL_KINDS)


@pytest.mark.parametrize(("status", "kind"), [
    (V.AVAILABLE, E.ON_SCENE), (V.DISPATCHED, E.LEAVE_SCENE), (V.ON_SCENE, E.ARRIVE_HOSPITAL),
    (V.TRANSPORTING, E.HANDOVER), (V.DISPATCHED, E.AVAILABLE), (V.MAINTENANCE, E.CREW_ACK),
    (V.TRANSPORTING, E.ON_SCENE)])
def test_a_step_out_of_order_is_refused_with_the_vehicles_status(status, kind):
    with pytest.raises(workflow.StepNotAllowed) as e:
        workflow.check_step(status, kind)
    assert e.value.code == "step_not_allowed"
    assert str(VehicleStatus(status).label) in e.value.message


def test_an_unknown_step_is_refused():
    with pytest.raises(workflow.StepNotAllowed) as e:
        workflow.check_step(V.DISPATCHED, "ring")
    assert e.value.code == "unknown_step"


def test_the_button_skips_steps_behind_the_last_one_recorded():
    # the dispatcher recorded on_scene for a crew that never pressed wheels_rolling: it is not offered again
    assert workflow.next_steps(V.ON_SCENE, {E.CREW_ACK, E.ON_SCENE}) == [E.FMC, E.LEAVE_SCENE, E.AVAILABLE]
    assert workflow.next_step(V.ON_SCENE, {E.CREW_ACK, E.ON_SCENE, E.FMC}) == E.LEAVE_SCENE
    assert workflow.next_step(V.AVAILABLE, set(E.values)) is None


def test_a_patient_treated_on_scene_frees_the_vehicle_from_the_scene():
    assert workflow.check_step(V.ON_SCENE, E.AVAILABLE) == V.AVAILABLE


def test_only_an_available_or_returning_vehicle_may_be_dispatched():
    assert {s for s in V.values if workflow.can_dispatch(s)} == {V.AVAILABLE, V.RETURNING}
    with pytest.raises(workflow.StepNotAllowed) as e:
        workflow.check_dispatch(V.MAINTENANCE)
    assert e.value.code == "vehicle_busy"


def test_maintenance_is_set_by_hand_only_when_the_vehicle_is_free():
    assert workflow.check_manual(V.AVAILABLE, V.MAINTENANCE) == V.MAINTENANCE
    assert workflow.check_manual(V.MAINTENANCE, V.AVAILABLE) == V.AVAILABLE
    with pytest.raises(workflow.StepNotAllowed) as e:
        workflow.check_manual(V.TRANSPORTING, V.MAINTENANCE)
    assert e.value.code == "on_mission"
    with pytest.raises(workflow.StepNotAllowed) as e:
        workflow.check_manual(V.MAINTENANCE, V.ON_SCENE)
    assert e.value.code == "status_not_allowed"
    with pytest.raises(workflow.StepNotAllowed):
        workflow.check_manual(V.AVAILABLE, "flying")


def test_the_calls_states():
    assert workflow.check_call_move(CallStatus.OPEN, "dispatch") == CallStatus.DISPATCHED
    assert workflow.check_call_move(CallStatus.DISPATCHED, "close") == CallStatus.CLOSED
    with pytest.raises(workflow.StepNotAllowed):
        workflow.check_call_move(CallStatus.CLOSED, "merge")


def test_button_texts_are_stable():
    # the browser tests press these: change them and the chain test with them
    assert {k: str(s.button) for k, s in workflow.STEPS.items()} == {
        "crew_ack": "确认接单", "wheels_rolling": "出车", "on_scene": "到达现场", "fmc": "接触患者",
        "leave_scene": "离开现场", "arrive_hospital": "到达医院", "handover": "交接完成", "available": "恢复待命"}
