"""The diagnosis centers' worklists and the critical-value page on PostgreSQL with a year of a 450,000-resident
county's orders.

    createdb -h 127.0.0.1 -U postgres h_orders
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/h_orders python bench/tm_worklist.py load 30000 --scale-to 450000
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/h_orders python bench/tm_worklist.py run -n 40

(``scale 30000 --scale-to 450000`` repeats only the copying step on a demo already loaded.)

``load`` builds the demo county (its telemedicine step makes the centers, the catalogue, a year of orders with
reports, lab results and critical values, and the demo day's live worklists). With ``--scale-to`` the orders
(and the critical values) are then copied, with fresh accession numbers and times spread over the same year,
until the table holds what a county of that many residents orders in a year (the demo's orders per resident
× the population); the copies keep their status, so the open worklists grow in the same proportion. The
copies point to the demo's residents: the queries' cost depends on the orders and critical values, not on the
number of distinct patients. Pass the full population to ``load`` (and no ``--scale-to``) to build it all.

``run`` signs in as the demo's ``center_director`` (a reader of every center) with Django's test client — the
whole stack: middleware, session, the audit event of each page, the template — and requests each page N
times after one warm-up; it prints p50/p95/max in milliseconds against the 100 ms target. The baseline is the
worklist and the critical list done naively in the same process: every open order of the center loaded as
whole rows, its patient, item and facility fetched per row, sorted in Python (what a first version does).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import load_demo, setup_django

TARGET_MS = 100


def _counts() -> tuple[int, int, int, int]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*), count(*) FILTER (WHERE status IN ('ordered', 'acquired', 'in_progress')) "
                    "FROM telemedicine_order")
        n, open_ = cur.fetchone()
        cur.execute("SELECT count(*), count(*) FILTER (WHERE closed_at IS NULL) FROM telemedicine_criticalvalue")
        cv, cv_open = cur.fetchone()
    return n, open_, cv, cv_open


def _scale(target_population: int, population: int) -> None:
    """Copy the demo's orders (and critical values) until there are as many as ``target_population`` residents
    order in a year (keeping status, spreading times over the same year)."""
    from django.db import connection

    factor = max(target_population // max(population, 1), 1)
    if factor <= 1:
        return
    with connection.cursor() as cur:
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'telemedicine_order' "
                    "AND column_name NOT IN ('id', 'accession_no', 'idempotency_key', 'recognition_id') "
                    "ORDER BY ordinal_position")
        cols = [r[0] for r in cur.fetchall()]
        times = {"ordered_at", "acquired_at", "started_at", "reported_at", "reviewed_at", "due_at"}
        select = ", ".join(f"{c} - make_interval(mins => (k * 997) %% 1440)" if c in times else c for c in cols)
        cur.execute("SELECT max(id) FROM telemedicine_order")
        top = cur.fetchone()[0] or 0
        cur.execute(f"INSERT INTO telemedicine_order (accession_no, idempotency_key, {', '.join(cols)}) "
                    f"SELECT 'X' || k || '-' || id, '', {select} FROM telemedicine_order, "
                    f"generate_series(1, %s) AS k WHERE id <= %s", [factor - 1, top])
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = "
                    "'telemedicine_criticalvalue' AND column_name NOT IN ('id', 'order_id', 'result_id') "
                    "ORDER BY ordinal_position")
        ccols = [r[0] for r in cur.fetchall()]
        ctimes = {"detected_at", "notified_at", "ack_due_at", "acknowledged_at", "action_at", "closed_at"}
        cselect = ", ".join(f"cv.{c} - make_interval(mins => (k * 997) %% 1440)" if c in ctimes else f"cv.{c}"
                            for c in ccols)
        cur.execute(f"INSERT INTO telemedicine_criticalvalue (order_id, {', '.join(ccols)}) "
                    f"SELECT o.id, {cselect} FROM telemedicine_criticalvalue cv "
                    f"JOIN telemedicine_order src ON src.id = cv.order_id "
                    f"CROSS JOIN generate_series(1, %s) AS k "
                    f"JOIN telemedicine_order o ON o.accession_no = 'X' || k || '-' || src.id", [factor - 1])
        cur.execute("ANALYZE")
    print(f"scaled ×{factor} to a {target_population:,}-resident county's year")


def load(population: int, scale_to: int | None) -> None:
    t0 = time.perf_counter()
    load_demo(population)
    if scale_to:
        _scale(scale_to, population)
    n, open_, cv, cv_open = _counts()
    print(f"{population:,} residents built; {n:,} orders ({open_:,} open), {cv:,} critical values "
          f"({cv_open:,} not closed); {time.perf_counter() - t0:.0f} s")


def _time(fn, n: int) -> list[float]:
    fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return sorted(out)


def _row(label: str, times: list[float], target: float | None = TARGET_MS) -> float:
    p95 = times[max(int(len(times) * 0.95) - 1, 0)]
    mark = "" if target is None else ("  ok" if p95 <= target else "  OVER")
    print(f"{label:34} {statistics.median(times):8.1f} {p95:8.1f} {max(times):8.1f}{mark}")
    return p95


def _naive_worklist(center) -> list:
    from yigongti.telemedicine.models import PRIORITY, Order

    rows = [o for o in Order.objects.filter(center=center) if o.status in ("ordered", "acquired", "in_progress")]
    rows.sort(key=lambda o: (PRIORITY[o.urgency], o.ordered_at))
    return [(o.accession_no, o.resident.name, o.item.name, o.facility.name, o.due_at) for o in rows[:50]]


def _naive_critical() -> list:
    from yigongti.telemedicine.models import CriticalValue

    rows = sorted(CriticalValue.objects.all(), key=lambda c: c.detected_at, reverse=True)
    open_rows = [c for c in rows if c.closed_at is None]
    return [(c.description, c.resident.name, c.facility.name, c.order.accession_no) for c in open_rows[:50]]


def run(n: int) -> None:
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from yigongti.core.actor import Actor
    from yigongti.orgs.models import User
    from yigongti.telemedicine.models import Center
    from yigongti.telemedicine.queries import orders as queries

    setup_test_environment()
    total, open_, cv, cv_open = _counts()
    print(f"{connection.vendor}: {total:,} orders ({open_:,} open), {cv:,} critical values ({cv_open:,} not "
          f"closed); {n} timed requests per page after one warm-up")
    director = User.objects.get(username="center_director")
    client = Client()
    client.force_login(director)
    centers = {c.kind: c for c in Center.objects.all()}
    ecg, lab = centers["ecg"], centers["lab"]
    pages = {
        "centers index": ("/centers/", {}),
        "ECG worklist (open)": (f"/centers/{ecg.pk}/worklist/", {}),
        "ECG worklist HTMX refresh": (f"/centers/{ecg.pk}/worklist/", {"HTTP_HX_REQUEST": "true"}),
        "lab worklist (open)": (f"/centers/{lab.pk}/worklist/", {}),
        "lab worklist page 3": (f"/centers/{lab.pk}/worklist/?page=3", {}),
        "ECG to review": (f"/centers/{ecg.pk}/worklist/?state=review", {}),
        "API worklist (ECG)": (f"/api/v1/telemedicine/orders/worklists/{ecg.pk}", {}),
        "critical-value page": ("/centers/critical/", {}),
    }
    print(f"{'page':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    worst = 0.0
    for label, (url, headers) in pages.items():
        first = client.get(url, **headers)
        if first.status_code != 200:
            print(f"{label:34} HTTP {first.status_code}")
            continue
        worst = max(worst, _row(label, _time(lambda u=url, h=headers: client.get(u, **h), n)))
    actor = Actor.from_user(director)
    print("\nthe worklist's rows in-process (query + rows, no template), against the naive baseline:")
    ours = _row("ours: queries.worklist (ECG)", _time(lambda: queries.worklist(actor, ecg), n), None)
    naive = _row("naive: all open rows, N+1, sort", _time(lambda: _naive_worklist(ecg), 3), None)
    ours_lab = _row("ours: queries.worklist (lab)", _time(lambda: queries.worklist(actor, lab), n), None)
    naive_lab = _row("naive (lab)", _time(lambda: _naive_worklist(lab), 3), None)
    naive_cv = _row("naive critical list", _time(_naive_critical, 3), None)
    print(f"\nworst page p95 {worst:.1f} ms (target {TARGET_MS} ms); worklist ×{naive / max(ours, 0.01):.1f} "
          f"(ECG), ×{naive_lab / max(ours_lab, 0.01):.1f} (lab) faster than the naive baseline; naive critical "
          f"list p95 {naive_cv:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    lp = sub.add_parser("load")
    lp.add_argument("population", type=int, nargs="?", default=30000)
    lp.add_argument("--scale-to", type=int, default=None)
    sp = sub.add_parser("scale", help="only the copying step, on a demo already loaded")
    sp.add_argument("population", type=int)
    sp.add_argument("--scale-to", type=int, default=450000)
    rp = sub.add_parser("run")
    rp.add_argument("-n", type=int, default=40)
    args = ap.parse_args()
    if args.cmd == "load":
        load(args.population, args.scale_to)
    elif args.cmd == "scale":
        setup_django()
        t0 = time.perf_counter()
        _scale(args.scale_to, args.population)
        n, open_, cv, cv_open = _counts()
        print(f"{n:,} orders ({open_:,} open), {cv:,} critical values ({cv_open:,} not closed); "
              f"{time.perf_counter() - t0:.0f} s")
    else:
        run(args.n)


if __name__ == "__main__":
    main()
