"""Uploaded tables (CSV, Excel, Parquet): one way in for every import, bounded before anything is parsed.

* ``check_request_size`` refuses a request whose declared body is over the limit before Django reads
  the upload; ``saved_upload`` copies an upload to a temporary file (refusing it when it is over the
  limit) and always removes it. ``stash``/``stashed`` keep an upload for a second step (the
  column-mapping form) without putting its name in front of the user.
* ``read_sheet`` reads the first sheet as a header and rows of plain values, counting every row
  (duplicates and blank rows included) and stopping at the limit + 1; an .xlsx is a zip, so the
  uncompressed size of its parts is checked before it is opened, and it is streamed (openpyxl
  read-only); a Parquet file must be flat and its row count is read from its footer first.
* CSV text is UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode 文本") or GB18030/GBK (Excel's
  "CSV（逗号分隔）" on a Chinese Windows).
* ``parse_date`` reads the dates offices type (1972/7/8, 1972-7-8, 19720708, 1972年7月8日, Excel date
  cells and serial numbers); ``digits_lost`` recognises an ID number that Excel stored as a number.

Every refusal is an ``InvalidInput`` with a Chinese message that states the limit; no message carries a
temporary file's name or a library's words.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import os
import re
import secrets
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.utils.translation import gettext as _

from .errors import InvalidInput

TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".parquet")
MAX_COLUMNS = 200


def max_upload_bytes() -> int:
    return int(float(getattr(settings, "YIGONGTI_IMPORT_MAX_MB", 10)) * 1024 * 1024)


def max_unzipped_bytes() -> int:
    """The largest uncompressed part of an .xlsx (a sheet or the shared strings) we agree to open."""
    return int(float(getattr(settings, "YIGONGTI_IMPORT_MAX_UNZIPPED_MB", 50)) * 1024 * 1024)


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB".replace(".0 MB", " MB")
    return f"{max(n, 1) / 1024:.0f} KB"


def _too_large(size: int | None, limit: int) -> InvalidInput:
    said = _("（%(size)s）") % {"size": human_size(size)} if size else ""
    return InvalidInput(
        "file_too_large", _("文件过大%(size)s：上传文件不能超过 %(limit)s，请拆分后分批导入")
        % {"size": said, "limit": human_size(limit)}, field="file"
    )


def check_suffix(filename: str, suffixes: tuple[str, ...] = TABLE_SUFFIXES) -> str:
    suffix = Path(filename or "").suffix.lower()
    if suffix not in suffixes:
        if suffix == ".xls":
            raise InvalidInput(
                "file_type", _("不支持旧版 Excel（.xls）文件：请在 Excel 或 WPS 中另存为 .xlsx 后上传"), field="file"
            )
        raise InvalidInput("file_type", _("不支持的文件类型：请上传 CSV、Excel（.xlsx）或 Parquet 文件"), field="file")
    return suffix


def check_request_size(request, limit: int | None = None) -> None:
    """Refuse an upload by its declared length, before the body is read (call before ``request.FILES``)."""
    limit = limit or max_upload_bytes()
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit + 64 * 1024:  # room for the form's other fields and the multipart framing
        raise _too_large(length, limit)


class LimitedUploadHandler(FileUploadHandler):
    """First of ``FILE_UPLOAD_HANDLERS``: a file over the limit is skipped as it arrives, so that it is
    neither kept in memory nor spooled to disk (the view then refuses it by its declared length)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.limit = max_upload_bytes()
        self.content_length = content_length
        self.seen = 0
        self.too_big = bool(content_length and content_length > self.limit + 64 * 1024)

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.seen = 0
        if self.too_big:
            self.request.upload_refused_size = self.content_length
            raise SkipFile

    def receive_data_chunk(self, raw_data, start):
        self.seen += len(raw_data)
        if self.seen > self.limit:
            self.request.upload_refused_size = self.seen  # read by ``required_upload``
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


