"""The crew's API: the phone replays its offline presses to POST /missions/{id}/steps with an Idempotency-Key and
the time of the press — one event however often it is sent; refusals are problem+json with the reason; GPS fixes
to /vehicles/{id}/position; the current missions."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from tests.emergency.test_missions import send, status_of
from tests.emergency.test_missions_crew_page import login
from yigongti.emergency.models import CallEvent, EventKind, VehiclePosition, VehicleStatus

pytestmark = pytest.mark.django_db
E = EventKind
API = "/api/v1/emergency"


def post(client, url, body, key=""):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, json.dumps(body, default=str), content_type="application/json", **headers)


def test_refusals_are_problems_with_the_reason(ems, client):
    m = send(ems)
    login(client, ems.crew_a1)
    future = post(client, f"{API}/missions/{m.pk}/steps",
                  {"kind": "crew_ack", "at": (timezone.now() + dt.timedelta(hours=2)).isoformat()})
    assert future.status_code == 422 and future["Content-Type"] == "application/problem+json"
    assert future.json()["code"] == "future_time" and "未来" in future.json()["title"]
    early = post(client, f"{API}/missions/{m.pk}/steps",
                 {"kind": "crew_ack", "at": (timezone.now() - dt.timedelta(days=1)).isoformat()})
    assert early.json()["code"] == "before_call"
    order = post(client, f"{API}/missions/{m.pk}/steps", {"kind": "handover"})
    assert order.status_code == 409 and order.json()["code"] == "step_not_allowed"
    unknown = post(client, f"{API}/missions/{m.pk}/steps", {"kind": "lunch"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_step"
    assert not CallEvent.objects.exists()


def test_another_crew_gets_404_and_records_nothing(ems, client):
    m = send(ems)
    login(client, ems.crew_b1)
    assert post(client, f"{API}/missions/{m.pk}/steps", {"kind": "crew_ack"}).status_code == 404
    assert client.get(f"{API}/missions/{m.pk}").status_code == 404
    assert not CallEvent.objects.exists()


def test_the_current_missions_and_a_missions_steps(ems, client):
    m = send(ems)
    login(client, ems.crew_a1)
    post(client, f"{API}/missions/{m.pk}/steps", {"kind": "crew_ack"})
    rows = client.get(f"{API}/missions/current").json()
    assert [r["id"] for r in rows] == [m.pk]
    assert rows[0]["next_step"] == "wheels_rolling" and rows[0]["vehicle_status"] == "dispatched"
    assert [s["kind"] for s in rows[0]["steps"] if s["at"]] == ["crew_ack"]


def test_the_dispatcher_aborts_through_the_api(ems, client):
    m = send(ems)
    login(client, ems.dispatcher)
    resp = post(client, f"{API}/missions/{m.pk}/abort", {"reason": "重复呼救，已由他车处理"})
    assert resp.status_code == 200 and resp.json()["status"] == "aborted"
    assert status_of(ems, "A1") == VehicleStatus.AVAILABLE


def test_a_gps_fix_through_the_api(ems, client):
    v = ems.vehicles["A1"]
    login(client, ems.crew_a1)
    resp = post(client, f"{API}/vehicles/{v.pk}/position", {"lon": 112.16, "lat": 25.35, "speed_kmh": 52})
    assert resp.status_code == 201, resp.content
    v.refresh_from_db()
    assert (v.lon, v.lat) == (112.16, 25.35) and VehiclePosition.objects.filter(vehicle=v).count() == 1
    bad = post(client, f"{API}/vehicles/{v.pk}/position", {"lon": 500, "lat": 25.35})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_position"
    login(client, ems.crew_b1)
    assert post(client, f"{API}/vehicles/{v.pk}/position", {"lon": 112.1, "lat": 25.3}).status_code == 403


def test_the_vehicles_list(ems, client):
    login(client, ems.dispatcher)
    signs = {v["call_sign"]: v["status"] for v in client.get(f"{API}/vehicles").json()}
    assert signs == {"A1": "available", "A2": "available", "A3": "available", "B1": "available", "N1": "available"}
    login(client, ems.cast.outsider)
    assert client.get(f"{API}/vehicles").json() == []
