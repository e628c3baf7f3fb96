"""The dispatcher's board with live calls and vehicles: p95 against the 100 ms target, ours beside the naive version,
and HTMX polling beside server-sent events for the live updates.

    createdb -h 127.0.0.1 -U postgres h_dispatch
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/h_dispatch python bench/em_board.py --calls 20000 -n 60

It builds its own data in a throw-away test database (``test_<name>``, dropped at the end): the tests' small
county (``tests.cast`` + the ``ems`` grid, five vehicles) plus ``--vehicles`` more vehicles at the stations, a year
of ``--calls`` closed calls with their 13 time points each (bulk-inserted), and ``--live`` open calls taken through
the service, a third of them with a vehicle dispatched.

Timed, each N times after a warm-up, with Django's test client signed in as the dispatcher (the whole stack:
middleware, session, template):

* ``board page``: the full board (calls, fleet, map data);
* ``poll, changed``: the live fragment when something changed (three out-of-band swaps);
* ``poll, unchanged``: the poll that finds the same stamp and answers 204;
* ``naive board``: the baseline — the same template rendered from ORM objects with every relation followed row
  by row (each call's region, landmark and missions with their vehicles; each vehicle's station and its active
  mission's call), which is what a first version of the board does.

Then live updates: polling costs one request per board every 3 s (mostly the 204), CPU per board-minute below;
SSE would hold a connection, i.e. one of the 2 × cores + 1 sync gunicorn workers (``yigongti serve``), per open
board, for as long as the board is open — measured here as the seconds a streaming response keeps its worker
while it checks the same stamp each second."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import setup_django

TARGET_MS = 100
POLL_S = 3


def _pct(times: list[float], q: float) -> float:
    s = sorted(times)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def _time(fn, n: int) -> list[float]:
    fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _row(label: str, times: list[float], target: float | None = TARGET_MS) -> None:
    p95 = _pct(times, 0.95)
    verdict = "" if target is None else ("ok" if p95 <= target else "OVER")
    print(f"{label:<22} {statistics.median(times):8.1f} {p95:8.1f} {max(times):8.1f}  {verdict}")


def build(n_calls: int, n_vehicles: int, n_live: int):
    from django.utils import timezone

    from tests.cast import as_, build_cast
    from tests.emergency.conftest import build_ems
    from yigongti.emergency.models import (
        Call,
        CallEvent,
        CallStatus,
        EventKind,
        Mission,
        MissionStatus,
        Vehicle,
        VehicleKind,
    )
    from yigongti.emergency.services import calls as svc

    cast = build_cast()
    ems = build_ems(cast)
    stations = [ems.command, ems.county_station, ems.township_station]
    extra = [Vehicle(station=stations[i % 3], call_sign=f"X{i:03d}", plate=f"湘M·9{i:04d}",
                     kind=VehicleKind.BASIC if i % 4 else VehicleKind.MONITORING,
                     lon=stations[i % 3].lon, lat=stations[i % 3].lat, node=stations[i % 3].node,
                     position_at=timezone.now(), status_at=timezone.now()) for i in range(n_vehicles)]
    Vehicle.objects.bulk_create(extra)
    vehicles = list(Vehicle.objects.all())
    start = timezone.now() - dt.timedelta(days=365)
    step = dt.timedelta(days=365) / max(n_calls, 1)
    regions = [cast.village, cast.other_village, cast.township, cast.other_township]
    kinds = list(EventKind.values)
    batch = 2000
    for lo in range(0, n_calls, batch):
        rows = []
        for i in range(lo, min(lo + batch, n_calls)):
            at = start + step * i
            region = regions[i % 4]
            rows.append(Call(call_no=f"120-H{i:08d}", caller_phone=f"139{i:08d}", region=region,
                             area_code=region.code, rang_at=at, priority=1 + i % 4, status=CallStatus.CLOSED,
                             chief_complaint="胸痛", closed_at=at + dt.timedelta(hours=1), close_reason="完成",
                             taken_by=ems.dispatcher))
        Call.objects.bulk_create(rows)
        missions = [Mission(call=c, vehicle=vehicles[j % len(vehicles)], status=MissionStatus.COMPLETED,
                            dispatched_at=c.rang_at + dt.timedelta(seconds=90), dispatched_by=ems.dispatcher)
                    for j, c in enumerate(rows)]
        Mission.objects.bulk_create(missions)
        events = []
        for c, m in zip(rows, missions, strict=True):
            for k, kind in enumerate(kinds):
                events.append(CallEvent(call=c, mission=None if k < 4 else m, kind=kind,
                                        at=c.rang_at + dt.timedelta(seconds=30 * k), source="system"))
        CallEvent.objects.bulk_create(events)
    d = as_(ems.dispatcher)
    live = [svc.take_call(d, caller_phone="13874601234", priority=1 + i % 4, chief_complaint="胸痛大汗",
                          region=regions[i % 4].code) for i in range(n_live)]
    free = list(Vehicle.objects.filter(status="available").order_by("pk"))
    for call, v in zip(live[::3], free, strict=False):
        svc.dispatch(d, call, v, candidates=[])
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    return ems


def naive_board(now):
    """The baseline: ORM objects, every relation followed per row."""
    from types import SimpleNamespace

    from django.urls import reverse

    from yigongti.emergency.models import Call, CallStatus, Mission, MissionStatus, Vehicle

    calls = []
    for c in Call.objects.filter(status__in=(CallStatus.OPEN, CallStatus.DISPATCHED)).order_by("priority", "rang_at"):
        parts = [c.region.parent.name if c.region and c.region.parent else "", c.region.name if c.region else "",
                 c.landmark.name if c.landmark else "", c.address]
        missions = [SimpleNamespace(call_sign=m.vehicle.call_sign, status_label=m.vehicle.get_status_display())
                    for m in c.missions.filter(status=MissionStatus.ACTIVE)]
        wait = int((now - c.rang_at).total_seconds())
        calls.append(SimpleNamespace(pk=c.pk, call_no=c.call_no, kind=c.kind, priority=c.priority,
                                     priority_label=c.get_priority_display(), complaint=c.chief_complaint,
                                     where=" · ".join(p for p in parts if p), located=c.node_id is not None,
                                     waiting_s=wait, waiting=f"{wait // 60}:{wait % 60:02d}", status=c.status,
                                     needs=list(c.special_needs), missions=missions, lon=c.lon, lat=c.lat,
                                     url=reverse("emergency:call", args=[c.pk]),
                                     recommend_url=reverse("emergency:call_recommend", args=[c.pk])))
    vehicles, counts = [], {}
    for v in Vehicle.objects.filter(active=True).order_by("station__name", "call_sign"):
        m = Mission.objects.filter(vehicle=v, status=MissionStatus.ACTIVE).first()
        counts[v.status] = counts.get(v.status, 0) + 1
        vehicles.append(SimpleNamespace(pk=v.pk, call_sign=v.call_sign, plate=v.plate, station=v.station.name,
                                        kind_label=v.get_kind_display(), status=v.status,
                                        status_label=v.get_status_display(), lon=v.lon, lat=v.lat,
                                        call_id=m.call_id if m else None, call_no=m.call.call_no if m else "",
                                        call_url=reverse("emergency:call", args=[m.call_id]) if m else ""))
    return SimpleNamespace(calls=calls, vehicles=vehicles, counts=[(k, k, n) for k, n in counts.items()], stamp="")


def run(n: int) -> None:
    from django.template.loader import render_to_string
    from django.test import Client
    from django.utils import timezone

    from tests.twofactor import pass_two_factor
    from yigongti.emergency.models import Call, CallEvent, Vehicle
    from yigongti.emergency.queries import board as board_q
    from yigongti.emergency.views.board import map_points
    from yigongti.orgs.models import User

    dispatcher = User.objects.get(username="dispatcher")
    client = Client()
    client.force_login(dispatcher)
    pass_two_factor(client, dispatcher)
    live_url = "/emergency/board/live/"
    stamp = client.get(live_url, HTTP_HX_REQUEST="true")["X-Board-Stamp"]
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    n_open = Call.objects.filter(status__in=("open", "dispatched")).count()
    print(f"\ncalls {Call.objects.count():,} (open {n_open}), time points {CallEvent.objects.count():,}, "
          f"vehicles {Vehicle.objects.count()}; loadavg {load}")
    print(f"{'ms':<22} {'p50':>8} {'p95':>8} {'max':>8}  (target p95 <= {TARGET_MS} ms)")
    _row("board page", _time(lambda: client.get("/emergency/board/"), n))
    _row("poll, changed", _time(lambda: client.get(live_url, HTTP_HX_REQUEST="true"), n))
    unchanged = _time(lambda: client.get(live_url, {"stamp": stamp}, HTTP_HX_REQUEST="true"), n)
    _row("poll, unchanged (204)", unchanged)

    class Req:  # what the template needs of a request
        user = dispatcher
        META: dict = {}

    def ours():
        b = board_q.board(board_q.Actor.from_user(dispatcher))
        render_to_string("emergency/board_live.html", {"b": b, "points": map_points(b), "oob": True})

    def naive():
        b = naive_board(timezone.now())
        render_to_string("emergency/board_live.html", {"b": b, "points": {}, "oob": True})

    t_ours, t_naive = _time(ours, n), _time(naive, n)
    print("-- query + template, same template, side by side --")
    _row("ours", t_ours)
    _row("naive (baseline)", t_naive)
    print(f"ratio naive/ours p95: {_pct(t_naive, 0.95) / max(_pct(t_ours, 0.95), 1e-9):.1f}×")

    # live updates: polling vs server-sent events
    per_min = 60 / POLL_S * statistics.median(unchanged)
    print("-- live updates --")
    print(f"HTMX polling every {POLL_S} s: {60 / POLL_S:.0f} requests/min per board, ≈ {per_min:.0f} ms of a worker"
          f" per board-minute ({per_min / 600:.1f} % of one worker); notices a change within {POLL_S} s")
    held = _sse_hold(seconds=3.0)
    workers = (os.cpu_count() or 1) * 2 + 1
    print(f"SSE: one streaming response held its worker {held:.1f} s of 3.0 s while checking the stamp each second;"
          f" with {workers} sync workers, {workers} open boards would leave no worker for any other page")


def _sse_hold(seconds: float) -> float:
    """A server-sent-events stream as the board would need it: check the stamp every second, send when it changes;
    returns how long the worker thread was occupied during ``seconds`` of an open board."""
    from django.db import connections

    from yigongti.emergency.queries import board as board_q

    def stream():
        last = ""
        t_end = time.perf_counter() + seconds
        while time.perf_counter() < t_end:
            s = board_q.stamp()
            if s != last:
                last = s
                yield f"event: board\ndata: {s}\n\n"
            time.sleep(1.0)

    busy = [0.0]

    def worker():
        t0 = time.perf_counter()
        for _chunk in stream():
            pass
        busy[0] = time.perf_counter() - t0
        connections.close_all()

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    return busy[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20000, help="closed calls of the year (13 time points each)")
    ap.add_argument("--live", type=int, default=40, help="open calls on the board")
    ap.add_argument("--vehicles", type=int, default=25, help="vehicles beyond the five of the test county")
    ap.add_argument("-n", type=int, default=60)
    ap.add_argument("--keep", action="store_true", help="keep the test database (and reuse it when it has data)")
    args = ap.parse_args()
    os.environ.setdefault("YIGONGTI_AUDIT_WITNESS_CHATTR", "0")
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    setup_test_environment()
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keep)
    try:
        from yigongti.orgs.models import User

        if not (args.keep and User.objects.filter(username="dispatcher").exists()):
            t0 = time.perf_counter()
            build(args.calls, args.vehicles, args.live)
            print(f"built in {time.perf_counter() - t0:.1f} s on {connection.vendor} ({name})")
        run(args.n)
    finally:
        if not args.keep:
            connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
