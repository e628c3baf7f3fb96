"""Reading record files (CSV, Parquet, Excel) with column checks and an error report.

Nothing is dropped silently: a row the linker cannot use (no record_id, a duplicate record_id)
goes to the error report with the reason; a row with a bad field (garbled name, impossible date,
invalid ID number) is still linked on its other fields and gets a warning in the same report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

INPUT_COLUMNS = ("record_id", "source_system", "name", "sex", "birth_date", "id_number", "phone", "address", "household_id")
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

    def add(self, row_number: int | None, record_id: str | None, severity: str, field_name: str, code: str, message: str) -> None:
        self.rows.append({"row_number": row_number, "record_id": record_id, "severity": severity,
                          "field": field_name, "code": code, "message": message})

    def add_many(self, row_numbers: np.ndarray, record_ids: list[str | None], severity: str, field_name: str, code: str, message: str) -> None:
        for rn, rid in zip(row_numbers.tolist(), record_ids):
            self.add(int(rn), rid, severity, field_name, code, message)

    @property
    def errors(self) -> int:
        return sum(1 for r in self.rows if r["severity"] == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for r in self.rows if r["severity"] == "warning")

    def to_table(self) -> pa.Table:
        return pa.table({c: pa.array([r[c] for r in self.rows], pa.int64() if c == "row_number" else pa.string())
                         for c in REPORT_COLUMNS})


def read_table(path: str | Path) -> pa.Table:
    """Read a CSV, Parquet or Excel file; CSV cells are read as text so IDs keep leading zeros."""
    path = Path(path)
    if not path.exists():
        raise InputFileError("file_not_found", f"找不到输入文件：{path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pq.read_table(path)
        if suffix in (".csv", ".txt"):
            names = _csv_header(path)
            if not names:
                raise InputFileError("file_empty", f"文件 {path.name} 为空或没有表头")
            return pacsv.read_csv(
                path,
                convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in names}, strings_can_be_null=True),
            )
        if suffix in (".xlsx", ".xlsm"):
            return _read_excel(path)
    except InputFileError:
        raise
    except (pa.ArrowInvalid, OSError, ValueError) as exc:
        raise InputFileError("file_unreadable", f"无法读取文件 {path.name}：{exc}") from exc
    raise InputFileError("file_type", f"不支持的文件类型 {suffix}（支持 .csv、.parquet、.xlsx）")


def _csv_header(path: Path) -> list[str]:
    import csv

    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        return next(csv.reader(fh), [])


def _read_excel(path: Path) -> pa.Table:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    if not rows:
        return pa.table({})
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    cols = {h: [None if r[i] is None else (r[i].isoformat() if hasattr(r[i], "isoformat") else str(r[i]))
                for r in rows[1:]] for i, h in enumerate(header) if h}
    return pa.table({h: pa.array(v, pa.string()) for h, v in cols.items()})


def check_table(table: pa.Table, report: ErrorReport) -> pa.Table:
    """Check columns and rows; returns the usable rows (all nine columns) with ``row_number``.

    Raises ``InputFileError`` when essential columns are missing. Optional columns that are
    missing are added empty with one file-level warning each. Rows without a record_id and
    repeated record_ids (every occurrence after the first) are reported as errors and left out.
    """
    present = {c.strip().lower(): c for c in table.column_names}
    missing_essential = [c for c in ESSENTIAL_COLUMNS if c not in present]
    if missing_essential:
        raise InputFileError(
            "missing_columns",
            f"文件缺少必需的列：{', '.join(missing_essential)}；应包含 {', '.join(INPUT_COLUMNS)}",
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
            report.add(None, None, "warning", c, "missing_column", f"文件缺少列 {c}，按空值处理")
            cols[c] = pa.nulls(n, pa.string())
    cols["record_id"] = pc.utf8_trim_whitespace(pc.cast(cols["record_id"], pa.string()))
    row_number = np.arange(2, n + 2, dtype=np.int64)  # as in a spreadsheet: header is row 1
    rid = cols["record_id"]
    empty = np.asarray(pc.fill_null(pc.equal(rid, ""), True).to_numpy(zero_copy_only=False), dtype=bool)
    if empty.any():
        report.add_many(row_number[empty], [None] * int(empty.sum()), "error", "record_id", "record_id_missing",
                        "记录号为空，该行未参与匹配")
    codes = pc.dictionary_encode(rid).indices.fill_null(-1).to_numpy(zero_copy_only=False)
    _, first = np.unique(codes, return_index=True)
    dup = np.ones(n, dtype=bool)
    dup[first] = False
    dup &= ~empty
    if dup.any():
        dup_ids = pc.filter(rid, pa.array(dup)).to_pylist()
        report.add_many(row_number[dup], dup_ids, "error", "record_id", "record_id_duplicate",
                        "记录号重复，仅第一次出现的行参与匹配")
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


def write_table(table: pa.Table, path: str | Path) -> None:
    """Write Parquet, or CSV (UTF-8 with BOM so Excel opens Chinese correctly) by suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        with open(path, "wb") as fh:
            fh.write("\ufeff".encode())
            pacsv.write_csv(table, fh)
    else:
        pq.write_table(table, path)
