"""A year of the shared diagnosis centers (六大中心) consistent with the encounters: the five centers at the lead
hospital with their readers, catalogue, templates and critical-value table, the community's devices (an ECG
machine at every township center and at ~60 % of village clinics, DR at the townships, CT at the county,
analysers with their ids), and the orders the year's visits and stays called for — ECGs from townships and
villages for hypertension, coronary and heart-failure patients and emergencies, chest films for pneumonia and
COPD, head CTs for strokes, lab panels for admissions and diabetics, biopsies and surgical specimens, remote
consultations from the township wards — with their reports, lab results, critical values (most acknowledged in
time, some late and escalated, every step an event) and mutual recognitions. Around the demo's "now" each
center's worklist holds open orders (a few overdue) and the demo doctors have critical values to acknowledge,
among them a STEMI ECG from the demo village clinic.

Rows are drawn from ``ctx.rng('telemedicine')`` and bulk-loaded; the lab values are judged by the same pure
functions the services use (``telemedicine.critical``), accession numbers have the services' shape
(``telemedicine.workflow``). ECG waveforms come from the app's simulator (a few templates varied per recording;
only the recent year-end recordings keep their samples, so that a county's year stays a few hundred MB);
imaging studies are rows, and a handful of synthetic DICOM studies go to Orthanc when one is configured."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import uuid
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Mod
from django.utils import timezone

from yigongti.encounters.models import Encounter
from yigongti.orgs.models import Department, Facility, Role, Staff, User
from yigongti.orgs.services import create_account
from yigongti.telemedicine import critical as rules
from yigongti.telemedicine import workflow
from yigongti.telemedicine.critical import Rule
from yigongti.telemedicine.models import (
    PRIORITY,
    Analyte,
    CatalogItem,
    Center,
    CenterMember,
    Consultation,
    CriticalEvent,
    CriticalFinding,
    CriticalRule,
    CriticalValue,
    Device,
    EcgRecording,
    ImagingStudy,
    LabResult,
    Order,
    OrderEvent,
    Recognition,
    Report,
    ReportTemplate,
    Specimen,
)

from .accounts import SYSTEM
from .bulk import analyze, load_rows, reset_sequences
from .context import DemoContext
from .data import telemedicine as D

log = logging.getLogger(__name__)
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
DATA = Path(__file__).resolve().parent.parent / "telemedicine" / "data"
ECG_KEEP = 150  # historical recordings that keep their samples (the newest); the live ones always do
ORTHANC_STUDIES = 6  # synthetic studies uploaded when a PACS is configured
OUT_DX = ["I10", "E11.9", "J20.9", "K29.7", "R51", "M54.5", "N39.0", "A09", "J06.9"]
OUT_SAMPLE = 20  # one outpatient visit in OUT_SAMPLE of these diagnoses is a candidate (by id)
READERS = [  # (username, role, profession, label, centers read for)
    ("ecg_reader", Role.DOCTOR, "physician", "心电诊断医生", ["ecg"]),
    ("imaging_reader", Role.DOCTOR, "physician", "影像诊断医生", ["imaging"]),
    ("lab_tech", Role.DOCTOR, "technician", "检验医师", ["lab"]),
    ("pathologist", Role.DOCTOR, "physician", "病理医生", ["pathology"]),
    ("specialist", Role.DOCTOR, "physician", "会诊专家", ["consultation"]),
    ("center_director", Role.DOCTOR, "physician", "诊断中心主任", ["ecg", "imaging", "lab", "pathology",
                                                                "consultation"]),
]


# ---- the world the orders are drawn in --------------------------------------------------------------------


@dataclass
class _World:
    centers: dict[str, Center]
    items: dict[str, CatalogItem]
    analytes: dict[str, Analyte]
    panels: dict[str, list[Analyte]]
    templates: dict[str, ReportTemplate]
    findings: dict[str, CriticalFinding]
    rules: list[Rule]
    readers: dict[str, User]  # username → account
    orderer: dict[int, User]  # facility pk → the account that orders there
    director: dict[int, list[User]]  # facility pk → its FACILITY_ADMIN accounts
    dispatchers: list[User]
    devices: dict[tuple[int, str], list[int]]  # (facility pk, modality or kind) → device pks
    facilities: dict[int, Facility]
    lead: Facility
    people: list[Any]
    by_analyte: dict[str, list[Rule]] = field(default_factory=dict)

    def rules_of(self, code: str) -> list[Rule]:
        if not self.by_analyte:
            for r in self.rules:
                self.by_analyte.setdefault(r.analyte, []).append(r)
        return self.by_analyte.get(code, [])


def _accounts(ctx: DemoContext) -> dict[str, User]:
    lead = ctx.community.lead_facility
    out = {}
    for username, role, profession, label, _kinds in READERS:
        staff = (Staff.objects.filter(work_facility=lead, profession=profession, account__isnull=True)
                 .order_by("id").first())
        user, password = create_account(actor=SYSTEM, username=username, role=role, staff=staff, facility=lead,
                                        display_name=f"{staff.name}（{label}）" if staff else label)
        ctx.logins.append({"role": label, "username": username, "password": password, "where": lead.name})
        out[username] = user
    return out


def _centers(ctx: DemoContext, readers: dict[str, User]) -> dict[str, Center]:
    lead = ctx.community.lead_facility
    duty = {"ecg": "ecg_reader", "imaging": "imaging_reader", "lab": "center_director", "pathology": "pathologist",
            "consultation": "specialist"}
    centers = {}
    for kind, (name, r, u, e, ack, ack_e, esc) in D.CENTERS.items():
        centers[kind] = Center.objects.create(
            community=ctx.community, facility=lead, kind=kind, name=f"{lead.short_name or lead.name}{name}",
            phone=D.PHONES[kind], tat_routine_minutes=r, tat_urgent_minutes=u, tat_emergency_minutes=e,
            ack_minutes=ack, ack_emergency_minutes=ack_e, escalate_minutes=esc, duty_doctor=readers[duty[kind]])
    members = []
    for username, _role, _p, _label, kinds in READERS:
        for kind in kinds:
            boss = username == "center_director"
            members.append(CenterMember(center=centers[kind], user=readers[username], can_review=boss,
                                        is_supervisor=boss))
    # the county doctor of the demo second-reads ECGs (a cardiologist of the lead hospital)
    county_doctor = User.objects.filter(username="county_doctor").first()
    if county_doctor is not None:
        members.append(CenterMember(center=centers["ecg"], user=county_doctor, can_review=True))
    CenterMember.objects.bulk_create(members)
    return centers


def _catalogue(ctx: DemoContext, centers: dict[str, Center]):
    lead = ctx.community.lead_facility
    depts = dict(Department.objects.filter(facility=lead).values_list("name", "id"))
    items = {}
    for kind, code, name, modality, body, specimen, specialty, price, recognised, days in D.ITEMS:
        items[code] = CatalogItem(center=centers[kind], code=code, name=name, modality=modality, body_part=body,
                                  specimen=specimen, specialty_id=depts.get(specialty) if specialty else None,
                                  price=Decimal(price), recognised=recognised, validity_days=days)
    CatalogItem.objects.bulk_create(list(items.values()))
    analytes: dict[str, Analyte] = {}
    panels: dict[str, list[Analyte]] = {}
    for code, loinc, name, abbr, unit, factors, low, high, decimals, _panel, _m, _sd in D.ANALYTES:
        analytes[code] = Analyte(code=code, loinc=loinc, name=name, abbreviation=abbr, unit=unit,
                                 unit_factors=factors, ref_low=Decimal(low), ref_high=Decimal(high), decimals=decimals)
    Analyte.objects.bulk_create(list(analytes.values()))
    through = Analyte.panels.through
    through.objects.bulk_create([through(analyte_id=analytes[a[0]].pk, catalogitem_id=items[a[9]].pk)
                                 for a in D.ANALYTES])
    for a in D.ANALYTES:
        panels.setdefault(a[9], []).append(analytes[a[0]])
    templates = {}
    for kind, code, key, name, findings, conclusion in D.TEMPLATES:
        templates[key] = ReportTemplate(center=centers[kind], item=items.get(code), name=name,
                                        findings=findings.format(hr=75, pr=160, qrs=88, qt=380, qtc=410),
                                        conclusion=conclusion)
    ReportTemplate.objects.bulk_create(list(templates.values()))
    return items, analytes, panels, templates


def _load_json(name: str) -> dict:
    path = DATA / name
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def _critical_tables(ctx: DemoContext, analytes: dict[str, Analyte], director: User):
    """The lab center's default critical-value table and the ECG / imaging finding lists, from the app's data
    files, plus one township's override (with its reason) so that the rules page shows how one looks."""
    table = _load_json("critical_rules.json")
    sources = table.get("sources", {})
    effective = ctx.today.replace(year=ctx.today.year - 2, month=1, day=1)
    rows = []
    for r in table.get("rules", []):
        analyte = analytes.get(r["analyte"])
        if analyte is None:
            continue  # an analyte the demo's catalogue does not carry (blood gas)
        rows.append(CriticalRule(
            community=ctx.community, analyte=analyte, unit=r.get("unit", ""),
            low=Decimal(r["low"]) if r.get("low") not in (None, "") else None,
            high=Decimal(r["high"]) if r.get("high") not in (None, "") else None,
            population=r.get("population", "all") or "all", sex=r.get("sex", ""),
            patient_group=r.get("patient_group", ""), first_only=bool(r.get("first_only")),
            effective_from=effective, source=sources.get(r.get("source", ""), r.get("source", ""))[:120],
            created_by=director))
    # 荆竹瑶族乡卫生院 has no on-site lab physician at night: it asks for potassium from 6.0 (reason recorded)
    town = sorted((f for f in ctx.facilities.values() if f.care_level == "township"), key=lambda f: f.code)
    if town and "K" in analytes:
        rows.append(CriticalRule(community=ctx.community, facility=town[-1], analyte=analytes["K"], unit="mmol/L",
                                 low=Decimal("3.0"), high=Decimal("6.0"), population="adult", effective_from=effective,
                                 override_reason="本院无夜间检验医师，透析患者多，血钾提前至 ≥6.0 / ≤3.0 报告",
                                 source="机构覆盖"))
    CriticalRule.objects.bulk_create(rows)
    found = _load_json("critical_findings.json")
    fsrc = found.get("sources", {})
    findings = [CriticalFinding(kind=f["kind"], code=f["code"], name=f["name"], stemi=bool(f.get("stemi")),
                                source=fsrc.get(f["kind"], "")[:120]) for f in found.get("findings", [])]
    CriticalFinding.objects.bulk_create(findings)
    as_rules = [rules.Rule(r.pk, r.analyte.code, r.unit, r.low, r.high, r.population, r.sex, r.patient_group,
                           r.first_only, r.effective_from, r.effective_to, r.facility_id) for r in rows]
    return as_rules, {f.code: f for f in findings}


