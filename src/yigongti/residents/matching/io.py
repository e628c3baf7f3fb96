"""Reading record files (CSV, Parquet, Excel) with column checks and an error report.

Nothing is dropped silently: a row the linker cannot use (no record_id, a duplicate record_id)
goes to the error report with the reason; a row with a bad field (garbled name, impossible date,
invalid ID number) is still linked on its other fields and gets a warning in the same report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

INPUT_COLUMNS = (
    "record_id",
    "source_system",
    "name",
    "sex",
    "birth_date",
    "id_number",
    "phone",
    "address",
    "household_id",
)
ESSENTIAL_COLUMNS = ("record_id", "name")  # without these the file cannot be linked at all
REPORT_COLUMNS = ("row_number", "record_id", "severity", "field", "code", "message")

WARNING_MESSAGES = {
    "name_missing": ("name", "姓名为空，仅按其他信息匹配"),
    "name_garbled": ("name", "姓名无法识别（乱码或占位符），仅按其他信息匹配"),
    "birth_date_invalid": ("birth_date", "出生日期不存在或不合理，已忽略"),
    "sex_invalid": ("sex", "性别无法识别（应为 男/女、M/F 或 1/2/0/9），已忽略"),
    "id_invalid": ("id_number", "身份证号无效（格式、地区码、出生日期或校验位错误），仍参与匹配"),
    "id_inconsistent": ("id_number", "身份证号与出生日期或性别不符（可能使用家人证号），不作为本人证号"),
    "phone_invalid": ("phone", "电话号码格式不正确，已忽略"),
}


class InputFileError(Exception):
    """The whole file cannot be used; ``message`` is shown to the user (Chinese)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class ErrorReport:
    rows: list[dict[str, object]] = field(default_factory=list)

    def add(
        self, row_number: int | None, record_id: str | None, severity: str, field_name: str, code: str, message: str
    ) -> None:
        self.rows.append(
            {
                "row_number": row_number,
                "record_id": record_id,
                "severity": severity,
                "field": field_name,
                "code": code,
                "message": message,
            }
        )

    def add_many(
        self,
        row_numbers: np.ndarray,
        record_ids: list[str | None],
        severity: str,
        field_name: str,
        code: str,
        message: str,
    ) -> None:
        for rn, rid in zip(row_numbers.tolist(), record_ids, strict=True):
            self.add(int(rn), rid, severity, field_name, code, message)

    @property
    def errors(self) -> int:
        return sum(1 for r in self.rows if r["severity"] == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for r in self.rows if r["severity"] == "warning")

    def to_table(self) -> pa.Table:
        return pa.table(
            {
                c: pa.array([r[c] for r in self.rows], pa.int64() if c == "row_number" else pa.string())
                for c in REPORT_COLUMNS
            }
        )


COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "record_id": (
        "记录号",
        "来源记录号",
        "档案号",
        "档案编号",
        "健康档案号",
        "病案号",
        "门诊号",
        "住院号",
        "患者编号",
        "患者id",
        "就诊卡号",
        "record id",
    ),
    "source_system": ("来源系统", "来源", "数据来源"),
    "name": ("姓名", "患者姓名", "居民姓名", "病人姓名", "名字"),
    "sex": ("性别",),
    "birth_date": ("出生日期", "出生年月日", "出生年月", "生日", "birthday", "date of birth", "dob"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "身份证", "证件号码", "证件号", "身份证件号码"),
    "phone": ("联系电话", "电话", "电话号码", "手机", "手机号", "手机号码", "联系方式", "本人电话"),
    "address": ("现住址", "住址", "家庭住址", "地址", "居住地址", "常住地址", "现居住地址", "户籍地址"),
    "household_id": ("户号", "户编号", "家庭编号", "家庭户号", "家庭档案号"),
}
COLUMN_LABELS = {
    "record_id": "记录号",
    "source_system": "来源系统",
    "name": "姓名",
    "sex": "性别",
    "birth_date": "出生日期",
    "id_number": "身份证号",
    "phone": "联系电话",
    "address": "现住址",
    "household_id": "户号",
}
TEMPLATE_EXAMPLE = [
    "HIS-000123",
    "张三",
    "男",
    dt.date(1972, 7, 8),
    "431127197207081230",
    "13812345678",
    "塔峰镇小洞村3组",
    "H0001",
]  # the template's columns: every input column but source_system
_LOOKUP = {**{c: c for c in INPUT_COLUMNS}, **{s.lower(): c for c, syns in COLUMN_SYNONYMS.items() for s in syns}}


