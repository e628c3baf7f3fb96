"""Demo: a year of expert postings (下沉) of the county-level hospitals' mid/senior physicians across the
community's townships, their attendance on the past days (checked in near the host, a few flagged far away, most
confirmed by the township), next month's requests of each township, and the sites of the host facilities (from
the road network's places). Some doctors reach the 凡晋必下 year, most are short of it. The demo's county doctor
is posted today at the demo township admin's center, so that check-in and confirmation can be played."""

from __future__ import annotations

import datetime as dt
import time

from django.utils import timezone

from yigongti.core.carelevel import CareLevel, care_level
from yigongti.orgs.models import Facility, Profession, Role, Staff, User
from yigongti.workforce.models import Posting, PostingDay, PostingKind, Request, Site

from .context import DemoContext
from .familydoctor import fast_load, next_id

KINDS = [PostingKind.CLINIC] * 6 + [PostingKind.ROUNDS, PostingKind.TEACHING, PostingKind.LECTURE,
                                    PostingKind.SURGERY]


def _month_starts(today: dt.date, n: int) -> list[dt.date]:
    out: list[dt.date] = []
    m = today.replace(day=1)
    for _ in range(n):
        out.append(m)
        m = (m - dt.timedelta(days=1)).replace(day=1)
    return sorted(out)


def _weekdays_before(today: dt.date, n: int) -> list[dt.date]:
    out: list[dt.date] = []
    d = today - dt.timedelta(days=1)
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d -= dt.timedelta(days=1)
    return sorted(out)


def _sites(hosts: list[Facility]) -> dict[int, tuple[float, float]]:
    from yigongti.emergency.models import Place

    by_region = {r: (lon, lat) for r, lon, lat in Place.objects.values_list("region_id", "lon", "lat")}
    return {h.pk: by_region[h.region_id] for h in hosts if h.region_id in by_region}


def build_workforce(ctx: DemoContext) -> None:
    t0 = time.perf_counter()
    rng = ctx.pyrandom("workforce")
    community = ctx.community
    members = list(Facility.objects.filter(community=community, is_active=True).select_related("region"))
    centers = sorted((f for f in members if care_level(f.type) == CareLevel.TOWNSHIP), key=lambda f: f.code)
    clinics = [f for f in members if care_level(f.type) == CareLevel.VILLAGE]
    county_ids = {f.pk for f in members if care_level(f.type) == CareLevel.COUNTY}
    experts = list(Staff.objects.filter(work_facility_id__in=county_ids, is_active=True,
                                        profession=Profession.PHYSICIAN, title__in=("zhongji", "fugao"))
                   .select_related("department").order_by("pk"))
    rng.shuffle(experts)
    experts = sorted(experts[:90], key=lambda s: s.pk)
    sites = _sites(centers + clinics)
    Site.objects.bulk_create([Site(facility_id=f, lon=lon, lat=lat) for f, (lon, lat) in sites.items()],
                             ignore_conflicts=True)
    admins = dict(User.objects.filter(role=Role.FACILITY_ADMIN, facility__in=centers).values_list("facility_id", "pk"))
    today = ctx.today
    months = _month_starts(today, 12)
    now = timezone.now()
    tz = timezone.get_current_timezone()
    postings: list[Posting] = []
    days: list[PostingDay] = []
    pid = next_id(Posting)
    by_staff_day: set[tuple[int, dt.date]] = set()

    def add(staff_id: int, host: Facility, kind: str, dates: list[dt.date]) -> None:
        nonlocal pid
        dates = [d for d in dates if (staff_id, d) not in by_staff_day]
        if not dates:
            return
        postings.append(Posting(id=pid, staff_id=staff_id, host=host, kind=kind, start=min(dates), end=max(dates),
                                created_at=now))
        parent = host.parent_id if care_level(host.type) == CareLevel.VILLAGE else host.pk
        site = sites.get(host.pk)
        for d in dates:
            by_staff_day.add((staff_id, d))
            row = PostingDay(posting_id=pid, staff_id=staff_id, host=host, day=d)
            if d < today or (d == today and staff_id != demo_staff):
                at = dt.datetime.combine(d, dt.time(8, rng.randrange(0, 50)), tzinfo=tz)
                row.checked_in_at = at
                if site and rng.random() < 0.8:  # the phone gave a position
                    far = rng.random() < 0.03
                    off = 0.05 if far else 0.002
                    row.lon, row.lat = site[0] + rng.uniform(-off, off), site[1] + rng.uniform(-off, off)
                    from yigongti.workforce.attendance import distance_m, is_far

                    dist = distance_m(row.lon, row.lat, site[0], site[1])
                    row.distance_m, row.flagged = round(dist), is_far(dist)
                if rng.random() < 0.93 and d < today:
                    row.confirmed_at = at + dt.timedelta(hours=8)
                    row.confirmed_by_id = admins.get(parent) if parent else None
            days.append(row)
        pid += 1

    demo_staff = User.objects.filter(username="county_doctor").values_list("staff_id", flat=True).first()
    demo_host = User.objects.filter(username="township_admin").values_list("facility_id", flat=True).first()
    experts = [s for s in experts if s.pk != demo_staff]
    # each expert: a home township, a monthly rhythm; the rhythm decides who reaches the year (250 days)
    for i, s in enumerate(experts):
        home = centers[i % len(centers)]
        per_month = rng.choice([4, 6, 8, 10, 12, 16, 20, 22, 22])
        for m in months:
            work = [m + dt.timedelta(days=k) for k in range(31)
                    if (m + dt.timedelta(days=k)).month == m.month and (m + dt.timedelta(days=k)).weekday() < 5
                    and m + dt.timedelta(days=k) <= today + dt.timedelta(days=30)]
            if not work:
                continue
            host = home
            if rng.random() < 0.2:
                kids = [c for c in clinics if c.parent_id == home.pk]
                host = rng.choice(kids) if kids else home
            add(s.pk, host, rng.choice(KINDS), sorted(rng.sample(work, min(per_month, len(work)))))
    target = next((f for f in centers if f.pk == demo_host), centers[0] if centers else None)
    if demo_staff and target is not None:  # the past month confirmed, today to check in
        add(demo_staff, target, PostingKind.CLINIC, [*_weekdays_before(today, 20), today])
    Posting.objects.bulk_create(postings, batch_size=2000)
    with fast_load():
        PostingDay.objects.bulk_create(days, batch_size=5000)
    nxt = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    specialties = sorted({s.department.name for s in experts if s.department})
    Request.objects.bulk_create([
        Request(host=c, month=nxt, kind=rng.choice([*KINDS[:2], PostingKind.TEACHING]),
                specialty=rng.choice(specialties) if specialties and k else "", days=rng.choice([4, 6, 8, 10]))
        for c in centers for k in range(2)])
    ctx.extra["workforce"] = {"postings": len(postings), "days": len(days), "experts": len(experts)}
    ctx.extra["workforce"]["seconds"] = round(time.perf_counter() - t0, 1)
