"""Column-wise parsing of raw resident records into comparable numeric features.

Every function takes a pyarrow array (one column of many records) and returns numpy arrays plus a
mask of values that were present but unreadable, so the batch linker stays vectorised and the
single-record API (a handful of candidates) goes through exactly the same code.

Encodings used downstream: sex 0 unknown / 1 male / 2 female; dates as days since 1970-01-01 with
``NO_DATE`` for missing; codes as non-negative integers with -1 for missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yigongti.core.idcard import CHECK_CHARS, FULL_WIDTH_ID_CHARS, WEIGHTS, region_ever_existed

NO_DATE = np.iinfo(np.int32).min
EPOCH = dt.date(1970, 1, 1)

# ID status codes (kept small and stable: explanations and the error report use them)
ID_MISSING, ID_VALID, ID_VALID_15, ID_BAD_CHECK, ID_BAD_REGION, ID_BAD_BIRTH, ID_BAD_FORMAT = range(7)
ID_STATUS_MESSAGES = {
    ID_BAD_CHECK: "身份证号校验位错误",
    ID_BAD_REGION: "身份证号地区码无效",
    ID_BAD_BIRTH: "身份证号中的出生日期不存在",
    ID_BAD_FORMAT: "身份证号格式错误（应为18位或15位）",
}

_SEX_VALUES = {
    "男": 1, "m": 1, "male": 1, "1": 1, "女": 2, "f": 2, "female": 2, "2": 2,
    # GB/T 2261.1: 0 unknown, 9 unspecified; both read as "no information", not as an error
    "0": 0, "9": 0, "未知": 0, "未说明": 0, "u": 0, "": 0,
}


def as_string_array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Any column as trimmed strings with empty strings turned into nulls."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = pc.cast(column, pa.string())
    column = pc.utf8_trim_whitespace(column)
    return pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)


def parse_sex_value(value: object) -> int:
    """男/女, M/F, male/female or GB/T 2261.1 codes → 1 male, 2 female, 0 unknown; -1 unreadable."""
    if value is None:
        return 0
    text = str(value).strip().lower()
    if text.endswith(".0"):  # Excel numbers
        text = text[:-2]
    return _SEX_VALUES.get(text, -1)


def parse_sex(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Sex codes for a column and a mask of unreadable values (which become unknown)."""
    encoded = pc.dictionary_encode(as_string_array(column))
    table = np.array([parse_sex_value(v) for v in encoded.dictionary.to_pylist()] + [0], dtype=np.int8)
    idx = encoded.indices.fill_null(len(table) - 1).to_numpy(zero_copy_only=False)
    codes = table[idx]
    bad = codes < 0
    return np.where(bad, 0, codes).astype(np.int8), bad