def resolve_columns(names: list[str], mapping: dict[str, str] | None = None) -> dict[str, str]:
    """{our column: the file's column} from the file's headers (English names or the Chinese synonyms),
    with an explicit ``mapping`` (our column → file column, from the mapping form) taking precedence."""
    found: dict[str, str] = {}
    for name in names:
        key = _LOOKUP.get(str(name).strip().lower())
        if key and key not in found:
            found[key] = name
    for ours, theirs in (mapping or {}).items():
        if ours in INPUT_COLUMNS:
            if theirs in names:
                found[ours] = theirs
            elif theirs == "":
                found.pop(ours, None)
    return found


def read_table(path: str | Path, max_rows: int | None = None) -> pa.Table:
    """Read a CSV (UTF-8, UTF-16 or GB18030), Parquet or Excel file with every cell as text, so that IDs
    keep leading zeros. ``max_rows`` bounds an upload (see ``core.uploads.read_sheet``); without it
    (the command line) CSV and Parquet are read whole by Arrow."""
    from yigongti.core.errors import InvalidInput

    path = Path(path)
    if not path.exists():
        raise InputFileError("file_not_found", f"找不到输入文件：{path.name}")
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv", ".txt", ".xlsx", ".xlsm"):
        raise InputFileError("file_type", f"不支持的文件类型 {suffix}（支持 .csv、.parquet、.xlsx）")
    try:
        if max_rows is None and suffix == ".parquet":
            return pq.read_table(path)
        if max_rows is None and suffix in (".csv", ".txt"):
            return _read_csv_arrow(path)
        if max_rows is None:  # the command line: a whole county's list, no upload limits
            return _sheet_table(path, 5_000_000, max_unzipped=4 << 30)
        return _sheet_table(path, max_rows)
    except InputFileError:
        raise
    except InvalidInput as e:
        raise InputFileError(e.code, e.message) from None
    except (pa.ArrowInvalid, OSError, ValueError):
        raise InputFileError("file_unreadable", f"无法读取文件 {path.name}：格式有误") from None


def _read_csv_arrow(path: Path) -> pa.Table:
    from yigongti.core.uploads import clean_header, detect_encoding

    encoding = detect_encoding(path)
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        import csv

        names = [clean_header(h) for h in next(csv.reader(fh), [])]
    if not any(names):
        raise InputFileError("file_empty", f"文件 {path.name} 为空或没有表头")
    names = _unique_names(names)
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(
            encoding="utf8" if encoding == "utf-8-sig" else encoding, column_names=names, skip_rows=1
        ),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in names}, strings_can_be_null=True),
    )


def _unique_names(header: list[str]) -> list[str]:
    out: list[str] = []
    for i, h in enumerate(header, start=1):
        name = h or f"第{i}列"
        while name in out:
            name += "_2"
        out.append(name)
    return out


def _sheet_table(path: Path, max_rows: int, max_unzipped: int | None = None) -> pa.Table:
    from yigongti.core.uploads import cell_text, read_sheet

    too_many = "请拆分后分批导入，或用命令 yigongti empi link 批量处理"
    sheet = read_sheet(path, max_rows=max_rows, too_many=too_many, max_unzipped=max_unzipped)
    names = _unique_names(sheet.header)
    cols: list[list[str | None]] = [[] for _ in names]
    for row in sheet.rows:
        for i, v in enumerate(row):
            cols[i].append(cell_text(v))
    return pa.table({n: pa.array(c, pa.string()) for n, c in zip(names, cols, strict=True)})


