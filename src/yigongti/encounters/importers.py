"""Importers for insurance settlements (医保结算, including care outside the county), population by
age band and deaths with cause. Each takes CSV (UTF-8), Excel (.xlsx, first sheet) or Parquet with
the columns below (Chinese aliases accepted), validates every row and reports the bad ones by row
number and field; the good rows are written by ``services.import_rows``.

settlements: settlement_no*, id_number, residence_area* (12- or 6-digit code), scheme (employee|resident),
  type* (outpatient|inpatient|pharmacy), facility_code*, facility_name, facility_county* (6 digits),
  facility_level* (county|township|village|out_of_county|pharmacy), admit_date*, discharge_date,
  settle_date*, total_cost*, fund_paid*, self_pay, main_icd10
population:  area_code*, year*, sex* (M|F), age_from* (0,1,5,…,85), population*
deaths:      area_code*, sex* (M|F), age*, death_date*, cause_icd10*, id_number, birth_date
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

ICD10_RE = re.compile(r"^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?$")
AGE_BANDS = [0, 1] + list(range(5, 90, 5))

ALIASES = {
    "结算流水号": "settlement_no", "身份证号": "id_number", "参保地区划": "residence_area", "险种": "scheme",
    "类别": "type", "机构编码": "facility_code", "机构名称": "facility_name", "机构所在县": "facility_county",
    "机构层级": "facility_level", "入院日期": "admit_date", "就诊日期": "admit_date", "出院日期": "discharge_date",
    "结算日期": "settle_date", "总费用": "total_cost", "统筹支付": "fund_paid", "个人支付": "self_pay",
    "主要诊断": "main_icd10", "区划代码": "area_code", "年份": "year", "性别": "sex", "起始年龄": "age_from",
    "人口数": "population", "年龄": "age", "死亡日期": "death_date", "根本死因": "cause_icd10", "出生日期": "birth_date",
}
VALUE_ALIASES = {
    "scheme": {"职工": "employee", "职工医保": "employee", "城乡居民": "resident", "居民医保": "resident",
               "城乡居民医保": "resident"},
    "type": {"门诊": "outpatient", "急诊": "outpatient", "住院": "inpatient", "药店": "pharmacy", "药店购药": "pharmacy"},
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
        return {"kind": self.kind, "total": self.total, "imported": self.imported, "rejected": self.total - self.imported,
                "errors": [e.__dict__ for e in self.errors[:1000]]}


def read_table(source, name: str = "") -> list[dict]:
    """Rows as dicts of strings/values from a path or an uploaded file (format by extension)."""
    name = (name or str(getattr(source, "name", source))).lower()
    if isinstance(source, (str, Path)):
        data = Path(source).read_bytes()
    else:
        data = source.read()
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        rows = pq.read_table(io.BytesIO(data)).to_pylist()
    elif name.endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        ws = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = [str(h or "").strip() for h in next(it, [])]
        rows = [dict(zip(header, r)) for r in it if any(v not in (None, "") for v in r)]
    else:
        text = data.decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
    return [{ALIASES.get(str(k).strip(), str(k).strip()): v for k, v in r.items()} for r in rows]


class _Row:
    def __init__(self, raw: dict, n: int, report: ImportReport):
        self.raw, self.n, self.report, self.bad = raw, n, report, False

    def _err(self, f: str, msg: str):
        self.report.errors.append(RowError(self.n, f, msg))
        self.bad = True

    def text(self, f: str, required: bool = False, maxlen: int = 100) -> str:
        v = self.raw.get(f)
        s = "" if v is None else str(v).strip()
        if isinstance(v, float) and v.is_integer():
            s = str(int(v))
        s = VALUE_ALIASES.get(f, {}).get(s, s)
        if required and not s:
            self._err(f, "必填")
        if len(s) > maxlen:
            self._err(f, f"超过 {maxlen} 个字符")
        return s

    def choice(self, f: str, allowed, required: bool = True, default: str = "") -> str:
        s = self.text(f, required and not default) or default
        if s and s not in allowed:
            self._err(f, f"取值“{s}”无效，应为 {'/'.join(allowed)}")
        return s

    def code(self, f: str, lengths: tuple[int, ...], required: bool = True) -> str:
        s = self.text(f, required)
        if s and not (s.isdigit() and len(s) in lengths):
            self._err(f, f"应为 {'或'.join(map(str, lengths))} 位数字的区划代码")
        return s

    def date(self, f: str, required: bool = True) -> dt.date | None:
        v = self.raw.get(f)
        if isinstance(v, dt.datetime):
            return v.date()
        if isinstance(v, dt.date):
            return v
        s = "" if v is None else str(v).strip()
        if not s:
            if required:
                self._err(f, "必填")
            return None
        for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"):
            try:
                return dt.datetime.strptime(s[:10], fmt).date()
            except ValueError:
                pass
        self._err(f, f"日期“{s}”格式应为 YYYY-MM-DD")
        return None

    def money(self, f: str, required: bool = True) -> Decimal | None:
        s = self.text(f, required)
        if not s:
            return None
        try:
            d = Decimal(s.replace(",", ""))
        except InvalidOperation:
            self._err(f, f"金额“{s}”不是数字")
            return None
        if d < 0 or d >= Decimal("1e10"):
            self._err(f, "金额超出范围")
            return None
        return d.quantize(Decimal("0.01"))

    def integer(self, f: str, lo: int, hi: int) -> int | None:
        s = self.text(f, True)
        try:
            n = int(Decimal(s))
        except (InvalidOperation, ValueError):
            if s:
                self._err(f, f"“{s}”不是整数")
            return None
        if not lo <= n <= hi:
            self._err(f, f"应在 {lo}–{hi} 之间")
            return None
        return n

    def icd10(self, f: str, required: bool = True) -> str:
        s = self.text(f, required, 10).upper()
        if s and not ICD10_RE.match(s):
            self._err(f, f"“{s}”不是有效的 ICD-10 编码")
        return s


def _area12(code: str) -> str:
    return code + "0" * (12 - len(code)) if code else code


def parse_settlements(rows: list[dict], report: ImportReport) -> list[dict]:
    out = []
    for n, raw in enumerate(rows, start=1):
        r = _Row(raw, n, report)
        v = {
            "settlement_no": r.text("settlement_no", True, 40),
            "id_number": r.text("id_number", maxlen=18).upper(),
            "area_code": _area12(r.code("residence_area", (6, 9, 12))),
            "scheme": r.choice("scheme", ("employee", "resident", "none"), default="resident"),
            "type": r.choice("type", ("outpatient", "inpatient", "pharmacy")),
            "facility_code": r.text("facility_code", True, 30),
            "facility_name": r.text("facility_name", maxlen=100),
            "facility_county": r.code("facility_county", (6,)),
            "facility_level": r.choice("facility_level", ("county", "township", "village", "out_of_county", "pharmacy")),
            "admit_date": r.date("admit_date"),
            "discharge_date": r.date("discharge_date", False),
            "settle_date": r.date("settle_date"),
            "total_cost": r.money("total_cost"),
            "fund_paid": r.money("fund_paid"),
            "self_pay": r.money("self_pay", False) or Decimal("0.00"),
            "main_icd10": r.icd10("main_icd10", False),
        }
        if v["type"] == "inpatient" and not r.bad and v["discharge_date"] is None:
            r._err("discharge_date", "住院结算须填写出院日期")
        if v["discharge_date"] and v["admit_date"] and v["discharge_date"] < v["admit_date"]:
            r._err("discharge_date", "出院日期早于入院日期")
        if v["fund_paid"] is not None and v["total_cost"] is not None and v["fund_paid"] > v["total_cost"]:
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
        v = {"area_code": _area12(r.code("area_code", (6, 9, 12))), "sex": r.choice("sex", ("M", "F")),
             "age": r.integer("age", 0, 130), "death_date": r.date("death_date"),
             "cause_icd10": r.icd10("cause_icd10"), "id_number": r.text("id_number", maxlen=18).upper(),
             "birth_date": r.date("birth_date", False)}
        if v["death_date"] and v["death_date"] > dt.date.today():
            r._err("death_date", "死亡日期不能晚于今天")
        if not r.bad:
            out.append(v)
    return out


PARSERS = {"settlements": parse_settlements, "population": parse_population, "deaths": parse_deaths}
