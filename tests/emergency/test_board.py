"""The dispatcher's board (queries.board, views.board), the call pages (views.calls) and /api/v1/emergency/calls."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.cast import as_
from yigongti.emergency.models import Call, CallStatus, Mission, VehicleStatus
from yigongti.emergency.queries import board as board_q
from yigongti.emergency.queries import calls as calls_q
from yigongti.emergency.roads.graph import clear_cache
from yigongti.emergency.services import calls as svc


@pytest.fixture(autouse=True)
def _fresh_graph():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def desk(ems, login, client):
    login(ems.dispatcher)
    return client


# ---- the board's data -----------------------------------------------------------------------------------------


def test_open_calls_come_by_priority_then_waiting_time_with_their_vehicles(ems):
    d = as_(ems.dispatcher)
    minor = svc.take_call(d, priority=4, chief_complaint="腹痛")
    critical = svc.take_call(d, priority=1, chief_complaint="胸痛", region=ems.cast.village.code)
    severe = svc.take_call(d, priority=2)
    closed = svc.close_call(d, svc.take_call(d, priority=1), "误报")
    svc.dispatch(d, critical, ems.vehicles["A1"])
    b = board_q.board(d)
    assert [c.pk for c in b.calls] == [critical.pk, severe.pk, minor.pk] and closed.pk not in [c.pk for c in b.calls]
    top = b.calls[0]
    assert [m.call_sign for m in top.missions] == ["A1"] and top.located and "大塘村" in top.where
    a1 = next(v for v in b.vehicles if v.call_sign == "A1")
    assert a1.status == VehicleStatus.DISPATCHED and a1.call_no == critical.call_no
    assert {s: n for s, _label, n in b.counts} == {"available": 4, "dispatched": 1}


def test_the_board_takes_a_fixed_number_of_queries_whatever_the_calls_and_vehicles(ems):
    d = as_(ems.dispatcher)
    for _ in range(3):
        svc.take_call(d, priority=2)
    with CaptureQueriesContext(connection) as few:
        board_q.board(d)
    for i in range(12):
        svc.dispatch(d, svc.take_call(d, priority=1 + i % 4), ems.vehicles["A2"]) if i == 0 else svc.take_call(d)
    with CaptureQueriesContext(connection) as many:
        board_q.board(d)
    assert len(many.captured_queries) == len(few.captured_queries) <= 8


def test_the_stamp_changes_when_the_board_would(ems):
    d = as_(ems.dispatcher)
    s0 = board_q.stamp()
    assert board_q.stamp() == s0
    call = svc.take_call(d)
    s1 = board_q.stamp()
    assert s1 != s0
    svc.update_call(d, call, chief_complaint="更正：呼吸困难")  # no new time point, still a change
    s2 = board_q.stamp()
    assert s2 != s1
    v = ems.vehicles["B1"]
    from django.utils import timezone

    v.status, v.status_at = VehicleStatus.MAINTENANCE, timezone.now()
    v.save()
    assert board_q.stamp() != s2


# ---- pages ----------------------------------------------------------------------------------------------------


def test_the_board_page_shows_calls_vehicles_and_the_map(ems, desk):
    call = svc.take_call(as_(ems.dispatcher), priority=1, chief_complaint="胸痛", region=ems.cast.village.code)
    resp = desk.get(reverse("emergency:board"))
    html = resp.content.decode()
    assert resp.status_code == 200 and call.call_no in html and 'data-testid="board-map"' in html
    assert html.count('data-testid="board-vehicle"') == 5 and "emergency/map.js" in html
    points = json.loads(html.split('id="board-points" type="application/json">')[1].split("</script>")[0])
    assert {p["name"] for p in points["vehicles"]} == {"A1", "A2", "A3", "B1", "N1"}
    assert [p["name"] for p in points["calls"]] == [call.call_no]


def test_the_poll_answers_204_while_nothing_changed_and_the_lists_when_something_did(ems, desk):
    url = reverse("emergency:board_live")
    first = desk.get(url, HTTP_HX_REQUEST="true")
    stamp = first["X-Board-Stamp"]
    assert first.status_code == 200 and 'hx-swap-oob="true"' in first.content.decode()
    assert desk.get(url, {"stamp": stamp}, HTTP_HX_REQUEST="true").status_code == 204
    call = svc.take_call(as_(ems.dispatcher), chief_complaint="新来的")
    changed = desk.get(url, {"stamp": stamp}, HTTP_HX_REQUEST="true")
    assert changed.status_code == 200 and call.call_no in changed.content.decode()


def test_the_board_is_for_dispatchers_only(ems, login, client):
    login(ems.cast.county_doctor)
    assert client.get(reverse("emergency:board")).status_code == 403
    assert client.get(reverse("emergency:board_live")).status_code == 403


def test_a_dispatcher_takes_a_call_on_the_form_and_lands_on_its_recommendation(ems, desk):
    resp = desk.post(reverse("emergency:call_new"), {
        "caller_phone": "13874601234", "where": "region", "region": ems.cast.village.code, "priority": "1",
        "chief_complaint": "胸痛大汗", "complaint_code": "chest_pain", "special_needs": ["monitoring"],
        "needs_given": "1", "resident": str(ems.cast.resident.pk), "key": "form-1"})
    call = Call.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("emergency:call", args=[call.pk])
    assert call.resident == ems.cast.resident and call.special_needs == ["monitoring"] and call.priority == 1
    page = desk.get(resp["Location"]).content.decode()
    assert 'data-testid="candidate"' in page and "确认派车" in page
    ranks = [v for v in ("A3", "B1", "N1") if f"{v}</td>" in page or f". {v}" in page]
    assert ranks  # monitoring vehicles are offered first


def test_the_form_shows_bad_input_in_chinese_and_keeps_what_was_typed(ems, desk):
    resp = desk.post(reverse("emergency:call_new"), {"caller_phone": "13874601234", "where": "coords",
                                                     "lon": "abc", "lat": "25.3", "chief_complaint": "跌倒"})
    html = resp.content.decode()
    assert resp.status_code == 200 and "坐标格式不正确" in html and "跌倒" in html and Call.objects.count() == 0


def test_dispatch_from_the_page_and_a_second_dispatcher_is_told_who_has_the_vehicle(ems, desk):
    d = as_(ems.dispatcher)
    a, b = svc.take_call(d), svc.take_call(d)
    svc.dispatch(d, a, ems.vehicles["A1"])
    resp = desk.post(reverse("emergency:call_dispatch", args=[b.pk]), {"vehicle": ems.vehicles["A1"].pk, "key": "x"},
                     follow=True)
    assert "由调度员" in resp.content.decode() and a.call_no in resp.content.decode()
    ok = desk.post(reverse("emergency:call_dispatch", args=[b.pk]), {"vehicle": ems.vehicles["A2"].pk, "key": "y",
                                                                      "next": reverse("emergency:board")})
    assert ok["Location"] == reverse("emergency:board") and Mission.objects.filter(call=b).count() == 1


def test_the_call_page_shows_the_timeline_and_merges_and_closes(ems, desk):
    d = as_(ems.dispatcher)
    first = svc.take_call(d, caller_phone="13874601234", region=ems.cast.village.code, priority=2)
    dup = svc.take_call(d, caller_phone="13874601234", region=ems.cast.village.code)
    page = desk.get(reverse("emergency:call", args=[dup.pk])).content.decode()
    assert 'data-kind="ring"' in page and 'data-kind="answer"' in page and first.call_no in page  # a merge candidate
    resp = desk.post(reverse("emergency:call_merge", args=[dup.pk]), {"into": first.pk})
    assert resp["Location"] == reverse("emergency:call", args=[first.pk])
    dup.refresh_from_db()
    assert dup.status == CallStatus.MERGED
    desk.post(reverse("emergency:call_close", args=[first.pk]), {"reason": "患者已自行就医"})
    first.refresh_from_db()
    assert first.status == CallStatus.CANCELLED


def test_the_dispatcher_calls_a_vehicle_off_from_the_call_page_and_sends_another(ems, desk, login, client):
    d = as_(ems.dispatcher)
    call = svc.take_call(d, region=ems.cast.village.code, priority=1)
    first = svc.dispatch(d, call, ems.vehicles["A1"])
    page = desk.get(reverse("emergency:call", args=[call.pk])).content.decode()
    abort_url = reverse("emergency:mission_abort", args=[call.pk, first.pk])
    assert 'data-testid="abort-mission"' in page and abort_url in page
    refused = desk.post(abort_url, {"reason": " "}, follow=True).content.decode()
    assert "请填写中止原因" in refused
    first.refresh_from_db()
    assert first.status == "active"
    desk.post(abort_url, {"reason": "车辆故障，改派他车"})
    first.refresh_from_db()
    call.refresh_from_db()
    ems.vehicles["A1"].refresh_from_db()
    assert first.status == "aborted" and first.abort_reason == "车辆故障，改派他车"
    assert ems.vehicles["A1"].status == VehicleStatus.AVAILABLE and call.status == CallStatus.OPEN  # 待派车 again
    page = desk.get(reverse("emergency:call", args=[call.pk])).content.decode()
    assert "车辆故障，改派他车" in page and 'data-testid="abort-mission"' not in page
    second = svc.dispatch(d, call, ems.vehicles["A2"])
    call.refresh_from_db()
    assert call.status == CallStatus.DISPATCHED and second.status == "active"
    login(ems.crew_a1)  # the crew sees the call but may not call a vehicle off
    assert client.post(reverse("emergency:mission_abort", args=[call.pk, second.pk]),
                       {"reason": "x"}).status_code == 403
    second.refresh_from_db()
    assert second.status == "active"


def test_the_lookup_fragment_names_the_resident_with_a_masked_phone(ems, desk):
    html = desk.get(reverse("emergency:caller_lookup"), {"caller_phone": "13874601234"}).content.decode()
    assert "李建国" in html and "138****1234" in html and "13874601234" not in html
    bad = desk.get(reverse("emergency:caller_lookup"), {"caller_phone": "abc"}).content.decode()
    assert "主叫号码格式不正确" in bad


def test_the_history_lists_calls_with_filters(ems, desk):
    d = as_(ems.dispatcher)
    a = svc.take_call(d, priority=1)
    b = svc.close_call(d, svc.take_call(d, priority=4), "误报")
    html = desk.get(reverse("emergency:calls"), {"status": "cancelled"}).content.decode()
    assert b.call_no in html and a.call_no not in html
    assert a.call_no in desk.get(reverse("emergency:calls"), {"q": a.call_no[-6:]}).content.decode()


def test_calls_are_not_shown_to_someone_without_a_part_in_them(ems, login, client):
    call = svc.take_call(as_(ems.dispatcher))
    login(ems.cast.outsider)
    assert client.get(reverse("emergency:call", args=[call.pk])).status_code == 404
    assert calls_q.calls_visible_to(ems.cast.village_doctor).count() == 0


def test_the_simulator_button_rings_a_call_for_this_dispatcher(ems, desk):
    resp = desk.post(reverse("emergency:call_simulate"))
    call = Call.objects.get()
    assert resp["Location"] == reverse("emergency:call", args=[call.pk]) and call.taken_by == ems.dispatcher


# ---- API ------------------------------------------------------------------------------------------------------


def _post(c, url, data):
    return c.post(url, json.dumps(data), content_type="application/json")


def test_the_api_takes_dispatches_and_refuses_a_taken_vehicle_as_problem_json(ems, desk):
    resp = _post(desk, "/api/v1/emergency/calls", {"caller_phone": "13874601234", "priority": 1,
                                                   "region": ems.cast.village.code, "chief_complaint": "胸痛"})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["call_no"].startswith("120-") and {e["kind"] for e in body["events"]} >= {"ring", "answer"}
    pk = body["id"]
    rec = desk.get(f"/api/v1/emergency/calls/{pk}/recommend").json()
    assert rec["candidates"] and rec["candidates"][0]["rank"] == 1 and rec["candidates"][0]["eta_s"] > 0
    first = rec["candidates"][0]["vehicle_id"]
    sent = _post(desk, f"/api/v1/emergency/calls/{pk}/dispatch", {"vehicle": first})
    assert sent.status_code == 201 and sent.json()["recommended_rank"] == 1
    other = _post(desk, "/api/v1/emergency/calls", {}).json()["id"]
    again = _post(desk, f"/api/v1/emergency/calls/{other}/dispatch", {"vehicle": first})
    assert again.status_code == 409 and again["Content-Type"].startswith("application/problem+json")
    assert again.json()["code"] == "vehicle_unavailable" and body["call_no"] in again.json()["title"]


def test_the_api_board_lookup_patch_merge_close_and_ring(ems, desk):
    from django.utils import timezone

    board = desk.get("/api/v1/emergency/calls/board").json()
    assert len(board["vehicles"]) == 5 and board["stamp"]
    found = desk.get("/api/v1/emergency/calls/lookup", {"phone": "13874601234"}).json()
    assert found["matches"][0]["name"] == "李建国" and found["matches"][0]["phone"] == "138****1234"
    now = timezone.now().isoformat()
    rung = _post(desk, "/api/v1/emergency/calls/ring", {"call_id": "pbx-9", "caller": "13874601234",
                                                        "rang_at": now, "answered_at": now})
    assert rung.status_code == 201
    pk = rung.json()["id"]
    patched = desk.patch(f"/api/v1/emergency/calls/{pk}", json.dumps({"priority": 2, "address": "村口"}),
                         content_type="application/json")
    assert patched.status_code == 200 and patched.json()["priority"] == 2
    bad = desk.patch(f"/api/v1/emergency/calls/{pk}", json.dumps({"special_needs": ["x"]}),
                     content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "special_needs_invalid"
    other = _post(desk, "/api/v1/emergency/calls", {}).json()["id"]
    assert _post(desk, f"/api/v1/emergency/calls/{other}/merge", {"into": pk}).json()["id"] == pk  # the incident
    assert desk.get(f"/api/v1/emergency/calls/{other}").json()["merged_into_id"] == pk
    assert _post(desk, f"/api/v1/emergency/calls/{pk}/close", {"reason": "误报"}).json()["status"] == "cancelled"
    listed = desk.get("/api/v1/emergency/calls", {"status": "merged"}).json()
    assert [c["id"] for c in listed["items"]] == [other]
