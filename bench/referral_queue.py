"""The referral center's queue page on PostgreSQL with a year of the demo county's referrals.

    createdb -h 127.0.0.1 -U postgres ygt_ref
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ygt_ref python bench/referral_queue.py load   # migrate + demo
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ygt_ref python bench/referral_queue.py run    # time pages

``run`` signs in as the demo's ``referral_center`` account with Django's test client (the whole Django
stack: middleware, session, audit event per page, template) and requests each page N times after one
warm-up; it prints p50/p95/max in milliseconds against the 300 ms target for the queue.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import load_demo, setup_django

TARGET_MS = 300


def _django():
    setup_django()


def load(population: int) -> None:
    t0 = time.perf_counter()
    load_demo(population)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*), count(*) FILTER (WHERE direction = 'up'), count(*) FILTER (WHERE status = "
                    "'submitted') FROM referrals_referral")
        n, n_up, pending = cur.fetchone()
        cur.execute("SELECT count(*) FROM referrals_referralevent")
        ev = cur.fetchone()[0]
    print(f"demo county: {population:,} residents; {n:,} referrals ({n_up:,} up, {pending} waiting), {ev:,} events; "
          f"built in {time.perf_counter() - t0:.0f} s")


def _time(client, url: str, n: int) -> list[float]:
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r = client.get(url)
        out.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200
    return out


def run(n: int) -> None:
    _django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from yigongti.orgs.models import User
    from yigongti.referrals.models import Referral

    setup_test_environment()
    total = Referral.objects.count()
    print(f"{connection.vendor}, {total:,} referrals; {n} timed requests per page after one warm-up")
    center = Client()
    center.force_login(User.objects.get(username="referral_center"))
    some = Referral.objects.filter(direction="up").order_by("-id").values_list("pk", flat=True)[50]
    pages = {"queue (pending)": "/referrals/center/", "queue overdue": "/referrals/center/?tab=overdue",
             "queue all, page 1": "/referrals/center/?tab=all",
             "queue all, page 40": "/referrals/center/?tab=all&page=40",
             "queue HTMX refresh": "/referrals/center/", "referral detail": f"/referrals/{some}/"}
    print(f"{'page':24} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, url in pages.items():
        headers = {"HTTP_HX_REQUEST": "true"} if "HTMX" in label else {}
        if headers:
            center.defaults.update(headers)
        times = sorted(_time(center, url, n))
        center.defaults.pop("HTTP_HX_REQUEST", None)
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        flag = ("  ✓ < 300 ms" if p95 < TARGET_MS else "  ✗ ≥ 300 ms") if label.startswith("queue (") else ""
        print(f"{label:24} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f}{flag}")


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "run"
    if cmd == "load":
        load(int(sys.argv[2]) if len(sys.argv) > 2 else 450_000)
    else:
        run(int(sys.argv[2]) if len(sys.argv) > 2 else 100)
