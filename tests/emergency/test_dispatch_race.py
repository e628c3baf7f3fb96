"""Two dispatchers at the same moment, on real concurrent connections (PostgreSQL only): sending the same ambulance
makes exactly one mission and the other dispatcher is told who has it; calls taken at once get their own numbers;
one dispatch retried at once with its key makes one mission."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.cast import _account, as_
from tests.concurrency import race
from yigongti.core.errors import Conflict
from yigongti.emergency.models import Call, CallEvent, EventKind, Mission, MissionStatus, VehicleStatus
from yigongti.emergency.roads.graph import clear_cache
from yigongti.emergency.services import calls as svc
from yigongti.orgs.models import Profession, Role

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer (run with DATABASE_URL=postgresql://…)")
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def second(ems):
    """A second dispatcher at the same command center."""
    return _account("dispatcher2", Role.DISPATCHER, ems.command.facility, profession=Profession.PHYSICIAN)


def test_two_dispatchers_sending_the_same_ambulance_to_two_calls_exactly_one_wins(ems, second):
    for sign in ("A1", "A2", "A3"):  # three rounds, one vehicle each
        a = svc.take_call(as_(ems.dispatcher), priority=1, region=ems.cast.village.code)
        b = svc.take_call(as_(second), priority=1, region=ems.cast.township.code)
        v = ems.vehicles[sign]
        results = race([lambda a=a, v=v: svc.dispatch(as_(ems.dispatcher), a, v),
                        lambda b=b, v=v: svc.dispatch(as_(second), b, v)])
        won = [r for r in results if isinstance(r, Mission)]
        lost = [r for r in results if isinstance(r, Conflict)]
        assert len(won) == 1 and len(lost) == 1, results
        winner = won[0]
        assert lost[0].code == "vehicle_unavailable"
        assert winner.call.call_no in lost[0].message and sign in lost[0].message  # who has it, and where
        assert Mission.objects.filter(vehicle=v, status=MissionStatus.ACTIVE).count() == 1
        assert CallEvent.objects.filter(mission__vehicle=v, kind=EventKind.DISPATCH_ORDER).count() == 1
        v.refresh_from_db()
        assert v.status == VehicleStatus.DISPATCHED
        loser_call = b if winner.call_id == a.pk else a
        loser_call.refresh_from_db()
        assert loser_call.status == "open" and not loser_call.missions.exists()


def test_two_dispatchers_sending_the_same_ambulance_to_the_same_call_make_one_mission(ems, second):
    call = svc.take_call(as_(ems.dispatcher), priority=1)
    v = ems.vehicles["N1"]
    results = race([lambda: svc.dispatch(as_(ems.dispatcher), call, v), lambda: svc.dispatch(as_(second), call, v)])
    assert sum(isinstance(r, Mission) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert Mission.objects.filter(call=call).count() == 1


def test_different_ambulances_to_different_calls_at_once_all_go(ems, second):
    a = svc.take_call(as_(ems.dispatcher))
    b = svc.take_call(as_(second))
    results = race([lambda: svc.dispatch(as_(ems.dispatcher), a, ems.vehicles["A1"]),
                    lambda: svc.dispatch(as_(second), b, ems.vehicles["B1"])])
    assert all(isinstance(r, Mission) for r in results), results


def test_one_dispatch_retried_at_once_with_its_key_makes_one_mission(ems):
    call = svc.take_call(as_(ems.dispatcher))
    v = ems.vehicles["A2"]
    results = race([lambda: svc.dispatch(as_(ems.dispatcher), call, v, idempotency_key="tap-1") for _ in range(3)])
    assert all(isinstance(r, Mission) for r in results), results
    assert len({r.pk for r in results}) == 1 and Mission.objects.count() == 1


def test_calls_taken_at_the_same_moment_get_their_own_numbers(ems, second):
    results = race([lambda u=u: svc.take_call(as_(u), caller_phone="13874601234")
                    for u in (ems.dispatcher, second, ems.dispatcher, second)])
    assert all(isinstance(r, Call) for r in results), results
    assert len({r.call_no for r in results}) == 4
