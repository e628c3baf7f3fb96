"""What the bench scripts share: Django set-up, and loading the demo county into the configured database."""

from __future__ import annotations

import os
import time

# The audit chain is keyed (core/audit.py) and the bench servers run with throw-away data directories, so every
# bench process that writes or verifies events in the shared bench databases uses this one fixed key; the
# witness file lives in the temporary data directory, where an append-only attribute would stop its clean-up.
BENCH_AUDIT_KEY = "bench-only-audit-key-not-for-production-0123456789"


def bench_env(env: dict) -> dict:
    """``env`` with the bench's audit key and a witness the temporary directory can delete."""
    env.setdefault("YIGONGTI_AUDIT_KEY", BENCH_AUDIT_KEY)
    env.setdefault("YIGONGTI_AUDIT_WITNESS_CHATTR", "0")
    return env


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yigongti.settings")
    import django

    django.setup()


def load_demo(population: int, seed: int = 1) -> float:
    """Migrate, build the demo county, refresh planner statistics; returns the seconds it took."""
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from yigongti.demo.build import build_demo

    call_command("migrate", interactive=False, verbosity=0)
    t0 = time.perf_counter()
    build_demo(population=population, seed=seed, progress=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    return time.perf_counter() - t0