def _ae(prefix: str, n: int) -> str:
    return f"LS{prefix}{n:05d}"[:16]  # 蓝山 + modality + a running number: unique, ≤ 16 characters


def _devices(ctx: DemoContext, rng: np.random.Generator) -> dict[tuple[int, str], list[int]]:
    lead = ctx.community.lead_facility
    made: list[Device] = []
    installed = ctx.today - dt.timedelta(days=900)

    def add(f: Facility, spec: tuple, k: int) -> None:
        kind, modality, maker, model, _n = spec
        serial = f"SN{hashlib.sha1(f'{f.code}{model}{k}'.encode()).hexdigest()[:10].upper()}"
        n = len(made) + 1
        ae = _ae({"ecg": "ECG", "modality": modality or "MOD", "scanner": "WSI"}.get(kind, ""), n) \
            if kind != "analyser" else ""
        made.append(Device(facility=f, kind=kind, modality=modality, manufacturer=maker, model=model, serial=serial,
                           ae_title=ae, analyser_id=f"LSAN{n:05d}" if kind == "analyser" else "",
                           installed_on=installed + dt.timedelta(days=int(rng.integers(0, 600)))))

    k = 0
    for spec in D.COUNTY_DEVICES:
        for _i in range(spec[4]):
            k += 1
            add(lead, spec, k)
    facilities = sorted(ctx.facilities.values(), key=lambda f: f.code)
    for f in facilities:
        if f.care_level == "township":
            for j, spec in enumerate(D.TOWNSHIP_DEVICES):
                add(f, spec, j + 1)
    villages = [f for f in facilities if f.care_level == "village"]
    has = rng.random(len(villages)) < D.VILLAGE_ECG_SHARE
    demo_village = User.objects.filter(username="village_doctor").values_list("facility_id", flat=True).first()
    for f, yes in zip(villages, has, strict=True):
        if yes or f.pk == demo_village:  # the demo village clinic records ECGs (the main story)
            add(f, D.VILLAGE_ECG, 1)
    Device.objects.bulk_create(made)
    out: dict[tuple[int, str], list[int]] = {}
    for d in made:
        out.setdefault((d.facility_id, d.modality or d.kind), []).append(d.pk)
        out.setdefault((d.facility_id, d.kind), []).append(d.pk)
    return out


def _ordering_accounts(ctx: DemoContext) -> tuple[dict[int, User], dict[int, list[User]], list[User]]:
    """Who orders at each facility: the demo logins where they work, the referral demo's township accounts,
    otherwise an account without a usable password standing for that facility's doctors (a village clinic's
    linked to its village doctor). Each township center also gets its director (FACILITY_ADMIN), the first
    step of the critical-value escalation."""
    lead = ctx.community.lead_facility
    by_fac: dict[int, User] = {}
    for username in ("county_doctor", "township_doctor", "village_doctor"):
        u = User.objects.filter(username=username).first()
        if u is not None and u.facility_id:
            by_fac[u.facility_id] = u
    for u in User.objects.filter(username__startswith="ref_", role=Role.DOCTOR):
        by_fac.setdefault(u.facility_id or 0, u)
    vdoc: dict[int, tuple[int, str]] = {}
    for sid, fid, name in Staff.objects.filter(profession="village_doctor", account__isnull=True).order_by(
            "id").values_list("id", "work_facility_id", "name"):
        vdoc.setdefault(fid, (sid, name))
    new = []
    for f in sorted(ctx.facilities.values(), key=lambda f: f.code):
        if f.pk in by_fac or f.care_level not in ("township", "village"):
            continue
        staff_id, name = vdoc.get(f.pk, (None, ""))
        role = Role.VILLAGE_DOCTOR if f.care_level == "village" else Role.DOCTOR
        new.append(User(username=f"tm_{f.code}", role=role, facility=f, staff_id=staff_id if f.care_level == "village"
                        else None, display_name=name or f"{f.short_name}医生", password=make_password(None)))
    admins = []
    have_admin = set(User.objects.filter(role=Role.FACILITY_ADMIN).values_list("facility_id", flat=True))
    for f in ctx.facilities.values():
        if f.care_level == "township" and f.pk not in have_admin:
            admins.append(User(username=f"dir_{f.code}", role=Role.FACILITY_ADMIN, facility=f,
                               display_name=f"{f.short_name}院长", password=make_password(None)))
    User.objects.bulk_create(new + admins)
    for u in User.objects.filter(username__startswith="tm_"):
        by_fac[u.facility_id or 0] = u
    if lead.pk not in by_fac:
        by_fac[lead.pk] = User.objects.filter(facility=lead, role=Role.DOCTOR).order_by("id")[0]
    directors: dict[int, list[User]] = {}
    for u in User.objects.filter(role=Role.FACILITY_ADMIN, facility__isnull=False, is_active=True):
        directors.setdefault(u.facility_id or 0, []).append(u)
    dispatchers = list(User.objects.filter(role=Role.DISPATCHER, is_active=True).order_by("id"))
    return by_fac, directors, dispatchers


# ---- drawing the year ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _O:
    """One order as drawn (rows are made from these at the end)."""

    code: str
    kind: str
    rid: int
    area: str
    enc: int | None
    fac: int
    by: int
    question: str
    urgency: str
    ordered: dt.datetime
    status: str = "ordered"
    live: bool = False
    home: bool = True  # the patient is not in a hospital bed (a 120 alert may be the last step)
    id: int = 0
    accession: str = ""
    device: int | None = None
    acquired: dt.datetime | None = None
    started: dt.datetime | None = None
    reported: dt.datetime | None = None
    reviewed: dt.datetime | None = None
    due: dt.datetime | None = None
    cancel: str = ""
    critical: bool = False
    rec: Any = None  # (prior order, reason) while drawing; the Recognition id when written
    report: str = ""  # the template key the reader signs
    ecg: str = ""  # the ECG template key of the recording
    specimen: tuple[str, str] | None = None
    source: str = "hl7"
    wait: bool = False  # a live critical value nobody acknowledged yet, already escalated once
    results: list[tuple[Analyte, Decimal, str]] = field(default_factory=list)
    criticals: list[tuple] = field(default_factory=list)


def _at(day: dt.date, minutes: float) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=TZ) + dt.timedelta(minutes=float(minutes))


def _mins(t: dt.datetime, m: float) -> dt.datetime:
    return t + dt.timedelta(minutes=float(m))


def _national(icd: str) -> str:
    """The national ICD-10 code the draws know (the insurance step recodes stays to 医保版 codes: I25.100x003)."""
    return "I10" if icd.startswith("I10") else icd[:5]


def _candidates(ctx: DemoContext, allowed: list[int]):
    day_end = ctx.today
    qs = (Encounter.objects.filter(resident__isnull=False, facility_id__in=allowed, admit_date__lt=day_end,
                                   admit_date__gte=ctx.today - dt.timedelta(days=366))
          .annotate(m=Mod(F("id"), OUT_SAMPLE))
          .filter(Q(type__in=["inpatient", "emergency"]) | Q(type="outpatient", main_icd10__in=OUT_DX, m=0))
          .order_by("id")
          .values_list("id", "resident_id", "area_code", "facility_id", "type", "admit_date", "main_icd10",
                       "surgery", "discharge_date"))
    return list(qs.iterator(chunk_size=20_000))


