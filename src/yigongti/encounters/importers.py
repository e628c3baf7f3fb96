"""Importers for insurance settlements (医保结算, including care outside the county), population by
age band and deaths with cause. Each takes CSV (UTF-8), Excel (.xlsx, first sheet) or Parquet with
the columns below (Chinese aliases accepted), validates every row and reports the bad ones by row
number and field; the good rows are written by ``services.import_rows``.

settlements: settlement_no*, id_number, residence_area* (12- or 6-digit code), scheme (employee|resident),
  type* (outpatient|inpatient|pharmacy), facility_code*, facility_name, facility_county* (6 digits),
  facility_level* (county|township|village|out_of_county|pharmacy), admit_date*, discharge_date,
  settle_date*, total_cost*, fund_paid*, self_pay, main_icd10, reverses_no (冲销/退费: the settlement
  number this row reverses; its amounts are then negative, and it cancels the original claim)
population:  area_code*, year*, sex* (M|F), age_from* (0,1,5,…,85), population*
deaths:      area_code*, sex* (M|F), age*, death_date*, cause_icd10*, id_number, birth_date
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from yigongti.core.errors import InvalidInput
from yigongti.core.icd10 import ICD10_RE, normalise_icd10
from yigongti.core.uploads import (
    DIGITS_LOST_MESSAGE,
    DateCellError,
    cell_text,
    digits_lost,
    parse_date,
    read_sheet,
    template_workbook,
)
from yigongti.core.validation import BIRTH, CLINICAL, date_problem, parse_money

AGE_BANDS = [0, 1, *range(5, 90, 5)]

MAX_ROWS = 100_000  # per uploaded file (the size limit usually comes first); the command line reads more
CLI_MAX_ROWS = 5_000_000

ALIASES = {
    "结算流水号": "settlement_no", "医保结算流水号": "settlement_no", "结算号": "settlement_no",
    "身份证号": "id_number", "身份证号码": "id_number", "公民身份号码": "id_number", "参保人身份证号": "id_number",
    "参保地区划": "residence_area", "参保地区划代码": "residence_area", "险种": "scheme", "险种类型": "scheme",
    "类别": "type", "机构编码": "facility_code", "机构名称": "facility_name", "机构所在县": "facility_county",
    "机构层级": "facility_level", "入院日期": "admit_date", "就诊日期": "admit_date", "出院日期": "discharge_date",
    "结算日期": "settle_date", "总费用": "total_cost", "统筹支付": "fund_paid", "个人支付": "self_pay",
    "主要诊断": "main_icd10", "主要诊断编码": "main_icd10", "主诊断": "main_icd10", "医疗总费用": "total_cost",
    "费用总额": "total_cost", "统筹基金支付": "fund_paid", "基金支付": "fund_paid", "个人自付": "self_pay",
    "个人负担": "self_pay", "区划代码": "area_code", "年份": "year", "性别": "sex", "起始年龄": "age_from",
    "人口数": "population", "年龄": "age", "死亡日期": "death_date", "根本死因": "cause_icd10",
    "根本死因编码": "cause_icd10", "出生日期": "birth_date",
    "原结算流水号": "reverses_no", "冲销原流水号": "reverses_no", "被冲销结算流水号": "reverses_no",
    "退费原流水号": "reverses_no", "reverses": "reverses_no",
}
LABELS = {"settlement_no": "结算流水号", "id_number": "身份证号", "residence_area": "参保地区划", "scheme": "险种",
          "type": "类别", "facility_code": "机构编码", "facility_name": "机构名称", "facility_county": "机构所在县",
          "facility_level": "机构层级", "admit_date": "入院日期", "discharge_date": "出院日期",
          "settle_date": "结算日期",
          "total_cost": "总费用", "fund_paid": "统筹支付", "self_pay": "个人支付", "main_icd10": "主要诊断",
          "area_code": "区划代码", "year": "年份", "sex": "性别", "age_from": "起始年龄", "population": "人口数",
          "age": "年龄", "death_date": "死亡日期", "cause_icd10": "根本死因", "birth_date": "出生日期",
          "reverses_no": "原结算流水号"}
TEMPLATES: dict[str, tuple[str, list[str], list[Any]]] = {
    "settlements": ("医保结算", ["结算流水号", "身份证号", "参保地区划", "险种", "类别", "机构编码", "机构名称",
                                 "机构所在县", "机构层级", "入院日期", "出院日期", "结算日期", "总费用", "统筹支付",
                                 "个人支付", "主要诊断", "原结算流水号"],
                    ["JS202601000001", "431127197207081230", "431127100201", "城乡居民", "住院", "H43112701",
                     "县人民医院", "431127", "县级", dt.date(2026, 1, 3), dt.date(2026, 1, 9), dt.date(2026, 1, 9),
                     "5321.50", "3725.05", "1596.45", "J18.9", ""]),
    "population": ("分年龄人口", ["区划代码", "年份", "性别", "起始年龄", "人口数"],
                   ["431127100", "2026", "男", "30", "1200"]),
    "deaths": ("死亡", ["区划代码", "性别", "年龄", "死亡日期", "根本死因", "身份证号", "出生日期"],
               ["431127100201", "男", "61", dt.date(2026, 3, 1), "I21.9", "", dt.date(1964, 5, 2)]),
}
NOTES = [
    "第一行是列名，请勿修改；从第二行起每行一条记录（示例行请删除或改成真实数据）。",
    "日期可写 2026-01-03、2026/1/3、20260103 或 2026年1月3日，也可以是 Excel 日期。",
    "身份证号、区划代码和编码请保持“文本”格式：身份证号若被 Excel 存成数字（如 4.31127E+17）后几位已丢失。",
    "可另存为 Excel（.xlsx）或 CSV（UTF-8 或 GBK 编码均可）后上传。",
]


def template_xlsx(kind: str) -> bytes:
    """The downloadable Excel template of an import kind (Chinese headers, an example row)."""
    title, header, example = TEMPLATES[kind]
    return template_workbook(title, header, example, NOTES)
VALUE_ALIASES = {
    "scheme": {"职工": "employee", "职工医保": "employee", "城乡居民": "resident", "居民医保": "resident",
               "城乡居民医保": "resident"},
    "type": {"门诊": "outpatient", "急诊": "outpatient", "住院": "inpatient", "药店": "pharmacy",
             "药店购药": "pharmacy"},
    "facility_level": {"县级": "county", "乡镇": "township", "乡镇级": "township", "村级": "village", "村": "village",
                       "县外": "out_of_county", "药店": "pharmacy"},
    "sex": {"男": "M", "女": "F", "1": "M", "2": "F"},
}


@dataclass
class RowError:
    row: int  # 1-based data row (the header is row 0)
    field: str
    message: str


@dataclass
class ImportReport:
    kind: str
    total: int = 0
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {"kind": self.kind, "total": self.total, "imported": self.imported,
                "rejected": self.total - self.imported,
                "errors": [{**e.__dict__, "label": LABELS.get(e.field, e.field)} for e in self.errors[:1000]]}


REQUIRED = {
    "settlements": ("settlement_no", "residence_area", "type", "facility_code", "facility_county", "facility_level",
                    "admit_date", "settle_date", "total_cost", "fund_paid"),
    "population": ("area_code", "year", "sex", "age_from", "population"),
    "deaths": ("area_code", "sex", "age", "death_date", "cause_icd10"),
}


def read_table(source: str | Path, name: str = "", max_rows: int = MAX_ROWS, kind: str = "") -> list[dict]:
    """Rows as dicts keyed by our column names from a CSV (UTF-8, UTF-16 or GBK), .xlsx or Parquet file,
    bounded by ``max_rows`` (see ``core.uploads.read_sheet``; raises ``InvalidInput``). With ``kind``, a
    file missing a required column is refused once, naming the columns, rather than with an error per row."""
    cli = max_rows >= CLI_MAX_ROWS  # the command line reads files bigger than an upload may be
    sheet = read_sheet(Path(source), max_rows=max_rows, max_unzipped=(4 << 30) if cli else None)
    keys = [ALIASES.get(h, h) for h in sheet.header]
    missing = [c for c in REQUIRED.get(kind, ()) if c not in keys]
    if missing:
        sep = _("、")
        raise InvalidInput("missing_columns", _("文件缺少必需的列：%(missing)s；"
                                                "文件中的列为：%(headers)s。请按模板的列名修改表头")
                           % {"missing": sep.join(_("%(label)s（%(code)s）") % {"label": _(LABELS[c]), "code": c}
                                                  for c in missing),
                              "headers": sep.join(h for h in sheet.header if h)[:300]},
                           field="file", errors={"file": [_("缺少必需的列")], "missing": missing,
                                                 "headers": list(sheet.header)})
    return [dict(zip(keys, r, strict=True)) for r in sheet.rows]


class _Row:
    def __init__(self, raw: dict, n: int, report: ImportReport):
        self.raw, self.n, self.report, self.bad = raw, n, report, False

    def _err(self, f: str, msg: str):
        self.report.errors.append(RowError(self.n, f, _(msg)))  # a fixed text is a msgid: in the reader's language
        self.bad = True

    def text(self, f: str, required: bool = False, maxlen: int = 100) -> str:
        s = cell_text(self.raw.get(f)) or ""
        s = VALUE_ALIASES.get(f, {}).get(s, s)
        if required and not s:
            self._err(f, "必填")
        if len(s) > maxlen:
            self._err(f, _("超过 %(n)s 个字符") % {"n": maxlen})
        return s

    def choice(self, f: str, allowed, required: bool = True, default: str = "") -> str:
        s = self.text(f, required and not default) or default
        if s and s not in allowed:
            self._err(f, _("取值“%(value)s”无效，应为 %(allowed)s") % {"value": s, "allowed": "/".join(allowed)})
        return s

    def code(self, f: str, lengths: tuple[int, ...], required: bool = True) -> str:
        s = self.text(f, required)
        if s and not (s.isdigit() and len(s) in lengths):
            self._err(f, _("应为 %(lengths)s 位数字的区划代码") % {"lengths": _("或").join(map(str, lengths))})
        return s

    def _bounded(self, f: str, d: dt.date) -> dt.date | None:
        if msg := date_problem(d, BIRTH if f == "birth_date" else CLINICAL, LABELS.get(f, "日期")):
            self._err(f, msg)
            return None
        return d

    def date(self, f: str, required: bool = True) -> dt.date | None:
        """Any date an office types or Excel stores (1972/7/8, 19720708, 1972年7月8日, a date cell, a serial)."""
        try:
            d = parse_date(self.raw.get(f), earliest=None, latest=dt.date.max, what=LABELS.get(f, "日期"))
        except DateCellError as e:
            self._err(f, e.message)
            return None
        if d is None:
            if required:
                self._err(f, "必填")
            return None
        return self._bounded(f, d)

    def id_number(self, f: str = "id_number") -> str:
        if digits_lost(cell_text(self.raw.get(f))):
            self._err(f, DIGITS_LOST_MESSAGE)
            return ""
        return self.text(f, maxlen=18).upper()

    def money(self, f: str, required: bool = True, signed: bool = False) -> Decimal | None:
        """Yuan; ``signed`` accepts a leading minus (the amounts of a 冲销/退费 row)."""
        s = self.text(f, required)
        if not s:
            return None
        try:
            if signed and s.startswith(("-", "−")):
                amount = parse_money(s[1:])
                if amount is None:  # a lone minus sign
                    raise ValueError("金额不是数字")
                return -amount
            return parse_money(s)
        except ValueError as e:
            self._err(f, f"金额“{s[:20]}”：{e}")
            return None

    def integer(self, f: str, lo: int, hi: int) -> int | None:
        s = self.text(f, True)
        try:
            n = int(Decimal(s))
        except (InvalidOperation, ValueError, OverflowError):
            if s:
                self._err(f, f"“{s[:20]}”不是整数")
            return None
        if not lo <= n <= hi:
            self._err(f, f"应在 {lo}–{hi} 之间")
            return None
        return n

    def icd10(self, f: str, required: bool = True) -> str:
        # 医保版 codes with their extension (Z37.000x001) fit the encounters' 16 characters; a death's cause is
        # the underlying cause of death at 3–4 characters (its column is 10)
        s = normalise_icd10(self.text(f, required, 10 if f == "cause_icd10" else 16))
        if s and not ICD10_RE.match(s):
            self._err(f, f"“{s}”不是有效的 ICD-10 编码")
        return s


def _area12(code: str) -> str:
    return code + "0" * (12 - len(code)) if code else code


def _check_reversal(r: _Row, v: dict) -> None:
    """A 冲销/退费 row names the settlement it reverses and carries negative (or zero) amounts; any other
    row's amounts are positive. Whether the original exists is checked when writing (services)."""
    money = [v[k] for k in ("total_cost", "fund_paid", "self_pay") if v[k] is not None]
    if v["reverses_no"]:
        if v["reverses_no"] == v["settlement_no"]:
            r._err("reverses_no", "冲销行的原结算流水号不能是它自己")
        elif any(m > 0 for m in money):
            r._err("total_cost", "冲销/退费行的金额应为负数")
    elif any(m < 0 for m in money):
        r._err("total_cost", "负数金额只用于冲销/退费行：请填写原结算流水号")


