#!/usr/bin/env python
"""Bench: generate the 450,000-resident demo county and load it into SQLite and PostgreSQL.

    /work/venv/bin/python bench/generate_load.py [--population 450000] [--seed 1] [--db sqlite,postgresql]

For each database a fresh subprocess runs ``migrate`` and then ``build_demo`` (the same code as
``yigongti generate``).  Timings come from ``build_demo.last_context.extra["timings"]``
(generate_people_s, load_people_s) plus the wall time of every demo step, measured here by
wrapping the steps in ``yigongti.demo.build.STEPS`` (``_orgs`` = regions, facilities and staff,
which builds and saves its few thousand rows through the ORM in one transaction, so it cannot be
split into generation and loading: it is counted in BOTH totals, i.e. conservatively).

Targets (platform-foundation issue): generation (people + households + staff) < 60 s;
loading < 120 s on SQLite and < 120 s on PostgreSQL.  Figures are printed as ratios to the target
(ratio < 1 means the target is met).

Sanity checks, per database, from the loaded rows: every resident's and staff member's ID number
is validated with ``yigongti.core.idcard.parse_id_number``; the age pyramid and the key-population
counts are printed.

PostgreSQL: the database ``ygt_bench`` on 127.0.0.1:5432 (user postgres, trust auth) is dropped
and re-created (``--keep-pg`` leaves it loaded afterwards, for bench/http_load.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import bench_env

PG_URL = "postgresql://postgres@127.0.0.1:5432/ygt_bench"
PG_ARGS = ["-h", "127.0.0.1", "-U", "postgres"]
GEN_TARGET_S = 60.0
LOAD_TARGET_S = {"sqlite": 120.0, "postgresql": 120.0}


# --------------------------------------------------------------------------------------------
# Worker: runs inside a subprocess whose environment selects the database.
# --------------------------------------------------------------------------------------------

def worker(population: int, seed: int, out: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yigongti.settings")
    import django

    django.setup()
    from collections import Counter

    from django.core.management import call_command
    from django.db import connection

    from yigongti.core.idcard import IdNumberError, parse_id_number
    from yigongti.demo import build
    from yigongti.demo.people import age_pyramid
    from yigongti.orgs.models import Staff
    from yigongti.residents.models import Household, Resident, ResidentTag

    result: dict = {"vendor": connection.vendor, "population": population, "seed": seed}

    t0 = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    result["migrate_s"] = time.perf_counter() - t0

    step_s: dict[str, float] = {}

    def timed(step):
        def run(ctx):
            t = time.perf_counter()
            step(ctx)
            step_s[step.__name__] = time.perf_counter() - t
        run.__name__ = step.__name__
        return run

    build.STEPS[:] = [timed(s) for s in build.STEPS]
    t0 = time.perf_counter()
    logins = build.build_demo(population=population, seed=seed, reset=True, progress=False)
    result["build_demo_s"] = time.perf_counter() - t0
    if connection.vendor == "postgresql":
        # autovacuum is off on the bench server: without statistics on the encounters and settlements the
        # planner picks nested loops (the dashboard's N13 count took 20 s instead of 2.5 s). Not in the targets.
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        result["analyze_s"] = time.perf_counter() - t0
    ctx = build.build_demo.last_context
    result["timings"] = dict(ctx.extra["timings"])
    result["steps"] = step_s
    result["logins"] = logins

    # ---- sanity checks on what was loaded ----------------------------------------------------
    t0 = time.perf_counter()
    today = ctx.today
    people = ctx.extra["people"]
    result["generated_people"] = len(people)
    result["generated_with_id"] = sum(1 for p in people if p.id_number)
    result["residents"] = Resident.objects.count()
    result["households"] = Household.objects.count()
    result["staff"] = Staff.objects.count()

    def check(numbers) -> dict:
        ok, bad, missing, errors = 0, 0, 0, Counter()
        for n in numbers:
            if not n:
                missing += 1
                continue
            try:
                parse_id_number(n, today=today)
                ok += 1
            except IdNumberError as e:
                bad += 1
                errors[e.code] += 1
        return {"valid": ok, "invalid": bad, "missing": missing, "errors": dict(errors)}

    res_ids = list(Resident.objects.values_list("id_number", flat=True).iterator(chunk_size=50_000))
    result["id_check_residents"] = check(res_ids)
    result["id_check_residents"]["distinct"] = len({n for n in res_ids if n})
    result["id_check_staff"] = check(Staff.objects.values_list("id_number", flat=True))
    result["id_check_generated"] = check(p.id_number for p in people)
    result["pyramid"] = age_pyramid(people, today).tolist()
    result["sex"] = dict(Counter(p.sex for p in people))
    result["tags"] = dict(Counter(ResidentTag.objects.values_list("tag", flat=True).iterator(chunk_size=50_000)))
    result["check_s"] = time.perf_counter() - t0
    Path(out).write_text(json.dumps(result, ensure_ascii=False, indent=1))


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------

def _run_db(kind: str, population: int, seed: int, tmp: Path, keep_pg: bool) -> dict:
    env = bench_env(dict(os.environ))
    data_dir = tmp / f"data-{kind}"
    data_dir.mkdir()
    env["YIGONGTI_DATA_DIR"] = str(data_dir)
    env.pop("DATABASE_URL", None)
    if kind == "postgresql":
        subprocess.run(["dropdb", *PG_ARGS, "--if-exists", "ygt_bench"], check=True)
        subprocess.run(["createdb", *PG_ARGS, "ygt_bench"], check=True)
        env["DATABASE_URL"] = PG_URL
    out = tmp / f"result-{kind}.json"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--worker", "--population", str(population),
                           "--seed", str(seed), "--out", str(out)], env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{kind}: worker failed ({proc.returncode})")
    result = json.loads(out.read_text())
    result["subprocess_wall_s"] = wall
    if kind == "sqlite":
        db = data_dir / "yigongti.sqlite3"
        result["db_bytes"] = db.stat().st_size if db.exists() else None
    else:
        size = subprocess.run(["psql", *PG_ARGS, "-d", "ygt_bench", "-Atc",
                               "select pg_database_size('ygt_bench')"], capture_output=True, text=True)
        result["db_bytes"] = int(size.stdout.strip() or 0)
        if not keep_pg:
            subprocess.run(["dropdb", *PG_ARGS, "--if-exists", "ygt_bench"], check=True)
    return result


def _table(title: str, header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    fmt = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)  # noqa: E731
                              for i, (c, w) in enumerate(zip(r, widths, strict=True)))
    return "\n".join([title, fmt(header), line, *(fmt(r) for r in rows)])


def report(results: dict[str, dict]) -> None:
    rows = []
    for kind, r in results.items():
        t, s = r["timings"], r["steps"]
        orgs = s.get("_orgs", 0.0)
        gen = t["generate_people_s"] + orgs
        load = t["load_people_s"] + orgs
        rows += [
            [f"{kind}: generate people+households", f"{t['generate_people_s']:.1f}", "", ""],
            [f"{kind}: _orgs step (regions, facilities, {r['staff']} staff; ORM)", f"{orgs:.1f}", "", ""],
            [f"{kind}: GENERATION total (people+households+staff)", f"{gen:.1f}", f"{GEN_TARGET_S:.0f}",
             f"{gen / GEN_TARGET_S:.2f}"],
            [f"{kind}: load people+households+tags (bulk)", f"{t['load_people_s']:.1f}", "", ""],
            [f"{kind}: LOAD total (incl. _orgs)", f"{load:.1f}", f"{LOAD_TARGET_S[kind]:.0f}",
             f"{load / LOAD_TARGET_S[kind]:.2f}"],
        ]
        rows += [[f"{kind}: (not in targets) step {name}", f"{sec:.1f}", "", ""]
                 for name, sec in s.items() if name not in ("_orgs", "_people")]
        rows += [[f"{kind}: (not in targets) migrate / flush / whole build_demo",
                  f"{r['migrate_s']:.1f} / {r['build_demo_s'] - sum(s.values()):.1f} / {r['build_demo_s']:.1f}",
                  "", ""]]
    any_r = next(iter(results.values()))
    print()
    print(_table(f"Demo build at --population {any_r['population']} --seed {any_r['seed']} (seconds; ratio = "
                 "time / target, < 1 meets the target)", ["what", "seconds", "target", "ratio"], rows))

    rows = []
    for kind, r in results.items():
        for label, key in (("residents", "id_check_residents"), ("staff", "id_check_staff"),
                           ("generated (in memory)", "id_check_generated")):
            c = r[key]
            rows.append([f"{kind}: {label}", c["valid"], c["invalid"], c["missing"], c.get("distinct", ""),
                         json.dumps(c["errors"]) if c["errors"] else ""])
    print()
    print(_table("ID numbers checked with yigongti.core.idcard.parse_id_number (today = demo today)",
                 ["rows", "valid", "invalid", "no ID", "distinct", "errors"], rows))

    print()
    rows = [[k, f"{r['residents']:,}", f"{r['households']:,}", f"{r['staff']:,}",
             f"{r['db_bytes'] / 2**20:,.0f} MiB" if r.get("db_bytes") else "?"] for k, r in results.items()]
    print(_table("Rows loaded", ["database", "residents", "households", "staff", "db size"], rows))

    pyr = any_r["pyramid"]
    total = sum(pyr)
    print()
    print(f"Age pyramid (generated people, 5-year bands; sex: {any_r['sex']})")
    for i, n in enumerate(pyr):
        label = f"{i * 5:>2}–{i * 5 + 4:<2}" if i < 18 else "90+  "
        print(f"  {label} {n:>7,} {100 * n / total:5.1f}% {'#' * round(200 * n / total)}")
    print()
    from_tags = [(k, {kind: r["tags"].get(k, 0) for kind, r in results.items()}) for k in sorted(any_r["tags"])]
    rows = [[k, *(f"{v[kind]:,}" for kind in results), f"{100 * v[next(iter(results))] / any_r['residents']:.1f}%"]
            for k, v in from_tags]
    print(_table("Key populations (ResidentTag rows)", ["tag", *results, "share"], rows))
    same = all(r["tags"] == any_r["tags"] and r["pyramid"] == pyr for r in results.values())
    print(f"\nSQLite and PostgreSQL loads identical (tags, pyramid): {same}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--population", type=int, default=450_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db", default="sqlite,postgresql")
    ap.add_argument("--keep-pg", action="store_true", help="leave ygt_bench loaded (for http_load.py)")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--report", help="only print the tables from a --json file of an earlier run")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        worker(a.population, a.seed, a.out)
        return
    if a.report:
        report(json.loads(Path(a.report).read_text()))
        return
    results = {}
    with tempfile.TemporaryDirectory(prefix="ygt-bench-") as tmp:
        for kind in a.db.split(","):
            print(f"== {kind}: migrate + build_demo --population {a.population} --seed {a.seed}", flush=True)
            results[kind] = _run_db(kind, a.population, a.seed, Path(tmp), a.keep_pg)
            print(f"   done in {results[kind]['subprocess_wall_s']:.1f} s (subprocess wall, incl. checks)", flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(results, ensure_ascii=False, indent=1))
    report(results)


if __name__ == "__main__":
    main()
