"""Demo: last year's payroll summary of the community's staff (the lead hospital's staff earn more than the
grassroots' — N06 near 0.7, as the seeds' counties report 0.6–0.8), three performance schemes (county hospitals,
township centers, village clinics) with targets near each level's typical month, last month's patient satisfaction,
and (``score_performance``, after the indicator facts are refreshed) last month scored under each scheme.

The payroll is bulk-inserted, its amounts drawn from a seeded generator; ``payroll_workbook`` writes the same
amounts as an import file (the example Excel for the importer)."""

from __future__ import annotations

import datetime as dt
import statistics
from decimal import Decimal

from django.db.models import Count, Q

from yigongti.core.actor import Actor
from yigongti.core.carelevel import CareLevel, care_level
from yigongti.encounters.models import Encounter
from yigongti.orgs.models import Facility, Staff
from yigongti.performance import payroll, services
from yigongti.performance.models import (
    PayrollImport,
    PayrollRecord,
    Satisfaction,
    Scheme,
    SchemeItem,
    SchemeLevel,
)

from .context import DemoContext

SYSTEM = Actor.system("demo")
# yearly gross income (yuan) by care level, before the title's and the person's variation
BASE = {CareLevel.COUNTY: 118_000, CareLevel.TOWNSHIP: 92_000, CareLevel.VILLAGE: 46_000}
TITLE_FACTOR = {"none": 0.9, "shi": 0.9, "shi2": 1.0, "zhongji": 1.15, "fugao": 1.35, "zhenggao": 1.6}
SPLIT = (Decimal("0.45"), Decimal("0.35"), Decimal("0.15"), Decimal("0.05"))  # basic, performance, allowance, other
POOL = {SchemeLevel.COUNTY: 900_000, SchemeLevel.TOWNSHIP: 450_000, SchemeLevel.VILLAGE: 60_000}  # full county


def _level(f: Facility) -> str:
    lv = care_level(f.type)
    return lv.value if lv in (CareLevel.COUNTY, CareLevel.TOWNSHIP, CareLevel.VILLAGE) else CareLevel.COUNTY.value


def amounts_for(rng, staff: Staff, level: str) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    gross = BASE[CareLevel(level)] * TITLE_FACTOR.get(staff.title, 1.0) * rng.uniform(0.85, 1.15)
    return tuple(Decimal(gross * float(s)).quantize(Decimal("1.00")) for s in SPLIT)  # type: ignore[return-value]


def _staff(ctx: DemoContext):
    return (Staff.objects.filter(work_facility__community=ctx.community, is_active=True)
            .select_related("work_facility").order_by("pk"))


def payroll_workbook(ctx: DemoContext, year: int) -> bytes:
    """An import file of the community's staff for ``year``, amounts as the demo draws them (seeded)."""
    rng = ctx.pyrandom(f"payroll:{year}")
    staff = list(_staff(ctx))
    return payroll.write_workbook(payroll.example_rows(staff, lambda s: amounts_for(rng, s, _level(s.work_facility))))


def _typical(facilities: list[Facility], month: dt.date, stop: dt.date) -> dict[str, float]:
    """The level's median month: visits and discharges per facility."""
    q = Q(admit_date__gte=month, admit_date__lt=stop)
    rows = list(Encounter.objects.filter(facility__in=facilities).values("facility_id").annotate(
        visits=Count("pk", filter=q & Q(type__in=("outpatient", "emergency"))),
        discharges=Count("pk", filter=Q(type="inpatient", discharge_date__gte=month, discharge_date__lt=stop))))
    out = {}
    for key in ("visits", "discharges"):
        vals = [r[key] for r in rows if r[key]]
        out[key] = float(statistics.median(vals)) if vals else 0.0
    return out


def _target(x: float, least: int) -> Decimal:
    return Decimal(max(least, round(x * 1.1))).quantize(Decimal("1.00"))


