"""Exports that a spreadsheet opens safely: every CSV and Excel file the platform writes goes through here.

A cell that begins with ``=``, ``+``, ``-``, ``@`` (or a tab/carriage return before one) is run as a
formula by Excel and WPS (OWASP "CSV injection": ``=HYPERLINK(…)`` in an imported name, DDE
commands). In CSV such a value gets a leading apostrophe, which Excel shows as text; in .xlsx the cell
is written as a string with the quote prefix, so the text is kept exactly and never becomes a formula.
Plain numbers ("-12.5") are left as they are.

Use ``csv_response``/``write_csv`` for CSV (UTF-8 with BOM, so that Excel shows Chinese) and
``new_workbook``/``append_row``/``set_cell``/``xlsx_response`` for Excel.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable
from typing import Any, Protocol

from django.http import HttpResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # and full-width forms
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def is_formula_like(value: Any) -> bool:
    """True for text that a spreadsheet would evaluate (a plain number is not)."""
    if not isinstance(value, str) or not value:
        return False
    return value.lstrip(" ").startswith(FORMULA_START) and not _NUMBER.match(value.strip())


def safe_cell(value: Any) -> Any:
    """The value as it may go into a CSV cell: formula-like text is prefixed with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = value.replace("\x00", "")
        if is_formula_like(value):
            return "'" + value
    return value


class Writable(Protocol):
    def write(self, s: str, /) -> object: ...


def write_csv(fh: Writable, header: Iterable[Any] | None, rows: Iterable[Iterable[Any]], *, bom: bool = True) -> None:
    """Write rows to a text stream, every cell through ``safe_cell``; the BOM lets Excel read UTF-8."""
    if bom:
        fh.write("\ufeff")
    w = csv.writer(fh)
    if header is not None:
        w.writerow([safe_cell(v) for v in header])
    for row in rows:
        w.writerow([safe_cell(v) for v in row])


def csv_response(filename: str, header: Iterable[Any] | None, rows: Iterable[Iterable[Any]]) -> HttpResponse:
    """An attachment download of a safe CSV (UTF-8 with BOM)."""
    resp = HttpResponse(content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = content_disposition(filename)
    write_csv(resp, header, rows)
    return resp


def csv_bytes(header: Iterable[Any] | None, rows: Iterable[Iterable[Any]]) -> bytes:
    buf = io.StringIO()
    write_csv(buf, header, rows)
    return buf.getvalue().encode("utf-8")


def new_workbook(title: str = "Sheet1"):
    """An openpyxl workbook whose first sheet carries ``title``."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = title[:31]
    return wb


def _guard(cell) -> None:
    if cell.data_type == "f" or is_formula_like(cell.value):
        cell.data_type = "s"  # written as text, never as a formula
        cell.quotePrefix = True


def set_cell(ws, row: int, column: int, value: Any):
    """``ws.cell(row, column, value)`` that can never write a formula."""
    if isinstance(value, str):
        value = value.replace("\x00", "")
    cell = ws.cell(row, column, value)
    _guard(cell)
    return cell


def append_row(ws, values: Iterable[Any]) -> None:
    """``ws.append(values)`` that can never write a formula."""
    values = [v.replace("\x00", "") if isinstance(v, str) else v for v in values]
    ws.append(values)
    # the row just appended (``ws.max_row`` would scan every cell of the sheet on each call)
    row = getattr(ws, "_current_row", None) or ws.max_row
    for column in range(1, len(values) + 1):
        _guard(ws.cell(row, column))


def workbook_bytes(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(filename: str, wb) -> HttpResponse:
    resp = HttpResponse(workbook_bytes(wb), content_type=XLSX_TYPE)
    resp["Content-Disposition"] = content_disposition(filename)
    return resp


def content_disposition(filename: str) -> str:
    from urllib.parse import quote

    ascii_name = filename.encode("ascii", "ignore").decode()
    if not ascii_name.split(".")[0]:
        ascii_name = "export" + ascii_name
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


# A list exported to Excel carries at most this many rows (the page says so); past that, filter the list.
EXPORT_LIMIT = 5000


def list_xlsx_response(filename: str, title: str, header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> HttpResponse:
    """A list as the page shows it, as an Excel download: ``rows`` are the cells already masked as on the
    page (the caller's scoped, audited export query decides which rows), every cell formula-safe."""
    wb = new_workbook(title)
    ws = wb.active
    # set_cell by position: ``append_row`` looks the new row up through ``ws.max_row``, which scans every cell
    # (5,000 rows took 20 s that way)
    for r, row in enumerate(itertools.chain([header], rows), start=1):
        for c, value in enumerate(row, start=1):
            set_cell(ws, r, c, value)
    return xlsx_response(filename, wb)