# (item, probability) an encounter calls for, by (setting, diagnosis); setting: ip, em, op
def _wanted(typ: str, icd: str, level: str, age: int, surgery: bool) -> list[tuple[str, float, str]]:
    """The items this encounter may order: (item code, probability, clinical question)."""
    want: list[tuple[str, float, str]] = []
    if typ == "inpatient":
        want += [("CBC", 0.9, "入院常规"), ("CHEM", 0.75, "入院常规")]
        if icd in ("I25.1", "I50.9", "I63.9", "I10"):
            want.append(("ECG12", 0.9, {"I25.1": "胸闷胸痛待查", "I50.9": "心衰，评估心律",
                                        "I63.9": "脑梗死，排查房颤", "I10": "高血压靶器官评估"}[icd]))
        elif age >= 50:
            want.append(("ECG12", 0.4, "术前/入院常规心电图"))
        if icd in ("J18.9", "J44.1", "I50.9"):
            want.append(("DX-CHEST", 0.9, "咳嗽、气促，肺部感染？"))
        elif age >= 60:
            want.append(("DX-CHEST", 0.15, "入院常规胸片"))
        if icd == "I63.9":
            want.append(("CT-HEAD", 0.95, "突发肢体无力，排除脑出血"))
            want.append(("COAG", 0.6, "溶栓前评估"))
            want.append(("CONS-NEURO", 0.12 if level == "township" else 0.0, ""))
        if icd in ("I25.1", "I50.9"):
            want.append(("TROP", 0.7, "胸痛，排除急性心肌梗死"))
            want.append(("CONS-CARD", 0.12 if level == "township" else 0.0, ""))
        if icd in ("K80.2", "N20.0"):
            want.append(("US-ABD", 0.7, "右上腹痛待查"))
            want.append(("CT-ABD", 0.35 if level == "county" else 0.1, "腹痛，结石？"))
        if icd == "C34.9":
            want += [("CT-CHEST", 0.8, "肺占位复查"), ("PATH-BIOPSY", 0.4, "肺占位穿刺活检"),
                     ("CONS-ONC", 0.3 if level == "township" else 0.0, "")]
        if icd == "J44.1":
            want.append(("CONS-RESP", 0.08 if level == "township" else 0.0, ""))
        if icd == "E11.9":
            want.append(("CONS-ENDO", 0.06 if level == "township" else 0.0, ""))
        if surgery:
            want += [("COAG", 0.9, "术前凝血功能"), ("PATH-SURG", 0.85 if icd in ("K80.2", "K35.8", "C34.9", "S72.0")
                                                     else 0.0, "手术标本送检")]
        if icd == "S72.0":
            want.append(("DX-CHEST", 0.5, "术前胸片"))
    elif typ == "emergency":
        want += [("CBC", 0.45, "急诊"), ("CHEM", 0.25, "急诊")]
        if age >= 40:
            want.append(("ECG12", 0.35, "胸闷、胸痛待查" if age >= 50 else "心悸待查"))
            want.append(("TROP", 0.15 if age >= 50 else 0.05, "胸痛，排除急性心肌梗死"))
        if icd in ("R51",):
            want.append(("CT-HEAD", 0.4, "剧烈头痛"))
        if icd in ("J20.9", "J06.9") and age >= 60:
            want.append(("DX-CHEST", 0.25, "发热咳嗽，肺炎？"))
    else:
        if icd == "I10":
            want += [("ECG12", 0.5, "高血压随访心电图"), ("CHEM", 0.3, "高血压随访：肾功能、电解质")]
        elif icd == "E11.9":
            want += [("CHEM", 0.8, "糖尿病随访：血糖、肾功能"), ("CBC", 0.2, "糖尿病随访")]
        elif icd == "J20.9":
            want += [("DX-CHEST", 0.45, "咳嗽 2 周，肺炎？"), ("CBC", 0.5, "感染指标")]
        elif icd == "K29.7":
            want += [("US-ABD", 0.3, "上腹痛"), ("PATH-BIOPSY", 0.05 if level == "county" else 0.0, "胃镜活检")]
        elif icd == "R51":
            want.append(("CT-HEAD", 0.2, "反复头痛"))
        elif icd == "M54.5":
            want.append(("DX-LSPINE", 0.35, "腰痛"))
        elif icd in ("N39.0", "A09", "J06.9"):
            want.append(("CBC", 0.4, "感染指标"))
    return want


def _ecg_finding(icd: str, typ: str, age: int, u: float) -> str:
    """The template key a reader will sign for an ECG of this encounter."""
    if typ == "emergency" and age >= 45 and u < 0.04:
        return "stemi_inferior" if u < 0.015 else "stemi_anterior"
    if icd == "I25.1":
        return ("stemi_inferior" if u < 0.02 else "stemi_anterior" if u < 0.04 else "avb3" if u < 0.05
                else "stt" if u < 0.6 else "normal")
    if icd == "I50.9":
        return "af" if u < 0.35 else "stt" if u < 0.6 else "tachy" if u < 0.75 else "normal"
    if icd == "I10":
        return "lvh" if u < 0.3 else "stt" if u < 0.4 else "normal"
    if icd == "I63.9":
        return "af" if u < 0.2 else "stt" if u < 0.4 else "normal"
    return "tachy" if u < 0.08 else "stt" if u < 0.15 else "normal"


def _imaging_finding(code: str, icd: str, u: float) -> str:
    if code == "DX-CHEST":
        if icd == "J18.9":
            return "dx_pneumonia" if u < 0.85 else "dx_normal"
        if icd == "J44.1":
            return "dx_ptx" if u < 0.015 else "dx_copd" if u < 0.8 else "dx_pneumonia"
        return "dx_pneumonia" if u < 0.1 else "dx_normal"
    if code == "CT-HEAD":
        if icd == "I63.9":
            return "ct_ich" if u < 0.04 else "ct_infarct" if u < 0.85 else "ct_head_normal"
        return "ct_ich" if u < 0.02 else "ct_head_normal"
    if code == "CT-CHEST":
        return "ct_mass" if icd == "C34.9" else "ct_chest_normal"
    if code == "CT-ABD":
        return "ct_kidney" if icd == "N20.0" else "ct_stone"
    if code == "US-ABD":
        return "us_stone" if icd == "K80.2" else "us_fatty" if u < 0.4 else "us_normal"
    return "dx_spine"


PATH_FINDING = {"K80.2": "path_gallbladder", "K35.8": "path_appendix", "C34.9": "path_lung", "K29.7": "path_gastric",
                "S72.0": "path_hip", "N20.0": "path_kidney"}
SPECIMEN = {"K80.2": ("胆囊", "胆囊"), "K35.8": ("阑尾", "阑尾"), "C34.9": ("穿刺组织", "右肺上叶"),
            "K29.7": ("胃黏膜活检组织", "胃窦"), "S72.0": ("股骨头", "左侧股骨头"), "N20.0": ("结石", "右肾盂")}
ECG_CRITICAL = {"stemi_inferior": "ECG-STEMI", "stemi_anterior": "ECG-STEMI", "avb3": "ECG-AVB3"}
IMAGING_CRITICAL = {"dx_ptx": "IMG-TPTX", "ct_ich": "IMG-ICH"}


def _lab_values(rng: np.random.Generator, panel: list[Analyte], icd: str, age: int, sex: str, typ: str,
                spice: float) -> dict[str, float]:
    """Plausible values for the panel given the diagnosis; ``spice`` < threshold gives the rare critical one."""
    base = {a[0]: (a[10], a[11]) for a in D.ANALYTES}
    out = {}
    for a in panel:
        mean, sd = base[a.code]
        v = float(rng.normal(mean, sd))
        if a.code == "HGB":
            v -= 12 if sex == "F" else 0
            v -= 15 if icd == "C34.9" or age >= 75 else 0
        if a.code == "GLU" and icd == "E11.9":
            v = float(rng.normal(9.5, 3.0))
        if a.code == "CR" and icd in ("I50.9", "N20.0", "E11.9") and rng.random() < 0.3:
            v = float(rng.normal(150, 40))
        if a.code == "WBC" and icd in ("J18.9", "K35.8", "J44.1", "N39.0"):
            v = float(rng.normal(12.5, 3.0))
        if a.code == "CTNI":
            v = float(abs(rng.normal(0.01, 0.006)))
            if icd == "I25.1" and rng.random() < 0.12:
                v = float(rng.uniform(0.06, 8.0))
        if a.code == "INR" and icd == "I63.9" and rng.random() < 0.1:
            v = float(rng.normal(2.5, 0.6))
        out[a.code] = v
    # the rare critical value, by diagnosis (the rules decide whether it is one)
    if spice < 0.012:
        pick = {"I50.9": ("K", 6.6), "E11.9": ("GLU", 24.5), "C34.9": ("HGB", 46), "A09": ("K", 2.5),
                "J44.1": ("NA", 118), "I63.9": ("GLU", 23.0)}.get(icd)
        if pick is None:
            pick = [("K", 6.7), ("K", 2.6), ("PLT", 22), ("WBC", 0.8), ("HGB", 45), ("GLU", 2.4)][int(spice * 500) % 6]
        code, v = pick
        if code in out:
            out[code] = v * float(rng.uniform(0.97, 1.04))
    return out


