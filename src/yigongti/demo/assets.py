"""The demo's asset register (医学装备): a few thousand items across the community's facilities, scaled with the
population, with an ECG machine (心电图机) in most but not all village clinics, some overdue maintenance and
calibration, and a few disposals (approved and pending). Bulk-inserted; the numbers and values are validated by
the same pure functions the services use (``assets.depreciation.validate_basis``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from yigongti.assets import categories, depreciation
from yigongti.assets.models import (
    Asset,
    AssetStatus,
    Disposal,
    DisposalStatus,
    Maintenance,
    MaintenanceKind,
    Method,
    Usage,
)
from yigongti.core.carelevel import CareLevel
from yigongti.orgs.models import Department, Staff

from .context import DemoContext

FULL_COUNTY = 450_000
ECG_SHARE = 0.85  # village clinics with an ECG machine (N05 is below 100 % in the seeds' counties)
PRICES = {"06": (80_000, 900_000), "22": (30_000, 400_000), "08": (20_000, 200_000), "07": (3_000, 60_000)}
PER_LEVEL = {CareLevel.COUNTY: 500, CareLevel.TOWNSHIP: 90, CareLevel.VILLAGE: 3}  # at full scale


def build_assets(ctx: DemoContext) -> None:
    rng = ctx.pyrandom("assets")
    today = ctx.today
    community = ctx.community
    factor = min(1.0, max(ctx.population / FULL_COUNTY, 0.05))
    devices = [d for d in categories.devices() if d.get("kind") != "ecg"]
    ecg = next(d for d in categories.devices() if d.get("kind") == "ecg")
    facilities = sorted((f for f in ctx.facilities.values() if f.community_id == community.pk), key=lambda f: f.code)
    depts: dict[int, list[int]] = {}
    for d in Department.objects.filter(facility__in=facilities).values_list("facility_id", "pk"):
        depts.setdefault(d[0], []).append(d[1])
    staff: dict[int, list[int]] = {}
    for s in Staff.objects.filter(work_facility__in=facilities, is_active=True).values_list("work_facility_id", "pk"):
        staff.setdefault(s[0], []).append(s[1])
    rows: list[Asset] = []
    seq = 0

    def add(f, device, n_year=None):
        nonlocal seq
        seq += 1
        lo, hi = PRICES.get(device["category"], (2_000, 40_000))
        price = Decimal(rng.randint(lo, hi)).quantize(Decimal("1.00"))
        accepted = today - dt.timedelta(days=rng.randint(30, 365 * 11))
        purchased = accepted - dt.timedelta(days=rng.randint(3, 40))
        units = device["category"] in ("06", "22") and rng.random() < 0.5
        life = device["useful_life"]
        a = Asset(community=community, number=f"YLSB-{accepted.year}-{seq:05d}", category=device["category"],
                  name=device["name"], model=f"{rng.choice('ABCDEFGHK')}{rng.randint(100, 9999)}",
                  serial=f"SN{rng.randint(10**7, 10**8 - 1)}", maker=rng.choice(MAKERS), price=price,
                  funding=rng.choices(["fiscal", "special", "own", "donation"], [50, 25, 20, 5])[0],
                  purchased_on=purchased, accepted_on=accepted, facility=f,
                  department_id=rng.choice(depts[f.pk]) if depts.get(f.pk) else None,
                  custodian_id=rng.choice(staff[f.pk]) if staff.get(f.pk) else None,
                  status=rng.choices([AssetStatus.IN_USE, AssetStatus.IDLE, AssetStatus.REPAIR], [88, 8, 4])[0],
                  method=Method.UNITS if units else Method.STRAIGHT_LINE,
                  useful_life_years=None if units else life,
                  planned_units=rng.choice([20_000, 50_000, 100_000]) if units else None,
                  unit_name="例次" if units else "")
        depreciation.validate_basis(depreciation.Basis(a.price, a.accepted_on, a.method, a.useful_life_years,
                                                       a.planned_units))
        # about one in eight overdue: maintenance due dates spread around today
        a.maintenance_due = today + dt.timedelta(days=rng.randint(-120, 330))
        if device["category"] in ("07", "08", "22"):  # 计量器具: yearly calibration
            a.calibration_due = today + dt.timedelta(days=rng.randint(-60, 365))
        rows.append(a.fill_search())

    for f in facilities:
        level = f.care_level
        n = max(1, round(PER_LEVEL.get(level, 3) * (factor if level != CareLevel.VILLAGE else 1)))
        if level == CareLevel.VILLAGE:
            if rng.random() < ECG_SHARE:
                add(f, ecg)
            n = rng.randint(1, n)
        else:
            add(f, ecg)
        for _ in range(n):
            add(f, rng.choice(devices))
    with transaction.atomic():
        Asset.objects.bulk_create(rows, batch_size=2000)
        created = list(Asset.objects.filter(community=community).order_by("pk"))
        maint, usages, disposals = [], [], []
        for a in created:
            if a.maintenance_due is not None:
                maint.append(Maintenance(asset=a, kind=MaintenanceKind.MAINTENANCE, done_on=min(
                    today, a.maintenance_due - dt.timedelta(days=180)), by="设备科", result="正常",
                    next_due=a.maintenance_due))
            if a.calibration_due is not None:
                maint.append(Maintenance(asset=a, kind=MaintenanceKind.CALIBRATION, done_on=min(
                    today, a.calibration_due - dt.timedelta(days=365)), by="县计量检定所", result="合格",
                    next_due=a.calibration_due))
            if a.method == Method.UNITS:
                month = a.accepted_on.replace(day=1)
                per_month = max(1, (a.planned_units or 0) // 150)
                used = 0
                while month <= today and used + per_month <= (a.planned_units or 0):
                    n = rng.randint(per_month // 2, per_month)
                    usages.append(Usage(asset=a, month=month, units=n))
                    used += n
                    month = (month + dt.timedelta(days=32)).replace(day=1)
        old = [a for a in created if a.accepted_on < today - dt.timedelta(days=365 * 9)]
        for a in rng.sample(old, min(len(old), max(3, len(created) // 150))):
            approved = rng.random() < 0.7
            disposals.append(Disposal(asset=a, reason="使用年限已满，性能下降，维修不经济",
                                      requested_on=today - dt.timedelta(days=rng.randint(5, 200)),
                                      status=DisposalStatus.APPROVED if approved else DisposalStatus.REQUESTED))
            if approved:
                disposals[-1].decided_on = disposals[-1].requested_on + dt.timedelta(days=7)
                a.status = AssetStatus.SCRAPPED
        Maintenance.objects.bulk_create(maint, batch_size=5000)
        Usage.objects.bulk_create(usages, batch_size=5000)
        Disposal.objects.bulk_create(disposals, batch_size=1000)
        Asset.objects.bulk_update([a for a in created if a.status == AssetStatus.SCRAPPED], ["status"])
    villages = [f for f in facilities if f.care_level == CareLevel.VILLAGE]
    village_ids = {f.pk for f in villages}
    with_ecg = len({a.facility_id for a in created if a.name == ecg["name"] and a.facility_id in village_ids})
    ctx.extra["assets"] = {"assets": len(created), "maintenance": len(maint), "disposals": len(disposals),
                           "villages": len(villages), "villages_with_ecg": with_ecg}


MAKERS = ["深圳迈瑞生物医疗电子股份有限公司", "广州三瑞医疗器械有限公司", "上海联影医疗科技股份有限公司",
          "东软医疗系统股份有限公司", "深圳开立生物医疗科技股份有限公司", "鱼跃医疗设备股份有限公司",
          "深圳理邦精密仪器股份有限公司", "山东新华医疗器械股份有限公司"]
