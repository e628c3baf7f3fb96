"""County dashboard on PostgreSQL with a year of the full demo county (~450,000 residents, ~3 million
encounters).

    createdb -h 127.0.0.1 -U postgres ygt_ind
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ygt_ind python bench/dashboard_pg.py load   # migrate + demo
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ygt_ind python bench/dashboard_pg.py run    # time pages

``run`` signs in as the bureau user with Django's test client and requests the county dashboard
(and an indicator page and a drill-down) N times: the first request is cold (empty cache), then the
cache is cleared before every timed request ("warm" means warmed database buffers and compiled
templates, not a cached answer) and, separately, timed with the cache on.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import load_demo, setup_django


def _django():
    setup_django()


def load(population: int) -> None:
    t0 = time.perf_counter()
    load_demo(population)
    from django.db import connection

    from yigongti.demo.build import build_demo

    ctx = build_demo.last_context
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM encounters_encounter")
        n = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM encounters_insurancesettlement")
        s = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM indicators_monthlyfact")
        f = cur.fetchone()[0]
    print(f"demo county: {population:,} residents, {n:,} encounters, {s:,} settlements, {f:,} monthly fact rows; "
          f"built in {time.perf_counter() - t0:.0f} s; fact refresh {ctx.extra['facts']['seconds']} s")


def run(n: int) -> None:
    _django()
    from django.core.cache import cache
    from django.test import Client
    from django.test.utils import setup_test_environment

    from yigongti.indicators.services import refresh_facts
    from yigongti.orgs.models import User

    setup_test_environment()
    t0 = time.perf_counter()
    info = refresh_facts()
    print(f"refresh_facts (all months, INSERT … SELECT): {time.perf_counter() - t0:.1f} s, {info['rows']:,} rows")
    c = Client()
    c.force_login(User.objects.get(username="bureau"))
    pages = {"dashboard": "/indicators/", "dashboard Q3": "/indicators/?period=2026-Q3&focus=ALOS",
             "indicator N07": "/indicators/N07/", "drill-down": "/indicators/ALOS/records/?facility=431127A100001"}
    for label, url in pages.items():
        cache.clear()
        t = time.perf_counter()
        r = c.get(url)
        cold = (time.perf_counter() - t) * 1000
        assert r.status_code == 200, (url, r.status_code)
        uncached = []
        for _ in range(n):
            cache.clear()
            t = time.perf_counter()
            c.get(url)
            uncached.append((time.perf_counter() - t) * 1000)
        cached = []
        for _ in range(n):
            t = time.perf_counter()
            c.get(url)
            cached.append((time.perf_counter() - t) * 1000)
        q = statistics.quantiles(uncached, n=20)
        print(f"{label:14s} cold {cold:7.0f} ms | no cache: median {statistics.median(uncached):6.0f} ms, "
              f"p95 {q[-1]:6.0f} ms | cached: median {statistics.median(cached):5.0f} ms")


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "run"
    if cmd == "load":
        load(int(sys.argv[2]) if len(sys.argv) > 2 else 450_000)
    else:
        run(int(sys.argv[2]) if len(sys.argv) > 2 else 20)
