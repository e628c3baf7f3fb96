"""The monthly report (月通报): Excel (one sheet per section) and PDF with Chinese fonts."""

from __future__ import annotations

import io
from pathlib import Path

from .definitions import INDICATORS
from .periods import Period, parse_period
from .queries import Area, figures, ranking

STATUS_ZH = {"green": "达标", "amber": "接近", "red": "未达标", "": ""}
RANKED = ["N07", "N11", "N12", "BED_OCC", "ALOS", "IP_COST", "DRUG_RATIO", "MATERIAL_100"]


def _f(v) -> float | None:
    return None if v is None else float(v)


def _t(v, places: int = 2) -> str:
    if v is None:
        return "—"
    return f"{v:,.{places}f}" if v != int(v) or places else f"{int(v):,}"


def sections(area: Area, period: Period) -> dict:
    cards = figures(area, period)
    overview = []
    for c in cards:
        ind = c.indicator
        target = "" if ind.target is None else f"{'≥' if ind.direction == 'higher' else '≤'}{ind.target}"
        overview.append([ind.code, ind.dimension, ind.name, ind.unit, c.value.value, target,
                         STATUS_ZH[c.status], c.value.numerator, c.value.denominator,
                         c.note or ("定性指标：已落实项/总项" if ind.kind == "qualitative" else "")])
    months = [m for m, _ in cards[0].trend] if cards and cards[0].trend else []
    trend = [[c.indicator.code, c.indicator.name, *[v for _m, v in c.trend]] for c in cards if c.trend]
    ranks = {}
    for code in RANKED:
        ranks[code] = {"child": ranking(area, period, code), "facility": ranking(area, period, code, by="facility")}
    return {"overview": overview, "months": months, "trend": trend, "ranks": ranks}


