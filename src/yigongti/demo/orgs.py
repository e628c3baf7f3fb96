"""Regions, the medical community, its facilities, departments and staff."""

from __future__ import annotations

import datetime as dt

import numpy as np

from yigongti.core.carelevel import CareLevel
from yigongti.core.idcard import make_id_number
from yigongti.orgs.models import (
    BoardMember,
    Department,
    Facility,
    FacilityGrade,
    FacilityType,
    HealthServiceGroup,
    MedicalCommunity,
    Profession,
    Region,
    RegionLevel,
    Staff,
    Title,
)

from .context import DemoContext
from .data import county as C
from .data.names import FEMALE_CHARS, MALE_CHARS, SURNAMES


def township_codes(county_code: str) -> list[str]:
    """12-digit codes of C.TOWNSHIPS in order. GB/T 2260 and the statistical division code number a
    county's 镇 100–199 and its 乡 (民族乡 included) 200–399, each in the order listed."""
    codes, towns, xiangs = [], 100, 200
    for name, _share in C.TOWNSHIPS:
        if name.endswith("乡"):
            codes.append(f"{county_code[:6]}{xiangs:03d}000")
            xiangs += 1
        else:
            codes.append(f"{county_code[:6]}{towns:03d}000")
            towns += 1
    return codes


def build_regions(ctx: DemoContext) -> None:
    rng = ctx.rng("regions")
    province = Region.objects.create(code=C.PROVINCE[0], name=C.PROVINCE[1], level=RegionLevel.PROVINCE)
    city = Region.objects.create(code=C.CITY[0], name=C.CITY[1], level=RegionLevel.CITY, parent=province)
    county = Region.objects.create(code=C.COUNTY[0], name=C.COUNTY[1], level=RegionLevel.COUNTY, parent=city)
    ctx.regions.update({r.code: r for r in (province, city, county)})
    stems = list(C.VILLAGE_STEMS)
    villages = []
    # ~170 villages in all, more in the bigger townships
    per_township = np.maximum(6, np.round(np.array([s for _n, s in C.TOWNSHIPS]) * 170)).astype(int)
    for (name, _share), n_villages, tcode in zip(C.TOWNSHIPS, per_township, township_codes(county.code), strict=True):
        township = Region.objects.create(code=tcode, name=name, level=RegionLevel.TOWNSHIP, parent=county)
        ctx.regions[tcode] = township
        picks = rng.permutation(len(stems))[:n_villages]
        for j, k in enumerate(picks):
            villages.append(Region(code=f"{tcode[:9]}{201 + j:03d}", name=f"{stems[k]}村", level=RegionLevel.VILLAGE,
                                   parent=township))
    for v in Region.objects.bulk_create(villages):
        ctx.regions[v.code] = v


# The 120 network: the county command center at the lead hospital (county seat) and a station at the
# 中心卫生院 of the township it is named after; those townships' centers are 中心乡镇卫生院 (C210).
STATIONS = [("蓝山县急救中心", "塔峰镇"), ("所城急救站", "所城镇"), ("太平圩急救站", "太平圩镇"),
            ("犁头急救站", "犁头瑶族乡")]
CENTRAL_TOWNSHIPS = tuple(next(i for i, (n, _s) in enumerate(C.TOWNSHIPS) if n == t) for _name, t in STATIONS)
# the department template of a type the seed data does not list
LEVEL_DEPARTMENTS = {CareLevel.TOWNSHIP: "C220", CareLevel.VILLAGE: "D600"}


