"""Monthly reconciliation with the insurance agency's statement (对账单).

The statement is an Excel (.xlsx) or CSV file with one settlement a row; the first row names the columns
(Chinese headers; the template offers them, and the usual variants are accepted):

    结算流水号 (required) | 结算日期 | 统筹基金支付 (required, yuan) | 定点机构编码 | 定点机构名称 | 险种

Each readable row is compared with our ``InsuranceSettlement`` of the same 结算流水号 among the county's
insureds: a fund amount that differs by a cent or more is a *difference*; a number we do not hold is
*agency-only*; a settlement of the county's insureds settled in the month that the statement lacks is
*ledger-only*; a row that cannot be read (no number, an amount that is not a number, a date that does not
exist, a number twice) is *unreadable*, with its row number in the file (the header is row 1; blank rows are
skipped and not counted) and a Chinese message. A partly bad file still imports every row it can read.
The statement's total is compared with the posted ledger of the month (or, if the month is not posted, with
the settlements themselves).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from yigongti.core import audit, uploads
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.core.validation import parse_money
from yigongti.encounters.models import InsuranceSettlement
from yigongti.orgs import permissions
from yigongti.orgs.models import MedicalCommunity

from .budget import county_code
from .models import LedgerEntry, Reconciliation, ReconciliationLine

MAX_ROWS = 200_000
SUFFIXES = (".xlsx", ".xlsm", ".csv")
TOLERANCE = Decimal("0.005")
HEADER = ["结算流水号", "结算日期", "统筹基金支付", "定点机构编码", "定点机构名称", "险种"]
ALIASES = {
    "settlement_no": ("结算流水号", "流水号", "结算编号", "结算单号", "结算号", "就诊流水号"),
    "settle_date": ("结算日期", "结算时间", "日期"),
    "fund": ("统筹基金支付", "统筹支付", "基金支付", "统筹基金支付金额", "基金支付金额", "统筹基金"),
    "facility_code": ("定点机构编码", "机构编码", "定点医药机构编码", "医疗机构编码"),
}
NOTES = [
    "每行一笔结算，第一行为列名（请勿修改）。",
    "结算流水号：必填，与医保结算系统中的流水号一致（请设为文本格式，避免 Excel 改成科学计数法）。",
    "统筹基金支付：必填，单位元，可带两位小数；冲销、退费行填负数。",
    "结算日期：可写 2026-03-08、2026/3/8 或 20260308。",
    "定点机构编码、定点机构名称、险种：选填，仅用于核对。",
    "也可上传 CSV（UTF-8 或 GBK）。无法识别的行会列出行号和原因，其余行照常核对。",
]


def template_xlsx() -> bytes:
    return uploads.template_workbook("对账单", HEADER, ["JS0000000001", dt.date(2026, 3, 8), "1234.56",
                                                     "431127A100001", "蓝山县中心医院", "城乡居民医保"], NOTES)


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for key, names in ALIASES.items():
        for i, h in enumerate(header):
            if h in names:
                found[key] = i
                break
    missing = [ALIASES[k][0] for k in ("settlement_no", "fund") if k not in found]
    if missing:
        raise InvalidInput("missing_columns", _("对账单缺少必需的列：%(cols)s（第一行应为列名，可下载模板参照）")
                           % {"cols": "、".join(missing)}, field="file")
    return found


def _signed_money(value: Any) -> Decimal:
    """Yuan to the cent, negative allowed (a reversal on the statement)."""
    text = uploads.cell_text(value) or ""
    negative = text.startswith("-")
    amount = parse_money(text[1:] if negative else text)  # ValueError with a Chinese message
    if amount is None:
        raise ValueError(_("统筹基金支付为空"))
    return -amount if negative else amount


def read_statement(path, year: int, month: int) -> tuple[list[dict], list[tuple[int, str, str]], int]:
    """(readable rows, unreadable (row number, settlement number, message), rows read)."""
    sheet = uploads.read_sheet(path, max_rows=MAX_ROWS)
    cols = _columns(sheet.header)
    good: list[dict] = []
    bad: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}
    first = dt.date(year, month, 1)
    date_label = _("结算日期")
    for i, row in enumerate(sheet.rows):
        number = i + 2
        no = uploads.cell_text(row[cols["settlement_no"]]) or ""
        if not no:
            bad.append((number, "", _("结算流水号为空")))
            continue
        if uploads.digits_lost(no):
            bad.append((number, no[:40], _("结算流水号被 Excel 改成了科学计数法，请把该列设为文本后重新导出")))
            continue
        if len(no) > 40:
            bad.append((number, no[:40], _("结算流水号过长（最多 40 个字符）")))
            continue
        try:
            amount = _signed_money(row[cols["fund"]])
        except ValueError as e:
            bad.append((number, no, _("统筹基金支付无法识别：%(why)s") % {"why": e}))
            continue
        settle = None
        if "settle_date" in cols:
            try:
                settle = uploads.parse_date(row[cols["settle_date"]], earliest=dt.date(2000, 1, 1),
                                            latest=dt.date.max, what=date_label)
            except ValueError as e:
                bad.append((number, no, str(e)))
                continue
        if no in seen:
            bad.append((number, no, _("结算流水号与第 %(row)s 行重复") % {"row": seen[no]}))
            continue
        seen[no] = number
        note = ""
        if settle is not None and (settle.year, settle.month) != (first.year, first.month):
            note = _("结算日期 %(d)s 不在对账月份内") % {"d": settle.isoformat()}
        code = uploads.cell_text(row[cols["facility_code"]]) if "facility_code" in cols else None
        good.append({"row": number, "no": no, "amount": amount, "date": settle, "note": note, "code": code or ""})
    return good, bad, len(sheet.rows)


def _month(year: int, month: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, month, 1)
    return start, (dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1))


def reconcile(community: MedicalCommunity, year: int, month: int, upload, *, actor: Actor) -> Reconciliation:
    """Import the agency's statement of a month and list its differences with our settlements and ledger."""
    permissions.check(actor, "insurance.reconcile", None)
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise InvalidInput("invalid_period", _("对账年月不正确"), field="month")
    name = (getattr(upload, "name", "") or "")[:200]
    with uploads.saved_upload(upload, suffixes=SUFFIXES) as path:
        good, bad, count = read_statement(path, year, month)
    return _compare(community, year, month, name, good, bad, count, actor=actor)


