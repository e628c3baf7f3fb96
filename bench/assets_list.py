"""The asset register's list with 10,000 assets and its filters: p95 against the 200 ms target (issue 15), ours beside
a naive first version, and Snipe-IT's figure from the issue (25–27 s to list 4,000 assets).

    createdb -h 127.0.0.1 -U postgres assets_bench
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/assets_bench yigongti manage migrate
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/assets_bench python bench/assets_list.py --assets 10000 -n 40

Everything is built inside one transaction that is rolled back at the end (the database stays empty): the tests'
small county (``tests.cast``), ``--assets`` assets bulk-inserted across its five facilities (a tenth on 工作量法
with a year of monthly units, an eighth overdue, some scrapped with their approved disposal), one maintenance
record each.

Timed, each N times after a warm-up, as the community manager (who sees all of them):

* ``page``: the whole page through Django's test client (middleware, session, template), for each filter —
  none, a facility, a category, a status, overdue, a text search, and page 100;
* ``ours, rows``: ``queries.register_page`` alone (the page's query, count and net book values);
* ``naive, rows``: the baseline — the same rows as a first version builds them: every matching asset loaded and
  counted in Python, then per row its facility, department and custodian, its units of use and its disposal
  fetched one by one (N+1), and the net book value computed from them.

Figures are ratios against the baseline; the machine's load (``uptime``) is printed with them."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import bench_env, setup_django

TARGET_MS = 200
SNIPE_IT_S = (25, 27)  # Snipe-IT, 4,000 assets (issue 15)


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


def _build(n_assets: int):
    import random

    from tests.cast import build_cast
    from yigongti.assets.models import Asset, AssetStatus, Disposal, Maintenance, Usage

    c = build_cast()
    rng = random.Random(15)
    facilities = [c.county_hospital, c.township_center, c.village_clinic, c.other_center, c.other_clinic]
    today = dt.date.today()
    names = [("07", "心电图机"), ("07", "多参数监护仪"), ("06", "彩色多普勒超声诊断仪"), ("22", "血细胞分析仪"),
             ("08", "呼吸机"), ("14", "输液泵"), ("15", "电动病床"), ("11", "高压蒸汽灭菌器")]
    rows = []
    for i in range(n_assets):
        cat, name = rng.choice(names)
        units = i % 10 == 0
        accepted = today - dt.timedelta(days=rng.randint(30, 3650))
        rows.append(Asset(
            community=c.community, number=f"YLSB-{i:06d}", category=cat, name=name, model=f"M{rng.randint(1, 999)}",
            serial=f"SN{i:08d}", maker="某医疗器械公司", price=Decimal(rng.randint(2000, 500000)),
            purchased_on=accepted - dt.timedelta(days=10), accepted_on=accepted,
            facility=facilities[i % 5 if i % 5 else 0], status=AssetStatus.SCRAPPED if i % 50 == 0 else
            rng.choice([AssetStatus.IN_USE] * 8 + [AssetStatus.IDLE, AssetStatus.REPAIR]),
            method="units" if units else "straight_line", useful_life_years=None if units else rng.choice([5, 6, 8]),
            planned_units=100_000 if units else None,
            maintenance_due=today + dt.timedelta(days=rng.randint(-45, 320))).fill_search())
    Asset.objects.bulk_create(rows, batch_size=2000)
    assets = list(Asset.objects.filter(community=c.community).only("id", "accepted_on", "method", "status"))
    Maintenance.objects.bulk_create([Maintenance(asset=a, kind="maintenance", done_on=today - dt.timedelta(days=90),
                                                 next_due=today) for a in assets], batch_size=5000)
    Usage.objects.bulk_create([Usage(asset=a, month=(today.replace(day=1) - dt.timedelta(days=30 * k)).replace(day=1),
                                     units=300) for a in assets if a.method == "units" for k in range(12)],
                              batch_size=5000)
    Disposal.objects.bulk_create([Disposal(asset=a, reason="老化", requested_on=today, status="approved",
                                           decided_on=today) for a in assets if a.status == "scrapped"])
    from django.db import connection

    with connection.cursor() as cur:
        for t in ("assets_asset", "assets_usage", "assets_disposal", "assets_maintenance"):
            cur.execute(f"ANALYZE {t}")
    return c


def naive_rows(user, data: dict, page: int, size: int):
    """A first version: load everything that matches, count in Python, follow every relation row by row."""
    from yigongti.assets import depreciation
    from yigongti.assets.queries import AssetFilter, Row, assets_visible_to, basis_of

    today = dt.date.today()
    f = AssetFilter.from_query(data)
    everything = list(f.apply(assets_visible_to(user), today).order_by("facility_id", "number"))
    count = len(everything)
    out = []
    for a in everything[(page - 1) * size: page * size]:
        _ = (a.facility.name, a.department and a.department.name, a.custodian and a.custodian.name)
        usages = list(a.usages.values_list("month", "units"))
        d = a.disposals.filter(status="approved").first()
        b = basis_of(a, d.decided_on if d else None)
        try:
            net = depreciation.net_book_value(b, today, usages)
        except depreciation.DepreciationError:
            net = None
        due = [x for x in (a.maintenance_due, a.calibration_due) if x is not None]
        out.append(Row(a, net, bool(due) and min(due) < today))
    return count, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--assets", type=int, default=10_000)
    ap.add_argument("-n", type=int, default=40)
    args = ap.parse_args()
    bench_env(os.environ)
    os.environ.setdefault("YIGONGTI_PASSWORD_HASHERS_FAST", "1")
    setup_django()
    from django.db import transaction
    from django.test import Client
    from django.test.utils import override_settings

    from tests.twofactor import pass_two_factor
    from yigongti.assets import queries

    filters = {"none": {}, "facility": None, "category": {"category": "07"}, "status": {"status": "idle"},
               "overdue": {"overdue": "1"}, "text": {"q": "监护"}, "page 100": {"page": "100"}}
    with override_settings(PASSWORD_HASHERS=["tests.hashers.FastArgon2PasswordHasher"], ALLOWED_HOSTS=["*"]):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            t0 = time.perf_counter()
            c = _build(args.assets)
            print(f"built {args.assets} assets in {time.perf_counter() - t0:.1f} s")
            filters["facility"] = {"facility": str(c.township_center.pk)}
            client = Client()
            client.force_login(c.manager)
            pass_two_factor(client, c.manager)
            print(f"{'filter':<10} {'page p50':>9} {'page p95':>9} {'ours rows p95':>14} {'naive rows p95':>15} "
                  f"{'naive/ours':>10}")
            worst = 0.0
            for name, data in filters.items():
                r = client.get("/assets/", data)
                assert r.status_code == 200, r.status_code
                page_t = _time(lambda d=data: client.get("/assets/", d), args.n)
                pg = int(data.get("page", 1))
                flt = queries.AssetFilter.from_query(data)
                ours = _time(lambda f=flt, p=pg: queries.register_page(c.manager, f, p, 50), args.n)
                naive = _time(lambda d=data, p=pg: naive_rows(c.manager, d, p, 50), max(3, args.n // 8))
                worst = max(worst, _pct(page_t, 0.95))
                print(f"{name:<10} {_pct(page_t, 0.5):>7.1f}ms {_pct(page_t, 0.95):>7.1f}ms "
                      f"{_pct(ours, 0.95):>12.1f}ms {_pct(naive, 0.95):>13.1f}ms "
                      f"{_pct(naive, 0.95) / _pct(ours, 0.95):>9.1f}×")
            print(f"worst page p95 {worst:.1f} ms — target {TARGET_MS} ms: {'met' if worst <= TARGET_MS else 'MISSED'}")
            lo, hi = SNIPE_IT_S
            print(f"Snipe-IT (issue 15): {lo}–{hi} s for 4,000 assets, i.e. {lo * 1000 / worst:.0f}–"
                  f"{hi * 1000 / worst:.0f}× our worst p95 at {args.assets} (different machines: indicative only)")
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