def upload_dir() -> Path:
    path = Path(getattr(settings, "DATA_DIR", tempfile.gettempdir())) / "uploads"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def required_upload(request, upload):
    """The upload, or the refusal that says why there is none (over the limit, or not sent)."""
    if upload is None:
        check_request_size(request)
        if refused := getattr(request, "upload_refused_size", None):
            raise _too_large(refused, max_upload_bytes())
        raise InvalidInput("file_missing", _("请选择要上传的文件（CSV、Excel 或 Parquet）"), field="file")
    return upload


@contextmanager
def saved_upload(upload, *, limit: int | None = None, suffixes: tuple[str, ...] = TABLE_SUFFIXES) -> Iterator[Path]:
    """The upload as a temporary file (removed afterwards), refused before copying when over ``limit``."""
    limit = limit or max_upload_bytes()
    suffix = check_suffix(getattr(upload, "name", "") or "", suffixes)
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_large(size, limit)
    fd, name = tempfile.mkstemp(suffix=suffix, dir=upload_dir())
    path = Path(name)
    try:
        written = 0
        with os.fdopen(fd, "wb") as fh:
            for chunk in upload.chunks():
                written += len(chunk)
                if written > limit:
                    raise _too_large(written, limit)
                fh.write(chunk)
        yield path
    finally:
        path.unlink(missing_ok=True)


def stash(path: Path) -> str:
    """Keep a temporary upload for a second request; returns an opaque token (not a file name)."""
    _sweep()
    token = secrets.token_urlsafe(18)
    target = upload_dir() / f"stash-{token}{path.suffix.lower()}"
    target.write_bytes(Path(path).read_bytes())
    os.chmod(target, 0o600)
    return token


def stashed(token: str) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9_-]{20,40}", token or ""):
        raise InvalidInput("upload_expired", _("上传的文件已过期，请重新上传"), field="file")
    for p in upload_dir().glob(f"stash-{token}.*"):
        return p
    raise InvalidInput("upload_expired", _("上传的文件已过期，请重新上传"), field="file")


def drop_stash(token: str) -> None:
    for p in upload_dir().glob(f"stash-{token}.*") if re.fullmatch(r"[A-Za-z0-9_-]{20,40}", token or "") else []:
        p.unlink(missing_ok=True)


def _sweep(max_age: int = 24 * 3600) -> None:
    cutoff = time.time() - max_age
    for p in upload_dir().glob("stash-*"):
        try:
            if p.stat().st_mtime < cutoff:
                p.unlink()
        except OSError:
            pass


# --- reading ---------------------------------------------------------------------------------------


@dataclass
class Sheet:
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    encoding: str = ""  # of a CSV: "utf-8", "gb18030" or "utf-16"
    blank_rows: int = 0


def clean_header(value: Any) -> str:
    """A header cell as a lookup key: spaces (also full-width), required marks and notes removed."""
    text = "" if value is None else str(value)
    text = text.replace("\ufeff", "").replace("\u3000", " ").strip()
    text = re.sub(r"[（(][^）)]*[）)]$", "", text).strip()  # 出生日期（YYYY-MM-DD）
    return text.strip("*＊ ").strip()


