"""The yearly payroll summary imported from Excel (or CSV): one row per staff member, gross income by component.

Each row is matched to a staff member of the facilities the importer keeps (``permissions.keeps_payroll``): by
人员ID (the platform's staff id, as the template and the example file carry it), else by 身份证号, else by
执业证书编号; a 姓名 given must agree. Rows that match go in; rows that do not (unknown person, another
facility's, a name that disagrees, a bad amount, the same person twice) are kept in the import's problem report
(``PayrollImport.problems``, downloadable) and do not stop the others. Importing a year again replaces that
year's rows of the staff in the file, in one transaction: a failure leaves the year as it was."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import actor_of
from yigongti.core.errors import InvalidInput
from yigongti.core.exports import append_row, new_workbook, workbook_bytes
from yigongti.core.personal import mask_id_number
from yigongti.core.uploads import digits_lost, read_sheet
from yigongti.orgs.models import Facility, MedicalCommunity, Staff
from yigongti.orgs.permissions import check

from .models import COMPONENTS, PayrollImport, PayrollRecord

MAX_ROWS = 20_000
MAX_AMOUNT = Decimal("10000000")  # ten million yuan a year: anything above is a typing error
# header → field; the first name of each is what the template writes
COLUMNS: dict[str, tuple[str, ...]] = {
    "staff_id": ("人员ID", "人员编号", "工号"),
    "name": ("姓名",),
    "id_number": ("身份证号", "身份证号码", "证件号码"),
    "certificate": ("执业证书编号", "证书编号"),
    "year": ("年度", "年份"),
    "basic": ("基本工资", "基本工资（元）"),
    "performance": ("绩效工资", "绩效工资（元）"),
    "allowance": ("津贴补贴", "津贴补贴（元）"),
    "other": ("其他", "其他收入", "其他（元）"),
    "total": ("应发合计", "合计"),
}
LABELS = {k: v[0] for k, v in COLUMNS.items()}
TEMPLATE_FIELDS = ("staff_id", "name", "id_number", "basic", "performance", "allowance", "other", "total")


# ---- files ---------------------------------------------------------------------------------------------------

def _header_map(header: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, h in enumerate(header):
        for key, names in COLUMNS.items():
            if h in names and key not in out:
                out[key] = i
    return out


def write_workbook(rows: Iterable[Sequence[Any]], *, notes: bool = False) -> bytes:
    """An .xlsx in the import's layout (``TEMPLATE_FIELDS``); ``rows`` in that order."""
    wb = new_workbook("年度薪酬")
    ws = wb.active
    append_row(ws, [LABELS[f] for f in TEMPLATE_FIELDS])
    for r in rows:
        append_row(ws, list(r))
    for col in ("A", "C"):  # ids as text: Excel must not turn an ID number into 4.31127E+17
        for cell in ws[col]:
            cell.number_format = "@"
    if notes:
        info = wb.create_sheet("说明")
        for line in (
            "第一行是列名，请勿修改；每行一位人员一年的应发收入（元），年度在导入页面选择。",
            "人员按“人员ID”匹配；没有人员ID时按身份证号，再按执业证书编号；填写的姓名须与人员档案一致。",
            "基本工资、绩效工资、津贴补贴、其他为全年应发金额（元），可留空（按 0 计）；"
            "应发合计可不填，填写时须等于各项之和。",
            "身份证号请保持“文本”格式。匹配不上的行不导入，会列入问题报告供下载；其余行照常导入。",
            "同一年度再次导入时，文件中人员的该年度记录整体替换。",
        ):
            append_row(info, [line])
    return workbook_bytes(wb)


def template_xlsx() -> bytes:
    return write_workbook([["123", "张三", "431127198001011234", "60000.00", "36000.00", "12000.00", "2000.00",
                            "110000.00"]], notes=True)


def example_rows(staff: Iterable[Staff], amounts) -> list[list[Any]]:
    """Rows for the staff given, with ``amounts(staff) -> (basic, performance, allowance, other)``."""
    out = []
    for s in staff:
        parts = [Decimal(a).quantize(Decimal("0.01")) for a in amounts(s)]
        out.append([str(s.pk), s.name, s.id_number or "", *[str(p) for p in parts], str(sum(parts))])
    return out


# ---- parsing one row ---------------------------------------------------------------------------------------

