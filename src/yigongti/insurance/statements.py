"""The year-end settlement on paper: a statement per member facility (对账/清算单, Excel and PDF) and the
community's summary workbook. Each carries the community's totals, the rules applied, the allocation method,
the member's basis, share and amount, and the explanation lines, exactly as stored with the settlement.

Excel goes through ``core.exports`` (no cell can become a formula); the PDF embeds the Chinese TrueType font
that the monthly report registers (``indicators.reports``)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from yigongti.core.exports import new_workbook, set_cell, workbook_bytes

from .models import MemberAllocation, YearSettlement
from .settlement import Rules, describe_formula, pct, yuan

TOTALS = [  # (key of YearSettlement.figures, label: a msgid, translated when shown); shown when not zero
    ("budget", N_("年度预算总额")), ("spend", N_("年度基金支出")),
    ("out_of_county_spend", N_("其中：县外就医基金支出")),
    ("balance", N_("结余(+)/超支(−)")), ("retained", N_("结余留用（医共体）")), ("surplus_to_fund", N_("结余返还基金")),
    ("overspend_cap_amount", N_("合理超支上限")), ("reasonable_overspend", N_("合理超支")),
    ("fund_shared", N_("合理超支基金分担")), ("community_shared", N_("合理超支医共体承担")),
    ("excess_overspend", N_("超出上限部分（医共体承担）")), ("withheld", N_("质量保证金")),
    ("withholding_returned", N_("质量保证金返还")), ("withholding_kept", N_("质量保证金扣减")),
    ("out_of_county_deducted", N_("外转扣减")), ("community_amount", N_("医共体清算额（+获得 / −承担）")),
]
ALWAYS = {"budget", "spend", "out_of_county_spend", "balance", "community_amount"}


def _d(value: Any) -> Decimal:
    return Decimal(str(value if value not in (None, "") else 0))


def title_of(s: YearSettlement) -> str:
    b = s.budget
    return _("%(c)s %(y)s年度%(s)s基金清算") % {"c": b.community.name, "y": b.year, "s": b.get_scheme_display()}


def total_rows(s: YearSettlement | dict[str, Any]) -> list[tuple[str, str]]:
    """The community's totals as (label, amount) rows, from a settlement or an ``Outcome.as_dict()``."""
    f = s if isinstance(s, dict) else (s.figures or {})
    rows = []
    for key, label in TOTALS:
        if key not in f:
            continue
        v = _d(f[key])
        if v or key in ALWAYS:
            rows.append((_(label), yuan(v)))
    return rows


def rule_lines(s: YearSettlement) -> list[str]:
    r = (s.figures or {}).get("rules")
    rules = Rules.build(r["retained_share"], r["overspend_cap"], r["overspend_share"], r["withholding_rate"],
                        r["out_of_county_deduction"],
                        {"quality_score": r.get("quality_score"), "quality_bands": r.get("quality_bands") or []}) \
        if r else Rules.of_budget(s.budget)
    return rules.lines()


def method_line(s: YearSettlement, allocations: list[MemberAllocation] | None = None) -> str:
    names = {a.facility.code: a.facility.name for a in (allocations or [])}
    return describe_formula(s.method, s.formula or {}, names)


def member_rows(s: YearSettlement, a: MemberAllocation) -> list[tuple[str, str]]:
    f = a.figures or {}
    rows = [(_("成员单位"), a.facility.name), (_("机构编码"), a.facility.code),
            (_("门诊结算人次"), f"{int(f.get('outpatient') or 0):,}"),
            (_("住院结算人次"), f"{int(f.get('inpatient') or 0):,}"),
            (_("统筹基金支付"), yuan(_d(f.get("fund_paid")))),
            (_("分配基数"), f"{a.basis.normalize():f}"), (_("分配比例"), pct(a.share)),
            (_("分配金额"), yuan(a.amount) + ("" if a.amount >= 0 else _("（承担）")))]
    return rows


def closed_line(s: YearSettlement) -> str:
    who = (s.closed_by.display_name or s.closed_by.username) if s.closed_by else _("系统")
    return _("清算时间：%(at)s　清算人：%(who)s") % {"at": timezone.localtime(s.closed_at).strftime("%Y-%m-%d %H:%M"),
                                                "who": who}