def days_from_ymd(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days since epoch for year/month/day arrays, and a mask of impossible dates."""
    y = y.astype(np.int64)
    m = m.astype(np.int64)
    d = d.astype(np.int64)
    ok = (y >= 1880) & (y <= 2200) & (m >= 1) & (m <= 12) & (d >= 1)
    months = np.where(ok, (y - 1970) * 12 + (m - 1), 0)
    start = months.astype("datetime64[M]").astype("datetime64[D]")
    next_start = (months + 1).astype("datetime64[M]").astype("datetime64[D]")
    ok &= d <= (next_start - start).astype(np.int64)
    days = start.astype(np.int64) + d - 1
    return np.where(ok, days, NO_DATE).astype(np.int32), ~ok


_DATE_RE = r"^(?P<y>\d{4})[-/.年]?(?P<m>\d{1,2})[-/.月]?(?P<d>\d{1,2})日?(?:[ T].*)?$"


def parse_dates(column: pa.Array | pa.ChunkedArray, today: dt.date | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Birth dates from ISO text, ``YYYYMMDD``, ``YYYY/MM/DD``, 1980年5月3日 or a date type.

    Returns days since epoch (``NO_DATE`` when missing or impossible) and a mask of values that
    were present but impossible (February 30th, a future date, year 1780…).
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    limit = ((today or dt.date.today()) - EPOCH).days
    if pa.types.is_timestamp(column.type):
        column = pc.cast(column, pa.date32())
    if pa.types.is_date(column.type):
        days = pc.cast(pc.cast(column, pa.date32()), pa.int32()).fill_null(NO_DATE).to_numpy(zero_copy_only=False)
        bad = (days != NO_DATE) & ((days > limit) | (days < (dt.date(1880, 1, 1) - EPOCH).days))
        return np.where(bad, NO_DATE, days).astype(np.int32), bad
    text = as_string_array(column)
    present = pc.is_valid(text).to_numpy(zero_copy_only=False)
    parts = pc.extract_regex(text, _DATE_RE)
    y, m, d = (
        pc.cast(pc.struct_field(parts, f), pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        for f in ("y", "m", "d")
    )
    days, impossible = days_from_ymd(y, m, d)
    impossible |= days > limit
    days = np.where(impossible, NO_DATE, days).astype(np.int32)
    return days, present & impossible


@dataclass
class IdColumns:
    """Normalised 18-character ID numbers of many records."""

    digits: np.ndarray  # (n, 18) uint8 ASCII codes; zeros where not comparable
    comparable: np.ndarray  # bool: an 18-character number we can compare digit by digit
    status: np.ndarray  # int8 ID_* code
    birth_days: np.ndarray  # int32 date encoded in the number (NO_DATE if none)
    sex: np.ndarray  # int8 sex encoded in the number (0 if none)


def parse_ids(column: pa.Array | pa.ChunkedArray) -> IdColumns:
    """Validate ID numbers with GB 11643 rules, vectorised; 15-digit numbers become 18-digit.

    The check character and region table come from ``yigongti.core.idcard`` (the single source
    of GB 11643 rules); this is only a column-at-a-time form of ``parse_id_number`` so that
    millions of numbers validate in well under a second. Invalid numbers are kept when they have
    18 characters: a number with one mistyped digit is still strong evidence.
    """
    text = as_string_array(column)
    for wide, narrow in FULL_WIDTH_ID_CHARS.items():  # the same normalisation as core.idcard.normalise_id_text
        text = pc.replace_substring(text, wide, narrow)
    text = pc.replace_substring_regex(pc.utf8_upper(text), r"[\s\x{3000}\x{00A0}\-‐‑‒–—―－﹣−_]", "")
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    n = len(text)
    present = pc.is_valid(text).to_numpy(zero_copy_only=False)
    is15 = pc.fill_null(pc.match_substring_regex(text, r"^\d{15}$"), False)
    widened = pc.if_else(
        is15,
        pc.binary_join_element_wise(pc.utf8_slice_codeunits(text, 0, 6), "19", pc.utf8_slice_codeunits(text, 6), ""),
        text,
    )
    is18 = pc.fill_null(pc.match_substring_regex(widened, r"^\d{17}[\dX]$"), False)
    is17 = pc.fill_null(pc.match_substring_regex(widened, r"^\d{17}$"), False)  # widened 15-digit
    usable = pc.or_(is18, is17)
    raw = pc.if_else(usable, widened, "").to_numpy(zero_copy_only=False).astype("S18")
    digits = np.frombuffer(raw.tobytes(), dtype=np.uint8).reshape(n, 18).copy() if n else np.zeros((0, 18), np.uint8)
    comparable = np.asarray(usable.to_numpy(zero_copy_only=False), dtype=bool)
    num = digits[:, :17].astype(np.int64) - 48
    check = np.frombuffer(CHECK_CHARS.encode(), dtype=np.uint8)[(num * np.array(WEIGHTS)).sum(axis=1) % 11]
    was15 = np.asarray(is15.to_numpy(zero_copy_only=False), dtype=bool)
    digits[was15 & comparable, 17] = check[was15 & comparable]  # legacy numbers have no check char
    status = np.full(n, ID_MISSING, dtype=np.int8)
    status[present] = ID_BAD_FORMAT
    status[comparable] = ID_VALID
    status[comparable & (digits[:, 17] != check)] = ID_BAD_CHECK
    # region codes: only a few hundred distinct values, each looked up once in GB/T 2260 history
    region = (num[:, :6] * 10 ** np.arange(5, -1, -1)).sum(axis=1)
    uniq, inv = np.unique(np.where(comparable, region, -1), return_inverse=True)
    known = np.array([u >= 0 and region_ever_existed(f"{u:06d}") for u in uniq], dtype=bool)
    status[comparable & ~known[inv] & (status == ID_VALID)] = ID_BAD_REGION
    y = (num[:, 6:10] * np.array([1000, 100, 10, 1])).sum(axis=1)
    m = num[:, 10] * 10 + num[:, 11]
    d = num[:, 12] * 10 + num[:, 13]
    birth, impossible = days_from_ymd(np.where(comparable, y, 0), m, d)
    limit = (dt.date.today() - EPOCH).days
    impossible |= birth > limit
    status[comparable & impossible & (status == ID_VALID)] = ID_BAD_BIRTH
    birth = np.where(comparable & ~impossible, birth, NO_DATE).astype(np.int32)
    status[(status == ID_VALID) & was15] = ID_VALID_15
    sex = np.where(comparable, np.where(num[:, 16] % 2 == 1, 1, 2), 0).astype(np.int8)
    digits[~comparable] = 0
    return IdColumns(digits, comparable, status, birth, sex)


def parse_phones(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Phones as integers of their national digits (mobile 11 digits, landline with area code).

    The +86 / 0086 prefix and separators are dropped, as in ``core.personal.normalise_phone``.
    Returns the numbers (-1 missing) and a mask of present but unreadable values.
    """
    text = as_string_array(column)
    present = pc.is_valid(text).to_numpy(zero_copy_only=False)
    digits = pc.replace_substring_regex(text, r"\D", "")
    digits = pc.replace_substring_regex(digits, r"^(?:0086|86)(1[3-9]\d{9})$", r"\1")
    ok = pc.fill_null(pc.match_substring_regex(digits, r"^(?:1[3-9]\d{9}|0\d{9,11})$"), False)
    ok_np = np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)
    values = pc.cast(pc.if_else(ok, digits, "-1"), pa.int64()).to_numpy(zero_copy_only=False)
    return values.astype(np.int64), present & ~ok_np


def codes_of(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Dictionary codes of a string column (-1 for missing): equality is all we compare."""
    encoded = pc.dictionary_encode(as_string_array(column))
    return encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


_TOWNSHIP_RE = r"(?:^|县|旗|区|市)(?P<t>[^县旗镇乡村]{1,6}(?:镇|乡|街道))"
_VILLAGE_RE = r"(?:^|镇|乡|道)(?P<v>[^镇乡\d组号]{1,8}(?:村|社区|居委会))"


def parse_addresses(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(township code, township+village code) for addresses like 蓝山县塔峰镇新村村5组12号.

    Matching uses the township and village only: group and house numbers are recorded
    inconsistently and change when families move within a village.
    """
    text = pc.replace_substring_regex(as_string_array(column), r"\s", "")
    town = pc.struct_field(pc.extract_regex(text, _TOWNSHIP_RE), "t")
    village = pc.struct_field(pc.extract_regex(text, _VILLAGE_RE), "v")
    both = pc.binary_join_element_wise(pc.fill_null(town, ""), village, "/")
    return codes_of(town), codes_of(both)


def date_of_days(days: int) -> dt.date | None:
    return None if days == NO_DATE else EPOCH + dt.timedelta(days=int(days))
