"""How long the demo's 120 step takes (road network, fleet, a year of calls, missions, pathway cases) beside the rest
of the demo build, step by step.

    export YIGONGTI_DATA_DIR=$(mktemp -d)            # or DATABASE_URL=postgresql://…/a_throwaway_db
    .venv/bin/python bench/em_demo.py --population 30000 [--seed 1]

The database is flushed and rebuilt: never point it at one you keep. Prints each step's seconds, then the 120 step
against the rest of the build (the baseline it must stay small beside), and the rows it wrote."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from _common import setup_django


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--population", type=int, default=30_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from yigongti.demo import build

    call_command("migrate", interactive=False, verbosity=0)
    seconds: dict[str, float] = {}

    def timed(step):
        def run(ctx):
            t0 = time.perf_counter()
            step(ctx)
            seconds[step.__name__] = time.perf_counter() - t0
        run.__name__ = step.__name__
        return run

    build.STEPS[:] = [timed(s) for s in build.STEPS]
    t0 = time.perf_counter()
    build.build_demo(population=args.population, seed=args.seed)
    total = time.perf_counter() - t0
    ctx = build.build_demo.last_context  # type: ignore[attr-defined]
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    print(f"demo county, population {args.population}, seed {args.seed}, {connection.vendor}, loadavg {load}")
    for name, s in seconds.items():
        print(f"  {name:28s} {s:8.2f} s")
    ours = seconds.get("build_emergency", 0.0)
    rest = total - ours
    timings = ctx.extra.get("timings", {})
    print(f"build_emergency {ours:.2f} s (of which the road network {timings.get('emergency_network_s', 0):.2f} s)  "
          f"vs the rest of the demo {rest:.2f} s: {100 * ours / rest:.1f} % of it")
    print("rows:", ctx.extra.get("emergency"))
    _figures(ctx)


def _figures(ctx) -> None:
    """The county's 120 indicators over the demo's twelve months, and the response time by township."""
    from yigongti.emergency import indicators as em
    from yigongti.indicators.periods import Period
    from yigongti.indicators.queries import Area
    from yigongti.orgs.models import Region

    county = Region.objects.get(code="431127000000")
    last = ctx.today.strftime("%Y-%m")
    first_day = ctx.today.replace(day=1) - dt.timedelta(days=330)
    period = Period("year", first_day.strftime("%Y-%m"), last, "12m")
    area = Area("county", county.code, county.name, county.prefix)
    print(f"== {county.name} {period.first} … {period.last}")
    for code, figure in em.FIGURES.items():
        t0 = time.perf_counter()
        v = figure(area, period)
        ms = 1000 * (time.perf_counter() - t0)
        print(f"  {code:16s} {v.value!s:>8s} target {v.indicator.target_label:10s} {v.status:6s} {ms:7.0f} ms  "
              f"{v.extra.get('note', '')}")
    for r in em.response_by(area, period, by="township"):
        print(f"  {r.label:10s} n={r.n:4d} mean {r.mean_min} median {r.median_min} p90 {r.p90_min} min")


if __name__ == "__main__":
    main()
