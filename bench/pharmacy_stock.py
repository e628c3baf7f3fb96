"""A village clinic's stock page (and the distribution app's order form, when it exists) on PostgreSQL with a
year of stock movements for every facility of a county: p95 against the 100 ms target (issue 13), ours beside
a naive first version that sums the ledger per item.

    createdb -h 127.0.0.1 -U postgres pharm_bench
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/pharm_bench yigongti manage migrate
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/pharm_bench python bench/pharmacy_stock.py -n 40
    # the full county: --villages 170 --townships 20 (≈ 6 million movements; minutes to load)

Everything is built inside one transaction that is rolled back at the end: the tests' small cast for the
accounts, then a synthetic county (``--townships`` township centers, ``--villages`` village clinics, the county
hospital) and the demo catalogue (``demo.pharmacy.catalogue_rows``: 262 items); each facility stocks the items
of its level (a village ~130, a township ~220, the county all), ~4 lots an item over the year, one dispensing
line per item per day and a monthly transfer in, for ``--days`` days; balances equal to the ledger's sum.
COPY-loaded, then ANALYZEd.

Timed, each N times after a warm-up, as the clinic's village doctor:

* ``page``: the stock page through Django's test client (middleware, session, template) — all items, a text
  search, the below-minimum filter; and ``/distribution/orders/new/`` if that URL exists;
* ``ours``: ``pharmacy.queries.stock_rows`` alone (balances with their lots, limits: two queries);
* ``naive``: the baseline — for every item the clinic may stock, its lots' quantities summed from the ledger
  (``Movement`` grouped by lot), the lot and the limit fetched per item (N+1), as a first version does.

Figures are ratios against the baseline; the machine's load (``uptime``) is printed with them."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import bench_env, setup_django

TARGET_MS = 100


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


def _build(n_townships: int, n_villages: int, days: int):
    import random

    from django.db import connection
    from django.utils import timezone

    from tests.cast import PASSWORD, SYSTEM, build_cast
    from yigongti.demo.familydoctor import load, next_id
    from yigongti.demo.pharmacy import catalogue_rows
    from yigongti.orgs.models import Facility, FacilityType, Region, RegionLevel, Role
    from yigongti.orgs.services import create_account
    from yigongti.pharmacy.models import DistributionCenter, Item, Lot, Movement, StockBalance, StockLimit

    c = build_cast()
    rng = random.Random(13)
    DistributionCenter.objects.create(community=c.community, facility=c.county_hospital)
    items = Item.objects.bulk_create([Item(community=c.community, **r).fill_search() for r in catalogue_rows()])
    townships = [c.township_center, c.other_center]
    villages = [c.village_clinic, c.other_clinic]
    for t in range(n_townships - 2):
        reg = Region.objects.create(code=f"431127{200 + t:03d}000", name=f"测试{t}镇", level=RegionLevel.TOWNSHIP,
                                    parent=c.county)
        townships.append(Facility.objects.create(code=f"{reg.code[:9]}B200", name=f"测试{t}镇卫生院",
                                                 type=FacilityType.TOWNSHIP_CENTER, region=reg,
                                                 community=c.community, parent=c.county_hospital))
    for v in range(n_villages - 2):
        town = townships[v % len(townships)]
        reg = Region.objects.create(code=f"{town.region.code[:9]}{300 + v:03d}", name=f"测试{v}村",
                                    level=RegionLevel.VILLAGE, parent=town.region)
        villages.append(Facility.objects.create(code=f"{reg.code}D600", name=f"测试{v}村卫生室",
                                                type=FacilityType.VILLAGE_CLINIC, region=reg, community=c.community,
                                                parent=town))
    level_items = {"village": [i for i in items if i.min_level == "village"],
                   "township": [i for i in items if i.min_level in ("village", "township")], "county": items}
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    start = today - dt.timedelta(days=days)
    lot_rows, lots_of = [], {}
    lot_id = next_id(Lot)
    for it in items:
        lots_of[it.pk] = []
        for k in range(4):
            exp = start + dt.timedelta(days=90 * k + rng.randint(200, 800))
            lot_rows.append((lot_id, it.pk, f"B{it.pk}{k}", exp))
            lots_of[it.pk].append((lot_id, exp))
            lot_id += 1
    load(Lot, ["id", "item", "number", "expires_on"], lot_rows)
    move_id, bal_id, lim_id = next_id(Movement), next_id(StockBalance), next_id(StockLimit)
    n_moves = 0
    t0 = time.perf_counter()
    for f, level in [(c.county_hospital, "county"), *((t, "township") for t in townships),
                     *((v, "village") for v in villages)]:
        moves, bals, lims = [], [], []
        for it in level_items[level]:
            qty: dict[int, int] = {}
            for d in range(days):
                day = start + dt.timedelta(days=d)
                lot, _exp = lots_of[it.pk][min(3, d * 4 // days)]
                at = dt.datetime.combine(day, dt.time(9), tz)
                if d % 30 == 0:
                    qty[lot] = qty.get(lot, 0) + 60
                    moves.append((move_id, f.pk, it.pk, lot, "transfer_in", 60, qty[lot], at, "", "order:1"))
                    move_id += 1
                if qty.get(lot, 0) > 1:
                    qty[lot] -= 1
                    moves.append((move_id, f.pk, it.pk, lot, "dispense", -1, qty[lot],
                                  at + dt.timedelta(hours=2), "", "prescription:1"))
                    move_id += 1
            for lot, exp in lots_of[it.pk]:
                if qty.get(lot):
                    bals.append((bal_id, f.pk, it.pk, lot, exp, qty[lot], timezone.now()))
                    bal_id += 1
            lims.append((lim_id, f.pk, it.pk, rng.randint(5, 40), None))
            lim_id += 1
        load(Movement, ["id", "facility", "item", "lot", "kind", "quantity", "balance_after", "at", "reason",
                        "source"], moves)
        load(StockBalance, ["id", "facility", "item", "lot", "expires_on", "quantity", "updated_at"], bals)
        load(StockLimit, ["id", "facility", "item", "minimum", "maximum"], lims)
        n_moves += len(moves)
    with connection.cursor() as cur:
        for t in ("pharmacy_movement", "pharmacy_stockbalance", "pharmacy_stocklimit", "pharmacy_lot",
                  "pharmacy_item"):
            cur.execute(f"ANALYZE {t}")
    doctor = create_account(actor=SYSTEM, username="bench_vd", role=Role.VILLAGE_DOCTOR, password=PASSWORD,
                            facility=villages[-1])[0]
    return c, villages[-1], doctor, n_moves, time.perf_counter() - t0


def naive_rows(facility):
    """A first version: every item the clinic may stock, its lots' balances summed from the ledger, per item."""
    from django.db.models import Sum

    from yigongti.pharmacy.models import Lot, Movement, StockLimit
    from yigongti.pharmacy.queries import facility_catalogue

    out = []
    for it in facility_catalogue(facility):
        lots = []
        for row in Movement.objects.filter(facility=facility, item=it).values("lot").annotate(n=Sum("quantity")):
            if row["n"]:
                lot = Lot.objects.get(pk=row["lot"])
                lots.append((lot.number, lot.expires_on, row["n"]))
        limit = StockLimit.objects.filter(facility=facility, item=it).first()
        if lots or limit:
            out.append((it, lots, limit))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--townships", type=int, default=4)
    ap.add_argument("--villages", type=int, default=12)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("-n", type=int, default=40)
    args = ap.parse_args()
    bench_env(os.environ)
    os.environ.setdefault("YIGONGTI_PASSWORD_HASHERS_FAST", "1")
    setup_django()
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import NoReverseMatch, reverse

    from tests.twofactor import pass_two_factor
    from yigongti.pharmacy import queries

    assert connection.vendor == "postgresql", "run on PostgreSQL (DATABASE_URL=postgresql://…)"
    with override_settings(PASSWORD_HASHERS=["tests.hashers.FastArgon2PasswordHasher"], ALLOWED_HOSTS=["*"]):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            _c, village, doctor, n_moves, secs = _build(args.townships, args.villages, args.days)
            print(f"built {n_moves:,} movements for {args.villages} villages, {args.townships} townships and the "
                  f"county hospital ({args.days} days) in {secs:.1f} s")
            client = Client()
            client.force_login(doctor)
            pass_two_factor(client, doctor)
            url = f"/pharmacy/stock/{village.pk}/"
            pages = {"stock page": (url, {}), "stock, search": (url, {"q": "片"}),
                     "stock, low": (url, {"alerts": "low"})}
            with contextlib.suppress(NoReverseMatch):
                pages["order form"] = (reverse("distribution:order_new"), {})
            print(f"{'page':<14} {'p50':>8} {'p95':>8}")
            worst = 0.0
            for name, (path, data) in pages.items():
                r = client.get(path, data)
                if r.status_code != 200:
                    print(f"{name:<14} HTTP {r.status_code} — skipped")
                    continue
                t = _time(lambda p=path, d=data: client.get(p, d), args.n)
                if name.startswith("stock"):
                    worst = max(worst, _pct(t, 0.95))
                print(f"{name:<14} {_pct(t, 0.5):>6.1f}ms {_pct(t, 0.95):>6.1f}ms")
            ours = _time(lambda: queries.stock_rows(village), args.n)
            naive = _time(lambda: naive_rows(village), max(3, args.n // 8))
            assert len(naive_rows(village)) == len(queries.stock_rows(village))
            print(f"rows: ours p95 {_pct(ours, 0.95):.1f} ms, naive (ledger sums per item) p95 "
                  f"{_pct(naive, 0.95):.1f} ms — {_pct(naive, 0.95) / _pct(ours, 0.95):.1f}× ")
            print(f"worst stock page p95 {worst:.1f} ms — target {TARGET_MS} ms: "
                  f"{'met' if worst <= TARGET_MS else 'MISSED'}")
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
