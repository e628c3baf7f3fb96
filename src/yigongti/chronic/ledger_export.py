"""The village ledger as Excel, in the columns of the 《村卫生所两病患者管理台账》 that village clinics keep on paper:

序号 · 姓名 · 性别 · 年龄 · 身份证号 · 联系电话 · 病种 · 确诊时间 · 纳入管理时间 · 本年随访次数 · for each quarter
(第一季度 … 第四季度) the quarter's last visit: 随访日期 · 血压 (mmHg) · 血糖 (mmol/L) · then 末次随访 · 控制情况 ·
下次随访 · 用药 · 备注.

Choices (documented in docs/chronic.md, "Village ledger"):

- one row per patient and condition (a patient with both has a 高血压 row and a 2型糖尿病 row, as the paper ledger
  keeps two registers), sorted by name;
- 本年随访次数 counts the face-to-face visits of the calendar year (the 规范's "at least 4 a year"); a quarter's
  cells show the quarter's last visit, a phone visit marked "（电话）";
- 血糖 is the fasting glucose when one was measured (the diabetes row always asks for it);
- 用药 lists the regular medicines in use on the export day ("氨氯地平片 5mg qd");
- 备注: overdue days, uncontrolled streaks, a suggested referral, no visit yet;
- 身份证号 is masked (``43****************``) unless the reader holds the unmask privilege (then the export is
  audited as unmasked); 联系电话 is always masked (``138****5678``).

Three queries whatever the village's size (the enrolments, the year's follow-ups, the medicines in use); the
largest village's file is written in well under the 2 s target (bench/fd_village.py)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit, exports
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.orgs.models import Region
from yigongti.orgs.permissions import Category, check_read

from .models import FollowUp, RegularMedicine, VisitMode
from .queries.ledger import LedgerFilter, LedgerRow, ledger_queryset, managed_in_village, may_unmask, to_row

QUARTERS = 4


@dataclass
class Visit:
    on: dt.date
    phone: bool
    bp: str
    fbg: str
    referral: bool


@dataclass
class ExportRow:
    ledger: LedgerRow
    quarters: list[Visit | None]
    face_to_face: int
    medicines: list[str]
    referral: bool


def header() -> tuple[list[str], list[str]]:
    """The two header rows: groups (merged over the quarter columns) and the column names."""
    lead = [_("序号"), _("姓名"), _("性别"), _("年龄"), _("身份证号"), _("联系电话"), _("病种"), _("确诊时间"),
            _("纳入管理时间"), _("本年随访次数")]
    tail = [_("末次随访"), _("控制情况"), _("下次随访"), _("用药"), _("备注")]
    quarter_names = [_("第一季度"), _("第二季度"), _("第三季度"), _("第四季度")]
    groups = [""] * len(lead)
    names = list(lead)
    for q in quarter_names:
        groups += [q, q, q]
        names += [_("随访日期"), _("血压"), _("血糖")]
    groups += [""] * len(tail)
    names += tail
    return groups, names


def spans(groups: list[str]) -> list[tuple[int, int]]:
    """(first column, width) of each header cell of row 2: a run of one group name is merged across its
    columns."""
    out: list[tuple[int, int]] = []
    for c, g in enumerate(groups, start=1):
        if g and out and groups[out[-1][0] - 1] == g:
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((c, 1))
    return out


def _medicine_text(m: Mapping[str, Any]) -> str:
    parts = [m["name"], m["dose"], m["frequency"]]
    return " ".join(p for p in parts if p)


def collect(actor: Actor, village: Region, *, year: int | None = None,
            today: dt.date | None = None) -> tuple[list[ExportRow], bool]:
    """The export's rows (three queries) and whether the ID numbers are unmasked. Audited with the ids."""
    check_read(actor, Category.PUBLIC_HEALTH)
    today = today or timezone.localdate()
    year = year or today.year
    unmask = may_unmask(actor.user)
    enrolments = list(ledger_queryset(actor.user, village, LedgerFilter(), today)
                      .order_by("resident__name", "resident_id", "condition"))
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    visits: dict[int, list[Any]] = defaultdict(list)
    in_village = managed_in_village(actor.user, village).values("pk")
    for fu in (FollowUp.objects.filter(enrolment_id__in=in_village, visit_date__gte=start, visit_date__lte=end)
              .order_by("enrolment_id", "visit_date", "id")
              .values("enrolment_id", "visit_date", "mode", "sbp", "dbp", "fbg", "referral_suggested")):
        visits[fu["enrolment_id"]].append(fu)
    meds: dict[int, list[str]] = defaultdict(list)
    for m in (RegularMedicine.objects.filter(enrolment_id__in=in_village, since__lte=today)
              .filter(Q(until__isnull=True) | Q(until__gte=today)).order_by("enrolment_id", "name", "id")
              .values("enrolment_id", "name", "dose", "frequency")):
        meds[m["enrolment_id"]].append(_medicine_text(m))
    rows = []
    for e in enrolments:
        row = to_row(e, today, unmask=unmask)
        quarters: list[Visit | None] = [None] * QUARTERS
        f2f = 0
        referral = False
        for v in visits.get(row.enrolment_id, []):
            q = (v["visit_date"].month - 1) // 3
            bp = f"{v['sbp']}/{v['dbp']}" if v["sbp"] and v["dbp"] else ""
            quarters[q] = Visit(v["visit_date"], v["mode"] == VisitMode.PHONE, bp,
                                f"{v['fbg']}" if v["fbg"] is not None else "", v["referral_suggested"])
            f2f += v["mode"] != VisitMode.PHONE
            referral = v["referral_suggested"]  # the latest visit's
        rows.append(ExportRow(row, quarters, f2f, meds.get(row.enrolment_id, []), referral))
    audit.record(actor, "export", "chronic_ledger", village.code, year=year, unmasked=unmask,
                 enrolments=[r.ledger.enrolment_id for r in rows])
    return rows, unmask