def parse_settlements(rows: list[dict], report: ImportReport) -> list[dict]:
    out = []
    for n, raw in enumerate(rows, start=1):
        r = _Row(raw, n, report)
        v: dict[str, Any] = {
            "settlement_no": r.text("settlement_no", True, 40),
            "id_number": r.id_number(),
            "area_code": _area12(r.code("residence_area", (6, 9, 12))),
            "scheme": r.choice("scheme", ("employee", "resident", "none"), default="resident"),
            "type": r.choice("type", ("outpatient", "inpatient", "pharmacy")),
            "facility_code": r.text("facility_code", True, 30),
            "facility_name": r.text("facility_name", maxlen=100),
            "facility_county": r.code("facility_county", (6,)),
            "facility_level": r.choice("facility_level",
                                       ("county", "township", "village", "out_of_county", "pharmacy")),
            "admit_date": r.date("admit_date"),
            "discharge_date": r.date("discharge_date", False),
            "settle_date": r.date("settle_date"),
            "total_cost": r.money("total_cost", signed=True),
            "fund_paid": r.money("fund_paid", signed=True),
            "self_pay": r.money("self_pay", False, signed=True) or Decimal("0.00"),
            "main_icd10": r.icd10("main_icd10", False),
            "reverses_no": r.text("reverses_no", False, 40),
        }
        _check_reversal(r, v)
        if v["type"] == "inpatient" and not r.bad and v["discharge_date"] is None:
            r._err("discharge_date", "住院结算须填写出院日期")
        if v["discharge_date"] and v["admit_date"] and v["discharge_date"] < v["admit_date"]:
            r._err("discharge_date", "出院日期早于入院日期")
        if v["fund_paid"] is not None and v["total_cost"] is not None and abs(v["fund_paid"]) > abs(v["total_cost"]):
            r._err("fund_paid", "统筹支付大于总费用")
        v["residence_county"] = v["area_code"][:6]
        if not r.bad:
            out.append(v)
    return out


