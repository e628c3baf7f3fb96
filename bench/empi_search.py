"""Registration search of the resident index at 1,000,000 residents on PostgreSQL.

    python bench/empi_search.py [--residents 1000000] [--probes 400] [--keep]

Builds the demo county's people at the given size into a scratch PostgreSQL database (ygt_bench_empi),
then times GET /api/v1/residents/candidates in-process (Django test client: the view, the scoped
blocking query, the EMPI scoring and the audit write) for a mix of probes a registration desk sends:
exact ID number, name + birth date, a homophone with the birth date a day off, and a phone with a
name. Prints median and p95 per kind against the target (p95 < 100 ms), and how often the right
person was the first candidate.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time

DB = "ygt_bench_empi"
URL = f"postgresql://postgres@127.0.0.1:5432/{DB}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--residents", type=int, default=1_000_000)
    ap.add_argument("--probes", type=int, default=400)
    ap.add_argument("--keep", action="store_true", help="reuse the loaded database if present")
    args = ap.parse_args()
    os.environ["DATABASE_URL"] = URL
    os.environ.setdefault("YIGONGTI_DATA_DIR", "/tmp/ygt-bench-empi")
    fresh = not args.keep or subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-lqt"],
                                            capture_output=True, text=True).stdout.find(DB) < 0
    if fresh:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB], check=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB], check=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "yigongti.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from yigongti.demo import build

    if fresh:
        call_command("migrate", verbosity=0)
        t = time.perf_counter()
        build.STEPS = [s for s in build.STEPS if s.__name__ in ("_orgs", "_people", "build_accounts")]
        build.build_demo(population=args.residents, seed=1, reset=False, progress=True)
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        print(f"loaded {args.residents:,} residents in {time.perf_counter() - t:.0f} s")
    run_probes(args.probes)


def _homophone(name: str, rng: random.Random) -> str:
    from yigongti.residents.matching.names import char_pinyin
    from yigongti.residents.matching.synth import EXTRA_CHARS

    same = [c for c in EXTRA_CHARS if c != name[-1] and char_pinyin(c) == char_pinyin(name[-1])]
    return name[:-1] + (rng.choice(same) if same else name[-1])


def run_probes(n: int) -> None:
    import datetime as dt

    from django.test import Client

    from yigongti.orgs.models import User
    from yigongti.residents.models import Resident

    rng = random.Random(5)
    user = User.objects.get(username="bureau")  # the whole county: the largest pool
    client = Client()
    client.force_login(user)
    top = Resident.objects.order_by("-id").values_list("id", flat=True).first()
    kinds = {"id_number": [], "name+birth": [], "homophone+day_off": [], "phone+name": []}
    hits = dict.fromkeys(kinds, 0)
    for k in range(n):
        r = None
        while r is None:
            r = Resident.objects.filter(pk=rng.randint(1, top)).first()
        kind = list(kinds)[k % 4]
        if kind == "id_number" and r.id_number:
            q = {"id_number": r.id_number}
        elif kind == "name+birth":
            q = {"name": r.name, "birth_date": r.birth_date.isoformat(), "sex": r.sex}
        elif kind == "homophone+day_off":
            q = {"name": _homophone(r.name, rng), "birth_date": (r.birth_date + dt.timedelta(days=1)).isoformat()}
        elif kind == "phone+name" and r.phone:
            q = {"phone": r.phone, "name": r.name}
        else:
            q = {"name": r.name, "birth_date": r.birth_date.isoformat()}
            kind = "name+birth"
        t = time.perf_counter()
        resp = client.get("/api/v1/residents/candidates", q)
        kinds[kind].append((time.perf_counter() - t) * 1000)
        found = resp.json()["candidates"]
        hits[kind] += bool(found) and found[0]["resident_id"] == r.pk
    print(f"\nregistration search, {Resident.objects.count():,} residents, PostgreSQL, bureau scope (whole county)")
    print(f"{'probe':<20}{'n':>5}{'median ms':>11}{'p95 ms':>9}{'target p95':>12}{'ratio':>7}{'right first':>13}")
    every = []
    for kind, times in kinds.items():
        if not times:
            continue
        every += times
        p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 20 else max(times)
        print(f"{kind:<20}{len(times):>5}{statistics.median(times):>11.1f}{p95:>9.1f}{100:>12}{p95 / 100:>7.2f}"
              f"{hits[kind] / len(times):>12.1%}")
    p95 = statistics.quantiles(every, n=20)[18]
    print(f"{'all':<20}{len(every):>5}{statistics.median(every):>11.1f}{p95:>9.1f}{100:>12}{p95 / 100:>7.2f}")


if __name__ == "__main__":
    sys.exit(main())