def build_facilities(ctx: DemoContext) -> None:
    county = ctx.regions[C.COUNTY[0]]
    city = ctx.regions[C.CITY[0]]
    rng = ctx.rng("facilities")
    group = HealthServiceGroup.objects.create(name="永州市第一健康服务集团", region=city)
    community = MedicalCommunity.objects.create(name="蓝山县紧密型县域医共体", region=county,
                                                service_group=group, established=dt.date(2019, 9, 1))
    ctx.community = community
    made = []
    lead = None
    for suffix, name, short, ftype, level, approved, open_beds in C.COUNTY_FACILITIES:
        f = Facility.objects.create(code=county.code[:6] + suffix, name=name, short_name=short, type=ftype,
                                    level=level, region=county, community=community, approved_beds=approved,
                                    open_beds=open_beds, parent=lead, address=f"蓝山县塔峰镇{short}路")
        lead = lead or f
        made.append(f)
    community.lead_facility = lead
    community.save(update_fields=["lead_facility"])
    BoardMember.objects.bulk_create([
        BoardMember(community=community, name="县人民政府分管副县长", position="管理委员会主任",
                    organisation="蓝山县人民政府"),
        BoardMember(community=community, name="县卫生健康局局长", position="管理委员会副主任",
                    organisation="蓝山县卫生健康局"),
        BoardMember(community=community, name="县中心医院院长", position="医共体总院长", organisation="蓝山县中心医院"),
        BoardMember(community=community, name="县医疗保障局局长", position="委员", organisation="蓝山县医疗保障局"),
    ])
    townships = [r for r in ctx.regions.values() if r.level == RegionLevel.TOWNSHIP]
    index = {name: i for i, (name, _s) in enumerate(C.TOWNSHIPS)}
    for township in sorted(townships, key=lambda r: r.code):
        i = index[township.name]
        beds = int(rng.integers(20, 90)) if i else 120
        # WS 218: the county seat's and the 120 stations' townships have a 中心卫生院 (C210), the others a
        # 乡卫生院 (C220). The facility codes keep the demo's earlier suffix: a code is an identifier.
        ftype = FacilityType.CENTRAL_TOWNSHIP_CENTER if i in CENTRAL_TOWNSHIPS else FacilityType.TOWNSHIP_CENTER
        center = Facility.objects.create(
            code=f"{township.code[:9]}B200", name=f"蓝山县{township.name}卫生院", short_name=f"{township.name}卫生院",
            type=ftype, level=FacilityGrade.PRIMARY, region=township, community=community,
            parent=lead, approved_beds=beds, open_beds=int(beds * rng.uniform(0.8, 1.0)))
        made.append(center)
        for village in township.children.order_by("code"):
            made.append(Facility(code=f"{village.code}D600", name=f"{township.name}{village.name}卫生室",
                                 short_name=f"{village.name}卫生室", type=FacilityType.VILLAGE_CLINIC,
                                 level=FacilityGrade.UNRATED, region=village, community=community, parent=center))
    Facility.objects.bulk_create([f for f in made if f.pk is None])
    # 120 network: the county command center at the lead hospital plus three township stations
    by_name = {r.name: r for r in townships}
    for k, (name, township_name) in enumerate(STATIONS):
        township = by_name[township_name]
        Facility.objects.create(code=f"{county.code[:6]}E3000{k + 1}", name=name, short_name=name,
                                type=FacilityType.EMERGENCY_STATION, region=township if k else county,
                                community=community, parent=lead)
    ctx.facilities.update({f.code: f for f in Facility.objects.select_related("region")})
    depts = []
    for f in ctx.facilities.values():
        spec = C.DEPARTMENTS.get(f.type) or C.DEPARTMENTS.get(LEVEL_DEPARTMENTS.get(f.care_level, ""), [])
        for code, name, beds in spec:
            depts.append(Department(facility=f, code=code, name=name, beds=beds,
                                    is_clinical=name not in {"医学影像科", "检验科", "药剂科", "药房", "中药房"}))
    Department.objects.bulk_create(depts)


FULL_COUNTY = 450_000  # the county's real population: staff are planned for it and scaled to the demo's


