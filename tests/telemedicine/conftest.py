"""The community's five shared centers on top of the cast, with a reader, a reviewer and a small catalogue.

Other helpers' tests use ``centers`` and ``make_order``; keep the names stable:
``centers.ecg / .imaging / .lab / .pathology / .consultation`` (Center rows), ``centers.reader`` (a doctor of
the county hospital, member of every center, supervisor, the duty doctor), ``centers.reviewer`` (member of
every center, can_review), ``centers.items["ECG12" | "DX-CHEST" | "CT-HEAD" | "CBC" | "CHEM" | "TROP" |
"PATH-BIOPSY" | "CONS-CARD"]`` and ``centers.analytes["WBC" | "HGB" | "PLT" | "K" | "NA" | "GLU" | "CR" |
"CTNI"]``."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from tests.cast import Cast, _account, as_
from yigongti.orgs.models import Profession, Role


@dataclass
class Centers:
    cast: Cast
    ecg: object
    imaging: object
    lab: object
    pathology: object
    consultation: object
    reader: object
    reviewer: object
    items: dict = field(default_factory=dict)
    analytes: dict = field(default_factory=dict)
    templates: dict = field(default_factory=dict)

    def by_kind(self, kind: str):
        return getattr(self, kind)


# (center kind, code, name, modality, body part, specimen, price, recognised, validity days)
ITEMS = [
    ("ecg", "ECG12", "常规十二导联心电图", "ECG", "", "", "25.00", False, 0),
    ("imaging", "DX-CHEST", "胸部正位 DR", "DX", "胸部", "", "70.00", True, 180),
    ("imaging", "CT-HEAD", "头颅 CT 平扫", "CT", "头颅", "", "220.00", True, 180),
    ("lab", "CBC", "血常规", "", "", "全血（EDTA）", "20.00", True, 7),
    ("lab", "CHEM", "生化（电解质、血糖、肌酐）", "", "", "血清", "60.00", True, 7),
    ("lab", "TROP", "心肌肌钙蛋白 I", "", "", "血清", "80.00", False, 0),
    ("pathology", "PATH-BIOPSY", "活检组织病理检查", "SM", "", "组织", "300.00", False, 0),
    ("consultation", "CONS-CARD", "心血管内科远程会诊", "", "", "", "100.00", False, 0),
]

# (code, LOINC, name, abbreviation, unit, unit factors, low, high, decimals, panel)
ANALYTES = [
    ("WBC", "6690-2", "白细胞计数", "WBC", "10^9/L", {"10^3/uL": 1}, "3.5", "9.5", 2, "CBC"),
    ("HGB", "718-7", "血红蛋白", "HGB", "g/L", {"g/dL": 10}, "130", "175", 0, "CBC"),
    ("PLT", "777-3", "血小板计数", "PLT", "10^9/L", {"10^3/uL": 1}, "125", "350", 0, "CBC"),
    ("K", "2823-3", "钾", "K", "mmol/L", {"mEq/L": 1}, "3.5", "5.3", 2, "CHEM"),
    ("NA", "2951-2", "钠", "Na", "mmol/L", {"mEq/L": 1}, "137", "147", 1, "CHEM"),
    ("GLU", "2345-7", "葡萄糖", "GLU", "mmol/L", {"mg/dL": 0.0555}, "3.9", "6.1", 2, "CHEM"),
    ("CR", "2160-0", "肌酐", "Cr", "umol/L", {"mg/dL": 88.4}, "57", "111", 0, "CHEM"),
    ("CTNI", "10839-9", "心肌肌钙蛋白 I", "cTnI", "ng/mL", {"ug/L": 1}, "0", "0.04", 3, "TROP"),
]

# (center kind, item code or "", name, findings, conclusion)
TEMPLATES = [
    ("ecg", "ECG12", "正常心电图", "窦性心律，心率 75 次/分，PR、QRS、QT 间期正常，ST-T 未见异常。", "正常心电图"),
    ("ecg", "ECG12", "急性下壁心肌梗死", "窦性心律，II、III、aVF 导联 ST 段抬高，I、aVL 导联 ST 段压低。",
     "急性下壁 ST 段抬高型心肌梗死，请立即处置"),
    ("imaging", "DX-CHEST", "胸部正位片未见异常", "双肺纹理清晰，未见实变影，心影不大，膈面光整。",
     "胸部正位片未见明显异常"),
    ("pathology", "", "慢性炎症", "送检组织镜下见慢性炎细胞浸润。", "（送检组织）慢性炎"),
]


def build_centers(cast: Cast) -> Centers:
    from yigongti.telemedicine.models import Analyte, CatalogItem, Center, CenterKind, CenterMember, ReportTemplate

    hospital = cast.county_hospital
    reader = _account("center_reader", Role.DOCTOR, hospital, profession=Profession.PHYSICIAN)
    reviewer = _account("center_reviewer", Role.DOCTOR, hospital, profession=Profession.PHYSICIAN)
    tat = {  # (routine, urgent, emergency) minutes
        "ecg": (120, 30, 10), "imaging": (24 * 60, 120, 30), "lab": (24 * 60, 120, 30),
        "pathology": (5 * 24 * 60, 3 * 24 * 60, 24 * 60), "consultation": (2 * 24 * 60, 4 * 60, 60)}
    centers = {}
    for kind in CenterKind:
        r, u, e = tat[kind.value]
        center = Center.objects.create(community=cast.community, facility=hospital, kind=kind.value,
                                       name=f"{cast.community.name}{kind.label}", phone="0746-2221234",
                                       tat_routine_minutes=r, tat_urgent_minutes=u, tat_emergency_minutes=e,
                                       duty_doctor=reader)
        CenterMember.objects.create(center=center, user=reader, can_review=True, is_supervisor=True)
        CenterMember.objects.create(center=center, user=reviewer, can_review=True)
        centers[kind.value] = center
    items = {}
    for kind, code, name, modality, body, specimen, price, recognised, days in ITEMS:
        items[code] = CatalogItem.objects.create(center=centers[kind], code=code, name=name, modality=modality,
                                                 body_part=body, specimen=specimen, price=Decimal(price),
                                                 recognised=recognised, validity_days=days)
    analytes = {}
    for code, loinc, name, abbr, unit, factors, low, high, decimals, panel in ANALYTES:
        a = Analyte.objects.create(code=code, loinc=loinc, name=name, abbreviation=abbr, unit=unit,
                                   unit_factors=factors, ref_low=Decimal(low), ref_high=Decimal(high),
                                   decimals=decimals)
        a.panels.add(items[panel])
        analytes[code] = a
    templates = {}
    for kind, item_code, name, findings, conclusion in TEMPLATES:
        templates[name] = ReportTemplate.objects.create(center=centers[kind], item=items.get(item_code), name=name,
                                                        findings=findings, conclusion=conclusion)
    return Centers(cast, centers["ecg"], centers["imaging"], centers["lab"], centers["pathology"],
                   centers["consultation"], reader, reviewer, items, analytes, templates)


@pytest.fixture
def centers(cast) -> Centers:
    return build_centers(cast)


def make_order(centers: Centers, item_code: str, *, by, resident, urgency: str = "routine", **extra):
    """Place an order through the service as ``by`` (a repeat within the recognition window gives a reason)."""
    from yigongti.telemedicine.services.orders import place_order

    data = {"resident": resident.pk, "item": centers.items[item_code].pk, "urgency": urgency,
            "clinical_question": "胸闷待查", "repeat_reason": "病情变化，需复查", **extra}
    return place_order(data, actor=as_(by))