def _cell(row: Sequence[Any], cols: dict[str, int], key: str) -> str:
    i = cols.get(key)
    if i is None or i >= len(row) or row[i] is None:
        return ""
    v = row[i]
    if isinstance(v, float) and v.is_integer() and key in ("staff_id", "year"):
        v = int(v)
    return str(v).strip()


def _money(raw: str) -> Decimal:
    if raw == "":
        return Decimal("0.00")
    try:
        d = Decimal(raw.replace(",", "").replace("，", "").replace("¥", "").replace("元", "").strip())
    except InvalidOperation:
        raise ValueError(_("金额“%(v)s”不是数字") % {"v": raw[:20]}) from None
    if not d.is_finite() or d < 0 or d >= MAX_AMOUNT:
        raise ValueError(_("金额须在 0 到 1000 万元之间"))
    return d.quantize(Decimal("0.01"))


def _problem(n: int, name: str, id_number: str, reason: str) -> dict:
    return {"row": n, "name": name[:30], "id": mask_id_number(id_number[:18]), "reason": reason}


# ---- the import ----------------------------------------------------------------------------------------------

def _community(actor, facility: Facility | None, community: MedicalCommunity | None) -> MedicalCommunity:
    if community is not None:
        return community
    if facility is not None and facility.community is not None:
        return facility.community
    user = actor.user
    if user is not None and user.facility_id and user.facility.community is not None:
        return user.facility.community
    raise InvalidInput("no_community", _("账号未关联医共体成员机构，无法导入薪酬"))


def _candidates(actor, community: MedicalCommunity, facility: Facility | None):
    """The staff whose payroll this import may write."""
    qs = Staff.objects.filter(work_facility__community=community)
    if facility is not None:
        return qs.filter(work_facility=facility)
    user = actor.user
    if user is not None and user.role == "facility_admin":
        return qs.filter(work_facility_id=user.facility_id)
    return qs


