"""The monthly report (月通报): Excel (one sheet per section) and PDF with Chinese fonts."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

from django.utils import timezone

from .definitions import INDICATORS
from .periods import Period, parse_period
from .queries import Area, coverage, figures, months_label, period_coverage, ranking

STATUS_ZH = {"green": "达标", "amber": "接近", "red": "未达标", "": ""}
RANKED = ["N07", "N11", "N12", "BED_OCC", "ALOS", "IP_COST", "DRUG_RATIO", "MATERIAL_100"]


def _f(v) -> float | None:
    return None if v is None else float(v)


def _t(v, places: int = 2) -> str:
    """Counts (whole numbers) without decimals, other figures with ``places``."""
    if v is None:
        return "—"
    d = v if isinstance(v, Decimal) else Decimal(str(v))
    exponent = d.as_tuple().exponent
    if places == 0 or (isinstance(exponent, int) and exponent >= 0):  # a count: no decimals
        return f"{int(d):,}"
    return f"{d:,.{places}f}"


def period_title(period: Period) -> str:
    """'2026年' or '2026年（有数据：2026年1–10月）' when the data covers only part of the period."""
    cov = period_coverage(period)
    return f"{period.label}（有数据：{cov}）" if cov else period.label


def sections(area: Area, period: Period) -> dict:
    cards = figures(area, period)
    overview = []
    for c in cards:
        ind = c.indicator
        # the target with where it comes from (a document, or a local default the bureau may change)
        target = "" if ind.target is None else f"{ind.target_label}（{ind.target_origin}）"
        notes = [c.note or ("定性指标：已落实项/总项" if ind.kind == "qualitative" else "")]
        notes += [f"{a.indicator.name}：{_t(a.value)}{a.indicator.unit}" for a in c.aliases]
        overview.append([ind.code, ind.dimension, ind.name, ind.unit, c.value.value, target,
                         STATUS_ZH[c.status], c.value.numerator, c.value.denominator, "；".join(n for n in notes if n)])
    months = [m for m, _ in cards[0].trend] if cards and cards[0].trend else []
    trend = [[c.indicator.code, c.indicator.name, *[v for _m, v in c.trend]] for c in cards if c.trend]
    ranks = {}
    for code in RANKED:
        ranks[code] = {"child": ranking(area, period, code), "facility": ranking(area, period, code, by="facility")}
    return {"overview": overview, "months": months, "trend": trend, "ranks": ranks}


def build_excel(area: Area, period: Period) -> bytes:
    from openpyxl.styles import Alignment, Font, PatternFill

    from yigongti.core.exports import append_row, new_workbook, set_cell, workbook_bytes

    s = sections(area, period)
    wb = new_workbook("指标总览")  # every cell through core.exports: no text can become a formula
    fills = {"达标": "C6EFCE", "接近": "FFEB9C", "未达标": "FFC7CE"}
    bold = Font(bold=True)
    ws = wb.active
    ws.title = "指标总览"
    append_row(ws, [f"{area.name} 紧密型县域医共体监测指标月通报（{period_title(period)}）"])
    ws["A1"].font = Font(bold=True, size=14)
    append_row(ws, ["编码", "维度", "指标", "单位", "本期值", "目标", "评价", "分子", "分母", "说明"])
    for c in ws[2]:
        c.font = bold
    for row in s["overview"]:
        append_row(ws, [row[0], row[1], row[2], row[3], _f(row[4]), row[5], row[6], _f(row[7]), _f(row[8]), row[9]])
        if row[6] in fills:
            ws.cell(ws.max_row, 7).fill = PatternFill("solid", fgColor=fills[row[6]])
    for col, width in zip("ABCDEFGHIJ", (16, 10, 36, 8, 14, 10, 8, 16, 16, 24), strict=False):
        ws.column_dimensions[col].width = width
    ws2 = wb.create_sheet("月度趋势")
    append_row(ws2, ["编码", "指标", *s["months"]])
    for c in ws2[1]:
        c.font = bold
    for row in s["trend"]:
        append_row(ws2, [row[0], row[1], *[_f(v) for v in row[2:]]])
    ws2.column_dimensions["B"].width = 36
    for kind, title in (("child", "乡镇排名"), ("facility", "机构排名")):
        ws3 = wb.create_sheet(title)
        r = 1
        for code, both in s["ranks"].items():
            rows = both[kind]
            if not rows:
                continue
            ind = INDICATORS[code]
            better = "越高越好" if ind.direction == "higher" else "越低越好"
            set_cell(ws3, r, 1, f"{ind.name}（{ind.unit}，{better}）").font = bold
            r += 1
            for i, h in enumerate(["名次", "单位", "值", "分子", "分母", "评价"], start=1):
                set_cell(ws3, r, i, h).font = bold
            for row in rows:
                r += 1
                for i, v in enumerate([row["rank"], row["name"], _f(row["value"]), _f(row["numerator"]),
                                       _f(row["denominator"]), STATUS_ZH[row["status"]]], start=1):
                    set_cell(ws3, r, i, v)
            r += 2
        ws3.column_dimensions["B"].width = 28
    for sheet in wb.worksheets:
        sheet.freeze_panes = "A3" if sheet.title == "指标总览" else "A2"
        for row in sheet.iter_rows():
            for c in row:
                c.alignment = Alignment(vertical="center")
    return workbook_bytes(wb)


# The PDF embeds its Chinese font (a PDF that only names a font leaves the reader to substitute one, and
# many readers on office machines have none for Chinese). reportlab embeds TrueType outlines only, so Noto
# Sans CJK (CFF-flavoured OpenType) does not do; WenQuanYi Micro Hei (Debian fonts-wqy-microhei, installed by
# scripts/setup) does. The first of these that exists is used: (path, face index in a collection).
CJK_FONTS = [
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/arphic/uming.ttc"), 0),
    (Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"), 0),
]


class FontMissing(RuntimeError):
    pass


def _cjk_font() -> str:
    """Register (once) and return the embeddable TrueType font that draws the report's Chinese."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    if "CJK" in pdfmetrics.getRegisteredFontNames():
        return "CJK"
    for path, index in CJK_FONTS:
        if not path.exists():
            continue
        try:
            pdfmetrics.registerFont(TTFont("CJK", str(path), subfontIndex=index))
        except TTFError:  # PostScript outlines: reportlab cannot embed them
            continue
        return "CJK"
    raise FontMissing("找不到可嵌入的中文 TrueType 字体（请安装 fonts-wqy-microhei）")


