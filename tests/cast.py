"""One small fixed cast for every test: two counties, a community with a county hospital,
two township centers with a village clinic each, a doctor at each, a bureau user, an auditor,
and an outsider from another county who must see nothing of ours.

Built through the same services the pages use (accounts, residents), so tests exercise them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yigongti.core.actor import Actor
from yigongti.core.idcard import make_id_number
from yigongti.orgs.models import (
    Facility,
    FacilityType,
    MedicalCommunity,
    Profession,
    Region,
    RegionLevel,
    Role,
    Staff,
    User,
)
from yigongti.orgs.services import create_account
from yigongti.residents.services import register_resident

PASSWORD = "Ceshi-mima-2026"
SYSTEM = Actor.system("test")


def as_(user) -> Actor:
    """The Actor of a cast member, for calling services as that account."""
    return Actor.from_user(user)


@dataclass
class Cast:
    county: Region
    township: Region
    village: Region
    other_township: Region
    other_village: Region
    far_county: Region
    community: MedicalCommunity
    county_hospital: Facility
    township_center: Facility
    village_clinic: Facility
    other_center: Facility
    other_clinic: Facility
    far_hospital: Facility
    county_doctor: User
    township_doctor: User
    village_doctor: User
    other_village_doctor: User
    manager: User
    bureau: User
    city: User
    auditor: User
    outsider: User
    resident: object  # lives in `village`
    neighbour: object  # lives in `other_village` (same community, other township)
    far_resident: object  # lives in the far county

    def residents(self):
        return [self.resident, self.neighbour, self.far_resident]


def _region(code, name, level, parent=None) -> Region:
    return Region.objects.create(code=code, name=name, level=level, parent=parent)


def _facility(code, name, ftype, region, community=None, parent=None, beds=0) -> Facility:
    return Facility.objects.create(code=code, name=name, type=ftype, region=region, community=community,
                                   parent=parent, approved_beds=beds, open_beds=beds)


def _account(username, role, facility=None, region=None, unmask=False, profession=None) -> User:
    staff = None
    if facility is not None and profession:
        staff = Staff.objects.create(name=f"{username}医生", sex="M", profession=profession,
                                     work_facility=facility, establishment_facility=facility)
    user, _ = create_account(username=username, role=role, password=PASSWORD, staff=staff,
                             facility=facility, region=region, can_unmask=unmask, actor=SYSTEM)
    return user


def build_cast() -> Cast:
    province = _region("430000000000", "湖南省", RegionLevel.PROVINCE)
    city = _region("431100000000", "永州市", RegionLevel.CITY, province)
    county = _region("431127000000", "蓝山县", RegionLevel.COUNTY, city)
    township = _region("431127100000", "塔峰镇", RegionLevel.TOWNSHIP, county)
    village = _region("431127100201", "大塘村", RegionLevel.VILLAGE, township)
    other_township = _region("431127101000", "总市镇", RegionLevel.TOWNSHIP, county)
    other_village = _region("431127101201", "石桥村", RegionLevel.VILLAGE, other_township)
    far_city = _region("411600000000", "周口市", RegionLevel.CITY, None)
    far_county = _region("411625000000", "郸城县", RegionLevel.COUNTY, far_city)
    far_township = _region("411625100000", "巴集乡", RegionLevel.TOWNSHIP, far_county)
    far_village = _region("411625100201", "官路边村", RegionLevel.VILLAGE, far_township)
    community = MedicalCommunity.objects.create(name="蓝山县医共体", region=county)
    hospital = _facility("431127A100001", "蓝山县中心医院", FacilityType.GENERAL_HOSPITAL, county, community, beds=500)
    community.lead_facility = hospital
    community.save()
    center = _facility("431127100B200", "塔峰镇卫生院", FacilityType.TOWNSHIP_CENTER, township, community, hospital, 40)
    clinic = _facility("431127100201D600", "大塘村卫生室", FacilityType.VILLAGE_CLINIC, village, community, center)
    other_center = _facility("431127101B200", "总市镇卫生院", FacilityType.TOWNSHIP_CENTER, other_township, community,
                             hospital, 30)
    other_clinic = _facility("431127101201D600", "石桥村卫生室", FacilityType.VILLAGE_CLINIC, other_village,
                             community, other_center)
    far_community = MedicalCommunity.objects.create(name="郸城县医共体", region=far_county)
    far_hospital = _facility("411625A100001", "郸城县人民医院", FacilityType.GENERAL_HOSPITAL, far_county,
                             far_community, beds=800)
    users = {
        "county_doctor": _account("county_doctor", Role.DOCTOR, hospital, unmask=True,
                                  profession=Profession.PHYSICIAN),
        "township_doctor": _account("township_doctor", Role.DOCTOR, center, profession=Profession.PHYSICIAN),
        "village_doctor": _account("village_doctor", Role.VILLAGE_DOCTOR, clinic, profession=Profession.VILLAGE_DOCTOR),
        "other_village_doctor": _account("other_village_doctor", Role.VILLAGE_DOCTOR, other_clinic,
                                         profession=Profession.VILLAGE_DOCTOR),
        "manager": _account("manager", Role.COMMUNITY_MANAGER, hospital),
        "bureau": _account("bureau", Role.BUREAU, region=county),
        "city": _account("city", Role.CITY, region=city),
        "auditor": _account("auditor", Role.AUDITOR, region=county),
        "outsider": _account("outsider", Role.DOCTOR, far_hospital, unmask=True, profession=Profession.PHYSICIAN),
    }
    resident = register_resident({
        "name": "李建国", "id_number": make_id_number("431127", dt.date(1958, 3, 14), 12, "M"),
        "phone": "13874601234", "village": village.code, "tags": ["elderly", "htn"]},
        actor=as_(users["village_doctor"]))
    neighbour = register_resident({
        "name": "王秀英", "id_number": make_id_number("431127", dt.date(1990, 7, 2), 20, "F"),
        "phone": "15974605678", "village": other_village.code, "tags": ["maternal"]},
        actor=as_(users["other_village_doctor"]))
    far_resident = register_resident({
        "name": "张伟", "id_number": make_id_number("411625", dt.date(1985, 1, 9), 33, "M"),
        "village": far_village.code}, actor=as_(users["outsider"]))
    return Cast(county, township, village, other_township, other_village, far_county, community, hospital, center,
                clinic, other_center, other_clinic, far_hospital, resident=resident, neighbour=neighbour,
                far_resident=far_resident, **users)