def _staff_plan(f: Facility, rng: np.random.Generator, factor: float) -> list[str]:
    """Staff of one facility for a demo of ``factor`` × the full county (beds, as encounters.py scales
    them, and staff shrink together), with the few posts every facility keeps however small."""
    def n(full: float, least: int = 0) -> int:
        return max(least, round(full * factor))

    if f.type in ("A100", "A210", "G100"):
        beds = f.open_beds
        plan = (["physician"] * n(beds * 0.36, 12) + ["nurse"] * n(beds * 0.55, 16)
                + ["technician"] * n(beds * 0.09, 3) + ["pharmacist"] * n(beds * 0.04, 2)
                + ["manager"] * n(beds * 0.06, 2))
        if f.type == "G100":
            plan += ["public_health"] * n(8, 2)
        return plan
    if f.care_level == CareLevel.TOWNSHIP:
        full = int(rng.integers(28, 70))
        return (["physician"] * n(full * 0.3, 3) + ["assistant"] * n(full * 0.1, 1) + ["nurse"] * n(full * 0.3, 3)
                + ["pharmacist"] * n(2, 1) + ["technician"] * n(3, 1) + ["public_health"] * n(full * 0.1, 1)
                + ["manager"] * n(3, 1))
    if f.care_level == CareLevel.VILLAGE:
        return ["village_doctor"] * n(int(rng.choice([1, 2, 2, 3])), 1)
    if f.type.startswith("E"):
        return ["emergency"] * n(6, 3) + ["nurse"] * n(4, 1)
    return []


TITLE_BY_PROFESSION = {
    "physician": (["shi2", "zhongji", "fugao", "zhenggao"], [0.40, 0.35, 0.19, 0.06]),
    "nurse": (["shi", "shi2", "zhongji", "fugao"], [0.25, 0.45, 0.25, 0.05]),
}


def build_staff(ctx: DemoContext) -> None:
    rng = ctx.rng("staff")
    surnames = [s for s, _w in SURNAMES]
    weights = np.array([w for _s, w in SURNAMES], dtype=float)
    weights /= weights.sum()
    staff: list[Staff] = []
    cert_seq = 0
    seq_counter: dict[tuple, int] = {}
    facilities = sorted(ctx.facilities.values(), key=lambda f: f.code)
    dept_by_facility: dict[int, list[Department]] = {}
    for d in Department.objects.filter(is_clinical=True):
        dept_by_facility.setdefault(d.facility_id, []).append(d)
    factor = min(1.0, ctx.population / FULL_COUNTY)
    for f in facilities:
        for profession in _staff_plan(f, rng, factor):
            sex = "F" if (profession == "nurse" and rng.random() < 0.95) or rng.random() < 0.35 else "M"
            chars = FEMALE_CHARS if sex == "F" else MALE_CHARS
            name = surnames[rng.choice(len(surnames), p=weights)] + "".join(
                chars[i] for i in rng.integers(0, len(chars), int(rng.choice([1, 2], p=[0.3, 0.7])))
            )
            age = int(rng.integers(24, 60)) if profession != "village_doctor" else int(rng.integers(35, 68))
            birth = ctx.today - dt.timedelta(days=age * 365 + int(rng.integers(0, 365)))
            key = (birth, sex)
            seq_counter[key] = seq_counter.get(key, 0) + 1
            titles, probs = TITLE_BY_PROFESSION.get(profession, (["shi2"], [1.0]))
            title = str(rng.choice(titles, p=probs)) if profession != "village_doctor" else Title.NONE
            cert = None
            if profession in ("physician", "assistant", "nurse", "village_doctor", "pharmacist"):
                cert_seq += 1
                cert = f"{'11' if profession != 'nurse' else '20'}{f.region.code[:6]}{cert_seq:07d}"
            depts: list[Department | None] = [*dept_by_facility.get(f.pk, [])] or [None]
            staff.append(Staff(
                name=name, sex=sex, profession=profession, title=title, work_facility=f, establishment_facility=f,
                department=depts[int(rng.integers(0, len(depts)))], certificate_number=cert,
                id_number=make_id_number("431127", birth, 400 + seq_counter[key] % 99, sex),
                phone=f"1{int(rng.choice([3, 5, 7, 8, 9]))}{int(rng.integers(0, 10**9)):09d}",
            ))
    # 专家下沉 / 岗编分离: some county-hospital physicians work at township centers
    townships = [f for f in facilities if f.care_level == CareLevel.TOWNSHIP]
    county_docs = [s for s in staff if s.work_facility.type == "A100" and s.profession == Profession.PHYSICIAN
                   and s.title in ("zhongji", "fugao")]
    for s, center in zip(county_docs[::12], townships * 3, strict=False):
        s.work_facility, s.department = center, None
    Staff.objects.bulk_create(staff, batch_size=2000)