def _fmt(v: float, decimals: int) -> Decimal:
    q = Decimal(1).scaleb(-decimals)
    return Decimal(str(round(max(v, 0.0), decimals))).quantize(q)


@dataclass
class _Plan:
    orders: list[_O] = field(default_factory=list)
    recognitions: list[tuple] = field(default_factory=list)  # (order index of prior, resident, area, item, …)
    consultations: list[dict] = field(default_factory=list)


def _draw(ctx: DemoContext, rng: np.random.Generator, w: _World) -> _Plan:
    plan = _Plan()
    allowed = [f.pk for f in w.facilities.values() if f.care_level in ("township", "village")] + [w.lead.pk]
    rows = _candidates(ctx, allowed)
    task = ctx.task("生成检查检验申请", len(rows))
    n = len(rows)
    u = rng.random((n, 8))
    people = w.people
    tat = dict(w.centers)
    for j, (eid, rid, area, fid, typ, day, icd, surgery, discharge) in enumerate(rows):
        task.advance()
        f = w.facilities.get(fid)
        if f is None:
            continue
        level = f.care_level
        p = people[rid - 1] if 0 < rid <= len(people) else None
        if p is None:
            continue
        age = (day - p.birth).days // 365
        icd = _national(icd)
        wants = _wanted(typ, icd, level, age, bool(surgery))
        if not wants:
            continue
        draws = rng.random(len(wants))
        start = (8 * 60 + u[j, 0] * 9 * 60) if typ != "emergency" else u[j, 0] * 24 * 60
        t0 = _at(day, start)
        for (code, prob, question), d in zip(wants, draws, strict=True):
            if d >= prob:
                continue
            if code.startswith("CONS-"):
                plan.consultations.append({"code": code, "rid": rid, "area": area, "enc": eid, "fac": fid,
                                           "at": _mins(t0, 60 * 24 * (1 + u[j, 7] * 2)), "u": float(u[j, 6])})
                continue
            item = w.items[code]
            kind = item.center.kind
            if kind == "ecg" and level == "village" and not w.devices.get((fid, "ECG")):
                continue  # a village clinic without an ECG machine sends the patient to the township
            if level == "village" and kind in ("imaging", "pathology"):
                continue
            if kind == "pathology" and level != "county" and code == "PATH-SURG":
                continue
            urgency = "routine"
            if typ == "emergency" and kind in ("ecg", "lab", "imaging"):
                urgency = "emergency"
            elif typ == "inpatient" and ((code == "CT-HEAD" and icd == "I63.9") or code == "TROP"):
                urgency = "emergency" if u[j, 1] < 0.6 else "urgent"
            elif typ == "inpatient" and u[j, 1] < 0.12:
                urgency = "urgent"
            o = _O(code=code, kind=kind, rid=rid, area=area, enc=eid, fac=fid, by=w.orderer[fid].pk,
                   question=question, urgency=urgency, ordered=_mins(t0, float(rng.uniform(0, 40))),
                   home=typ != "inpatient")
            o.due = workflow.due_at(o.ordered, tat[kind].tat_minutes(urgency))
            _progress(rng, w, o, icd, typ, age, p, level, discharge)
            plan.orders.append(o)
    task.done()
    return plan


def _device_for(w: _World, o: _O, level: str) -> int | None:
    item = w.items[o.code]
    if o.kind == "ecg":
        opts = w.devices.get((o.fac, "ECG")) or w.devices.get((w.facilities[o.fac].parent_id or 0, "ECG"))
    elif o.kind == "imaging":
        where = o.fac if item.modality in ("DX", "US") and level == "township" else w.lead.pk
        opts = w.devices.get((where, item.modality))
    elif o.kind == "lab":
        opts = w.devices.get((o.fac if level == "township" and o.code == "CBC" else w.lead.pk, "analyser"))
    else:
        opts = w.devices.get((w.lead.pk, "scanner"))
    return opts[0] if opts else None


def _progress(rng: np.random.Generator, w: _World, o: _O, icd: str, typ: str, age: int, p: Any, level: str,
              discharge: dt.date | None) -> None:
    """Acquisition, reading, report and review of a historical order, within the center's targets mostly."""
    center = w.centers[o.kind]
    v = rng.random(8)
    if v[0] < 0.012:
        o.status, o.cancel = "cancelled", D.CANCEL_REASONS[int(v[1] * len(D.CANCEL_REASONS))]
        return
    target = center.tat_minutes(o.urgency)
    acq = {"ecg": 3 + 15 * v[1], "imaging": (10 + 50 * v[1]) if level != "township" or w.items[o.code].modality in
           ("DX", "US") else 90 + 120 * v[1], "lab": 5 + 25 * v[1], "pathology": 30 + 240 * v[1]}[o.kind]
    if o.urgency == "emergency":
        acq = min(acq, 4 + 8 * v[1])
    o.acquired = _mins(o.ordered, acq)
    o.device = _device_for(w, o, level)
    late = v[2] < 0.07  # a few reports miss the target
    budget = target - acq
    read = budget * (1.05 + 0.8 * v[3]) if late else max(2.0, budget * (0.1 + 0.75 * v[3] ** 1.6))
    if o.kind == "lab" and level == "township" and o.code != "CBC":
        transport = 60 + 120 * v[4]  # the daily courier to the county lab
        read = max(read, transport + 20) if not late else read + transport
    o.started = _mins(o.acquired, read * (0.3 + 0.4 * v[4]))
    o.reported = _mins(o.acquired, read)
    o.status = "reported"
    if o.kind == "lab":
        _lab(rng, w, o, icd, typ, age, p, level)
        o.reviewed = _mins(o.reported, 5 + 30 * v[5]) if v[6] < 0.9 else None
    else:
        o.reviewed = _mins(o.reported, 10 + 240 * v[5]) if v[6] < {"ecg": 0.25, "imaging": 0.7,
                                                                   "pathology": 0.95}[o.kind] else None
        key = (_ecg_finding(icd, typ, age, float(v[7])) if o.kind == "ecg"
               else _imaging_finding(o.code, icd, float(v[7])) if o.kind == "imaging"
               else PATH_FINDING.get(icd, "path_gastric"))
        if o.kind == "pathology":
            o.specimen = SPECIMEN.get(icd, ("活检组织", ""))
        _sign(w, o, key, float(v[3]))
    if o.reviewed is not None:
        o.status = "reviewed"


def _sign(w: _World, o: _O, key: str, u: float) -> None:
    """The report the reader signs (a template key) and the critical finding it carries, if any."""
    o.report = key
    if o.kind == "ecg":
        o.ecg = key
    crit = ECG_CRITICAL.get(key) or IMAGING_CRITICAL.get(key)
    o.criticals = [c for c in o.criticals if c[0] != "finding"]
    o.critical = bool(o.criticals)
    if crit and crit in w.findings:
        if key.startswith("stemi"):  # a STEMI is read at once
            o.reported = _mins(o.acquired or o.ordered, 3 + 6 * u)
            o.started = _mins(o.acquired or o.ordered, 1 + u)
        o.critical = True
        o.criticals.append(("finding", crit, w.findings[crit].name, None, o.reported))


def _ensure_stemi(rng: np.random.Generator, w: _World, plan: _Plan, least: int = 4) -> None:
    """Several STEMIs among the ECGs the townships and villages sent (however small the demo): the story."""
    rural = [o for o in plan.orders if o.kind == "ecg" and o.report and not o.live
             and w.facilities[o.fac].care_level in ("township", "village")]
    have = sum(1 for o in rural if o.report.startswith("stemi"))
    pool = [o for o in rural if not o.critical and o.urgency != "routine"] or [o for o in rural if not o.critical]
    for k in rng.permutation(len(pool))[:max(0, least - have)].tolist():
        o = pool[int(k)]
        _sign(w, o, "stemi_inferior" if k % 2 else "stemi_anterior", float(rng.random()))
        if o.reviewed is not None and o.reported is not None and o.reviewed < o.reported:
            o.reviewed = _mins(o.reported, 15)


def _lab(rng: np.random.Generator, w: _World, o: _O, icd: str, typ: str, age: int, p: Any, level: str) -> None:
    panel = w.panels[o.code]
    values = _lab_values(rng, panel, icd, age, p.sex, typ, float(rng.random()))
    patient = rules.Patient(rules.age_in_days(p.birth, o.ordered.date()), p.sex, frozenset(p.tags))
    fac = w.facilities[o.fac]
    facilities = [o.fac] + ([fac.parent_id] if fac.parent_id else [])
    on = (o.reported or o.ordered).astimezone(TZ).date()
    o.source = "manual" if level == "township" and o.code == "CBC" else "hl7"
    for a in panel:
        value = _fmt(values[a.code], a.decimals)
        flag = "N"
        if a.ref_low is not None and value < a.ref_low:
            flag = "L"
        elif a.ref_high is not None and value > a.ref_high:
            flag = "H"
        verdict = rules.evaluate(value, "", a.unit, w.rules_of(a.code), patient, on,
                                 facilities, a.unit_factors or {})
        if verdict is not None:
            flag = verdict.flag
            o.critical = True
            o.criticals.append(("lab", a.code, rules.describe(a.name, value, "", a.unit, verdict), value,
                                o.reported, verdict.rule.id))
        o.results.append((a, value, flag))