def _blank(row) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def read_sheet(path: str | Path, *, max_rows: int, too_many: str = "", max_unzipped: int | None = None) -> Sheet:
    """Header and up to ``max_rows`` data rows of the first sheet; more rows refuse the whole file.

    ``too_many`` is appended to the refusal (what to do instead); ``max_unzipped`` overrides the setting
    (the command line reads files bigger than an upload may be)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        rows = _parquet_rows(path, max_rows, too_many, max_unzipped or max_unzipped_bytes())
    elif suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path, max_unzipped or max_unzipped_bytes())
    else:
        rows = None
    encoding = ""
    if rows is None:
        encoding, rows = _csv_rows(path)
    sheet: Sheet | None = None
    data = 0
    try:
        for row in rows:
            if sheet is None:
                if _blank(row):
                    continue
                header = [clean_header(h) for h in row]
                while header and not header[-1]:
                    header.pop()
                if len(header) > MAX_COLUMNS:
                    raise InvalidInput(
                        "too_many_columns", _("文件超过 %(n)s 列，请只保留需要导入的列") % {"n": MAX_COLUMNS},
                        field="file"
                    )
                sheet = Sheet(header=header, encoding=encoding)
                continue
            if _blank(row):
                sheet.blank_rows += 1
                if sheet.blank_rows > max_rows + 1000:
                    raise InvalidInput(
                        "too_many_rows", f"文件中空行过多（超过 {max_rows + 1000} 行），请删除后再上传", field="file"
                    )
                continue
            data += 1
            if data > max_rows:
                raise InvalidInput(
                    "too_many_rows",
                    _("文件超过 %(n)s 行（不含表头，重复的行也计入）") % {"n": max_rows}
                    + (f"：{too_many}" if too_many else _("：请拆分后分批导入")),
                    field="file",
                )
            sheet.rows.append(list(row[: len(sheet.header)]) + [None] * (len(sheet.header) - len(row)))
    except csv.Error:
        raise InvalidInput(
            "file_unreadable",
            _("CSV 文件格式有误（引号不成对或单元格过长），请在 Excel 中另存为 CSV 后重试"),
            field="file",
        ) from None
    finally:
        close = getattr(rows, "close", None)
        if close:
            close()
    if sheet is None or not any(sheet.header):
        raise InvalidInput("file_empty", _("文件为空或没有表头（第一行应为列名）"), field="file")
    return sheet


def detect_encoding(path: Path) -> str:
    """utf-16 by its BOM, else utf-8 (with or without BOM) if every byte decodes, else gb18030."""
    with open(path, "rb") as fh:
        head = fh.read(4)
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        utf8 = True
        while chunk := fh.read(1 << 20):
            if b"\x00" in chunk:
                raise InvalidInput(
                    "file_binary",
                    _("文件含有空字符（NUL），不是文本表格：请上传 CSV、Excel（.xlsx）或 Parquet 文件"),
                    field="file",
                )
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    if utf8:
        return "utf-8-sig"
    with open(path, "rb") as fh:
        gb = codecs.getincrementaldecoder("gb18030")()
        try:
            while chunk := fh.read(1 << 20):
                gb.decode(chunk)
            gb.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InvalidInput(
                "file_encoding",
                _("无法识别文件的文字编码：请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后上传"),
                field="file",
            ) from None
    return "gb18030"


def _csv_rows(path: Path):
    encoding = detect_encoding(path)
    fh = open(path, encoding=encoding, newline="")  # noqa: SIM115 (closed by the generator)
    first = fh.readline()
    fh.seek(0)
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(fh, delimiter=delimiter)

    def rows():
        try:
            for row in reader:
                yield [v.strip() if v.strip() else None for v in row]
        finally:
            fh.close()

    return ("gb18030" if encoding == "gb18030" else encoding.replace("-sig", "")), rows()


def check_xlsx_parts(path: Path, limit: int | None = None) -> None:
    """Refuse an .xlsx whose parts unpack to more than the limit (a "zip bomb" of repeated rows)."""
    limit = limit or max_unzipped_bytes()
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InvalidInput(
            "file_unreadable", _("不是有效的 Excel 文件（.xlsx）：请在 Excel 或 WPS 中重新另存为 .xlsx"), field="file"
        ) from None
    parts = [i for i in infos if i.filename.startswith("xl/")]
    if not any(i.filename.startswith("xl/worksheets/") for i in parts):
        raise InvalidInput("file_unreadable", _("Excel 文件中没有工作表"), field="file")
    biggest = max(parts, key=lambda i: i.file_size)
    total = sum(i.file_size for i in infos)
    if biggest.file_size > limit or total > 2 * limit:
        raise InvalidInput(
            "file_too_large",
            f"Excel 文件解压后过大（{human_size(max(biggest.file_size, total))}，"
            f"上限 {human_size(limit)}）：请删除多余的行和格式后再上传，或拆分文件",
            field="file",
        )


def _xlsx_rows(path: Path, limit: int):
    check_xlsx_parts(path, limit)
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise InvalidInput("file_unreadable", _("Excel 文件已损坏或受密码保护，无法读取"), field="file") from None

    def rows():
        try:
            yield from wb.worksheets[0].iter_rows(values_only=True)
        except InvalidInput:
            raise
        except Exception:
            raise InvalidInput("file_unreadable", _("Excel 文件已损坏，无法读取"), field="file") from None
        finally:
            wb.close()

    return rows()


def _parquet_rows(path: Path, max_rows: int, too_many: str, limit: int):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
    except Exception:
        raise InvalidInput("file_unreadable", _("不是有效的 Parquet 文件"), field="file") from None
    nested = [
        f.name
        for f in schema
        if pa.types.is_nested(f.type) or (pa.types.is_dictionary(f.type) and pa.types.is_nested(f.type.value_type))
    ]
    if nested:
        raise InvalidInput(
            "nested_columns",
            f"Parquet 文件含嵌套列（{'、'.join(nested[:5])}）：只能导入平面表，每列一个值",
            field="file",
        )
    if len(schema) > MAX_COLUMNS:
        raise InvalidInput("too_many_columns", _("文件超过 %(n)s 列，请只保留需要导入的列") % {"n": MAX_COLUMNS},
                           field="file")
    if pf.metadata.num_rows > max_rows:
        raise InvalidInput(
            "too_many_rows",
            f"文件超过 {max_rows} 行（共 {pf.metadata.num_rows} 行）"
            + (f"：{too_many}" if too_many else "：请拆分后分批导入"),
            field="file",
        )
    unpacked = sum(pf.metadata.row_group(i).total_byte_size for i in range(pf.metadata.num_row_groups))
    if unpacked > limit:
        raise InvalidInput(
            "file_too_large",
            f"Parquet 文件解压后过大（{human_size(unpacked)}，上限 {human_size(limit)}）",
            field="file",
        )

    def rows():
        yield list(schema.names)
        try:
            for batch in pf.iter_batches(batch_size=2000):
                cols = [c.to_pylist() for c in batch.columns]
                yield from (list(r) for r in zip(*cols, strict=True))
        except Exception:
            raise InvalidInput("file_unreadable", _("Parquet 文件已损坏，无法读取"), field="file") from None

    return rows()


# --- cells -----------------------------------------------------------------------------------------


def cell_text(value: Any) -> str | None:
    """A cell as text: numbers without a spurious ``.0``, dates as ISO, control characters removed.
    A number too long for Excel's 15 significant digits keeps its scientific form so that it can be
    recognised (``digits_lost``) instead of passing as a wrong number."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15G}"
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", str(value)).strip()
    return text or None


SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d{1,2}$")


def digits_lost(text: str | None) -> bool:
    """True for an ID number that Excel turned into a number: ``4.31127E+17``, or 18 digits ending in
    000 whose check digit fails (Excel keeps 15 significant digits and pads with zeros)."""
    if not text:
        return False
    t = text.strip().upper()
    if SCIENTIFIC.match(t):
        return True
    if re.fullmatch(r"\d{16,18}\.0+", t):
        return True
    if re.fullmatch(r"\d{15}0{3}", t) or re.fullmatch(r"\d{16}0{2}", t):
        from .idcard import check_char

        return check_char(t[:17]) != t[17]
    return False


DIGITS_LOST_MESSAGE = (
    "身份证号被 Excel 当作数字保存，后几位已丢失（如 4.31127E+17）：请把该列设为“文本”格式，重新录入后再导入"
)

EXCEL_EPOCH = dt.date(1899, 12, 30)
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


class DateCellError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_date(
    value: Any, *, earliest: dt.date | None = dt.date(1900, 1, 1), latest: dt.date | None = None, what: str = "日期"
) -> dt.date | None:
    """A date from a cell: an Excel date or serial number, 1972/7/8, 1972-7-8, 1972.7.8, 19720708,
    1972年7月8日 (a time of day after it is ignored). None for an empty cell; ``DateCellError`` with a
    Chinese message for anything else or outside [earliest, latest] (latest defaults to today)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        d = value.date()
    elif isinstance(value, dt.date):
        d = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        d = _from_number(value, what)
    else:
        text = str(value).strip()
        text = re.sub(r"[T\s]+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "", text)
        m = _YMD.match(text)
        try:
            if m:
                d = dt.date(int(m[1]), int(m[2]), int(m[3]))
            elif re.fullmatch(r"\d+(\.0+)?", text):
                d = _from_number(float(text) if "." in text else int(text), what)
            else:
                raise DateCellError(
                    f"{what}“{text[:20]}”无法识别：请写成 1972-07-08、1972/7/8、19720708 或 1972年7月8日"
                )
        except ValueError as e:
            if isinstance(e, DateCellError):
                raise
            raise DateCellError(f"{what}“{text[:20]}”不是存在的日期") from None
    latest = latest or dt.date.today()  # dt.date.max: no upper bound (the caller checks its own range)
    if earliest and d < earliest:
        raise DateCellError(f"{what} {d:%Y-%m-%d} 早于 {earliest.year} 年，不合理")
    if d > latest:
        bound = "今天" if latest == dt.date.today() else f"{latest:%Y-%m-%d}"
        raise DateCellError(f"{what} {d:%Y-%m-%d} 晚于{bound}，不合理")
    return d


def _from_number(n: int | float, what: str) -> dt.date:
    if isinstance(n, float) and not n.is_integer():
        n = int(n)  # a serial with a time of day
    n = int(n)
    if 10_000_101 <= n <= 99_991_231:  # 19720708 typed as a number
        try:
            return dt.date(n // 10000, n // 100 % 100, n % 100)
        except ValueError:
            raise DateCellError(f"{what}“{n}”不是存在的日期") from None
    if 1 <= n <= 2_958_465:  # Excel's serial day numbers (1 = 1900-01-01)
        return EXCEL_EPOCH + dt.timedelta(days=n)
    raise DateCellError(f"{what}“{n}”无法识别：请写成 1972-07-08")


def sheet_text_rows(sheet: Sheet) -> Iterator[list[str | None]]:
    for row in sheet.rows:
        yield [cell_text(v) for v in row]


def template_workbook(title: str, header: list[str], example: list[Any], notes: Sequence[str] = ()) -> bytes:
    """An import template: Chinese headers, an example row, every column formatted as text (so that
    Excel keeps ID numbers and leading zeros), and a sheet of notes."""
    from openpyxl.styles import Font

    from .exports import append_row, new_workbook, workbook_bytes

    wb = new_workbook(title)
    ws = wb.active
    append_row(ws, header)
    for c in ws[1]:
        c.font = Font(bold=True)
    append_row(ws, [cell_text(v) if not isinstance(v, dt.date) else v for v in example])
    for i, _h in enumerate(header, start=1):
        letter = ws.cell(1, i).column_letter
        ws.column_dimensions[letter].width = 18
        example_cell = ws.cell(2, i)
        example_cell.number_format = "yyyy-mm-dd" if isinstance(example_cell.value, dt.date) else "@"
        # text format for every entry row as the column's own style (Excel and WPS apply it to typed cells);
        # formatting 1,000 rows cell by cell made each download cost a quarter of a second of CPU
        ws.column_dimensions[letter].number_format = "@"
    if notes:
        ns = wb.create_sheet("填写说明")
        for line in notes:
            append_row(ns, [line])
        ns.column_dimensions["A"].width = 100
    return workbook_bytes(wb)
