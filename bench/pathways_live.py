"""The pathway pages' live refresh: the center's case list and one case's timeline, as the browser polls them,
with a year of cases behind them; ours beside the naive version.

    createdb -h 127.0.0.1 -U postgres h_h5
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/h_h5 python bench/pathways_live.py --cases 3000 --open 40 -n 60

It builds its own data in a throw-away test database (``test_<name>``, dropped at the end): the tests' county
(``tests.cast`` + the ``ems`` network: the county hospital runs every center) plus ``--cases`` closed chest-pain
and stroke cases of the last year with ~10 time points each (bulk-inserted), and ``--open`` open cases.

Timed N times after a warm-up, with Django's test client signed in as the county doctor (the whole stack:
middleware, session, audit, template):

* ``list poll``: the HTMX fragment of the open cases with each case's live metrics (every 15 s per open page);
* ``case poll``: one case's live fragment (metrics, buttons, timeline; every 10 s per open page);
* ``case page``: the whole case page (audited read);
* ``naive list``: the baseline — the same rows computed from ORM objects, each case's events queried one case at
  a time and its relations followed per row (what a first version does).

Then the polling cost per open page-minute; server-sent events would hold one of the 2 × cores + 1 sync workers
per open page for as long as it is open (see ``bench/em_board.py``), so polling is kept."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import setup_django

LIST_S, CASE_S = 15, 10

STEMI = [("fmc", 0), ("first_ecg", 7), ("ecg_diagnosis", 12), ("door", 35), ("blood_draw", 40), ("troponin", 58),
         ("cath_lab_activation", 20), ("cath_lab_ready", 48), ("puncture", 80), ("wire", 95)]
STROKE = [("onset", -80), ("fmc", 0), ("door", 30), ("stroke_team", 35), ("ct", 52), ("ct_report", 60),
          ("needle", 85), ("puncture", 110), ("recanalization", 150)]


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


def _row(label: str, times: list[float]) -> None:
    print(f"{label:<22} {statistics.median(times):8.1f} {_pct(times, 0.95):8.1f} {max(times):8.1f}")


def build(n_cases: int, n_open: int):
    from django.utils import timezone

    from tests.cast import as_, build_cast
    from tests.emergency.conftest import build_ems
    from yigongti.pathways import services
    from yigongti.pathways.models import Case, CaseEvent, CaseStatus

    cast = build_cast()
    build_ems(cast)
    now = timezone.now()
    start = now - dt.timedelta(days=365)
    step = dt.timedelta(days=360) / max(n_cases, 1)
    residents = [cast.resident, cast.neighbour]
    for lo in range(0, n_cases, 2000):
        rows = []
        for i in range(lo, min(lo + 2000, n_cases)):
            kind = "chest_pain" if i % 3 else "stroke"
            rows.append(Case(case_no=f"B{i:09d}", kind=kind, subtype="stemi" if kind == "chest_pain" else "ischaemic",
                             resident=residents[i % 2], area_code=residents[i % 2].area_code,
                             facility=cast.county_hospital, status=CaseStatus.CLOSED, outcome="discharged",
                             opened_at=start + step * i, closed_at=start + step * i + dt.timedelta(days=5)))
        Case.objects.bulk_create(rows)
        events = []
        for i, c in enumerate(rows):
            for code, minutes in (STEMI if c.kind == "chest_pain" else STROKE):
                events.append(CaseEvent(case=c, code=code, at=c.opened_at + dt.timedelta(minutes=minutes + i % 40),
                                        facility=cast.county_hospital, source="system"))
        CaseEvent.objects.bulk_create(events)
    doc = as_(cast.county_doctor)
    live = []
    for i in range(n_open):
        # direct rows: the bench needs many open cases and the cast has two residents (open_case keeps one each)
        r = residents[i % 2]
        c = Case.objects.create(case_no=f"L{i:09d}", kind="chest_pain", subtype="stemi", resident=r,
                                area_code=r.area_code, facility=cast.county_hospital, opened_at=now, opened_by=None)
        for code, minutes in STEMI[:4 + i % 5]:
            services.record_event(doc, c, code, at=now - dt.timedelta(minutes=90 - minutes))
        live.append(c)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    return cast, live


def naive_list(user):
    """The baseline: each open case's events, resident and facilities fetched one case at a time."""
    from yigongti.pathways import metrics
    from yigongti.pathways.models import Case, CaseStatus

    out = []
    for case in Case.objects.filter(facility_id=user.facility_id, status=CaseStatus.OPEN).order_by("-opened_at"):
        events = {e.code: e.at for e in case.events.filter(active=True)}
        out.append((case.resident.name, case.facility.name, case.first_facility.name if case.first_facility else "",
                    metrics.case_metrics(case.kind, events, subtype=case.subtype, arrival_mode=case.arrival_mode)))
    return out


def run(cast, live, n: int) -> None:
    from django.test import Client

    from tests.twofactor import pass_two_factor
    from yigongti.core.actor import Actor
    from yigongti.pathways import queries
    from yigongti.pathways.models import Case, CaseEvent

    user = cast.county_doctor
    client = Client()
    client.force_login(user)
    pass_two_factor(client, user)
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    print(f"\ncases {Case.objects.count():,} (open {len(live)}), time points {CaseEvent.objects.count():,}; "
          f"loadavg {load}")
    print(f"{'ms':<22} {'p50':>8} {'p95':>8} {'max':>8}")
    case_url = f"/pathways/cases/{live[0].pk}/"
    lst = _time(lambda: client.get("/pathways/", HTTP_HX_REQUEST="true"), n)
    one = _time(lambda: client.get(case_url, HTTP_HX_REQUEST="true"), n)
    _row("list poll", lst)
    _row("case poll", one)
    _row("case page", _time(lambda: client.get(case_url), n))
    actor = Actor.from_user(user)
    ours = _time(lambda: queries.case_list(actor), n)
    naive = _time(lambda: naive_list(user), n)
    print("-- the list's rows (query + metrics), side by side --")
    _row("ours", ours)
    _row("naive (baseline)", naive)
    print(f"ratio naive/ours p95: {_pct(naive, 0.95) / max(_pct(ours, 0.95), 1e-9):.1f}×")
    per_min = 60 / LIST_S * statistics.median(lst) + 60 / CASE_S * statistics.median(one)
    print(f"-- live updates: HTMX polling (list every {LIST_S} s, case every {CASE_S} s) --")
    print(f"≈ {per_min:.0f} ms of a worker per minute for a clinician with both pages open "
          f"({per_min / 600:.1f} % of one worker); a change shows within {CASE_S} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=3000, help="closed cases of the year (~10 time points each)")
    ap.add_argument("--open", type=int, default=40, help="open cases on the center's list")
    ap.add_argument("-n", type=int, default=60)
    args = ap.parse_args()
    os.environ.setdefault("YIGONGTI_AUDIT_WITNESS_CHATTR", "0")
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    setup_test_environment()
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        t0 = time.perf_counter()
        cast, live = build(args.cases, args.open)
        print(f"built in {time.perf_counter() - t0:.1f} s on {connection.vendor} ({name})")
        run(cast, live, args.n)
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