# ---- the critical loop of one value -----------------------------------------------------------------------


def _loop(rng: np.random.Generator, w: _World, o: _O, detected: dt.datetime, reporter: int, description: str,
          value: Decimal | None, stemi: bool, at_home: bool, now: dt.datetime) -> tuple[dict, list[tuple]]:
    """The value's fields and its events (kind, at, by, to, level, note), drawn: 85 % acknowledged within the
    limit, the rest escalated up the ladder first; then an action and the close."""
    center = w.centers[o.kind]
    limit = center.ack_limit(o.urgency)
    doctor = o.by
    due = _mins(detected, limit)
    events: list[tuple[str, dt.datetime, int | None, int | None, int, str]] = [
              ("detected", detected, reporter, None, 0, description[:200]),
              ("notified", detected, reporter, doctor, 0, "")]
    cv: dict[str, Any] = {"status": "notified", "level": 0, "detected_at": detected, "notified_at": detected,
                          "notified_to": doctor, "ack_due_at": due, "reported_by": reporter}
    v = rng.random(6)
    late = (v[0] < 0.15 and not o.live) or o.wait  # a live one waits for the demo's doctor
    ack_by = doctor
    director = -1  # a facility director may acknowledge; the clinical action is a doctor's
    level = 0
    t = due
    if late:
        ladder = [(1, w.director.get(o.fac) or w.director.get(w.facilities[o.fac].parent_id or 0) or []),
                  (2, [center.duty_doctor] if center.duty_doctor else []), (3, w.dispatchers if at_home else [])]
        steps = 1 if o.wait else 1 + int(v[1] < 0.45) + int(v[1] < 0.12 and at_home)
        last = due  # the moment of the last escalation (a level nobody holds is skipped at the same moment)
        for lv, told in ladder[:steps]:
            if not told:
                events.append(("skipped", t, None, None, lv, rules.LADDER[lv].label))
                continue
            kind = "alert_120" if lv == 3 else "escalated"
            events += [(kind, t, None, u.pk, lv, rules.LADDER[lv].label) for u in told[:2]]
            level, cv["notified_to"], last = lv, told[0].pk, t
            if lv == 1 and v[2] < 0.5:
                ack_by = director = told[0].pk
            if lv == 2:
                ack_by = told[0].pk if v[2] < 0.7 else doctor
            t = _mins(t, center.escalate_minutes)
        ack_at = _mins(last, center.escalate_minutes * (0.1 + 0.8 * v[3])) if not o.wait else _mins(now, 5)
        cv["ack_due_at"] = _mins(last, center.escalate_minutes) if level else due
        if level == 3:
            ack_by = doctor  # the 120 dispatcher reaches the patient; the doctor acknowledges and acts
    else:
        ack_at = _mins(detected, 0.5 + (limit - 0.6) * v[3]) if not o.live else _mins(now, limit)
    cv["level"] = level
    if ack_at > now:  # still waiting on the demo's now: leave it open
        cv["status"] = "escalated" if level else "notified"
        return cv, [e for e in events if e[1] <= now]
    read_back = description.split("（")[0] if value is not None else description
    cv.update(status="acknowledged", acknowledged_at=ack_at, acknowledged_by=ack_by, read_back=read_back[:200])
    events.append(("acknowledged", ack_at, ack_by, None, level, read_back[:200]))
    action_at = _mins(ack_at, 2 + 40 * v[4])
    if action_at > now:
        return cv, events
    actor = doctor if ack_by == director else ack_by
    kind, note = _action(o, description, stemi, float(v[5]))
    cv.update(status="actioned", action_kind=kind, action_note=note, action_at=action_at, action_by=actor)
    events.append(("action", action_at, actor, None, level, note))
    closed_at = _mins(action_at, 5 + 120 * v[2])
    if closed_at <= now and v[5] < 0.96:
        cv.update(status="closed", closed_at=closed_at, closed_by=actor)
        events.append(("closed", closed_at, actor, None, level, ""))
    return cv, events


def _action(o: _O, description: str, stemi: bool, u: float) -> tuple[str, str]:
    if stemi:
        return "referral", "启动胸痛中心绿色通道：嚼服阿司匹林 300 mg、替格瑞洛 180 mg，120 转运至县中心医院导管室"
    if "颅内出血" in description or "脑出血" in description:
        return "referral", "急诊转县中心医院神经外科"
    if "气胸" in description:
        return "referral", "胸腔穿刺减压后转县中心医院胸外科"
    if "三度" in description:
        return "referral", "转县中心医院心内科，准备临时起搏"
    if "钾" in description:
        return "order", "复查血钾、心电监护，予降钾/补钾治疗" if u < 0.7 else "已电话通知患者返院复查"
    if "葡萄糖" in description:
        return "order", "复测指尖血糖，予胰岛素/静推葡萄糖处理"
    if "肌钙蛋白" in description:
        return (("referral", "按急性冠脉综合征处理，转县中心医院胸痛中心") if u < 0.6
                else ("order", "复查肌钙蛋白、心电图"))
    if "血红蛋白" in description or "血小板" in description:
        return "referral", "联系县中心医院输血科，转上级医院进一步治疗"
    return ("call", "电话通知患者及家属返院复查") if u < 0.4 else ("note", "已告知主管医生，调整治疗并记录病程")


# ---- live work at the demo's now ---------------------------------------------------------------------------