def build_performance(ctx: DemoContext) -> None:
    rng = ctx.pyrandom("performance")
    year = ctx.today.year - 1
    factor = min(1.0, max(ctx.population / 450_000, 0.02))
    batch = PayrollImport.objects.create(community=ctx.community, year=year, filename="演示数据（年度薪酬汇总）.xlsx")
    rows = []
    for s in _staff(ctx):
        parts = amounts_for(rng, s, _level(s.work_facility))
        rows.append(PayrollRecord(staff=s, year=year, facility_id=s.work_facility_id, basic=parts[0],
                                  performance=parts[1], allowance=parts[2], other=parts[3], batch=batch).fill_total())
    PayrollRecord.objects.bulk_create(rows, batch_size=2000)
    batch.rows = batch.matched = len(rows)
    batch.save(update_fields=["rows", "matched"])

    last = (ctx.today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    members = list(Facility.objects.filter(community=ctx.community, is_active=True))
    by_level: dict[str, list[Facility]] = {}
    for f in members:
        lv = care_level(f.type)
        if lv in (CareLevel.COUNTY, CareLevel.TOWNSHIP, CareLevel.VILLAGE) and not f.type.startswith("E"):
            by_level.setdefault(lv.value, []).append(f)
    typical = {lv: _typical(fs, last, ctx.today.replace(day=1)) for lv, fs in by_level.items()}
    plans = {
        SchemeLevel.COUNTY: ("县级医院绩效考核方案", [
            ("workload", "visits", 25, _target(typical.get("county", {}).get("visits", 0), 100), "higher", "1.20"),
            ("workload", "discharges", 20, _target(typical.get("county", {}).get("discharges", 0), 20), "higher",
             "1.20"),
            ("indicator", "DRUG_RATIO", 15, Decimal(30), "lower", "1.00"),
            ("indicator", "ALOS", 10, Decimal(8), "lower", "1.00"),
            ("indicator", "N12", 10, Decimal(15), "higher", "1.00"),
            ("satisfaction", "satisfaction", 20, Decimal(90), "higher", "1.00")]),
        SchemeLevel.TOWNSHIP: ("乡镇卫生院绩效考核方案", [
            ("workload", "visits", 35, _target(typical.get("township", {}).get("visits", 0), 30), "higher", "1.20"),
            ("workload", "discharges", 15, _target(typical.get("township", {}).get("discharges", 0), 5), "higher",
             "1.20"),
            ("indicator", "DRUG_RATIO", 15, Decimal(40), "lower", "1.00"),
            ("indicator", "REF_DOWN_SHARE", 10, Decimal(30), "higher", "1.00"),
            ("satisfaction", "satisfaction", 25, Decimal(90), "higher", "1.00")]),
        SchemeLevel.VILLAGE: ("村卫生室绩效考核方案", [
            ("workload", "visits", 60, _target(typical.get("village", {}).get("visits", 0), 5), "higher", "1.20"),
            ("satisfaction", "satisfaction", 40, Decimal(90), "higher", "1.00")]),
    }
    for level, (name, items) in plans.items():
        scheme = Scheme.objects.create(community=ctx.community, name=name, level=level,
                                       pool=Decimal(round(POOL[level] * factor, -2)).quantize(Decimal("1.00")))
        SchemeItem.objects.bulk_create([
            SchemeItem(scheme=scheme, kind=k, measure=m, weight=Decimal(w), target=t, direction=d, cap=Decimal(c),
                       position=n) for n, (k, m, w, t, d, c) in enumerate(items)])
    Satisfaction.objects.bulk_create([
        Satisfaction(facility=f, month=last, score=Decimal(rng.uniform(78, 98)).quantize(Decimal("0.01")),
                     surveyed=rng.randint(20, 200)) for fs in by_level.values() for f in fs])
    ctx.extra["performance"] = {"year": year, "month": last}


def score_performance(ctx: DemoContext) -> None:
    """Last month scored under each scheme (after the indicator facts exist: the schemes read them)."""
    month = ctx.extra.get("performance", {}).get("month")
    if month is None:
        return
    for scheme in Scheme.objects.filter(community=ctx.community, is_active=True).order_by("pk"):
        services.score_month(SYSTEM, scheme, month)
