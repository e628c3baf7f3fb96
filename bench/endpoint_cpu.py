#!/usr/bin/env python
"""Bench: CPU milliseconds per request of the load mix's endpoints, one client, in-process (issue 8 §6).

    .venv/bin/python bench/endpoint_cpu.py                       # ygt_bench (bench/generate_load.py --keep-pg)
    .venv/bin/python bench/endpoint_cpu.py --rounds 40 --only home,search
    .venv/bin/python bench/endpoint_cpu.py --profile "search name [bureau]" --top 40   # cProfile one endpoint

Runs the Django stack of this tree inside this process (the test client: middleware, session, two-factor,
views, templates, audit appends; no HTTP server) against ``postgresql://…/ygt_bench`` with the load bench's
settings (``bench/_bench_settings.py``: the lookup rate limits lifted, still counted) and Redis as the shared
cache. Per endpoint: a few warm-up requests, then ``--rounds`` requests; it prints the median and p95 of this
process's CPU time per request (``time.process_time``: Python, template rendering, the database driver — not
PostgreSQL's own work, which runs in its backend) and of the wall time. The CPU figure is the one that holds
on a machine shared with other work: it is what a gunicorn worker spends per request.

The logins are the load bench's: ``bench_bureau`` (the whole county; second factor passed with a confirmed
device in the session, as the verification page does), ``bench_township`` (a physician of the first township
center) and the demo's ``referral_center``; run ``bench/http_load.py`` once (its set-up creates them) or let
``--setup`` do it here.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="ygt_bench")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated substrings of endpoint names")
    ap.add_argument("--profile", default="", help="cProfile this endpoint (exact name) and print the top")
    ap.add_argument("--top", type=int, default=35)
    ap.add_argument("--json", help="append {endpoint: [CPU ms, …]} of this run to this file (one line per run)")
    ap.add_argument("--sql", action="store_true", help="print each endpoint's queries of one request, slowest first")
    ap.add_argument("--sort", default="cumulative")
    ap.add_argument("--setup", action="store_true", help="create the bench logins first (http_load's set-up)")
    ap.add_argument("--redis", default=os.environ.get("YIGONGTI_REDIS_URL", "redis://127.0.0.1:6379/1"))
    a = ap.parse_args()

    from _common import bench_env

    os.environ.update(bench_env(dict(os.environ)))
    os.environ["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{a.db}"
    os.environ.setdefault("YIGONGTI_DATA_DIR", "/tmp/ygt-endpoint-cpu")
    if a.redis:
        os.environ["YIGONGTI_REDIS_URL"] = a.redis
    os.environ["DJANGO_SETTINGS_MODULE"] = "_bench_settings"
    if a.setup:
        import subprocess
        import tempfile

        with tempfile.NamedTemporaryFile(suffix=".json") as tf:
            env = dict(os.environ, DJANGO_SETTINGS_MODULE="yigongti.settings")
            subprocess.run([sys.executable, str(HERE.parent / "http_load.py"), "--setup-worker", tf.name],
                           env=env, check=True)
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_static.models import StaticDevice

    from yigongti.core.scoping import scope_for
    from yigongti.orgs.models import User
    from yigongti.residents.models import Resident

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    rng = random.Random(7)
    clients: dict[str, Client] = {}
    terms: dict[str, dict] = {}
    for key, username in (("bureau", "bench_bureau"), ("township", "bench_township"), ("center", "referral_center")):
        user = User.objects.get(username=username)
        c = Client()
        c.force_login(user)
        device = StaticDevice.objects.filter(user=user, confirmed=True).first()
        if device is not None:
            s = c.session
            s[DEVICE_ID_SESSION_KEY] = device.persistent_id
            s.save()
        clients[key] = c
        qs = scope_for(user).filter(Resident.objects.all())
        # the same terms for every tree and run: ids drawn with a fixed seed, kept where in scope
        top = Resident.objects.order_by("-id").values_list("id", flat=True).first() or 0
        pick = random.Random(key).sample(range(1, top + 1), min(top, 20000)) if key != "center" else []
        rows = list(qs.filter(id__in=pick).order_by("id").values_list("name", "id_number")[:200])
        terms[key] = {"names": [n[:2] for n, _ in rows if len(n) >= 2][:50], "ids": [i for _, i in rows if i][:50]}

    def get(who, path, htmx=False):
        def run():
            h = {"HTTP_HX_REQUEST": "true"} if htmx else {}
            return clients[who].get(path() if callable(path) else path, **h)
        return run

    def post_id(who, htmx=False):
        def run():
            h = {"HTTP_HX_REQUEST": "true"} if htmx else {}
            return clients[who].post("/residents/", {"q": rng.choice(terms[who]["ids"])}, **h)
        return run

    def name_q(who):
        return lambda: f"/residents/?q={rng.choice(terms[who]['names'])}"

    endpoints = {
        "home [bureau]": get("bureau", "/"),
        "home [township]": get("township", "/"),
        "home [center]": get("center", "/"),
        "search name [bureau]": get("bureau", name_q("bureau")),
        "search id [bureau]": post_id("bureau"),
        "search name HTMX [bureau]": get("bureau", name_q("bureau"), htmx=True),
        "search name [township]": get("township", name_q("township")),
        "search id [township]": post_id("township"),
        "search id HTMX [township]": post_id("township", htmx=True),
        "dashboard [bureau]": get("bureau", "/indicators/"),
        "center queue [center]": get("center", "/referrals/center/"),
        "center queue HTMX [center]": get("center", "/referrals/center/?tab=pending", htmx=True),
    }
    wanted = [s for s in a.only.split(",") if s]
    if a.profile:
        endpoints = {a.profile: endpoints[a.profile]}
    elif wanted:
        endpoints = {k: v for k, v in endpoints.items() if any(w in k for w in wanted)}

    print(f"{a.db}: {Resident.objects.count():,} residents; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {a.rounds} rounds after {a.warmup} warm-up")
    print(f"{'endpoint [login]':30} {'CPU p50':>8} {'CPU p95':>8} {'PG mean':>8} {'wall p50':>9} {'wall p95':>9}"
          "  bytes")
    totals = []
    samples: dict[str, list[float]] = {}
    def pg_ticks() -> int:
        """CPU clock ticks (user + system) of this connection's PostgreSQL backend so far (same machine)."""
        from django.db import connection

        connection.ensure_connection()
        pid = connection.connection.info.backend_pid
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    pg_ms: dict[str, float] = {}
    for name, run in endpoints.items():
        rng.seed(name)  # the same search terms in the same order for every tree
        for _ in range(a.warmup):
            r = run()
            if r.status_code != 200:
                raise SystemExit(f"{name}: status {r.status_code} {getattr(r, 'url', '')}")
        cpu, wall = [], []
        prof = cProfile.Profile(time.process_time) if a.profile else None  # CPU time, not waits
        t0 = pg_ticks()
        for _ in range(a.rounds):
            c0, w0 = time.process_time(), time.perf_counter()
            if prof:
                prof.enable()
            r = run()
            if prof:
                prof.disable()
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
        pg_ms[name] = (pg_ticks() - t0) * tick_ms / a.rounds
        totals.append(statistics.median(cpu))
        samples[name] = cpu
        if a.sql:
            from django.db import connection

            timed: list[tuple[float, str]] = []

            def wrapper(execute, sql, params, many, context, timed=timed):
                t = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    timed.append(((time.perf_counter() - t) * 1000, sql))

            with connection.execute_wrapper(wrapper):
                run()
            print(f"  {len(timed)} queries, {sum(t for t, _ in timed):.1f} ms")
            for t, sql in (timed if os.environ.get('YGT_SQL_ALL') else sorted(timed, reverse=True)[:8]):
                print(f"  {t:7.1f} ms  {sql[:300]}")
        print(f"{name:30} {statistics.median(cpu):8.1f} {_pct(cpu, 0.95):8.1f} {pg_ms[name]:8.1f} "
              f"{statistics.median(wall):9.1f} "
              f"{_pct(wall, 0.95):9.1f}  {len(r.content):,}", flush=True)
        if prof:
            pstats.Stats(prof).strip_dirs().sort_stats(a.sort).print_stats(a.top)
    if len(totals) > 1:
        print(f"{'mean of the medians':30} {statistics.mean(totals):8.1f}")
    if a.json:
        import json

        with open(a.json, "a") as out:
            out.write(json.dumps({"src": sys.modules["yigongti"].__file__, "load": os.getloadavg()[0],
                                  "cpu": samples, "pg": pg_ms}) + "\n")


if __name__ == "__main__":
    main()