def _live(ctx: DemoContext, rng: np.random.Generator, w: _World, plan: _Plan, now: dt.datetime) -> None:
    """Open orders on each worklist (urgency mixed, a few overdue), and the demo doctors' own: a STEMI ECG from
    the demo village clinic waiting for the ECG center, a critical potassium the township doctor has not yet
    acknowledged, a report for the village doctor to read."""
    people = w.people
    demo = {u.username: u for u in User.objects.filter(username__in=["village_doctor", "township_doctor",
                                                                     "county_doctor"])}

    def resident_at(prefix: str, adult: bool = True) -> int:
        local = [i for i, p in enumerate(people) if p.village_code.startswith(prefix)
                 and (not adult or (ctx.today - p.birth).days > 45 * 365)]
        return local[int(rng.integers(0, len(local)))] + 1

    def order(code: str, user: User, rid: int, minutes_ago: float, urgency: str, status: str, question: str,
              **kw: Any) -> _O:
        item = w.items[code]
        kind = item.center.kind
        t = now - dt.timedelta(minutes=minutes_ago)
        o = _O(code=code, kind=kind, rid=rid, area=people[rid - 1].village_code, enc=None,
               fac=int(user.facility_id or 0),
               by=user.pk, question=question, urgency=urgency, ordered=t, status=status, live=True, home=True)
        o.due = workflow.due_at(t, w.centers[kind].tat_minutes(urgency))
        level = w.facilities[int(user.facility_id or 0)].care_level
        if status != "ordered":
            o.acquired = _mins(t, min(8, minutes_ago / 3))
            o.device = _device_for(w, o, level)
        if status == "in_progress":
            o.started = _mins(o.acquired or t, min(5, minutes_ago / 3))
        for k, val in kw.items():
            setattr(o, k, val)
        plan.orders.append(o)
        return o

    vdoc, tdoc = demo.get("village_doctor"), demo.get("township_doctor")
    towns = sorted((f for f in w.facilities.values() if f.care_level == "township"), key=lambda f: f.code)
    others = [w.orderer[f.pk] for f in towns if w.orderer.get(f.pk) is not None and w.orderer[f.pk] != tdoc]
    if vdoc is not None and vdoc.facility is not None:
        rid = resident_at(vdoc.facility.region.code)
        order("ECG12", vdoc, rid, 6, "emergency", "acquired", "胸痛 40 分钟，大汗，疑似急性心肌梗死",
              ecg="stemi_inferior")
        rid2 = resident_at(vdoc.facility.region.code)
        order("ECG12", vdoc, rid2, 26 * 60, "routine", "reported", "高血压随访心电图", ecg="lvh", report="lvh")
        plan.orders[-1].reported = now - dt.timedelta(hours=23)
        plan.orders[-1].started = now - dt.timedelta(hours=23, minutes=10)
        plan.orders[-1].acquired = now - dt.timedelta(hours=25)
    if tdoc is not None and tdoc.facility is not None:
        prefix = tdoc.facility.region.code[:9]
        rid = resident_at(prefix)
        o = order("CHEM", tdoc, rid, 95, "urgent", "reported", "心衰患者乏力，复查电解质")
        o.acquired, o.started, o.reported = _mins(o.ordered, 10), _mins(o.ordered, 50), now - dt.timedelta(minutes=4)
        o.source = "hl7"
        values = {"K": Decimal("6.85"), "NA": Decimal("136.0"), "CA": Decimal("2.21"), "GLU": Decimal("6.40"),
                  "CR": Decimal("168"), "ALT": Decimal("22"), "TBIL": Decimal("11.0")}
        patient = rules.Patient(rules.age_in_days(people[rid - 1].birth, ctx.today), people[rid - 1].sex)
        for a in w.panels["CHEM"]:
            value = values[a.code]
            verdict = rules.evaluate(value, "", a.unit, w.rules_of(a.code), patient,
                                     ctx.today, [int(tdoc.facility_id or 0)])
            flag = verdict.flag if verdict else ("H" if a.ref_high is not None and value > a.ref_high else "N")
            o.results.append((a, value, flag))
            if verdict:
                o.critical = True
                o.criticals.append(("lab", a.code, rules.describe(a.name, value, "", a.unit, verdict), value,
                                    o.reported, verdict.rule.id))
        order("DX-CHEST", tdoc, resident_at(prefix), 3 * 60, "urgent", "acquired", "发热咳嗽 3 天，肺炎？")
        order("CBC", tdoc, resident_at(prefix, adult=False), 40, "routine", "ordered", "发热待查")
    # another township's positive troponin: not acknowledged within the limit, escalated to its director
    other = next((w.orderer[f.pk] for f in sorted((f for f in w.facilities.values() if f.care_level == "township"),
                                                   key=lambda f: f.code)
                  if w.orderer.get(f.pk) is not None and w.orderer[f.pk] != tdoc and w.director.get(f.pk)), None)
    if other is not None:
        rid = resident_at(w.facilities[int(other.facility_id or 0)].region.code[:9])
        o = order("TROP", other, rid, 70, "emergency", "reported", "胸痛 2 小时，排除急性心肌梗死", wait=True)
        o.acquired, o.started, o.reported = _mins(o.ordered, 8), _mins(o.ordered, 30), now - dt.timedelta(minutes=17)
        a = w.panels["TROP"][0]
        value = Decimal("2.365")
        patient = rules.Patient(rules.age_in_days(people[rid - 1].birth, ctx.today), people[rid - 1].sex)
        verdict = rules.evaluate(value, "", a.unit, w.rules_of(a.code), patient, ctx.today,
                                 [int(other.facility_id or 0)])
        o.results.append((a, value, verdict.flag if verdict else "H"))
        if verdict:
            o.critical = True
            o.criticals.append(("lab", a.code, rules.describe(a.name, value, "", a.unit, verdict), value, o.reported,
                                verdict.rule.id))
    # the rest of each worklist: other townships' orders, mixed urgency and waiting time, a few overdue
    live = [("ECG12", "emergency", "acquired", 12, "胸闷待查"), ("ECG12", "urgent", "acquired", 45, "心悸"),
            ("ECG12", "routine", "acquired", 150, "高血压随访心电图"),
            ("ECG12", "routine", "in_progress", 70, "术前心电图"),
            ("ECG12", "routine", "ordered", 20, "糖尿病年度体检"),
            ("CT-HEAD", "emergency", "acquired", 25, "突发左侧肢体无力 2 小时"),
            ("DX-CHEST", "routine", "acquired", 26 * 60, "慢阻肺复查"), ("DX-CHEST", "routine", "in_progress", 5 * 60,
                                                                   "咳嗽 2 周"),
            ("US-ABD", "routine", "ordered", 90, "右上腹痛"), ("CT-ABD", "urgent", "acquired", 150, "腹痛，结石？"),
            ("CBC", "emergency", "acquired", 50, "急诊：发热"), ("CHEM", "routine", "in_progress", 5 * 60, "入院常规"),
            ("COAG", "urgent", "acquired", 30, "术前凝血功能"), ("TROP", "emergency", "in_progress", 35, "胸痛待查"),
            ("PATH-BIOPSY", "routine", "acquired", 3 * 24 * 60, "胃镜活检"),
            ("PATH-BIOPSY", "routine", "in_progress", 6 * 24 * 60, "肺占位穿刺活检")]
    for k, (code, urgency, status, minutes, question) in enumerate(live):
        user = others[k % len(others)] if others else tdoc
        if user is None:
            continue
        prefix = w.facilities[int(user.facility_id or 0)].region.code[:9]
        o = order(code, user, resident_at(prefix), minutes, urgency, status, question)
        if o.kind == "ecg" and status != "ordered":
            o.ecg = "normal" if k % 2 else "stt"
        if o.kind == "pathology":
            o.specimen = ("胃黏膜活检组织", "胃窦") if k % 2 == 0 else ("穿刺组织", "右肺上叶")
    # consultations waiting on the center: requested and scheduled
    for k, code in enumerate(["CONS-CARD", "CONS-RESP", "CONS-NEURO"]):
        user = tdoc if k == 0 and tdoc is not None else (others[k % len(others)] if others else tdoc)
        if user is None:
            continue
        rid = resident_at(w.facilities[int(user.facility_id or 0)].region.code[:9])
        plan.consultations.append({"code": code, "rid": rid, "area": people[rid - 1].village_code, "enc": None,
                                   "fac": int(user.facility_id or 0), "by": user.pk,
                                   "at": now - dt.timedelta(hours=3 + 20 * k),
                                   "u": 0.0, "live": "requested" if k != 1 else "scheduled"})


# ---- writing -----------------------------------------------------------------------------------------------


def _accessions(orders: list[_O]) -> None:
    seq: dict[str, int] = {}
    for o in sorted(orders, key=lambda o: o.ordered):
        day = o.ordered.astimezone(TZ).date()
        prefix = workflow.accession_prefix(o.kind, day)
        seq[prefix] = seq.get(prefix, 0) + 1
        o.accession = workflow.accession(o.kind, day, seq[prefix])


def _recognise(rng: np.random.Generator, w: _World, plan: _Plan) -> None:
    """互认: an order of a recognised item within its window of an earlier result of the same resident becomes
    either a recognition (no order placed, the fee saved) or a repeat with its reason."""
    last: dict[tuple[int, str], _O] = {}
    keep = []
    for o in sorted(plan.orders, key=lambda o: o.ordered):
        item = w.items[o.code]
        prior = last.get((o.rid, o.code))
        if (item.recognised and item.validity_days and prior is not None and prior.reported is not None
                and prior.reported <= o.ordered - dt.timedelta(minutes=30)
                and o.ordered - prior.reported <= dt.timedelta(days=item.validity_days)
                and not o.live and o.status != "cancelled"):
            if rng.random() < 0.55:
                plan.recognitions.append((prior, o, "recognised", ""))
                continue
            o.rec = (prior, D.REPEAT_REASONS[int(rng.integers(0, len(D.REPEAT_REASONS)))])
        if o.status != "cancelled" and o.reported is not None:
            last[(o.rid, o.code)] = o
        keep.append(o)
    plan.orders = keep