def check_table(table: pa.Table, report: ErrorReport, mapping: dict[str, str] | None = None) -> pa.Table:
    """Check columns and rows; returns the usable rows (all nine columns) with ``row_number``.

    Raises ``InputFileError`` when essential columns are missing. Optional columns that are
    missing are added empty with one file-level warning each. Rows without a record_id and
    repeated record_ids (every occurrence after the first) are reported as errors and left out.
    """
    present = resolve_columns(table.column_names, mapping)
    derived_id = "record_id" not in present and "id_number" in present
    if derived_id:  # a 花名册 without a record number: the ID number identifies the row
        present["record_id"] = present["id_number"]
        report.add(
            None,
            None,
            "warning",
            "record_id",
            "record_id_from_id_number",
            "文件没有记录号列，以身份证号作为记录号（没有身份证号的行无法导入）",
        )
    missing_essential = [c for c in ESSENTIAL_COLUMNS if c not in present]
    if missing_essential:
        raise InputFileError(
            "missing_columns",
            f"文件缺少必需的列：{'、'.join(f'{COLUMN_LABELS[c]}（{c}）' for c in missing_essential)}；"
            f"可用的列名为 {'、'.join(COLUMN_LABELS[c] for c in INPUT_COLUMNS)} 或对应的英文名，"
            "没有记录号时以身份证号代替",
        )
    n = table.num_rows
    cols: dict[str, pa.Array] = {}
    for c in INPUT_COLUMNS:
        if c in present:
            col = table.column(present[c]).combine_chunks()
            if pa.types.is_null(col.type):
                col = pa.nulls(n, pa.string())
            cols[c] = col
        else:
            report.add(None, None, "warning", c, "missing_column", f"文件缺少列 {COLUMN_LABELS[c]}，按空值处理")
            cols[c] = pa.nulls(n, pa.string())
    cols["record_id"] = pc.utf8_trim_whitespace(pc.cast(cols["record_id"], pa.string()))
    row_number = np.arange(2, n + 2, dtype=np.int64)  # as in a spreadsheet: header is row 1
    rid = cols["record_id"]
    empty = np.asarray(pc.fill_null(pc.equal(rid, ""), True).to_numpy(zero_copy_only=False), dtype=bool)
    if empty.any():
        report.add_many(
            row_number[empty],
            [None] * int(empty.sum()),
            "error",
            "record_id",
            "record_id_missing",
            "身份证号为空，该行未参与匹配" if derived_id else "记录号为空，该行未参与匹配",
        )
    codes = pc.dictionary_encode(rid).indices.fill_null(-1).to_numpy(zero_copy_only=False)
    _, first = np.unique(codes, return_index=True)
    dup = np.ones(n, dtype=bool)
    dup[first] = False
    dup &= ~empty
    if dup.any():
        dup_ids = pc.filter(rid, pa.array(dup)).to_pylist()
        report.add_many(
            row_number[dup],
            dup_ids,
            "error",
            "record_id",
            "record_id_duplicate",
            "记录号重复，仅第一次出现的行参与匹配",
        )
    keep = pa.array(~empty & ~dup)
    out = pa.table({**{c: cols[c] for c in INPUT_COLUMNS}, "row_number": row_number}).filter(keep)
    return out


def add_field_warnings(report: ErrorReport, table: pa.Table, issues: dict[str, np.ndarray]) -> None:
    """Per-row warnings from the features' issue masks (the row is still linked)."""
    rn = table.column("row_number").to_numpy()
    rid = table.column("record_id")
    for code, mask in issues.items():
        if code not in WARNING_MESSAGES or not mask.any():
            continue
        field_name, message = WARNING_MESSAGES[code]
        report.add_many(rn[mask], pc.filter(rid, pa.array(mask)).to_pylist(), "warning", field_name, code, message)


def _formula_safe(table: pa.Table) -> pa.Table:
    """String cells that Excel would run as a formula get a leading apostrophe (``core.exports``)."""
    pattern = "^\\s*[=+\\-@\t\r\uff1d\uff0b\uff0d\uff20]"
    number = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"
    cols = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            risky = pc.and_(pc.match_substring_regex(col, pattern), pc.invert(pc.match_substring_regex(col, number)))
            col = pc.if_else(pc.fill_null(risky, False), pc.binary_join_element_wise("'", col, ""), col)
        cols[name] = col
    return pa.table(cols)


def write_table(table: pa.Table, path: str | Path) -> None:
    """Write Parquet, or CSV (UTF-8 with BOM so Excel opens Chinese correctly) by suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        with open(path, "wb") as fh:
            fh.write("\ufeff".encode())
            pacsv.write_csv(_formula_safe(table), fh)
    else:
        pq.write_table(table, path)
