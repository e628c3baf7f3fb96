"""Family-doctor teams, packages and a household on top of the cast, for the tests of the familydoctor, chronic
and publichealth apps. Other helpers' tests use the ``care`` fixture; keep the names stable:

``care.team`` (塔峰镇 team: township_doctor GP leader, village_doctor, county_doctor specialist, ``care.nurse``,
``care.public_health`` health manager; responsible for ``cast.village`` 大塘村), ``care.other_team`` (总市镇 team:
other_village_doctor; responsible for ``cast.other_village``), ``care.basic`` (基础包, free) with its services
``care.services["FU"|"HC"|"CONS"|"EDU"]``, ``care.elderly_pack`` (a paid package for the 65+: 30 yuan, 10 of it
the resident's), ``care.household`` (in 大塘村: ``care.grandfather`` = cast.resident 李建国 b. 1958 htn+elderly,
``care.grandmother`` b. 1961, ``care.mother`` b. 1996 pregnant (tag maternal), ``care.child`` b. two years before
``care.today``), ``care.today`` (a fixed date, 2026-06-15), ``care.nurse`` / ``care.public_health`` (accounts at
塔峰镇卫生院)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from tests.cast import Cast, _account
from yigongti.core.idcard import make_id_number
from yigongti.familydoctor.models import (
    MemberRole,
    PackageKind,
    PackageService,
    ServiceKind,
    ServicePackage,
    Team,
    TeamMember,
    TeamVillage,
)
from yigongti.orgs.models import Profession, Role
from yigongti.residents.models import Household, Resident, ResidentTag

TODAY = dt.date(2026, 6, 15)


@dataclass
class Care:
    cast: Cast
    today: dt.date
    team: Team
    other_team: Team
    basic: ServicePackage
    elderly_pack: ServicePackage
    household: Household
    grandfather: Resident
    grandmother: Resident
    mother: Resident
    child: Resident
    nurse: object
    public_health: object
    services: dict = field(default_factory=dict)


def _person(name, sex, birth, village, household, serial, tags=()):
    r = Resident.objects.create(name=name, sex=sex, birth_date=birth, village=village, area_code=village.code,
                                household=household,
                                id_number=make_id_number(village.code[:6], birth, serial, sex))
    for t in tags:
        ResidentTag.objects.create(resident=r, tag=t)
    return r


def build_care(cast: Cast) -> Care:
    since = dt.date(2025, 1, 1)
    nurse = _account("care_nurse", Role.NURSE, cast.township_center, profession=Profession.NURSE)
    ph = _account("care_public_health", Role.PUBLIC_HEALTH, cast.township_center, profession=Profession.PUBLIC_HEALTH)
    team = Team.objects.create(community=cast.community, code="FD-TF-01", name="塔峰镇家庭医生团队一",
                               facility=cast.township_center, leader=cast.township_doctor.staff)
    for user, role in ((cast.township_doctor, MemberRole.GENERAL_PRACTITIONER),
                       (cast.village_doctor, MemberRole.VILLAGE_DOCTOR),
                       (cast.county_doctor, MemberRole.SPECIALIST), (nurse, MemberRole.NURSE),
                       (ph, MemberRole.HEALTH_MANAGER)):
        TeamMember.objects.create(team=team, staff=user.staff, role=role, since=since)
    TeamVillage.objects.create(team=team, village=cast.village, since=since)
    other = Team.objects.create(community=cast.community, code="FD-ZS-01", name="总市镇家庭医生团队一",
                                facility=cast.other_center)
    TeamMember.objects.create(team=other, staff=cast.other_village_doctor.staff, role=MemberRole.VILLAGE_DOCTOR,
                              since=since)
    TeamVillage.objects.create(team=other, village=cast.other_village, since=since)

    basic = ServicePackage.objects.create(community=cast.community, code="JC2026", name="基础服务包",
                                          kind=PackageKind.BASIC, public_health_share=Decimal("0"))
    services = {
        "FU": PackageService.objects.create(package=basic, code="FU", name="慢病随访", kind=ServiceKind.FOLLOW_UP,
                                            times_per_year=4, tags=["htn", "t2dm"]),
        "HC": PackageService.objects.create(package=basic, code="HC", name="年度健康体检",
                                            kind=ServiceKind.HEALTH_CHECK, times_per_year=1,
                                            tags=["elderly", "htn", "t2dm"]),
        "CONS": PackageService.objects.create(package=basic, code="CONS", name="健康咨询",
                                              kind=ServiceKind.CONSULTATION, times_per_year=1),
        "EDU": PackageService.objects.create(package=basic, code="EDU", name="健康教育", kind=ServiceKind.EDUCATION,
                                             times_per_year=2),
    }
    elderly = ServicePackage.objects.create(community=cast.community, code="LN2026", name="老年人个性化服务包",
                                            kind=PackageKind.PAID, annual_fee=Decimal("30"),
                                            resident_share=Decimal("10"), insurance_share=Decimal("20"),
                                            target_tags=["elderly"])
    PackageService.objects.create(package=elderly, code="HV", name="上门服务", kind=ServiceKind.HOME_VISIT,
                                  times_per_year=2)
    PackageService.objects.create(package=elderly, code="TCM", name="中医体质辨识", kind=ServiceKind.TCM,
                                  times_per_year=1)

    household = Household.objects.create(number="431127100201-0088", village=cast.village,
                                         area_code=cast.village.code, address="大塘村3组")
    grandfather = cast.resident
    grandfather.household = household
    grandfather.save(update_fields=["household"])
    grandmother = _person("赵桂兰", "F", dt.date(1961, 5, 2), cast.village, household, 44, ["elderly", "htn", "t2dm"])
    mother = _person("李娟", "F", dt.date(1996, 2, 20), cast.village, household, 46, ["maternal"])
    child = _person("李小宝", "M", TODAY.replace(year=TODAY.year - 2), cast.village, household, 51, ["child"])
    return Care(cast, TODAY, team, other, basic, elderly, household, grandfather, grandmother, mother, child,
                nurse, ph, services)
