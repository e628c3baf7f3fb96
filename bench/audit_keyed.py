#!/usr/bin/env python
"""Bench: what keying the audit chain costs on the hot path, and how fast verification runs.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/h_audit_bench .venv/bin/python bench/audit_keyed.py
    .venv/bin/python bench/audit_keyed.py            # SQLite in a temporary data dir

Single thread, one process, on a migrated database:

1. the hash alone: HMAC-SHA256 under the key (now) vs plain SHA-256 (before) over a typical search event;
2. ``audit.record`` end to end (lock head, insert, move head, commit; anchoring every 100 events) vs the
   same append with the old plain SHA-256 hash (the baseline: ``keyed_hash`` swapped for ``legacy_hash``);
3. ``verify_chain`` over what was appended, in events per second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    os.environ.setdefault("YIGONGTI_DATA_DIR", tempfile.mkdtemp(prefix="ygt-bench-audit-"))
    os.environ.setdefault("YIGONGTI_AUDIT_WITNESS_CHATTR", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yigongti.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from yigongti.core import audit
    from yigongti.core.actor import Actor

    call_command("migrate", interactive=False, verbosity=0)
    actor = Actor(user_id=1, username="bench_audit", role="doctor", facility_id=1, ip="127.0.0.1",
                  user_agent="bench/audit_keyed")
    detail = {"query": {"q": "王伟", "village": "", "tag": "", "sex": ""}, "page": 1, "ids": list(range(1000, 1025))}

    def append(n: int) -> list[float]:
        lat = []
        for _ in range(n):
            t = time.perf_counter()
            audit.record(actor, "list", "resident", "", **detail)
            lat.append(time.perf_counter() - t)
        return lat

    sample = audit.record(actor, "list", "resident", "", **detail)
    key = audit.keyring().current
    reps = 20000
    t = time.perf_counter()
    for _ in range(reps):
        audit.keyed_hash(key, sample.prev_hash, sample)
    hmac_us = (time.perf_counter() - t) / reps * 1e6
    t = time.perf_counter()
    for _ in range(reps):
        audit.legacy_hash(sample.prev_hash, sample)
    sha_us = (time.perf_counter() - t) / reps * 1e6

    keyed_hash = audit.keyed_hash
    results: dict[str, list[float]] = {"keyed": [], "sha256": []}
    for _ in range(a.rounds):
        for name in ("sha256", "keyed"):
            audit.keyed_hash = keyed_hash if name == "keyed" else (lambda k, prev, ev: audit.legacy_hash(prev, ev))
            results[name] += append(a.events)
    audit.keyed_hash = keyed_hash

    print(f"database {connection.vendor}, {a.rounds} rounds × {a.events} appends per variant, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"hash only:   HMAC-SHA256 {hmac_us:6.1f} µs   plain SHA-256 (before) {sha_us:6.1f} µs   "
          f"ratio {hmac_us / sha_us:.2f}")
    k, s = sorted(results["keyed"]), sorted(results["sha256"])
    km, sm = 1000 * statistics.median(k), 1000 * statistics.median(s)
    kp, sp = 1000 * k[int(0.95 * (len(k) - 1))], 1000 * s[int(0.95 * (len(s) - 1))]
    print(f"record():    keyed median {km:.3f} ms p95 {kp:.3f} ms   before median {sm:.3f} ms p95 {sp:.3f} ms   "
          f"ratio {km / sm:.3f}")
    t = time.perf_counter()
    # The baseline's events carry plain hashes under a key id: verification reports them, which is the point.
    result = audit.verify_chain()
    wall = time.perf_counter() - t
    print(f"verify:      {result.checked} events in {wall:.2f} s = {result.checked / wall:,.0f} events/s "
          f"({len(result.findings)} findings: the baseline's unkeyed appends, as expected)")


if __name__ == "__main__":
    main()