def build_excel(area: Area, period: Period) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    s = sections(area, period)
    wb = Workbook()
    fills = {"达标": "C6EFCE", "接近": "FFEB9C", "未达标": "FFC7CE"}
    bold = Font(bold=True)
    ws = wb.active
    ws.title = "指标总览"
    ws.append([f"{area.name} 紧密型县域医共体监测指标月通报（{period.label}）"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["编码", "维度", "指标", "单位", "本期值", "目标", "评价", "分子", "分母", "说明"])
    for c in ws[2]:
        c.font = bold
    for row in s["overview"]:
        ws.append([row[0], row[1], row[2], row[3], _f(row[4]), row[5], row[6], _f(row[7]), _f(row[8]), row[9]])
        if row[6] in fills:
            ws.cell(ws.max_row, 7).fill = PatternFill("solid", fgColor=fills[row[6]])
    for col, width in zip("ABCDEFGHIJ", (16, 10, 36, 8, 14, 10, 8, 16, 16, 24)):
        ws.column_dimensions[col].width = width
    ws2 = wb.create_sheet("月度趋势")
    ws2.append(["编码", "指标", *s["months"]])
    for c in ws2[1]:
        c.font = bold
    for row in s["trend"]:
        ws2.append([row[0], row[1], *[_f(v) for v in row[2:]]])
    ws2.column_dimensions["B"].width = 36
    for kind, title in (("child", "乡镇排名"), ("facility", "机构排名")):
        ws3 = wb.create_sheet(title)
        r = 1
        for code, both in s["ranks"].items():
            rows = both[kind]
            if not rows:
                continue
            ind = INDICATORS[code]
            ws3.cell(r, 1, f"{ind.name}（{ind.unit}，{'越高越好' if ind.direction == 'higher' else '越低越好'}）").font = bold
            r += 1
            for i, h in enumerate(["名次", "单位", "值", "分子", "分母", "评价"], start=1):
                ws3.cell(r, i, h).font = bold
            for row in rows:
                r += 1
                for i, v in enumerate([row["rank"], row["name"], _f(row["value"]), _f(row["numerator"]),
                                       _f(row["denominator"]), STATUS_ZH[row["status"]]], start=1):
                    ws3.cell(r, i, v)
            r += 2
        ws3.column_dimensions["B"].width = 28
    for sheet in wb.worksheets:
        sheet.freeze_panes = "A3" if sheet.title == "指标总览" else "A2"
        for row in sheet.iter_rows():
            for c in row:
                c.alignment = Alignment(vertical="center")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


NOTO = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def _cjk_font() -> str:
    """A font that can draw Chinese: Noto Sans CJK if reportlab can embed it, else the Adobe CID
    font STSong-Light that every PDF reader has (nothing to embed)."""
    from reportlab.pdfbase import pdfmetrics

    if "CJK" in pdfmetrics.getRegisteredFontNames():
        return "CJK"
    try:
        from reportlab.pdfbase.ttfonts import TTFont

        if NOTO.exists():
            pdfmetrics.registerFont(TTFont("CJK", str(NOTO), subfontIndex=2))  # SC face of the collection
            return "CJK"
    except Exception:  # Noto CJK is CFF-flavoured OpenType, which reportlab cannot embed
        pass
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def build_pdf(area: Area, period: Period) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _cjk_font()
    s = sections(area, period)
    title = ParagraphStyle("t", fontName=font, fontSize=16, leading=22, spaceAfter=6)
    h2 = ParagraphStyle("h", fontName=font, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4)
    body = ParagraphStyle("b", fontName=font, fontSize=8, leading=10)
    shade = {"达标": colors.HexColor("#C6EFCE"), "接近": colors.HexColor("#FFEB9C"), "未达标": colors.HexColor("#FFC7CE")}

    def table(rows, widths, status_col=None):
        t = Table(rows, colWidths=widths, repeatRows=1)
        style = [("FONT", (0, 0), (-1, -1), font, 8), ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                 ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#0B5D8C")), ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                 ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
        if status_col is not None:
            for i, r in enumerate(rows[1:], start=1):
                if r[status_col] in shade:
                    style.append(("BACKGROUND", (status_col, i), (status_col, i), shade[r[status_col]]))
        t.setStyle(TableStyle(style))
        return t

    story = [Paragraph(f"{area.name} 紧密型县域医共体监测指标月通报", title),
             Paragraph(f"统计期：{period.label}。数据来源：医共体就诊记录、医保结算、死亡登记；"
                       "分母为零的指标以“—”表示。", body), Spacer(1, 4 * mm), Paragraph("一、指标总览", h2)]
    rows = [["编码", "维度", "指标", "本期值", "单位", "目标", "评价"]]
    for r in s["overview"]:
        rows.append([r[0], r[1], Paragraph(r[2], body), _t(r[4]), r[3], r[5], r[6]])
    story.append(table(rows, [28 * mm, 18 * mm, 90 * mm, 28 * mm, 16 * mm, 20 * mm, 16 * mm], status_col=6))
    story += [PageBreak(), Paragraph("二、月度趋势", h2)]
    months = s["months"][-6:]
    rows = [["指标", *months]]
    for r in s["trend"]:
        rows.append([Paragraph(r[1], body), *[_t(v) for v in r[2:][-6:]]])
    story.append(table(rows, [80 * mm] + [28 * mm] * len(months)))
    story += [PageBreak(), Paragraph("三、乡镇与机构排名（月考核）", h2)]
    for code in ("N07", "N11", "ALOS", "DRUG_RATIO"):
        ind = INDICATORS[code]
        for kind, label in (("child", "乡镇"), ("facility", "机构")):
            rr = s["ranks"][code][kind]
            if not rr:
                continue
            story.append(Paragraph(f"{ind.name}（{label}，{'越高越好' if ind.direction == 'higher' else '越低越好'}）", body))
            rows = [["名次", "单位", "值", "分子", "分母", "评价"]]
            rows += [[x["rank"] or "—", x["name"], _t(x["value"]), _t(x["numerator"]), _t(x["denominator"]),
                      STATUS_ZH[x["status"]]] for x in rr[:20]]
            story += [table(rows, [14 * mm, 60 * mm, 26 * mm, 32 * mm, 32 * mm, 18 * mm], status_col=5),
                      Spacer(1, 3 * mm)]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=landscape(A4), title=f"月通报 {area.name} {period.label}",
                      leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm).build(story)
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