def remark(r: ExportRow) -> str:
    row = r.ledger
    notes = []
    if row.state == "overdue" and row.days:
        notes.append(_("逾期%(n)d天") % {"n": row.days})
    if row.last_visit_on is None:
        notes.append(_("尚未随访"))
    if row.uncontrolled_streak >= 2:
        notes.append(_("连续%(n)d次控制不满意") % {"n": row.uncontrolled_streak})
    if r.referral:
        notes.append(_("已建议转诊"))
    return "；".join(notes)


def cells(i: int, r: ExportRow) -> list:
    row = r.ledger
    out: list = [i, row.name, row.sex_label, row.age, row.id_number, row.phone, row.condition_label,
                 row.diagnosed_on, row.enrolled_on, r.face_to_face]
    for v in r.quarters:
        if v is None:
            out += ["", "", ""]
        else:
            out += [v.on.isoformat() + (_("（电话）") if v.phone else ""), v.bp, v.fbg]
    out += [row.last_visit_on, row.control_label, row.next_due, "；".join(r.medicines), remark(r)]
    return out


WIDTHS = [5, 9, 5, 5, 20, 13, 10, 11, 11, 7] + [11, 8, 6] * QUARTERS + [11, 10, 11, 30, 24]


def workbook(village: Region, year: int, rows: list[ExportRow], *, unmask: bool):
    """The ledger workbook: the 台账 sheet (title, two header rows, one row per patient × condition) and 说明."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = exports.new_workbook(_("两病患者管理台账"))
    ws = wb.active
    groups, names = header()
    width = len(names)
    title = _("%(village)s卫生室两病患者管理台账（%(year)d年）") % {"village": village.name, "year": year}
    exports.set_cell(ws, 1, 1, title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for c, (g, n) in enumerate(zip(groups, names, strict=True), start=1):
        for line, value in ((2, g), (3, n)):
            cell = exports.set_cell(ws, line, c, value)
            cell.font, cell.fill, cell.alignment = bold, fill, centre
    for start, span in spans(groups):
        if span > 1:  # a quarter's name over its three columns; row 3 names every column (machine-readable)
            ws.merge_cells(start_row=2, start_column=start, end_row=2, end_column=start + span - 1)
    for i, r in enumerate(rows, start=1):
        for c, value in enumerate(cells(i, r), start=1):
            cell = exports.set_cell(ws, 3 + i, c, value)
            if isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    for c, w in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(c)].width = w
    ws.freeze_panes = "C4"
    notes = wb.create_sheet(_("说明"))
    for text in (
        _("依据《国家基本公共卫生服务规范（第三版）》高血压、2型糖尿病患者健康管理服务规范。"),
        _("每位患者每个病种一行；本年随访次数为本年度面对面随访次数（规范要求每年至少4次）。"),
        _("每季度列显示该季度最后一次随访；电话随访标注“（电话）”。"),
        _("用药为导出当日在用的长期用药。"),
        _("身份证号已脱敏。") if not unmask else _("身份证号为完整号码（导出人具有查看权限，已记入审计日志）。"),
        _("联系电话已脱敏。"),
        _("导出时间：%(t)s") % {"t": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
    ):
        exports.append_row(notes, [text])
    notes.column_dimensions["A"].width = 90
    return wb


def parse_year(value: str | int | None, today: dt.date | None = None) -> int:
    """The ``?year=`` of an export (this year if empty); a year outside 2000..next year is refused."""
    today = today or timezone.localdate()
    if value in (None, ""):
        return today.year
    text = str(value).strip()
    if not (text.isdigit() and 2000 <= int(text) <= today.year + 1):
        raise InvalidInput("invalid_year", _("年份参数无效"), field="year")
    return int(text)


def filename(village: Region, year: int) -> str:
    return _("两病患者管理台账_%(village)s_%(year)s.xlsx") % {"village": village.name, "year": year}


def export_xlsx(actor: Actor, village: Region, *, year: int | None = None, today: dt.date | None = None) -> bytes:
    today = today or timezone.localdate()
    year = year or today.year
    rows, unmask = collect(actor, village, year=year, today=today)
    return exports.workbook_bytes(workbook(village, year, rows, unmask=unmask))