def _next_id(model) -> int:
    return (model.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1


def _report_text(w: _World, o: _O, rng: np.random.Generator) -> tuple[str, str, dict, int | None]:
    t = w.templates[o.report]
    hr = int(rng.integers(62, 96))
    if o.report in ("tachy",):
        hr = int(rng.integers(102, 128))
    if o.report == "af":
        hr = int(rng.integers(88, 132))
    if o.report == "avb3":
        hr = int(rng.integers(32, 42))
    qt = int(rng.integers(360, 420))
    qtc = int(qt / np.sqrt(60 / hr))
    spec = next(s for s in D.TEMPLATES if s[2] == o.report)
    findings = spec[4].format(hr=hr, pr=int(rng.integers(130, 190)), qrs=int(rng.integers(78, 102)), qt=qt, qtc=qtc)
    structured = {"hr": hr, "qtc": qtc} if o.kind == "ecg" else {}
    return findings, spec[5], structured, t.pk


@functools.cache  # per process: the tests build the demo several times (the arrays are never written to)
def _ecg_templates(n_normal: int = 2) -> dict[str, list[tuple[np.ndarray, int, float, dict]]]:
    """A few simulated recordings per pattern (the simulator is the app's); each recording varies one."""
    try:
        from yigongti.telemedicine.ecg import simulate
    except ImportError:  # pragma: no cover - the simulator ships with the app
        return {}
    try:
        from yigongti.telemedicine.ecg.measure import measure
    except ImportError:  # pragma: no cover
        measure = None  # type: ignore[assignment]
    out: dict[str, list] = {}
    plan = {"normal": (None, None), "lvh": (None, None), "stt": (None, None), "tachy": (None, 112),
            "af": (None, 104), "avb3": (None, 38), "stemi_inferior": ("inferior", None),
            "stemi_anterior": ("anterior", None)}
    for key, (stemi, hr) in plan.items():
        for s in range(n_normal if key == "normal" else 1):
            samples, rate, uv = simulate.twelve_lead(1000 + 17 * s + len(out) * 101, stemi=stemi, hr=hr)
            m: dict = {}
            if measure is not None:
                try:  # as the ECG service stores them (with its measurement version)
                    m = {**measure(samples, rate, uv), "version": 1}
                except (ValueError, FloatingPointError, IndexError):  # assistance: a template without is fine
                    m = {}
            out.setdefault(key, []).append((samples, rate, uv, m))
    return out


def _vary(rng: np.random.Generator, samples: np.ndarray, noise: np.ndarray) -> bytes:
    """One recording from a template: shifted in time, scaled a little, with a slice of the noise bank (a few
    microvolts: what an electrocardiograph's own noise looks like)."""
    n = samples.shape[1]
    shift = int(rng.integers(0, n // 4))
    start = int(rng.integers(0, noise.shape[1] - n))
    scale = float(rng.uniform(0.9, 1.1))
    out = np.roll(samples, shift, axis=1).astype(np.float32) * scale + noise[:, start:start + n]
    return np.clip(out, -32768, 32767).astype("<i2").tobytes()


def _study_uid(accession: str) -> str:
    return "2.25." + str(uuid.uuid5(uuid.NAMESPACE_OID, f"yigongti-demo:{accession}").int)


def _orthanc_id(patient_id: str, study_uid: str) -> str:
    """Orthanc's own identifier of a study (SHA-1 of PatientID|StudyInstanceUID, in five groups)."""
    h = hashlib.sha1(f"{patient_id}|{study_uid}".encode()).hexdigest()
    return "-".join(h[i:i + 8] for i in range(0, 40, 8))


def _write(ctx: DemoContext, rng: np.random.Generator, w: _World, plan: _Plan, now: dt.datetime) -> dict:
    orders = sorted(plan.orders, key=lambda o: o.ordered)
    _accessions(orders)
    oid = _next_id(Order)
    for k, o in enumerate(orders):
        o.id = oid + k
    readers = {"ecg": w.readers["ecg_reader"].pk, "imaging": w.readers["imaging_reader"].pk,
               "lab": w.readers["lab_tech"].pk, "pathology": w.readers["pathologist"].pk}
    reviewer = w.readers["center_director"].pk
    # recognitions
    rec_rows, rec_id = [], _next_id(Recognition)
    for prior, o, decision, reason in plan.recognitions:
        item = w.items[o.code]
        rec_rows.append((rec_id, o.rid, o.area, item.pk, prior.id, decision, reason, o.fac, o.by, o.ordered,
                         str(item.price)))
        rec_id += 1
    for o in orders:
        if o.rec:
            prior, reason = o.rec
            item = w.items[o.code]
            rec_rows.append((rec_id, o.rid, o.area, item.pk, prior.id, "repeated", reason, o.fac, o.by, o.ordered,
                             "0.00"))
            o.rec = rec_id
            rec_id += 1

    def order_rows():
        for o in orders:
            item = w.items[o.code]
            yield (o.id, o.accession, w.centers[o.kind].pk, item.pk, o.kind, o.rid, o.area, o.enc, o.fac, o.by,
                   o.question, o.urgency, PRIORITY[o.urgency], o.status, o.device, o.ordered, o.acquired, o.started,
                   o.reported, o.reviewed, o.due, o.cancel or "", o.critical, o.rec if isinstance(o.rec, int) else None,
                   "")

    ev: list[tuple] = []
    reports: list[tuple] = []
    results: list[tuple] = []
    crit_rows: list[tuple] = []
    crit_events: list[tuple] = []
    specimens: list[tuple] = []
    studies: list[tuple] = []
    cv_id, lr_id, rp_id = _next_id(CriticalValue), _next_id(LabResult), _next_id(Report)
    for o in orders:
        reader = readers.get(o.kind)
        ev.append((o.id, "ordered", o.ordered, o.by, o.question[:200]))
        if o.status == "cancelled":
            ev.append((o.id, "cancelled", _mins(o.ordered, 30), o.by, o.cancel))
            continue
        if o.acquired is not None:
            ev.append((o.id, "acquired", o.acquired, o.by, ""))
        if o.started is not None and o.kind != "lab":
            ev.append((o.id, "started", o.started, reader, ""))
        if o.reported is not None:
            if o.kind == "lab":
                n = len(o.results)
                ev.append((o.id, "reported", o.reported, reader if o.source == "hl7" else o.by,
                           f"收到 {n} 项检验结果（{'HL7' if o.source == 'hl7' else '手工录入'}）"))
                by = None if o.source == "hl7" else o.by
                for a, value, flag in o.results:
                    results.append((lr_id, o.id, a.pk, value, "", a.unit, str(value), a.unit, a.ref_low, a.ref_high,
                                    flag, o.reported, o.source, by))
                    lr_id += 1
            elif o.report:
                findings, conclusion, structured, template = _report_text(w, o, rng)
                reports.append((rp_id, o.id, findings, json.dumps(structured, ensure_ascii=False), conclusion,
                                template, reader, o.reported, reviewer if o.reviewed else None, o.reviewed,
                                "同意" if o.reviewed else "", o.critical, 1))
                rp_id += 1
                ev.append((o.id, "reported", o.reported, reader, conclusion[:200]))
        if o.reviewed is not None:
            ev.append((o.id, "reviewed", o.reviewed, reviewer, ""))
        if o.kind == "pathology" and o.specimen:
            typ, site = o.specimen
            collected = o.acquired or o.ordered
            sent = _mins(collected, 60)
            received = _mins(collected, 60 * 20) if o.status != "acquired" or o.started else None
            sectioned = _mins(collected, 60 * 44) if o.reported else None
            status = ("reported" if o.reported else "sectioned" if sectioned else "received" if o.started
                      else "sent")
            if o.live:
                received = o.started
                sectioned = None
                status = "received" if o.started else "sent"
            specimens.append((f"S{o.accession[1:]}", o.id, typ, site, 1, "10%中性福尔马林", status, collected, sent,
                              received, sectioned, o.reported, ""))
        if o.kind == "imaging" and o.acquired is not None:
            item = w.items[o.code]
            uid = _study_uid(o.accession)
            pid = f"YGT{o.rid:08d}"
            n = 1 if item.modality in ("DX", "US") else 24
            studies.append((o.id, "matched", _orthanc_id(pid, uid), uid, o.accession, item.modality, item.name,
                            "", o.device, o.acquired.astimezone(TZ).date(), 1, n, "[]", "[]", _mins(o.acquired, 2),
                            _mins(o.acquired, 2)))
        # the critical values of this order
        for c in o.criticals:
            if c[0] == "finding":
                _kind, code, desc, value, when = c
                finding, rule_id = w.findings[code].pk, None
                stemi = w.findings[code].stemi
            else:
                _kind, code, desc, value, when, rule_id = c
                finding, stemi = None, False
            reporter = readers.get(o.kind, reader)
            fields, events = _loop(rng, w, o, when, reporter or o.by, desc, value, stemi, bool(o.home), now)
            result_id = None
            if c[0] == "lab":
                # the result row of that analyte (just appended above, in panel order)
                for back, row in enumerate(reversed(results)):
                    if row[1] == o.id and row[2] == w.analytes[code].pk:
                        result_id = row[0]
                        break
                    if back > 20:
                        break
            crit_rows.append((cv_id, o.id, result_id, rule_id, finding, o.kind, desc[:200], o.rid, o.area, o.fac,
                              fields["status"], fields["level"], fields["detected_at"], fields["reported_by"],
                              fields["notified_at"], fields["notified_to"], fields["ack_due_at"],
                              fields.get("acknowledged_at"), fields.get("acknowledged_by"), fields.get("read_back", ""),
                              fields.get("action_kind", ""), fields.get("action_note", ""), "",
                              fields.get("action_at"), fields.get("action_by"), fields.get("closed_at"),
                              fields.get("closed_by")))
            crit_events += [(cv_id, *e) for e in events]
            cv_id += 1
    order_cols = ["id", "accession_no", "center", "item", "kind", "resident", "area_code", "encounter", "facility",
                  "ordered_by", "clinical_question", "urgency", "priority", "status", "device", "ordered_at",
                  "acquired_at", "started_at", "reported_at", "reviewed_at", "due_at", "cancelled_reason", "critical",
                  "recognition", "idempotency_key"]
    with transaction.atomic():
        load_rows(Order, order_cols, order_rows())
        load_rows(Recognition, ["id", "resident", "area_code", "item", "prior_order", "decision", "reason", "facility",
                                "decided_by", "decided_at", "saved_amount"], rec_rows)
        load_rows(OrderEvent, ["order", "kind", "at", "by", "note"], ev)
        load_rows(Report, ["id", "order", "findings", "structured", "conclusion", "template", "reader", "signed_at",
                           "reviewer", "reviewed_at", "review_note", "critical", "version"], reports)
        load_rows(LabResult, ["id", "order", "analyte", "value", "value_text", "unit", "received_value",
                              "received_unit", "ref_low", "ref_high", "flag", "observed_at", "source", "entered_by"],
                  results)
        load_rows(CriticalValue, ["id", "order", "result", "rule", "finding", "kind", "description", "resident",
                                  "area_code", "facility", "status", "level", "detected_at", "reported_by",
                                  "notified_at", "notified_to", "ack_due_at", "acknowledged_at", "acknowledged_by",
                                  "read_back", "action_kind", "action_note", "action_ref", "action_at", "action_by",
                                  "closed_at", "closed_by"], crit_rows)
        load_rows(CriticalEvent, ["critical", "kind", "at", "by", "to", "level", "note"], crit_events)
        load_rows(Specimen, ["specimen_no", "order", "specimen_type", "site", "container_count", "fixative", "status",
                             "collected_at", "sent_at", "received_at", "sectioned_at", "reported_at", "reject_reason"],
                  specimens)
        load_rows(ImagingStudy, ["order", "status", "orthanc_id", "study_instance_uid", "accession_no", "modality",
                                 "description", "source_ae", "device", "study_date", "series_count",
                                 "instance_count", "instances", "key_instances", "received_at", "matched_at"],
                  studies)
        reset_sequences(Order, OrderEvent, Report, LabResult, CriticalValue, CriticalEvent, Specimen, ImagingStudy,
                        Recognition)
    _ecg_rows(rng, w, orders)
    _consultations(rng, w, plan, now)
    _open_jobs(now)
    _inbox(now)
    analyze(Order, OrderEvent, LabResult, CriticalValue, CriticalEvent, Report)
    return {"orders": len(orders), "results": len(results), "criticals": len(crit_rows), "reports": len(reports),
            "recognitions": len(rec_rows), "studies": len(studies), "specimens": len(specimens)}


def _ecg_rows(rng: np.random.Generator, w: _World, orders: list[_O]) -> int:
    templates = _ecg_templates()
    if not templates:
        return 0
    acquired = [o for o in orders if o.kind == "ecg" and o.acquired is not None and o.ecg]
    keep = [o for o in acquired if o.live] + [o for o in reversed(acquired) if not o.live][:ECG_KEEP]
    rows = []
    first = next(iter(templates.values()))[0][0]
    noise = rng.normal(0, 2.5, (first.shape[0], first.shape[1] * 2)).astype(np.float32)
    for o in keep:
        opts = templates.get(o.ecg) or templates["normal"]
        samples, rate, uv, m = opts[int(rng.integers(0, len(opts)))]
        rows.append(EcgRecording(order_id=o.id, device_id=o.device, source_format="dicom", file="",
                                 sample_rate=rate, n_samples=samples.shape[1],
                                 leads=["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"],
                                 microvolts_per_unit=uv, samples=_vary(rng, samples, noise), measurements=m,
                                 acquired_at=o.acquired or o.ordered))
    for i in range(0, len(rows), 100):
        EcgRecording.objects.bulk_create(rows[i:i + 100])
    return len(rows)


def _consultations(rng: np.random.Generator, w: _World, plan: _Plan, now: dt.datetime) -> None:
    center = w.centers["consultation"]
    specialist = w.readers["specialist"].pk
    rows = []
    seq: dict[str, int] = {}
    for c in sorted(plan.consultations, key=lambda c: c["at"]):
        t = c["at"]
        if t >= now and not c.get("live"):
            continue
        day = t.astimezone(TZ).date()
        prefix = workflow.accession_prefix("consultation", day)
        seq[prefix] = seq.get(prefix, 0) + 1
        item = w.items[c["code"]]
        urgency = "urgent" if c["u"] < 0.2 else "routine"
        cons = Consultation(accession_no=workflow.accession("consultation", day, seq[prefix]), center=center,
                            item=item, resident_id=c["rid"], area_code=c["area"], encounter_id=c["enc"],
                            facility_id=c["fac"], requested_by_id=c.get("by") or w.orderer[c["fac"]].pk,
                            specialty_id=item.specialty_id, question=D.CONSULT_QUESTIONS[c["code"]],
                            summary="病史、查体及辅助检查结果见共享档案", urgency=urgency, requested_at=t)
        live = c.get("live")
        if live == "requested":
            pass
        elif live == "scheduled":
            cons.status, cons.specialist_id = "scheduled", specialist
            cons.scheduled_at = now + dt.timedelta(hours=18)
            cons.video_url = f"https://meeting.example.cn/lanshan/consult-{cons.accession_no}"
        elif c["u"] < 0.05:
            cons.status, cons.closed_reason = "cancelled", "患者已自行前往县中心医院就诊"
        else:
            cons.status, cons.specialist_id = "answered", specialist
            cons.scheduled_at = _mins(t, 60 * (2 + 20 * rng.random()))
            cons.video_url = f"https://meeting.example.cn/lanshan/consult-{cons.accession_no}"
            cons.opinion = D.CONSULT_OPINIONS[c["code"]]
            cons.answered_at = _mins(cons.scheduled_at, 30 + 30 * rng.random())
        rows.append(cons)
    Consultation.objects.bulk_create(rows, batch_size=2000)


def _url(name: str, pk: int) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(f"telemedicine:{name}", args=[pk])
    except NoReverseMatch:
        return ""


def _inbox(now: dt.datetime) -> None:
    """What the services would have put in the inboxes around the demo's now: the open critical values for
    whoever was told last, and the day's reports for the doctors who ordered them."""
    from yigongti.core.models import Notification

    rows = []
    for cv in CriticalValue.objects.filter(status__in=rules.UNACKNOWLEDGED, notified_to__isnull=False
                                           ).select_related("order", "resident"):
        minutes = int(((cv.ack_due_at or now) - now).total_seconds() // 60)
        rows.append(Notification(recipient_id=int(cv.notified_to_id or 0), kind="critical_value", urgent=True,
                                 title=f"危急值：{cv.resident.name} {cv.description}，请立即复述确认"[:200],
                                 body=f"申请单 {cv.order.accession_no}；请在 {max(minutes, 0)} 分钟内确认并处置。",
                                 url=_url("critical_detail", cv.pk)))
    since = now - dt.timedelta(days=2)
    for o in (Order.objects.filter(reported_at__gte=since, reported_at__lte=now,
                                   ordered_by__username__in=["village_doctor", "township_doctor", "county_doctor"])
              .select_related("item", "resident")):
        mark = "【危急值】" if o.critical else ""
        rows.append(Notification(recipient_id=o.ordered_by_id, kind="tm_report", urgent=o.critical,
                                 title=f"{mark}{o.item.name}报告已出：{o.resident.name}（{o.accession_no}）"[:200],
                                 url=_url("order", o.pk)))
    Notification.objects.bulk_create(rows)


def _open_jobs(now: dt.datetime) -> None:
    """The escalation timers of the values still waiting at the demo's now (as the service schedules them)."""
    from yigongti.core.jobs import schedule

    for pk, due, level in CriticalValue.objects.filter(status__in=rules.UNACKNOWLEDGED, ack_due_at__isnull=False
                                                       ).values_list("pk", "ack_due_at", "level"):
        schedule("telemedicine.escalate", due, {"critical": pk, "level": level}, key=f"critical:{pk}:{level}")


def _orthanc(ctx: DemoContext, w: _World, plan: _Plan) -> int:
    """A handful of synthetic studies into Orthanc when it is configured (the newest imaging orders, the live
    ones first); their rows are replaced by what the PACS says. Never fails the demo."""
    try:
        from yigongti.telemedicine import dicomgen, imaging, pacs

        client = pacs.client()
        if client is None:
            return 0
        picks = [o for o in plan.orders if o.kind == "imaging" and o.acquired is not None
                 and w.items[o.code].modality in ("DX", "CT")]
        picks = sorted(picks, key=lambda o: (not o.live, -o.ordered.timestamp()))[:ORTHANC_STUDIES]
        from yigongti.residents.models import Resident

        people = {r.pk: r for r in Resident.objects.filter(pk__in=[o.rid for o in picks])}
        sent = 0
        for o in picks:
            r = people.get(o.rid)
            if r is None:
                continue
            item = w.items[o.code]
            files = dicomgen.study(o.accession, f"YGT{o.rid:08d}", r.name, item.modality,
                                   1 if item.modality == "DX" else 12, description=item.name, when=o.acquired,
                                   sex=r.sex, seed=o.id)
            ImagingStudy.objects.filter(order_id=o.id).delete()
            imaging.upload_study(files, client=client)
            sent += 1
        imaging.reset_cursor()
        imaging.sync_studies(actor=SYSTEM, client=client)
        return sent
    except Exception:
        log.warning("demo: could not send the synthetic studies to Orthanc", exc_info=True)
        return 0


# ---- the step --------------------------------------------------------------------------------------------


def build_telemedicine(ctx: DemoContext) -> None:
    rng = ctx.rng("telemedicine")
    now = ctx.now or timezone.now()
    with transaction.atomic():
        readers = _accounts(ctx)
        centers = _centers(ctx, readers)
        items, analytes, panels, templates = _catalogue(ctx, centers)
        rule_list, findings = _critical_tables(ctx, analytes, readers["center_director"])
        devices = _devices(ctx, rng)
        orderer, directors, dispatchers = _ordering_accounts(ctx)
    facilities = {f.pk: f for f in ctx.facilities.values()}
    w = _World(centers, items, analytes, panels, templates, findings, rule_list, readers, orderer, directors,
               dispatchers, devices, facilities, ctx.community.lead_facility, ctx.extra["people"])
    plan = _draw(ctx, rng, w)
    _ensure_stemi(rng, w, plan)
    _live(ctx, rng, w, plan, now)
    _recognise(rng, w, plan)
    counts = _write(ctx, rng, w, plan, now)
    counts["orthanc"] = _orthanc(ctx, w, plan)
    ctx.extra["telemedicine"] = counts
