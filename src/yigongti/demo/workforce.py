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
    build_village_doctors(ctx, sites)
    build_pool(ctx)
    link_devices(ctx)


# the public holidays of the demo's years (国务院办公厅 notices; the 调休 working weekends left out)
HOLIDAYS = {
    2025: [("元旦", "01-01", 1), ("春节", "01-28", 8), ("清明节", "04-04", 3), ("劳动节", "05-01", 5),
           ("端午节", "05-31", 3), ("国庆节、中秋节", "10-01", 8)],
    2026: [("元旦", "01-01", 3), ("春节", "02-15", 9), ("清明节", "04-04", 3), ("劳动节", "05-01", 5),
           ("端午节", "06-19", 3), ("中秋节", "09-25", 3), ("国庆节", "10-01", 7)],
    2027: [("元旦", "01-01", 3)],
}

SHEET_ITEMS = [  # the demo community's 乡村医生考核表 (data: the managers may change it)
    {"code": "attendance", "name": "出勤", "method": "attendance", "max_points": "25"},
    {"code": "public_health", "name": "公卫任务完成", "method": "public_health", "max_points": "30", "target": "20"},
    {"code": "satisfaction", "name": "居民满意度", "method": "entered", "max_points": "15"},
    {"code": "drugs", "name": "药品管理", "method": "entered", "max_points": "15"},
    {"code": "records", "name": "档案质量", "method": "entered", "max_points": "15"},
]
TOPICS = ["高血压、糖尿病规范管理", "基本公共卫生服务规范", "合理用药与抗菌药物", "急救技能（心肺复苏）",
          "中医适宜技术", "传染病报告与处置", "家庭医生签约服务", "心电图操作与远程传输"]


def _holidays(years: set[int]):
    from yigongti.workforce.models import Holiday

    rows = []
    for y in sorted(years):
        for name, start, n in HOLIDAYS.get(y, []):
            d0 = dt.date.fromisoformat(f"{y}-{start}")
            rows += [Holiday(day=d0 + dt.timedelta(days=k), name=name) for k in range(n)]
    Holiday.objects.bulk_create(rows, ignore_conflicts=True)