# ---- Excel -------------------------------------------------------------------------------------------------


def _pairs(ws, row: int, title: str, pairs: list[tuple[str, str]], bold) -> int:
    set_cell(ws, row, 1, title).font = bold
    row += 1
    for label, value in pairs:
        set_cell(ws, row, 1, label)
        set_cell(ws, row, 2, value)
        row += 1
    return row + 1


def _lines(ws, row: int, title: str, lines: list[str], bold) -> int:
    set_cell(ws, row, 1, title).font = bold
    row += 1
    for i, line in enumerate(lines, start=1):
        set_cell(ws, row, 1, f"{i}.")
        set_cell(ws, row, 2, line)
        row += 1
    return row + 1


def member_statement_xlsx(s: YearSettlement, a: MemberAllocation) -> bytes:
    from openpyxl.styles import Font

    bold = Font(bold=True)
    wb = new_workbook(_("清算单"))
    ws = wb.active
    set_cell(ws, 1, 1, title_of(s) + " · " + _("成员单位清算单")).font = Font(bold=True, size=14)
    set_cell(ws, 2, 1, closed_line(s))
    row = _pairs(ws, 4, _("一、成员单位分配"), [*member_rows(s, a), (_("分配方式"), method_line(s))], bold)
    row = _pairs(ws, row, _("二、医共体清算总额"), total_rows(s), bold)
    row = _lines(ws, row, _("三、适用规则"), rule_lines(s), bold)
    _lines(ws, row, _("四、计算说明"), list(s.explanation or []), bold)
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 90
    return workbook_bytes(wb)


def summary_xlsx(s: YearSettlement, allocations: list[MemberAllocation]) -> bytes:
    """The community's settlement: totals, rules and explanation on the first sheet, the allocation to every
    member (with a total row that equals the community's amount) on the second."""
    from openpyxl.styles import Font

    bold = Font(bold=True)
    wb = new_workbook(_("清算汇总"))
    ws = wb.active
    set_cell(ws, 1, 1, title_of(s)).font = Font(bold=True, size=14)
    set_cell(ws, 2, 1, closed_line(s))
    row = _pairs(ws, 4, _("一、清算总额"), total_rows(s), bold)
    row = _lines(ws, row, _("二、适用规则"), rule_lines(s), bold)
    row = _pairs(ws, row, _("三、分配方式"), [(_("分配方式"), method_line(s, allocations))], bold)
    _lines(ws, row, _("四、计算说明"), list(s.explanation or []), bold)
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 90
    ws2 = wb.create_sheet(_("成员分配"))
    header = [_("机构编码"), _("成员单位"), _("门诊结算人次"), _("住院结算人次"), _("统筹基金支付（元）"),
              _("分配基数"), _("分配比例"), _("分配金额（元）")]
    for c, h in enumerate(header, start=1):
        set_cell(ws2, 1, c, h).font = bold
    total = Decimal(0)
    for r, a in enumerate(allocations, start=2):
        f = a.figures or {}
        for c, v in enumerate([a.facility.code, a.facility.name, int(f.get("outpatient") or 0),
                               int(f.get("inpatient") or 0), float(_d(f.get("fund_paid"))), float(a.basis),
                               float(a.share), float(a.amount)], start=1):
            set_cell(ws2, r, c, v)
        ws2.cell(r, 7).number_format = "0.0000%"
        ws2.cell(r, 8).number_format = "#,##0.00"
        total += a.amount
    last = len(allocations) + 2
    set_cell(ws2, last, 2, _("合计")).font = bold
    set_cell(ws2, last, 8, float(total)).font = bold
    ws2.cell(last, 8).number_format = "#,##0.00"
    for col, width in zip("ABCDEFGH", (20, 28, 14, 14, 18, 14, 12, 18), strict=True):
        ws2.column_dimensions[col].width = width
    ws2.freeze_panes = "A2"
    return workbook_bytes(wb)


# ---- PDF ---------------------------------------------------------------------------------------------------


