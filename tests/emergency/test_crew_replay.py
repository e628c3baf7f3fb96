"""The phone regains its network and replays the presses it kept (POST /missions/{id}/steps, Idempotency-Key, the
time of each press): each press is recorded once, at the moment it was pressed, whatever happened meanwhile — the
same replay sent again, the dispatcher recording a step on the crew's behalf, the mission ended from elsewhere."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.cast import as_
from tests.emergency.test_missions import send, status_of
from tests.emergency.test_missions_api import API, post
from tests.emergency.test_missions_crew_page import login
from yigongti.emergency.models import CallEvent, EventKind, VehicleStatus
from yigongti.emergency.services import missions

pytestmark = pytest.mark.django_db
E = EventKind


def queue(*kinds, start_minutes_ago=6):
    """The presses a phone kept while offline: one a minute, each with its own key."""
    now = timezone.now()
    return [{"kind": k, "at": (now - dt.timedelta(minutes=start_minutes_ago - n)).isoformat(), "source": "replay",
             "key": f"phone-{n}-{k}"} for n, k in enumerate(kinds)]


def replay(client, mission, items):
    return [post(client, f"{API}/missions/{mission.pk}/steps", {k: v for k, v in it.items() if k != "key"},
                 key=it["key"]) for it in items]


def test_an_offline_replay_sent_three_times_records_one_event_at_the_press_time(ems, client):
    m = send(ems)
    login(client, ems.crew_a1)
    pressed = (timezone.now() - dt.timedelta(minutes=4)).isoformat()
    body = {"kind": "on_scene", "at": pressed, "source": "replay"}
    first = post(client, f"{API}/missions/{m.pk}/steps", body, key="phone-7f3a")
    assert first.status_code == 201, first.content
    again = post(client, f"{API}/missions/{m.pk}/steps", body, key="phone-7f3a")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    # the same press resent by a phone whose idempotency store was lost (another key): still the first event
    other = post(client, f"{API}/missions/{m.pk}/steps", body, key="phone-other")
    assert other.json()["id"] == first.json()["id"]
    assert CallEvent.objects.filter(mission=m).count() == 1
    ev = CallEvent.objects.get(mission=m)
    assert ev.source == "replay" and ev.at.isoformat() == dt.datetime.fromisoformat(pressed).isoformat()
    assert status_of(ems, "A1") == VehicleStatus.ON_SCENE


def test_a_queue_replayed_twice_keeps_the_times_of_the_presses(ems, client):
    m = send(ems)
    login(client, ems.crew_a1)
    items = queue(E.CREW_ACK, E.WHEELS_ROLLING, E.ON_SCENE)
    first = replay(client, m, items)
    assert [r.status_code for r in first] == [201, 201, 201]
    again = replay(client, m, items)  # the phone did not hear the answers and sends everything again
    assert [r.json()["id"] for r in again] == [r.json()["id"] for r in first]
    events = {e.kind: e for e in CallEvent.objects.filter(mission=m)}
    assert len(events) == 3
    for it in items:
        assert events[it["kind"]].at == dt.datetime.fromisoformat(it["at"])
    assert status_of(ems, "A1") == VehicleStatus.ON_SCENE


def test_a_step_the_dispatcher_recorded_meanwhile_is_kept_and_the_rest_of_the_queue_goes_on(ems, client):
    m = send(ems)
    mine = missions.step(as_(ems.dispatcher), m, E.ON_SCENE, at=timezone.now() - dt.timedelta(minutes=4))
    login(client, ems.crew_a1)
    items = queue(E.ON_SCENE, E.FMC, start_minutes_ago=3)
    answers = replay(client, m, items)
    assert answers[0].status_code == 201 and answers[0].json()["id"] == mine.pk  # the first one stands
    assert answers[1].status_code == 201 and answers[1].json()["kind"] == "fmc"
    assert CallEvent.objects.filter(mission=m).count() == 2


def test_presses_replayed_after_the_mission_was_called_off_are_refused_and_nothing_moves(ems, client):
    m = send(ems)
    missions.abort(as_(ems.dispatcher), m, "呼救人取消")
    login(client, ems.crew_a1)
    answers = replay(client, m, queue(E.CREW_ACK))
    assert answers[0].status_code == 409 and answers[0].json()["code"] == "mission_closed"
    assert not CallEvent.objects.filter(mission=m).exists() and status_of(ems, "A1") == VehicleStatus.AVAILABLE
