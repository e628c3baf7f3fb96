"""The village doctor's day list, the village ledger (两病患者管理台账) and its Excel export, on PostgreSQL, for the
largest village of the county. Targets: day list and ledger p95 ≤ 100 ms, the ledger's Excel export ≤ 2 s.

On a 450,000-resident county without the demo's slow steps (the villages have their real size, no scaling):

    createdb -h 127.0.0.1 -U postgres fd_v450
    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/fd_v450
    # migrate, then only the first steps of yigongti.demo.build.STEPS (_orgs, _people, build_accounts) with a
    # DemoContext(seed=1, population=450000, today=…) as build_demo makes it (about 2 min)
    python bench/fd_village.py fill          # the 35+ htn / t2dm patients, a year of follow-ups, medicines (~5 min)
    python bench/fd_due.py --today <today>   # its fill(): teams, contracts, checks, pregnancies, children, doses
    python bench/fd_village.py run -n 40

(``fill`` before ``fd_due.py``: ``fill`` refuses when enrolments exist, unless ``--force``, and ``fd_due.py``'s
fill enrols only the patients not enrolled yet.) On a 20,000-resident demo, ``fill --scale-to 450000`` grows
the largest village first; on a demo county that already has its patients (the demo's chronic step), run only
``run``.

``fill`` enrols every resident tagged htn / t2dm aged 35+ (their village clinic manages them), gives each a year
of follow-ups about every 90 days (some patients overdue, some uncontrolled, controlled by the 规范's
thresholds), one or two regular medicines, and rebuilds the due items (``familydoctor.due.recompute``). With
``--scale-to N`` the largest village first gets the residents it would have in a county of N residents (the
demo's residents per village × N / population, with the same share of htn / t2dm tags), so that its ledger has
the size of the real county's largest village; the other villages keep the demo's size (each page reads one
village through the ``Enrolment(village, condition, status)`` and ``DueItem(village, due_by)`` indexes).

``run`` signs in as the village doctor of the largest village (the clinic's account; one is made if the clinic has
none) with Django's test client — middleware, session, the audit event each read writes, the template — and
requests each page N times after one warm-up: p50 / p95 / max in ms and the queries per request. The baseline
(named "naive") is the ledger, the export and the day list as a first version writes them: the village's
enrolments as whole model rows, each patient's resident, this year's visits and medicines fetched per row
(N+1), the day list's residents and link targets per item."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import setup_django

TARGET_MS = 100
EXPORT_TARGET_MS = 2000
DRUGS = {"htn": [("氨氯地平片", "5mg×28片", "5mg", "qd", 1), ("硝苯地平缓释片", "20mg×30片", "20mg", "bid", 2),
                 ("缬沙坦胶囊", "80mg×28粒", "80mg", "qd", 1), ("氢氯噻嗪片", "25mg×100片", "25mg", "qd", 1)],
         "t2dm": [("二甲双胍片", "0.5g×48片", "0.5g", "tid", 3), ("格列美脲片", "2mg×30片", "2mg", "qd", 1),
                  ("阿卡波糖片", "50mg×30片", "50mg", "tid", 3)]}


# ---- fill ----------------------------------------------------------------------------------------------------


def _largest_village():
    from django.db.models import Count

    from yigongti.chronic.models import Enrolment
    from yigongti.orgs.models import Region
    from yigongti.residents.models import Resident

    row = (Enrolment.objects.filter(status="managed", village__isnull=False).values("village_id")
           .annotate(n=Count("id")).order_by("-n").first())
    if row is None:
        row = (Resident.objects.filter(village__isnull=False).values("village_id").annotate(n=Count("id"))
               .order_by("-n").first())
    return Region.objects.get(pk=row["village_id"])


def _grow_village(village, scale_to: int) -> int:
    """Add residents to the village until it has the size it would have in a county of ``scale_to``."""
    from yigongti.residents.models import Resident, ResidentTag

    population = Resident.objects.count()
    have = Resident.objects.filter(village=village).count()
    want = have * scale_to // max(population, 1)
    if want <= have:
        return 0
    tagged = {t: ResidentTag.objects.filter(resident__village=village, tag=t).count() for t in ("htn", "t2dm")}
    rnd = random.Random(7)
    today = dt.date.today()
    people = []
    for i in range(want - have):
        age = rnd.randint(0, 90)
        people.append(Resident(name=f"村民{i:05d}", sex=rnd.choice("MF"),
                               birth_date=today - dt.timedelta(days=age * 365 + rnd.randint(0, 364)),
                               village=village, area_code=village.code))
    made = Resident.objects.bulk_create(people, batch_size=5000)
    tags = []
    for r in made:
        for t, n in tagged.items():
            if rnd.random() < n / max(have, 1):
                tags.append(ResidentTag(resident=r, tag=t))
    ResidentTag.objects.bulk_create(tags, batch_size=5000)
    return len(made)


def _control(cond: str, age: int, sbp: int, dbp: int, fbg: Decimal | None) -> bool:
    limit = 150 if age >= 65 else 140
    if cond == "t2dm":
        return fbg is not None and fbg < 7
    return sbp < limit and dbp < 90


def fill(scale_to: int | None, force: bool) -> None:
    setup_django()
    from django.db import connection, transaction

    from yigongti.chronic.models import Enrolment, FollowUp, RegularMedicine
    from yigongti.orgs.models import Facility
    from yigongti.residents.models import ResidentTag

    if Enrolment.objects.exists() and not force:
        print("enrolments exist already (the demo's chronic data): nothing filled; pass --force to add anyway")
        return
    t0 = time.perf_counter()
    village = _largest_village()
    grown = _grow_village(village, scale_to) if scale_to else 0
    today = dt.date.today()
    cut = today.replace(year=today.year - 35)
    clinics = dict(Facility.objects.filter(type="D600").values_list("region_id", "pk"))
    centres = {f.region.code[:9]: f.pk for f in Facility.objects.filter(type="B200").select_related("region")}
    rnd = random.Random(11)
    rows = list(ResidentTag.objects.filter(tag__in=("htn", "t2dm"), resident__birth_date__lte=cut,
                                           resident__village__isnull=False, resident__merged_into__isnull=True)
                .values_list("resident_id", "tag", "resident__village_id", "resident__area_code",
                             "resident__birth_date"))
    enrolments, plans = [], []
    for rid, cond, vid, code, birth in rows:
        facility = clinics.get(vid) or centres.get(code[:9])
        if facility is None:
            continue
        age = today.year - birth.year
        # a year of visits about every 90 days; 15 % of patients stop coming (overdue by up to 4 months)
        last = today - dt.timedelta(days=rnd.randint(0, 85) + (rnd.randint(90, 210) if rnd.random() < 0.15 else 0))
        visits = []
        day = last
        while day > today - dt.timedelta(days=365):
            sbp, dbp = int(rnd.gauss(138, 14)), int(rnd.gauss(84, 9))
            fbg = Decimal(str(round(rnd.gauss(7.0, 1.6), 1))) if cond == "t2dm" else None
            visits.append((day, sbp, dbp, fbg, _control(cond, age, sbp, dbp, fbg)))
            day -= dt.timedelta(days=rnd.randint(80, 95))
        visits.reverse()
        streak = 0
        for v in visits:
            streak = 0 if v[4] else streak + 1
        d, sbp, dbp, fbg, ok = visits[-1]
        enrolments.append(Enrolment(
            resident_id=rid, condition=cond, diagnosed_on=today - dt.timedelta(days=rnd.randint(400, 4000)),
            enrolled_on=visits[0][0] - dt.timedelta(days=30), facility_id=facility, village_id=vid,
            last_visit_on=d, last_sbp=sbp, last_dbp=dbp, last_fbg=fbg,
            last_control="controlled" if ok else "uncontrolled", uncontrolled_streak=streak,
            next_due=d + dt.timedelta(days=90 if ok else 14)))
        plans.append((facility, visits, age))
    with transaction.atomic():
        made = Enrolment.objects.bulk_create(enrolments, batch_size=5000)
        follow_ups, medicines = [], []
        for e, (facility, visits, _age) in zip(made, plans, strict=True):
            for d, sbp, dbp, fbg, ok in visits:
                follow_ups.append(FollowUp(
                    enrolment_id=e.pk, resident_id=e.resident_id, visit_date=d, facility_id=facility, sbp=sbp,
                    dbp=dbp, fbg=fbg, heart_rate=rnd.randint(60, 95), control="controlled" if ok else "uncontrolled",
                    decision="routine" if ok else "adjust", reasons=[],
                    next_visit_on=d + dt.timedelta(days=90 if ok else 14)))
            for name, strength, dose, freq, units in rnd.sample(DRUGS[e.condition], rnd.choice((1, 1, 2))):
                medicines.append(RegularMedicine(enrolment_id=e.pk, name=name, strength=strength, dose=dose,
                                                 frequency=freq, units_per_day=Decimal(units),
                                                 since=e.enrolled_on))
        FollowUp.objects.bulk_create(follow_ups, batch_size=5000)
        RegularMedicine.objects.bulk_create(medicines, batch_size=5000)
    due = {}
    try:
        from yigongti.familydoctor.due import recompute

        due = recompute(today)
    except ImportError:
        print("familydoctor.due not there: no due items (the day list will be empty)")
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    print(f"{village.name} grown by {grown:,} residents; {len(made):,} enrolments, {len(follow_ups):,} follow-ups, "
          f"{len(medicines):,} medicines; due items {due}; {time.perf_counter() - t0:.0f} s")


# ---- run -----------------------------------------------------------------------------------------------------


def _doctor_of(village):
    from yigongti.core.actor import Actor
    from yigongti.orgs.models import Facility, Role, User
    from yigongti.orgs.services import create_account

    clinic = Facility.objects.filter(region=village, type="D600").first()
    if clinic is None:
        raise SystemExit(f"{village.name} has no village clinic")
    user = User.objects.filter(facility=clinic, role=Role.VILLAGE_DOCTOR, is_active=True).first()
    if user is None:
        user, _pw = create_account(actor=Actor.system("bench"), username=f"bench_vd_{village.code}",
                                   role=Role.VILLAGE_DOCTOR, facility=clinic)
    return user


CPU: dict[int, float] = {}  # id(times) → the median CPU ms of this process (Python: ORM, template, audit)


def _time(fn, n: int) -> list[float]:
    fn()
    out, cpu = [], []
    for _ in range(n):
        t, c = time.perf_counter(), time.process_time()
        fn()
        out.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    out.sort()
    CPU[id(out)] = statistics.median(cpu)
    return out


def _p95(times: list[float]) -> float:
    return times[max(int(len(times) * 0.95) - 1, 0)]


def _row(label: str, times: list[float], target: float | None, queries: int | str = "") -> float:
    p95 = _p95(times)
    mark = "" if target is None else ("  ok" if p95 <= target else "  OVER")
    cpu = CPU.get(id(times), 0.0)
    print(f"{label:38} {statistics.median(times):8.1f} {p95:8.1f} {max(times):8.1f} {cpu:8.1f} {queries!s:>5}{mark}")
    return p95


def _queries(fn) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def _naive_ledger(village, today) -> list:
    from yigongti.chronic.models import Enrolment

    out = []
    for e in Enrolment.objects.filter(village=village, status="managed"):
        r = e.resident
        n = e.follow_ups.filter(visit_date__gte=today.replace(month=1, day=1)).exclude(mode="phone").count()
        out.append((r.name, r.sex, r.age_on(today), r.phone, e.condition, e.last_sbp, e.last_dbp, e.last_fbg,
                    e.last_control, e.next_due, n))
    out.sort(key=lambda x: (x[9] or today, x[0]))
    return out[:100]


def _naive_export(village, today) -> bytes:
    from openpyxl import Workbook

    from yigongti.chronic.models import Enrolment
    from yigongti.core import exports

    wb = Workbook()
    ws = wb.active
    for i, e in enumerate(Enrolment.objects.filter(village=village, status="managed").order_by("id"), start=1):
        r = e.resident
        visits = list(e.follow_ups.filter(visit_date__year=today.year).order_by("visit_date"))
        quarters = [""] * 12
        for v in visits:
            q = (v.visit_date.month - 1) // 3
            quarters[q * 3: q * 3 + 3] = [v.visit_date.isoformat(), f"{v.sbp}/{v.dbp}", str(v.fbg or "")]
        meds = "；".join(f"{m.name} {m.dose} {m.frequency}" for m in e.medicines.all() if m.until is None)
        ws.append([i, r.name, r.sex, r.age_on(today), r.masked_id_number, r.masked_phone, e.condition,
                   e.diagnosed_on, e.enrolled_on, len(visits), *quarters, e.last_visit_on, e.last_control,
                   e.next_due, meds, ""])
    return exports.workbook_bytes(wb)


def _naive_day(village, today) -> list:
    from yigongti.chronic.models import Enrolment
    from yigongti.familydoctor.models import DueItem

    out = []
    for it in DueItem.objects.filter(village=village).order_by("due_by"):
        r = it.resident
        target = None
        if it.kind == "chronic":
            target = Enrolment.objects.filter(resident=r, condition=it.ref, status="managed").first()
        out.append((r.name, r.age_on(today), it.kind, it.label, it.due_by < today, target))
    return out


def run(n: int) -> None:
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from yigongti.chronic.models import Enrolment
    from yigongti.familydoctor.models import DueItem

    setup_test_environment()
    village = _largest_village()
    today = dt.date.today()
    user = _doctor_of(village)
    client = Client()
    client.force_login(user)
    managed = Enrolment.objects.filter(village=village, status="managed").count()
    items = DueItem.objects.filter(village=village).count()
    print(f"{connection.vendor}: {Enrolment.objects.count():,} enrolments in the county, {DueItem.objects.count():,} "
          f"due items; largest village {village.name} ({village.code}): {managed:,} managed, {items:,} due items; "
          f"as {user.username}; {n} timed requests per page after one warm-up")
    code = village.code
    pages = {
        "day list": (f"/familydoctor/day/?village={code}", TARGET_MS),
        "day list, overdue only": (f"/familydoctor/day/?village={code}&overdue=1", TARGET_MS),
        "ledger page 1": (f"/chronic/ledger/?village={code}", TARGET_MS),
        "ledger page 3": (f"/chronic/ledger/?village={code}&page=3", TARGET_MS),
        "ledger, overdue": (f"/chronic/ledger/?village={code}&status=overdue", TARGET_MS),
        "ledger API": (f"/api/v1/chronic/ledger?village={code}", TARGET_MS),
        "delivery list (month)": (f"/chronic/delivery/?village={code}", TARGET_MS),
    }
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; cpu = median CPU ms of this "
          f"process per request (the wall time's share not spent waiting for the database or the CPU)")
    print(f"{'page':38} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu ms':>8} {'SQL':>5}")
    worst = 0.0
    for label, (url, target) in pages.items():
        first = client.get(url)
        if first.status_code != 200:
            print(f"{label:38} HTTP {first.status_code}")
            continue
        q = _queries(lambda u=url: client.get(u))
        worst = max(worst, _row(label, _time(lambda u=url: client.get(u), n), target, q))
    export_url = f"/chronic/ledger/export.xlsx?village={code}"
    resp = client.get(export_url)
    size = len(resp.content)
    export = _row(f"ledger Excel export ({size // 1024} KB)", _time(lambda: client.get(export_url), max(n // 4, 5)),
                  EXPORT_TARGET_MS, _queries(lambda: client.get(export_url)))
    print("\nnaive baselines (same process, no template):")
    naive_ledger = _row("naive ledger (N+1 per patient)", _time(lambda: _naive_ledger(village, today), 5), None,
                        _queries(lambda: _naive_ledger(village, today)))
    naive_export = _row("naive export (N+1, whole rows)", _time(lambda: _naive_export(village, today), 3), None,
                        _queries(lambda: _naive_export(village, today)))
    naive_day = _row("naive day list (N+1 per item)", _time(lambda: _naive_day(village, today), 5), None,
                     _queries(lambda: _naive_day(village, today)))
    ledger_p95 = _p95(_time(lambda: client.get(pages["ledger page 1"][0]), n))
    day_p95 = _p95(_time(lambda: client.get(pages["day list"][0]), n))
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print(f"\nworst page p95 {worst:.1f} ms (target {TARGET_MS} ms); export p95 {export:.0f} ms (target "
          f"{EXPORT_TARGET_MS} ms). Whole page vs naive query work: ledger ×{naive_ledger / max(ledger_p95, 0.01):.1f}"
          f", day list ×{naive_day / max(day_p95, 0.01):.1f}, export ×{naive_export / max(export, 0.01):.1f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    fp = sub.add_parser("fill")
    fp.add_argument("--scale-to", type=int, default=None)
    fp.add_argument("--force", action="store_true")
    rp = sub.add_parser("run")
    rp.add_argument("-n", type=int, default=40)
    args = ap.parse_args()
    if args.cmd == "fill":
        fill(args.scale_to, args.force)
    else:
        run(args.n)


if __name__ == "__main__":
    main()