def member_statement_pdf(s: YearSettlement, a: MemberAllocation, generated: dt.date | None = None) -> bytes:
    """The member's statement as an A4 PDF with the Chinese font embedded, and places to sign and seal."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from yigongti.indicators.reports import _cjk_font  # the one registration of the embeddable Chinese font

    font = _cjk_font()
    on = generated or timezone.localdate()
    title = ParagraphStyle("t", fontName=font, fontSize=16, leading=22, alignment=1, spaceAfter=2)
    subtitle = ParagraphStyle("st", fontName=font, fontSize=10, leading=14, alignment=1)
    h2 = ParagraphStyle("h", fontName=font, fontSize=11, leading=14, spaceBefore=4, spaceAfter=2)
    body = ParagraphStyle("b", fontName=font, fontSize=9, leading=11.5)
    num = ParagraphStyle("n", parent=body, alignment=2)

    def esc(text: Any) -> str:
        return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def pairs(rows: list[tuple[str, str]]) -> Table:
        t = Table([[Paragraph(esc(k), body), Paragraph(esc(v), num)] for k, v in rows], colWidths=[70 * mm, 100 * mm])
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                               ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#EEF4F8")),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("TOPPADDING", (0, 0), (-1, -1), 1),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
        return t

    story = [Paragraph(esc(title_of(s)), title), Paragraph(esc(_("成员单位清算单")), subtitle),
             Paragraph(esc(f"{a.facility.name}（{a.facility.code}）"), subtitle), Spacer(1, 3 * mm),
             Paragraph(esc(_("一、成员单位分配")), h2), pairs(member_rows(s, a)),
             Paragraph(esc(_("分配方式：") + method_line(s)), body),
             Paragraph(esc(_("二、医共体清算总额")), h2), pairs(total_rows(s)),
             Paragraph(esc(_("三、适用规则")), h2)]
    story += [Paragraph(esc(f"{i}. {line}"), body) for i, line in enumerate(rule_lines(s), start=1)]
    story.append(Paragraph(esc(_("四、计算说明")), h2))
    story += [Paragraph(esc(f"{i}. {line}"), body) for i, line in enumerate(s.explanation or [], start=1)]
    sign = Table([[Paragraph(esc(_("医保经办机构（盖章）")), body), Paragraph(esc(_("医共体牵头医院（盖章）")), body),
                   Paragraph(esc(_("成员单位（盖章）")), body)],
                  [Paragraph(esc(_("日期：")), body)] * 3], colWidths=[57 * mm] * 3, rowHeights=[16 * mm, 7 * mm])
    generated_line = _("生成日期：%(y)s年%(m)s月%(d)s日") % {"y": on.year, "m": on.month, "d": on.day}
    story.append(KeepTogether([Spacer(1, 3 * mm), Paragraph(esc(closed_line(s)), body), Spacer(1, 4 * mm), sign,
                               Paragraph(esc(generated_line), body)]))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=f"{title_of(s)} {a.facility.name}", author=s.budget.community.name,
                      leftMargin=18 * mm, rightMargin=18 * mm, topMargin=15 * mm, bottomMargin=15 * mm).build(story)
    return buf.getvalue()


def statement_name(s: YearSettlement, a: MemberAllocation | None, ext: str) -> str:
    b = s.budget
    who = a.facility.name if a is not None else _("汇总")
    return f"{b.year}{b.get_scheme_display()}清算单-{who}.{ext}"


# ---- the files, read and audited ---------------------------------------------------------------------------


def statement_file(actor, pk: int, facility_id: int, fmt: str) -> tuple[str, bytes]:
    """(file name, bytes) of a member's statement, for an actor who may read the settlement; the download is
    recorded in the audit log."""
    from yigongti.core import audit
    from yigongti.core.errors import NotFound

    from .queries import settlement as queries

    if fmt not in ("xlsx", "pdf"):
        raise NotFound()
    s = queries.get_settlement_for(actor, pk)
    a = queries.allocation_for(s, facility_id)
    data = member_statement_pdf(s, a) if fmt == "pdf" else member_statement_xlsx(s, a)
    audit.record(actor, "export", "year_settlement", s.pk, facility=facility_id, format=fmt)
    return statement_name(s, a, fmt), data


def summary_file(actor, pk: int) -> tuple[str, bytes]:
    from yigongti.core import audit

    from .queries import settlement as queries

    s = queries.get_settlement_for(actor, pk)
    data = summary_xlsx(s, queries.allocations_of(s))
    audit.record(actor, "export", "year_settlement", s.pk, format="xlsx", summary=True)
    return statement_name(s, None, "xlsx"), data
