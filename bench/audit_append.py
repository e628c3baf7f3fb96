#!/usr/bin/env python
"""Bench: throughput of appending to the audit chain under concurrency (PostgreSQL), current vs proposed.

    /work/venv/bin/python bench/audit_append.py [--procs 3] [--threads 2] [--events 300]

Every resident search appends one event to the hash chain while holding the row lock on
core_audithead (SELECT … FOR UPDATE → INSERT → UPDATE → COMMIT: four round trips with Python,
and under load GIL hand-offs, in between). This starts ``--procs`` processes × ``--threads``
threads (the shape of ``yigongti serve --workers 3``: gthread, 2 threads), each appending
``--events`` events, first with ``yigongti.core.audit.record`` as it is, then with the one-statement
variant in bench/_wsgi_variants.py (lock, hash, insert and head update inside one SQL statement), and
prints events/s, per-append latency, and whether ``verify_chain`` still passes.

It appends to the audit chain of postgresql://postgres@127.0.0.1:5432/ygt_bench (the bench database).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve()
PG_URL = "postgresql://postgres@127.0.0.1:5432/ygt_bench"


def worker(variant: str, threads: int, events: int, start_at: float) -> None:
    os.environ["YGT_BENCH_VARIANT"] = variant
    sys.path.insert(0, str(HERE.parent))
    import _wsgi_variants  # noqa: F401  (sets Django up, installs the variant)
    from django.db import connection

    from yigongti.core import audit
    from yigongti.core.audit import Actor

    actor = Actor(user_id=1, username="bench_audit", role="doctor", facility_id=1, ip="127.0.0.1",
                  user_agent="bench/audit_append")
    lat: list[float] = []

    def run():
        from django.db import connection as c

        for _ in range(events):
            t = time.perf_counter()
            audit.record(actor, "list", "resident", "", query={"q": "王伟", "village": "", "tag": "", "sex": ""},
                         page=1, ids=list(range(1000, 1025)))
            lat.append(time.perf_counter() - t)
        c.close()

    connection.close()
    while time.time() < start_at:
        time.sleep(0.005)
    ts = [threading.Thread(target=run) for _ in range(threads)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    print(json.dumps(lat))


def run_variant(variant: str, procs: int, threads: int, events: int) -> dict:
    env = dict(os.environ, DATABASE_URL=PG_URL, DJANGO_SETTINGS_MODULE="yigongti.settings",
               YIGONGTI_DATA_DIR=os.environ.get("YIGONGTI_DATA_DIR", "/tmp/ygt-bench-audit"))
    start_at = time.time() + 3  # after every process has imported Django
    ps = [subprocess.Popen([sys.executable, str(HERE), "--worker", variant or "none", str(threads), str(events),
                            str(start_at)], env=env, stdout=subprocess.PIPE, text=True) for _ in range(procs)]
    outs = [p.communicate()[0] for p in ps]
    wall = time.time() - start_at
    lat = [x for o in outs for x in json.loads(o.strip().splitlines()[-1])]
    v = subprocess.run([sys.executable, str(HERE.parent / "http_load.py"), "--verify-worker"], env=env,
                       capture_output=True, text=True).stdout.strip()
    lat.sort()
    return {"events": len(lat), "wall": wall, "rate": len(lat) / wall, "median_ms": 1000 * statistics.median(lat),
            "p95_ms": 1000 * lat[int(0.95 * (len(lat) - 1))], "verify": v}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        variant = "" if sys.argv[2] == "none" else sys.argv[2]
        worker(variant, int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--procs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--events", type=int, default=300, help="per thread")
    a = ap.parse_args()
    print(f"{a.procs} processes × {a.threads} threads × {a.events} events, load average {os.getloadavg()[0]:.2f}")
    print(f"{'variant':<42} {'events':>7} {'wall s':>7} {'events/s':>9} {'median ms':>10} {'p95 ms':>8}  chain")
    variants = (("", "current audit.record (lock held 4 trips)"), ("oneshot", "proposed one-statement append"))
    for variant, label in variants:
        r = run_variant(variant, a.procs, a.threads, a.events)
        print(f"{label:<42} {r['events']:>7} {r['wall']:>7.1f} {r['rate']:>9.0f} {r['median_ms']:>10.1f} "
              f"{r['p95_ms']:>8.1f}  {r['verify']}")


if __name__ == "__main__":
    main()