def _figure(ind, v) -> str:
    """An indicator's value: counts as whole numbers, money and ratios with the indicator's places."""
    if v is None:
        return "—"
    d = v if isinstance(v, Decimal) else Decimal(str(v))
    if ind.kind == "count" and not ind.money:
        return f"{int(d.to_integral_value()):,}"
    return f"{d:,.{ind.places}f}"


def _amount(v) -> str:
    """A numerator or denominator: whole numbers (visits, bed-days) without decimals, money with two."""
    if v is None:
        return "—"
    d = v if isinstance(v, Decimal) else Decimal(str(v))
    return f"{int(d):,}" if d == d.to_integral_value() else f"{d:,.2f}"


def issuer_name(area: Area) -> str:
    """Who the letterhead names: the medical community the area belongs to (the area itself above it)."""
    from yigongti.orgs.models import MedicalCommunity

    if area.kind == "community":
        return area.name
    for c in MedicalCommunity.objects.select_related("region").order_by("pk"):
        if area.prefix.startswith(c.region.prefix):
            return c.name
    return area.name


def coverage_line(period: Period) -> str:
    """'有数据：2026年1–10月' (the months with encounters), and the settlements' months when they differ."""
    cover = coverage()
    enc = [m for m in period.months if m in cover.get("enc", ())]
    st = [m for m in period.months if m in cover.get("set", ())]
    line = f"有数据：{months_label(enc) or '无'}"
    if st != enc:
        line += f"（医保结算：{months_label(st) or '无'}）"
    return line