def import_payroll(path: str | Path, filename: str, year: Any, *, actor, facility: Facility | None = None,
                   community: MedicalCommunity | None = None) -> PayrollImport:
    """Import a year's payroll summary from ``path`` (.xlsx, .csv). ``facility`` limits it to one facility (a
    facility admin's import is always limited to their own). Returns the import with its counts and problems."""
    actor = actor_of(actor)
    if facility is None and actor.user is not None and actor.user.role == "facility_admin":
        facility = actor.user.facility
    check(actor, "performance.import_payroll", facility)
    try:
        y = int(str(year).strip())
    except (TypeError, ValueError):
        y = 0
    this_year = timezone.localdate().year
    if not 2000 <= y <= this_year:
        raise InvalidInput("invalid_year", _("请选择年度（2000 年至今年）"), field="year")
    community_obj = _community(actor, facility, community)
    sheet = read_sheet(path, max_rows=MAX_ROWS)
    cols = _header_map(sheet.header)
    if not any(k in cols for k in ("staff_id", "id_number", "certificate")):
        raise InvalidInput("missing_columns", _("文件缺少“人员ID”、“身份证号”或“执业证书编号”列，无法匹配人员"),
                           field="file")
    if not any(k in cols for k in COMPONENTS):
        raise InvalidInput("missing_columns", _("文件缺少收入列（基本工资、绩效工资、津贴补贴、其他）"), field="file")
    pool = _candidates(actor, community_obj, facility)
    rows = sheet.rows
    ids = {_cell(r, cols, "staff_id") for r in rows} - {""}
    numbers = {_cell(r, cols, "id_number").upper() for r in rows} - {""}
    certs = {_cell(r, cols, "certificate") for r in rows} - {""}
    wanted = Q(pk__in=[int(i) for i in ids if i.isdigit()]) | Q(id_number__in=numbers) | Q(
        certificate_number__in=certs)
    found = list(Staff.objects.filter(wanted).filter(work_facility__community=community_obj)
                 .only("pk", "name", "id_number", "certificate_number", "work_facility_id"))
    allowed = set(pool.filter(pk__in=[s.pk for s in found]).values_list("pk", flat=True))
    by_pk = {s.pk: s for s in found}
    by_number: dict[str, list[Staff]] = {}
    for s in found:
        if s.id_number:
            by_number.setdefault(s.id_number.upper(), []).append(s)
    by_cert = {s.certificate_number: s for s in found if s.certificate_number}
    problems: list[dict] = []
    records: dict[int, PayrollRecord] = {}
    first_row: dict[int, int] = {}
    for i, row in enumerate(rows, start=2):
        name, number = _cell(row, cols, "name"), _cell(row, cols, "id_number").upper()
        raw_id, cert = _cell(row, cols, "staff_id"), _cell(row, cols, "certificate")
        if digits_lost(number):
            problems.append(_problem(i, name, "", _("身份证号被 Excel 存成了数字，后几位已丢失")))
            continue
        staff: Staff | None = None
        if raw_id:
            staff = by_pk.get(int(raw_id)) if raw_id.isdigit() else None
            if staff is None:
                problems.append(_problem(i, name, number, _("人员ID %(v)s 不是本医共体的人员") % {"v": raw_id[:12]}))
                continue
        elif number:
            same = by_number.get(number, [])
            if len(same) > 1:
                problems.append(_problem(i, name, number, _("身份证号对应多位人员，请填写人员ID")))
                continue
            staff = same[0] if same else None
        elif cert:
            staff = by_cert.get(cert)
        if staff is None:
            problems.append(_problem(i, name, number, _("未找到对应的人员（身份证号或执业证书编号不匹配）")
                                     if (number or cert) else _("缺少人员ID、身份证号和执业证书编号")))
            continue
        if name and name != staff.name:
            problems.append(_problem(i, name, number, _("姓名与人员档案（%(n)s）不一致") % {"n": staff.name}))
            continue
        if staff.pk not in allowed:
            problems.append(_problem(i, name, number, _("该人员不在您可导入薪酬的机构")))
            continue
        row_year = _cell(row, cols, "year")
        if row_year and row_year != str(y):
            problems.append(_problem(i, name, number, _("年度 %(r)s 与所选年度 %(y)s 不一致") % {"r": row_year[:6],
                                                                                             "y": y}))
            continue
        if staff.pk in first_row:
            problems.append(_problem(i, name, number, _("与第 %(n)s 行为同一人") % {"n": first_row[staff.pk]}))
            continue
        try:
            parts = {c: _money(_cell(row, cols, c)) for c in COMPONENTS}
            total_raw = _cell(row, cols, "total")
            total = _money(total_raw) if total_raw else None
        except ValueError as e:
            problems.append(_problem(i, name, number, str(e)))
            continue
        rec = PayrollRecord(staff_id=staff.pk, year=y, facility_id=staff.work_facility_id, **parts).fill_total()
        if total is not None and total != rec.total:
            problems.append(_problem(i, name, number, _("应发合计 %(t)s 与各项之和 %(s)s 不一致") % {
                "t": total, "s": rec.total}))
            continue
        if rec.total <= 0:
            problems.append(_problem(i, name, number, _("各项收入均为 0")))
            continue
        first_row[staff.pk] = i
        records[staff.pk] = rec
    with transaction.atomic():
        # one import of a community at a time: two of the same year would both delete, then collide on insert
        MedicalCommunity.objects.select_for_update().filter(pk=community_obj.pk).first()
        batch = PayrollImport.objects.create(community=community_obj, year=y, filename=str(filename)[:200],
                                             rows=len(rows), matched=len(records), problems=problems,
                                             uploaded_by=actor.user)
        replaced, _d = PayrollRecord.objects.filter(year=y, staff_id__in=list(records)).delete()
        for rec in records.values():
            rec.batch = batch
        PayrollRecord.objects.bulk_create(list(records.values()), batch_size=2000)
        batch.replaced = replaced
        batch.save(update_fields=["replaced"])
        audit.record(actor, "import", "payroll_import", batch.pk, year=y, rows=len(rows), matched=len(records),
                     problems=len(problems), replaced=replaced, facility=facility.pk if facility else "")
    return batch


def describe(batch: PayrollImport) -> str:
    return _("%(y)s 年度：共 %(n)s 行，导入 %(m)s 行（替换原有记录 %(r)s 条），问题行 %(p)s 行") % {
        "y": batch.year, "n": batch.rows, "m": batch.matched, "r": batch.replaced, "p": len(batch.problems)}


REPORT_HEADER = ["行号", "姓名", "身份证号", "问题"]


def report_rows(batch: PayrollImport) -> list[list[Any]]:
    return [[p["row"], p["name"], p["id"], p["reason"]] for p in batch.problems]

