"""Two presses of the same crew button at the same moment, on real concurrent connections (PostgreSQL only): one
event, the vehicle moved once; a crew press racing the dispatcher's on-behalf press of the next step: one of each
kind, in a consistent state."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.cast import as_
from tests.concurrency import race
from tests.emergency.test_missions import send, status_of
from yigongti.emergency.models import CallEvent, EventKind, MissionStatus, VehicleStatus
from yigongti.emergency.services import missions

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
E = EventKind


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer (run with DATABASE_URL=postgresql://…)")


def test_two_presses_at_once_record_one_event(ems):
    m = send(ems)
    results = race([lambda: missions.step(as_(ems.crew_a1), m.pk, E.ON_SCENE, idempotency_key="a"),
                    lambda: missions.step(as_(ems.crew_a1), m.pk, E.ON_SCENE, idempotency_key="b"),
                    lambda: missions.step(as_(ems.dispatcher), m.pk, E.ON_SCENE)])
    assert all(isinstance(r, CallEvent) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert CallEvent.objects.filter(mission=m, kind=E.ON_SCENE).count() == 1
    assert status_of(ems, "A1") == VehicleStatus.ON_SCENE


def test_the_same_offline_replay_sent_twice_at_once_records_one_event(ems):
    m = send(ems)
    results = race([lambda: missions.step(as_(ems.crew_a1), m.pk, E.CREW_ACK, idempotency_key="replay-1",
                                          source="replay") for _ in range(4)])
    assert all(isinstance(r, CallEvent) for r in results), results
    assert len({r.pk for r in results}) == 1 and CallEvent.objects.filter(mission=m).count() == 1


def test_the_last_step_pressed_twice_at_once_completes_the_mission_once(ems):
    m = send(ems)
    for kind in (E.ON_SCENE, E.LEAVE_SCENE, E.ARRIVE_HOSPITAL, E.HANDOVER):
        missions.step(as_(ems.crew_a1), m, kind)
    results = race([lambda: missions.step(as_(ems.crew_a1), m.pk, E.AVAILABLE) for _ in range(2)])
    assert all(isinstance(r, CallEvent) for r in results), results
    m.refresh_from_db()
    assert m.status == MissionStatus.COMPLETED and status_of(ems, "A1") == VehicleStatus.AVAILABLE
    assert CallEvent.objects.filter(mission=m, kind=E.AVAILABLE).count() == 1