def parse_population(rows: list[dict], report: ImportReport) -> list[dict]:
    out = []
    for n, raw in enumerate(rows, start=1):
        r = _Row(raw, n, report)
        v = {"area_code": _area12(r.code("area_code", (6, 9, 12))), "year": r.integer("year", 1990, 2100),
             "sex": r.choice("sex", ("M", "F")), "age_from": r.integer("age_from", 0, 85),
             "population": r.integer("population", 0, 50_000_000)}
        if v["age_from"] is not None and v["age_from"] not in AGE_BANDS:
            r._err("age_from", "起始年龄应为 0、1、5、10 … 85")
        if not r.bad:
            out.append(v)
    return out


def parse_deaths(rows: list[dict], report: ImportReport) -> list[dict]:
    out = []
    for n, raw in enumerate(rows, start=1):
        r = _Row(raw, n, report)
        v: dict[str, Any] = {"area_code": _area12(r.code("area_code", (6, 9, 12))), "sex": r.choice("sex", ("M", "F")),
             "age": r.integer("age", 0, 130), "death_date": r.date("death_date"),
             "cause_icd10": r.icd10("cause_icd10"), "id_number": r.id_number(),
             "birth_date": r.date("birth_date", False)}
        if v["death_date"] and v["death_date"] > dt.date.today():
            r._err("death_date", "死亡日期不能晚于今天")
        if not r.bad:
            out.append(v)
    return out


PARSERS = {"settlements": parse_settlements, "population": parse_population, "deaths": parse_deaths}