def build_pdf(area: Area, period: Period, generated: dt.date | None = None) -> bytes:
    """The 月通报 as A4 landscape PDF: letterhead and page numbers on every page, the data coverage of
    the period, the indicator overview, the monthly trend and the rankings."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas as rl_canvas
    from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _cjk_font()
    s = sections(area, period)
    issuer = issuer_name(area)
    report_title = "紧密型县域医共体监测指标月通报"
    cover_text = coverage_line(period)
    on: dt.date = generated or timezone.localdate()
    page_w, page_h = landscape(A4)
    margin = 12 * mm

    title = ParagraphStyle("t", fontName=font, fontSize=18, leading=24, alignment=1, spaceAfter=2)
    subtitle = ParagraphStyle("st", fontName=font, fontSize=11, leading=15, alignment=1)
    h2 = ParagraphStyle("h", fontName=font, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4)
    body = ParagraphStyle("b", fontName=font, fontSize=8, leading=10)
    num = ParagraphStyle("n", parent=body, alignment=2)
    head = ParagraphStyle("th", parent=body, textColor=colors.white)
    shade = {"达标": colors.HexColor("#C6EFCE"), "接近": colors.HexColor("#FFEB9C"),
             "未达标": colors.HexColor("#FFC7CE")}

    def esc(text) -> str:
        return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def table(header, rows, widths, status_col=None, numeric=()):
        """Every cell a Paragraph so that long names and notes wrap inside their column."""
        cells = [[Paragraph(esc(h), head) for h in header]]
        for r in rows:
            cells.append([Paragraph(esc(v), num if i in numeric else body) for i, v in enumerate(r)])
        t = Table(cells, colWidths=widths, repeatRows=1)
        style = [("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                 ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#0B5D8C")), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
        if status_col is not None:
            for i, r in enumerate(rows, start=1):
                if r[status_col] in shade:
                    style.append(("BACKGROUND", (status_col, i), (status_col, i), shade[r[status_col]]))
        t.setStyle(TableStyle(style))
        return t

    class NumberedCanvas(rl_canvas.Canvas):
        """Holds the pages back until the end so that each can say how many there are."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._letterhead(total)
                super().showPage()
            super().save()

        def _letterhead(self, total: int) -> None:
            self.saveState()
            self.setFont(font, 9)
            top = page_h - 8 * mm
            self.drawString(margin, top, issuer)
            self.drawCentredString(page_w / 2, top, report_title)
            self.drawRightString(page_w - margin, top, f"统计期：{period.label}　{cover_text}")
            self.setStrokeColor(colors.HexColor("#0B5D8C"))
            self.setLineWidth(0.8)
            self.line(margin, top - 2 * mm, page_w - margin, top - 2 * mm)
            self.setFont(font, 8)
            self.drawString(margin, 7 * mm, f"生成日期：{on.year}年{on.month}月{on.day}日")
            self.drawCentredString(page_w / 2, 7 * mm, f"第 {self._pageNumber} 页 共 {total} 页")
            self.restoreState()

    story = [Paragraph(esc(issuer), title), Paragraph(esc(f"{area.name} {report_title}"), subtitle),
             Paragraph(esc(f"统计期：{period.label}　{cover_text}"), subtitle), Spacer(1, 3 * mm),
             Paragraph("数据来源：医共体就诊记录、医保结算、死亡登记。统计期只计有数据的月份；"
                       "分母为零或比较期数据不全的指标以“—”表示，并在说明中写明原因。", body),
             Spacer(1, 2 * mm), Paragraph("一、指标总览", h2)]
    rows = []
    for r in s["overview"]:
        ind = INDICATORS[r[0]]
        rows.append([r[0], r[1], r[2], _figure(ind, r[4]), r[3], r[5], r[6], r[9]])
    story.append(table(["编码", "维度", "指标", "本期值", "单位", "目标（依据）", "评价", "说明"], rows,
                       [27 * mm, 16 * mm, 58 * mm, 24 * mm, 14 * mm, 48 * mm, 13 * mm, 73 * mm],
                       status_col=6, numeric=(3,)))
    story += [PageBreak(), Paragraph("二、月度趋势（有数据的最近 6 个月）", h2)]
    with_data = [i for i, m in enumerate(s["months"]) if m in coverage().get("enc", ())]
    shown = (with_data or list(range(len(s["months"]))))[-6:]
    months = [s["months"][i] for i in shown]
    rows = [[r[1], *[_figure(INDICATORS[r[0]], r[2 + i]) for i in shown]] for r in s["trend"]]
    story.append(table(["指标", *months], rows, [81 * mm] + [32 * mm] * len(months),
                       numeric=tuple(range(1, len(months) + 1))))
    story += [PageBreak(), Paragraph("三、乡镇与机构排名（月考核）", h2)]
    for code in ("N07", "N11", "ALOS", "DRUG_RATIO"):
        ind = INDICATORS[code]
        for kind, label in (("child", "乡镇"), ("facility", "机构")):
            rr = s["ranks"][code][kind]
            if not rr:
                continue
            better = "越高越好" if ind.direction == "higher" else "越低越好"
            rows = [[x["rank"] or "—", x["name"], _figure(ind, x["value"]), _amount(x["numerator"]),
                     _amount(x["denominator"]), STATUS_ZH[x["status"]]] for x in rr[:20]]
            story += [KeepTogether([Paragraph(esc(f"{ind.name}（{ind.unit}，{label}，{better}）"), body),
                                    table(["名次", "单位", "值", "分子", "分母", "评价"], rows,
                                          [14 * mm, 90 * mm, 26 * mm, 36 * mm, 36 * mm, 18 * mm], status_col=5,
                                          numeric=(2, 3, 4))]),
                      Spacer(1, 3 * mm)]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=landscape(A4), title=f"月通报 {area.name} {period.label}", author=issuer,
                      leftMargin=margin, rightMargin=margin, topMargin=16 * mm, bottomMargin=14 * mm
                      ).build(story, canvasmaker=NumberedCanvas)
    return buf.getvalue()


def default_report_area() -> Area:
    from yigongti.orgs.models import MedicalCommunity

    from .queries import _region_area

    c = MedicalCommunity.objects.select_related("region").order_by("pk").first()
    if c is None:
        raise ValueError("no medical community")
    return _region_area(c.region)


def write_reports(period_key: str, area_key: str = "", out_dir: str | Path = ".") -> list[str]:
    """Write the .xlsx and .pdf of a period to out_dir (the worker and the CLI use this)."""
    from .queries import resolve_area

    period = parse_period(period_key)
    if area_key:
        from yigongti.orgs.models import User

        admin = User(is_superuser=True, role="city", is_active=True)
        area = resolve_area(admin, area_key)
    else:
        area = default_report_area()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext, build in (("xlsx", build_excel), ("pdf", build_pdf)):
        p = out / f"月通报_{area.name}_{period.key}.{ext}"
        p.write_bytes(build(area, period))
        paths.append(str(p))
    return paths
