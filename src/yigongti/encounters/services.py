"""Writes of the encounters app: recording an encounter, importing settlements, population and deaths."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Forbidden, InvalidInput, collect
from yigongti.core.icd10 import normalise_icd10
from yigongti.core.scoping import scope_for
from yigongti.core.validation import check_date, parse_money
from yigongti.orgs.models import Facility
from yigongti.orgs.permissions import check
from yigongti.residents.models import Resident

from . import permissions  # noqa: F401  (declares the encounters.* verbs)
from .importers import CLI_MAX_ROWS, ICD10_RE, MAX_ROWS, PARSERS, ImportReport, RowError, read_table
from .models import Death, Encounter, EncounterType, InsuranceScheme, InsuranceSettlement, PopulationByAge

COST_FIELDS = ("total_cost", "drug_cost", "material_cost", "exam_cost", "other_cost", "insurance_paid", "self_pay")


def _money(v, field: str, errors: dict) -> Decimal | None:
    try:
        return parse_money(v)
    except ValueError as e:
        errors[field] = [str(e)]
        return None


def record_encounter(data: dict, *, actor: Actor) -> Encounter:
    """接诊登记: a clinician records a visit or an admission at their own facility."""
    check(actor, "encounters.record")
    user = actor.user
    facility = user.facility if user is not None else None
    if facility is None:
        raise Forbidden(_("账号未关联医疗机构"))
    errors: dict[str, list[str]] = {}
    resident_id = data.get("resident")
    resident = Resident.objects.filter(pk=resident_id).first() if resident_id is not None else None
    if resident is None or not scope_for(user).contains(resident.area_code):
        errors["resident"] = [_("居民不存在或不在您的管辖范围内")]
    etype = data.get("type") or ""
    if etype not in EncounterType.values:
        errors["type"] = [_("类别应为 门诊/急诊/住院")]
    admit, discharge = data.get("admit_date"), data.get("discharge_date")
    if not isinstance(admit, dt.date):
        errors["admit_date"] = [_("请填写就诊日期")]
    check_date(admit, errors, "admit_date", label="就诊日期")
    check_date(discharge, errors, "discharge_date", label="出院日期")
    if discharge is not None and isinstance(admit, dt.date) and discharge < admit:
        errors.setdefault("discharge_date", [_("出院日期早于入院日期")])
    icd = normalise_icd10(data.get("main_icd10"))
    if icd and not ICD10_RE.match(icd):
        errors["main_icd10"] = [_("不是有效的 ICD-10 编码")]
    costs = {f: _money(data.get(f), f, errors) for f in COST_FIELDS}
    if costs["total_cost"] is not None:
        parts = sum(costs[f] or 0 for f in ("drug_cost", "material_cost", "exam_cost", "other_cost"))
        if parts > costs["total_cost"]:
            errors["total_cost"] = [_("分项费用之和大于总费用")]
    scheme = data.get("scheme") or InsuranceScheme.RESIDENT
    if scheme not in InsuranceScheme.values:
        errors["scheme"] = [_("参保类型无效")]
    collect(errors)
    # collect() raised on any problem above, so from here on these hold
    assert resident is not None and isinstance(admit, dt.date)
    check(actor, "encounters.record", resident)
    with transaction.atomic():
        enc = Encounter.objects.create(
            resident=resident, area_code=resident.area_code, residence_county=resident.area_code[:6],
            facility=facility, doctor=user.staff, type=etype, admit_date=admit,
            discharge_date=discharge if etype == EncounterType.INPATIENT else admit, main_icd10=icd,
            main_diagnosis=(data.get("main_diagnosis") or "")[:60], tcm=bool(data.get("tcm")),
            surgery=bool(data.get("surgery")), scheme=scheme, **costs)
        audit.record(actor, "create", "encounter", enc.pk, resident=resident.pk)
    return enc


def import_rows(kind: str, source, name: str = "", *, actor: Actor) -> ImportReport:
    """Validate every row of a file and write the good ones; rows outside the user's area are refused.
    Returns the per-row error report. The system actor (the command line) has no scope limit."""
    if kind not in PARSERS:
        raise InvalidInput("unknown_import", _("未知的导入类型：%(kind)s") % {"kind": kind})
    check(actor, f"encounters.import_{kind}")
    user = actor.user
    report = ImportReport(kind)
    try:  # bounded by core.uploads; the command line (no user) may read bigger files
        raw = read_table(source, name, MAX_ROWS if user is not None else CLI_MAX_ROWS, kind=kind)
    except InvalidInput:
        raise
    except Exception:  # an unreadable file is one error, not a crash, and never a library's words
        raise InvalidInput("unreadable_file", _("文件无法读取：格式有误或已损坏"), field="file") from None
    report.total = len(raw)
    rows = PARSERS[kind](raw, report)
    scope = scope_for(user) if user is not None else None
    if scope is not None:
        kept = []
        for row in rows:
            if scope.contains(row["area_code"]):
                kept.append(row)
            else:
                report.errors.append(RowError(0, "area_code", _("区划 %(code)s 不在您的管辖范围内")
                                                                 % {"code": row["area_code"]}))
        rows = kept
    with transaction.atomic():
        report.imported = WRITERS[kind](rows, report)
        audit.record(actor, "create", f"import_{kind}", "", total=report.total, imported=report.imported,
                     rejected=report.total - report.imported)
    return report


def _reversal_originals(rows: list[dict]) -> dict[str, dict]:
    """The settlements the reversal rows name, from the database and the same file: their amounts and
    whether they are already reversed."""
    wanted = {r["reverses_no"] for r in rows if r["reverses_no"]}
    if not wanted:
        return {}
    out = {no: {"total_cost": t, "fund_paid": f, "reversed": False}
           for no, t, f in InsuranceSettlement.objects.filter(settlement_no__in=wanted)
           .values_list("settlement_no", "total_cost", "fund_paid")}
    for no in InsuranceSettlement.objects.filter(reverses_no__in=wanted).values_list("reverses_no", flat=True):
        out[no]["reversed"] = True
    for r in rows:
        if r["settlement_no"] in wanted and not r["reverses_no"] and r["settlement_no"] not in out:
            out[r["settlement_no"]] = {"total_cost": r["total_cost"], "fund_paid": r["fund_paid"], "reversed": False}
    return out


def _reversal_problem(row: dict, originals: dict[str, dict]) -> str:
    """Why a 冲销/退费 row cannot be taken: it must cancel one original claim exactly, once (a partial
    refund is a reversal plus a new settlement, as the insurance systems do it)."""
    orig = originals.get(row["reverses_no"])
    if orig is None:
        return f"原结算流水号 {row['reverses_no']} 不存在（冲销行须在原结算之后或同一文件中导入）"
    if orig["reversed"]:
        return f"结算 {row['reverses_no']} 已被冲销，不能再次冲销"
    if row["total_cost"] != -orig["total_cost"] or row["fund_paid"] != -orig["fund_paid"]:
        return (f"冲销金额应与原结算 {row['reverses_no']} 相反（总费用 {-orig['total_cost']}，"
                f"统筹支付 {-orig['fund_paid']}）")
    return ""


def _write_settlements(rows: list[dict], report: ImportReport) -> int:
    seen = set(InsuranceSettlement.objects.filter(settlement_no__in=[r["settlement_no"] for r in rows])
               .values_list("settlement_no", flat=True))
    ids = {r["id_number"] for r in rows if r["id_number"]}
    residents = dict(Resident.objects.filter(id_number__in=ids).values_list("id_number", "pk")) if ids else {}
    originals = _reversal_originals(rows)
    objs = []
    for r in rows:
        if r["settlement_no"] in seen:
            report.errors.append(RowError(0, "settlement_no", _("结算流水号 %(no)s 已导入，跳过")
                                                                  % {"no": r["settlement_no"]}))
            continue
        if r["reverses_no"] and (problem := _reversal_problem(r, originals)):
            report.errors.append(RowError(0, "reverses_no", problem))
            continue
        if r["reverses_no"]:
            originals[r["reverses_no"]]["reversed"] = True
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