def build_village_doctors(ctx: DemoContext, sites: dict[int, tuple[float, float]]) -> None:
    """The village doctors: licences (a few due for renewal, one or two expired), a year of daily check-ins at
    the clinic (bulk; most near the clinic, a few flagged), leave (approved, a few waiting for the township),
    training hours against the community's yearly requirement, the scoring sheet and the last months scored by
    the townships (the demo township's last month left for its admin to score)."""
    from decimal import Decimal

    from yigongti.workforce import village as rules
    from yigongti.workforce.models import (
        Assessment,
        ClinicCheckIn,
        Leave,
        LeaveKind,
        LeaveStatus,
        ScoringItem,
        ScoringSheet,
        Training,
        TrainingRequirement,
        VillageLicence,
    )
    from yigongti.workforce.queries import village as vq

    t0 = time.perf_counter()
    rng = ctx.pyrandom("village_doctors")
    community = ctx.community
    today = ctx.today
    doctors = list(Staff.objects.filter(work_facility__community=community, is_active=True,
                                        profession=Profession.VILLAGE_DOCTOR)
                   .select_related("work_facility").order_by("pk"))
    doctors = [d for d in doctors if care_level(d.work_facility.type) == CareLevel.VILLAGE]
    months = _month_starts(today, 12)
    _holidays({m.year for m in months} | {today.year})
    sheet = ScoringSheet.objects.create(community=community, name="乡村医生绩效考核表", pass_mark=Decimal(60))
    ScoringItem.objects.bulk_create([ScoringItem(sheet=sheet, order=i, code=d["code"], name=d["name"],
                                                 method=d["method"], max_points=Decimal(d["max_points"]),
                                                 target=int(d["target"]) if d.get("target") else None)
                                     for i, d in enumerate(SHEET_ITEMS, start=1)])
    TrainingRequirement.objects.bulk_create([TrainingRequirement(community=community, year=y, hours=Decimal(40))
                                             for y in sorted({today.year - 1, today.year})])
    county = community.region.code[:6] if community.region_id else "000000"
    licences, trainings, leaves, check_ins = [], [], [], []
    demo_vd = User.objects.filter(username="village_doctor").values_list("staff_id", flat=True).first()
    tz = timezone.get_current_timezone()
    hol = {}
    for m in months:
        hol.update(vq.holidays_of(m))
    for i, d in enumerate(doctors):
        r = rng.random()
        if r < 0.06:  # due for renewal within the window
            until = today + dt.timedelta(days=rng.randrange(5, rules.RENEWAL_WINDOW_DAYS))
        elif r < 0.08:
            until = today - dt.timedelta(days=rng.randrange(5, 60))
        else:
            until = today + dt.timedelta(days=rng.randrange(rules.RENEWAL_WINDOW_DAYS + 1, 5 * 365))
        issued = until + dt.timedelta(days=1) - dt.timedelta(days=5 * 365 + 1)
        licences.append(VillageLicence(staff=d, number=f"乡医{county}{i + 1:05d}", issued_on=issued,
                                       valid_until=until))
        for _k in range(rng.randrange(3, 9)):
            on = today - dt.timedelta(days=rng.randrange(1, 330))
            trainings.append(Training(staff=d, on=on, hours=Decimal(rng.choice([2, 4, 4, 6, 8])),
                                      topic=rng.choice(TOPICS)))
        reliability = rng.uniform(0.82, 0.99)
        off: set[dt.date] = set()
        for _k in range(rng.choice([0, 1, 1, 2])):
            start = today - dt.timedelta(days=rng.randrange(10, 330))
            end = start + dt.timedelta(days=rng.randrange(0, 5))
            leaves.append(Leave(staff=d, kind=rng.choice(LeaveKind.values), start=start, end=end,
                                reason="", status=LeaveStatus.APPROVED, decided_at=timezone.now()))
            off |= {start + dt.timedelta(days=k) for k in range((end - start).days + 1)}
        if rng.random() < 0.05:
            start = today + dt.timedelta(days=rng.randrange(2, 20))
            leaves.append(Leave(staff=d, kind=LeaveKind.PERSONAL, start=start, end=start + dt.timedelta(days=1),
                                reason="家中有事"))
        site = sites.get(d.work_facility_id)
        for m in months:
            for day in rules.working_days(m, hol, until=today):
                if day in off or (day == today and d.pk == demo_vd) or rng.random() > reliability:
                    continue
                row = ClinicCheckIn(staff=d, facility_id=d.work_facility_id, day=day,
                                    checked_in_at=dt.datetime.combine(day, dt.time(7, rng.randrange(30, 59)),
                                                                      tzinfo=tz))
                if site and rng.random() < 0.8:
                    far = rng.random() < 0.02
                    off_deg = 0.05 if far else 0.002
                    row.lon = site[0] + rng.uniform(-off_deg, off_deg)
                    row.lat = site[1] + rng.uniform(-off_deg, off_deg)
                    from yigongti.workforce.attendance import distance_m, is_far

                    dist = distance_m(row.lon, row.lat, site[0], site[1])
                    row.distance_m, row.flagged = round(dist), is_far(dist)
                check_ins.append(row)
    VillageLicence.objects.bulk_create(licences, batch_size=2000)
    Training.objects.bulk_create(trainings, batch_size=2000)
    Leave.objects.bulk_create(leaves, batch_size=2000)
    with fast_load():
        ClinicCheckIn.objects.bulk_create(check_ins, batch_size=5000)
    # the townships scored the last three complete months (the demo township's admin still has the last one)
    demo_town = User.objects.filter(username="township_admin").values_list("facility_id", flat=True).first()
    items = [rules.Item(d["code"], d["name"], d["method"], Decimal(d["max_points"]), Decimal(1),
                        int(d["target"]) if d.get("target") else None) for d in SHEET_ITEMS]
    scorers = dict(User.objects.filter(role=Role.FACILITY_ADMIN, facility__community=community)
                   .values_list("facility_id", "pk"))
    complete = [m for m in months if m < today.replace(day=1)][-3:]
    ids = [d.pk for d in doctors]
    rows = []
    for m in complete:
        att = vq.month_attendance(ids, m, today=today)
        tasks = vq.tasks_done(ids, m)
        for d in doctors:
            if m == complete[-1] and d.work_facility.parent_id == demo_town:
                continue
            meas = rules.Measures(att[d.pk].rate, tasks.get(d.pk, 0))
            pts: dict[str, Decimal | None] = {}
            out = {}
            for it in items:
                typed = Decimal(rng.randrange(int(it.max_points * 6 // 10), int(it.max_points) + 1)) \
                    if it.method == "entered" else None
                p, basis = rules.item_points(it, meas, typed)
                pts[it.code] = p
                out[it.code] = {"points": "" if p is None else str(p), "basis": basis}
            rows.append(Assessment(staff=d, facility_id=d.work_facility_id, sheet=sheet, month=m, points=out,
                                   total=rules.total(items, pts),
                                   scored_by_id=scorers.get(d.work_facility.parent_id or 0)))
    Assessment.objects.bulk_create(rows, batch_size=2000)
    ctx.extra["village_doctors"] = {"doctors": len(doctors), "check_ins": len(check_ins),
                                    "assessments": len(rows),
                                    "due": sum(1 for x in licences if x.valid_until <= today + dt.timedelta(
                                        days=rules.RENEWAL_WINDOW_DAYS)),
                                    "seconds": round(time.perf_counter() - t0, 1)}



def build_pool(ctx: DemoContext) -> None:
    """The talent pool: each member facility's posts (编制) by category — the staff on its establishment give or
    take a few (some facilities short, some with vacancies) —, the assignments (县管乡用、乡聘村用) of those who
    already work away from their establishment (approved, dated), and a few asked for, waiting for approval."""
    from django.db.models import Count, F

    from yigongti.workforce.models import Assignment, AssignmentStatus, EstablishmentPost
    from yigongti.workforce.services.pool import kind_for

    rng = ctx.pyrandom("talent_pool")
    community = ctx.community
    today = ctx.today
    counts = (Staff.objects.filter(establishment_facility__community=community, is_active=True)
              .values_list("establishment_facility_id", "profession").annotate(n=Count("id")).order_by())
    EstablishmentPost.objects.bulk_create([EstablishmentPost(facility_id=f, category=c,
                                                             posts=max(0, n + rng.choice([-1, 0, 0, 1, 2, 3])))
                                           for f, c, n in counts])
    manager = User.objects.filter(username="manager").first()
    away = list(Staff.objects.filter(establishment_facility__community=community, is_active=True)
                .exclude(work_facility_id=F("establishment_facility_id"))
                .select_related("establishment_facility", "work_facility").order_by("pk"))
    now = timezone.now()
    rows = [Assignment(staff=st, kind=kind_for(st.establishment_facility, st.work_facility),
                       from_facility=st.establishment_facility, to_facility=st.work_facility,
                       start=today - dt.timedelta(days=rng.randrange(30, 900)), status=AssignmentStatus.APPROVED,
                       decided_by=manager, decided_at=now) for st in away]
    centers = list(Facility.objects.filter(community=community, is_active=True).order_by("code"))
    towns = [f for f in centers if care_level(f.type) == CareLevel.TOWNSHIP]
    county = [f for f in centers if care_level(f.type) == CareLevel.COUNTY]
    candidates = list(Staff.objects.filter(work_facility__in=county, establishment_facility__in=county,
                                           is_active=True, profession=Profession.PHYSICIAN).order_by("pk")[:200])
    for st in rng.sample(candidates, min(3, len(candidates))) if towns else []:
        town = rng.choice(towns)
        rows.append(Assignment(staff=st, kind=kind_for(st.establishment_facility, town),
                               from_facility=st.establishment_facility, to_facility=town,
                               start=today + dt.timedelta(days=rng.randrange(7, 40)), note="县管乡用（示例申请）"))
    Assignment.objects.bulk_create(rows, batch_size=2000)
    ctx.extra["talent_pool"] = {"posts": len(counts), "assignments": len(rows), "away": len(away)}


def link_devices(ctx: DemoContext) -> None:
    """The diagnosis centers' device registry linked to the asset register: each registered ECG machine to an
    ECG asset of the same facility (N05 counts a clinic with either once)."""
    from yigongti.assets.categories import ecg_q
    from yigongti.assets.models import Asset
    from yigongti.telemedicine.models import Device

    free: dict[int, list[Asset]] = {}
    for a in Asset.objects.filter(ecg_q(), community=ctx.community, device__isnull=True).order_by("pk"):
        free.setdefault(a.facility_id, []).append(a)
    linked = []
    for dev in Device.objects.filter(kind="ecg", facility__community=ctx.community).order_by("pk"):
        if free.get(dev.facility_id):
            a = free[dev.facility_id].pop(0)
            a.device = dev
            linked.append(a)
    Asset.objects.bulk_update(linked, ["device"], batch_size=1000)
    ctx.extra["asset_device_links"] = len(linked)
