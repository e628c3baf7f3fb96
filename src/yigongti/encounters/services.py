"""Writes of the encounters app: recording an encounter, importing settlements, population and deaths."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from yigongti.core import audit
from yigongti.core.errors import Forbidden, InvalidInput, collect
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Facility
from yigongti.residents.models import Resident

from .importers import ICD10_RE, PARSERS, ImportReport, RowError, read_table
from .models import Death, Encounter, EncounterType, InsuranceScheme, InsuranceSettlement, PopulationByAge

IMPORT_ROLES = {"bureau", "city", "insurance_officer", "community_manager"}
RECORD_ROLES = {"doctor", "village_doctor", "nurse", "facility_admin"}
COST_FIELDS = ("total_cost", "drug_cost", "material_cost", "exam_cost", "other_cost", "insurance_paid", "self_pay")


def _money(v, field: str, errors: dict) -> Decimal | None:
    if v in (None, ""):
        return None
    try:
        d = Decimal(str(v)).quantize(Decimal("0.01"))
    except Exception:
        errors[field] = ["金额不是数字"]
        return None
    if d < 0:
        errors[field] = ["金额不能为负"]
    return d


def record_encounter(actor, user, data: dict) -> Encounter:
    """接诊登记: a clinician records a visit or an admission at their own facility."""
    if user.role not in RECORD_ROLES and not user.is_superuser:
        raise Forbidden("只有医疗机构的医务人员可以登记就诊")
    facility = user.facility
    if facility is None:
        raise Forbidden("账号未关联医疗机构")
    errors: dict[str, list[str]] = {}
    resident = Resident.objects.filter(pk=data.get("resident")).first()
    if resident is None or not scope_for(user).contains(resident.area_code):
        errors["resident"] = ["居民不存在或不在您的管辖范围内"]
    etype = data.get("type")
    if etype not in EncounterType.values:
        errors["type"] = ["类别应为 门诊/急诊/住院"]
    admit, discharge = data.get("admit_date"), data.get("discharge_date")
    if not isinstance(admit, dt.date):
        errors["admit_date"] = ["请填写就诊日期"]
    if discharge is not None and isinstance(admit, dt.date) and discharge < admit:
        errors["discharge_date"] = ["出院日期早于入院日期"]
    icd = (data.get("main_icd10") or "").strip().upper()
    if icd and not ICD10_RE.match(icd):
        errors["main_icd10"] = ["不是有效的 ICD-10 编码"]
    costs = {f: _money(data.get(f), f, errors) for f in COST_FIELDS}
    if costs["total_cost"] is not None:
        parts = sum(costs[f] or 0 for f in ("drug_cost", "material_cost", "exam_cost", "other_cost"))
        if parts > costs["total_cost"]:
            errors["total_cost"] = ["分项费用之和大于总费用"]
    scheme = data.get("scheme") or InsuranceScheme.RESIDENT
    if scheme not in InsuranceScheme.values:
        errors["scheme"] = ["参保类型无效"]
    collect(errors)
    with transaction.atomic():
        enc = Encounter.objects.create(
            resident=resident, area_code=resident.area_code, residence_county=resident.area_code[:6],
            facility=facility, doctor=user.staff, type=etype, admit_date=admit,
            discharge_date=discharge if etype == EncounterType.INPATIENT else admit, main_icd10=icd,
            main_diagnosis=(data.get("main_diagnosis") or "")[:60], tcm=bool(data.get("tcm")),
            surgery=bool(data.get("surgery")), scheme=scheme, **costs)
        audit.record(actor, "create", "encounter", enc.pk, resident=resident.pk)
    return enc


def _check_import(user, kind: str) -> None:
    if kind not in PARSERS:
        raise InvalidInput("unknown_import", f"未知的导入类型：{kind}")
    if user is not None and user.role not in IMPORT_ROLES and not user.is_superuser:
        raise Forbidden("只有卫健局、医保经办和医共体管理人员可以导入此类数据")


def import_rows(actor, user, kind: str, source, name: str = "") -> ImportReport:
    """Validate every row of a file and write the good ones; rows outside the user's area are refused.
    Returns the per-row error report. ``user=None`` is the command line (no scope limit)."""
    _check_import(user, kind)
    report = ImportReport(kind)
    try:
        raw = read_table(source, name)
    except Exception as e:  # an unreadable file is one error, not a crash
        raise InvalidInput("unreadable_file", f"文件无法读取：{e}") from None
    report.total = len(raw)
    rows = PARSERS[kind](raw, report)
    scope = scope_for(user) if user is not None else None
    if scope is not None:
        kept = []
        for i, row in enumerate(rows):
            if scope.contains(row["area_code"]):
                kept.append(row)
            else:
                report.errors.append(RowError(0, "area_code", f"区划 {row['area_code']} 不在您的管辖范围内"))
        rows = kept
    with transaction.atomic():
        report.imported = WRITERS[kind](rows, report)
        audit.record(actor, "create", f"import_{kind}", "", total=report.total, imported=report.imported,
                     rejected=report.total - report.imported)
    return report


def _write_settlements(rows: list[dict], report: ImportReport) -> int:
    seen = set(InsuranceSettlement.objects.filter(settlement_no__in=[r["settlement_no"] for r in rows])
               .values_list("settlement_no", flat=True))
    ids = {r["id_number"] for r in rows if r["id_number"]}
    residents = dict(Resident.objects.filter(id_number__in=ids).values_list("id_number", "pk")) if ids else {}
    objs = []
    for r in rows:
        if r["settlement_no"] in seen:
            report.errors.append(RowError(0, "settlement_no", f"结算流水号 {r['settlement_no']} 已导入，跳过"))
            continue
        seen.add(r["settlement_no"])
        idn = r.pop("id_number")
        objs.append(InsuranceSettlement(resident_id=residents.get(idn), **r))
    InsuranceSettlement.objects.bulk_create(objs, batch_size=2000)
    return len(objs)


def _write_population(rows: list[dict], report: ImportReport) -> int:
    n = 0
    for r in rows:
        PopulationByAge.objects.update_or_create(area_code=r["area_code"], year=r["year"], sex=r["sex"],
                                                 age_from=r["age_from"], defaults={"population": r["population"]})
        n += 1
    return n


def _write_deaths(rows: list[dict], report: ImportReport) -> int:
    ids = {r["id_number"] for r in rows if r["id_number"]}
    residents = dict(Resident.objects.filter(id_number__in=ids).values_list("id_number", "pk")) if ids else {}
    objs = []
    for r in rows:
        idn = r.pop("id_number")
        objs.append(Death(resident_id=residents.get(idn), **r))
    Death.objects.bulk_create(objs, batch_size=2000)
    return len(objs)


WRITERS = {"settlements": _write_settlements, "population": _write_population, "deaths": _write_deaths}


def facility_for_code(code: str) -> Facility | None:
    return Facility.objects.filter(code=code).first()
