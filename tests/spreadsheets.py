"""Files as offices produce them, for the import tests and bench/import_bounds.py: CSV as Excel saves it, a real
.xlsx, and an .xlsx "bomb" of identical rows (small on disk, huge once unzipped)."""

from __future__ import annotations

import codecs
import io
import zipfile
from typing import BinaryIO

BOMB_HEADER = ["记录号", "姓名", "性别", "出生日期"]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8", bom: bool = False) -> bytes:
    text = "\r\n".join(",".join(r) for r in rows) + "\r\n"  # Excel writes CRLF
    data = text.encode(encoding)
    return (codecs.BOM_UTF8 + data) if bom else data


def xlsx_bytes(rows: list[list]) -> bytes:
    """A workbook of one sheet; text that starts with "=" stays text (as a cell typed '=…), not a formula."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
        for c in ws[ws.max_row]:
            if c.data_type == "f":
                c.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_xlsx_bomb(out_file: str | BinaryIO, rows: int, compresslevel: int = 1) -> None:
    """Write a real .xlsx whose sheet holds ``rows`` identical rows under BOMB_HEADER, its extent declared up
    front as Excel writes it; the sheet is streamed into the zip, so building a million rows takes little memory."""
    plain = zipfile.ZipFile(io.BytesIO(xlsx_bytes([BOMB_HEADER])))
    cells = "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in ("R1", "张三", "男", "1972-07-08"))
    row = f"<row>{cells}</row>".encode()
    with zipfile.ZipFile(out_file, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as out:
        for info in plain.infolist():
            data = plain.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info.filename, data)
                continue
            text = data.decode().replace('<dimension ref="A1:D1"', f'<dimension ref="A1:D{rows + 1}"')
            assert f"A1:D{rows + 1}" in text, "openpyxl no longer writes the sheet's extent"
            head, rest = text.split("</row>", 1)
            with out.open(info.filename, "w", force_zip64=True) as fh:
                fh.write((head + "</row>").encode())
                for _ in range(rows // 10_000):
                    fh.write(row * 10_000)
                fh.write(row * (rows % 10_000))
                fh.write(rest.encode())
