"""Demo logins, one per role, with passwords generated afresh on every run."""

from __future__ import annotations

from yigongti.core.actor import Actor
from yigongti.orgs.models import Facility, Role, Staff
from yigongti.orgs.services import create_account

from .context import DemoContext
from .data import county as C

SYSTEM = Actor.system("demo")


def _staff_at(facility: Facility, profession: str) -> Staff | None:
    return (Staff.objects.filter(work_facility=facility, profession=profession, account__isnull=True)
            .order_by("id").first())


def build_accounts(ctx: DemoContext) -> None:
    county = ctx.regions[C.COUNTY[0]]
    city = ctx.regions[C.CITY[0]]
    fac = sorted(ctx.facilities.values(), key=lambda f: f.code)
    lead = ctx.community.lead_facility
    township = next(f for f in fac if f.care_level == "township")
    village = next(f for f in fac if f.type == "D600" and f.parent_id == township.pk)
    station = next(f for f in fac if f.type == "E300")
    township_station = [f for f in fac if f.type == "E300"][1]  # 所城急救站
    other_township = [f for f in fac if f.care_level == "township"][5]
    plan = [
        ("bureau", Role.BUREAU, None, county, None, False),
        ("city", Role.CITY, None, city, None, False),
        ("manager", Role.COMMUNITY_MANAGER, lead, None, None, False),
        ("county_doctor", Role.DOCTOR, lead, None, "physician", True),
        ("township_doctor", Role.DOCTOR, township, None, "physician", False),
        ("village_doctor", Role.VILLAGE_DOCTOR, village, None, "village_doctor", False),
        ("auditor", Role.AUDITOR, None, county, None, False),
        ("township_admin", Role.FACILITY_ADMIN, other_township, None, "manager", False),
        ("nurse", Role.NURSE, lead, None, "nurse", False),
        ("pharmacist", Role.PHARMACIST, lead, None, "pharmacist", False),
        ("insurance", Role.INSURANCE_OFFICER, None, county, None, False),
        ("dispatcher", Role.DISPATCHER, station, None, "emergency", False),
        ("public_health", Role.PUBLIC_HEALTH, township, None, "public_health", False),
        # 120 crews (demo/emergency.py seats them): a doctor of the command center, a nurse of a township station
        ("crew", Role.DOCTOR, station, None, "emergency", False),
        ("crew_township", Role.NURSE, township_station, None, "nurse", False),
    ]
    for username, role, facility, region, profession, unmask in plan:
        staff = _staff_at(facility, profession) if facility and profession else None
        _user, password = create_account(actor=SYSTEM, username=username, role=role, staff=staff, facility=facility,
                                         region=region, can_unmask=unmask,
                                         display_name=staff.name if staff else str(role.label))
        where = facility.name if facility else region.name
        ctx.logins.append({"role": str(role.label), "username": username, "password": password, "where": where})
    admin, password = create_account(actor=SYSTEM, username="admin", role=Role.BUREAU, region=county,
                                     display_name="系统管理员")
    admin.is_staff = admin.is_superuser = True
    admin.save(update_fields=["is_staff", "is_superuser"])
    ctx.logins.append({"role": "系统管理员 (/admin/)", "username": "admin", "password": password, "where": county.name})