def _compare(community, year, month, name, good, bad, count, *, actor: Actor) -> Reconciliation:
    county = county_code(community)
    start, end = _month(year, month)
    ours = dict(InsuranceSettlement.objects.filter(residence_county=county, settlement_no__in=[g["no"] for g in good])
                .values_list("settlement_no", "fund_paid"))
    lines: list[ReconciliationLine] = []
    matched = different = 0
    for g in good:
        if g["no"] not in ours:
            lines.append(ReconciliationLine(row_number=g["row"], kind=ReconciliationLine.Kind.AGENCY_ONLY,
                                            settlement_no=g["no"], agency_amount=g["amount"],
                                            message=(_("台账中没有该流水号（或不是本县参保人的结算）") + (
                                                f"；{g['note']}" if g["note"] else ""))[:200]))
            continue
        ledger = ours[g["no"]]
        if abs(ledger - g["amount"]) >= TOLERANCE:
            different += 1
            lines.append(ReconciliationLine(row_number=g["row"], kind=ReconciliationLine.Kind.DIFFERENT,
                                            settlement_no=g["no"], agency_amount=g["amount"], ledger_amount=ledger,
                                            message=(_("相差 %(d)s 元") % {"d": g["amount"] - ledger}
                                                     + (f"；{g['note']}" if g["note"] else ""))[:200]))
        else:
            matched += 1
    on_statement = {g["no"] for g in good} | {b[1] for b in bad if b[1]}
    missing = (InsuranceSettlement.objects.filter(residence_county=county, settle_date__gte=start, settle_date__lt=end)
               .values_list("settlement_no", "fund_paid").order_by("settlement_no"))
    for no, fund in missing.iterator(chunk_size=5000):
        if no not in on_statement:
            lines.append(ReconciliationLine(kind=ReconciliationLine.Kind.LEDGER_ONLY, settlement_no=no,
                                            ledger_amount=fund, message=_("对账单中没有该笔结算")))
    for row, no, msg in bad:
        lines.append(ReconciliationLine(row_number=row, kind=ReconciliationLine.Kind.UNREADABLE, settlement_no=no,
                                        message=str(msg)[:200]))
    agency_total = sum((g["amount"] for g in good), Decimal(0))
    posted = LedgerEntry.objects.filter(community=community, year=year, month=month)
    if posted.exists():
        ledger_total = posted.aggregate(s=Sum("fund_paid"))["s"] or Decimal(0)
    else:
        ledger_total = (InsuranceSettlement.objects.filter(residence_county=county, settle_date__gte=start,
                                                           settle_date__lt=end)
                        .aggregate(s=Sum("fund_paid"))["s"] or Decimal(0))
    with transaction.atomic():
        rec = Reconciliation.objects.create(
            community=community, year=year, month=month, file_name=name, rows=count, matched=matched,
            differences=different, unmatched=sum(1 for x in lines if x.kind in (
                ReconciliationLine.Kind.AGENCY_ONLY, ReconciliationLine.Kind.LEDGER_ONLY,
                ReconciliationLine.Kind.UNREADABLE)),
            agency_total=agency_total, ledger_total=ledger_total, imported_by=actor.user)
        for x in lines:
            x.reconciliation = rec
        ReconciliationLine.objects.bulk_create(lines, batch_size=2000)
        audit.record(actor, "reconcile", "reconciliation", rec.pk, year=year, month=month, rows=count,
                     differences=different, lines=len(lines))
    return rec


def counts_by_kind(rec: Reconciliation) -> dict[str, int]:
    from django.db.models import Count

    return dict(rec.lines.values("kind").annotate(n=Count("id")).values_list("kind", "n"))
