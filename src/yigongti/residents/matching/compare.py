"""Records → features, and field comparisons as plain vectorised functions.

Each ``compare_*`` function takes the prepared features and two index arrays (left and right
record of each candidate pair) and returns one small integer *level* per pair: 0 is the strongest
agreement, higher is weaker, ``NULL`` means one side lacks the field (no evidence either way).
The model turns levels into weights; the labels below explain them to people.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .names import MAX_CHARS, NameTable, build_name_table
from .normalize import (
    ID_MISSING,
    ID_VALID,
    ID_VALID_15,
    NO_DATE,
    IdColumns,
    as_string_array,
    codes_of,
    days_from_ymd,
    parse_addresses,
    parse_dates,
    parse_ids,
    parse_phones,
    parse_sex,
)

NULL = -1

# level labels: (reason shown when the level speaks for a match, reason when against)
NAME_LEVELS = (
    "姓名一致",
    "姓名拼音相同（同音字）",
    "姓名读音相近（方言近音，如n/l、zh/z、an/ang）",
    "姓名有一字形近",
    "姓名两字颠倒",
    "姓名多一字或少一字",
    "姓名有一字不同",
    "仅姓氏相同",
    "姓名不同",
)
DATE_LEVELS = (
    "出生日期一致",
    "出生日期月日颠倒",
    "出生日期相差一天",
    "出生日期有一位数字不同",
    "出生年月相同",
    "出生年份相近",
    "出生日期不同",
)
ID_LEVELS = (
    "身份证号一致",
    "身份证号一致（一方缺出生日期，未能核对）",
    "身份证号相同但一方的出生日期或性别与证号不符（可能借用家人证号）",
    "身份证号仅一位不同或相邻两位颠倒",
    "身份证号不同（均与本人出生日期相符）",
    "身份证号不同（至少一个无效或无法核对）",
)
SEX_LEVELS = ("性别一致", "性别不同")
CONTEXT_LEVELS = (
    "同一家庭户且电话相同",
    "同一家庭户",
    "电话号码相同",
    "同村",
    "同乡镇",
    "住址不在同一乡镇或家庭户不同",
    "电话不同（住址、家庭户无从比较）",
)
FIELDS = ("name", "birth_date", "id_number", "sex", "context")
FIELD_LEVELS = dict(zip(FIELDS, (NAME_LEVELS, DATE_LEVELS, ID_LEVELS, SEX_LEVELS, CONTEXT_LEVELS), strict=True))


@dataclass
class Features:
    """Comparable features of n records (row i of every array is record i)."""

    n: int
    names: NameTable
    name_idx: np.ndarray  # row of ``names`` or -1 (missing or garbled)
    traditional: np.ndarray  # the name was written with traditional characters
    birth: np.ndarray  # days since epoch or NO_DATE (filled from a trusted ID when missing)
    sex: np.ndarray  # 0/1/2
    ids: IdColumns
    id_trusted: np.ndarray  # valid and not contradicted by this record's birth date or sex
    id_checked: np.ndarray  # valid and confirmed by this record's own birth date (and sex)
    id_conflict: np.ndarray  # valid but contradicted by this record's birth date or sex
    birth_from_id: np.ndarray  # the birth date was missing and taken from the ID number
    phone: np.ndarray
    household: np.ndarray
    township: np.ndarray
    village: np.ndarray
    issues: dict[str, np.ndarray] = field(default_factory=dict)  # per-row warning masks
    birth_y: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    birth_m: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    birth_d: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __post_init__(self) -> None:
        y, m, d = _ymd(np.where(self.birth != NO_DATE, self.birth, 0))
        self.birth_y, self.birth_m, self.birth_d = y, m, d


def _dates_close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Same date, one day apart, or month and day swapped: what data entry does to a date."""
    ya, ma, da = _ymd(a)
    yb, mb, db = _ymd(b)
    return (np.abs(a.astype(np.int64) - b) <= 1) | ((ya == yb) & (ma == db) & (da == mb))


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y, m, day


def prepare(table: pa.Table) -> Features:
    """Parse the nine input columns of a table (already checked by ``io``) into features."""
    n = table.num_rows
    raw = pc.dictionary_encode(as_string_array(table.column("name")))
    names, raw_to_table, garbled, trad = build_name_table(raw.dictionary.to_pylist())
    raw_idx = raw.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    has_raw = raw_idx >= 0
    name_idx = np.where(has_raw, raw_to_table[np.where(has_raw, raw_idx, 0)], -1)
    names.set_counts(name_idx)
    garbled_rows = has_raw & garbled[np.where(has_raw, raw_idx, 0)]
    traditional = has_raw & trad[np.where(has_raw, raw_idx, 0)]

    birth, bad_date = parse_dates(table.column("birth_date"))
    sex, bad_sex = parse_sex(table.column("sex"))
    ids = parse_ids(table.column("id_number"))
    id_valid = (ids.status == ID_VALID) | (ids.status == ID_VALID_15)
    id_present = ids.status != ID_MISSING
    has_birth = birth != NO_DATE
    consistent_birth = ~has_birth | _dates_close(np.where(has_birth, birth, 0), np.where(id_valid, ids.birth_days, 0))
    consistent_sex = (sex == 0) | (sex == ids.sex)
    id_trusted = id_valid & consistent_birth & consistent_sex
    id_checked = id_trusted & has_birth
    id_conflict = id_valid & ~id_trusted
    # A missing birth date or sex is taken from a valid ID number: registration systems often
    # store only the number, and GB 11643 encodes both. Such a date only ever counts *for* a
    # match (the number may be a parent's), see ``compare_dates``.
    birth_from_id = ~has_birth & id_valid
    birth = np.where(birth_from_id, ids.birth_days, birth).astype(np.int32)
    sex = np.where((sex == 0) & id_valid, ids.sex, sex).astype(np.int8)

    phone, bad_phone = parse_phones(table.column("phone"))
    township, village = parse_addresses(table.column("address"))
    issues = {
        "name_garbled": garbled_rows,
        "name_missing": ~has_raw,
        "birth_date_invalid": bad_date,
        "sex_invalid": bad_sex,
        "id_invalid": id_present & ~id_valid,
        "id_inconsistent": id_valid & ~(consistent_birth & consistent_sex),
        "phone_invalid": bad_phone,
    }
    return Features(
        n, names, name_idx, traditional, birth, sex, ids, id_trusted, id_checked, id_conflict, birth_from_id, phone,
        codes_of(table.column("household_id")), township, village, issues,
    )


def compare_names(f: Features, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Name levels 0–8 (see ``NAME_LEVELS``), after traditional→simplified conversion."""
    a, b = f.name_idx[left], f.name_idx[right]
    ok = (a >= 0) & (b >= 0)
    level = np.where(ok, np.where(a == b, 0, 8), NULL).astype(np.int8)
    rest = np.flatnonzero(ok & (a != b))  # most candidate pairs agree exactly: skip them
    a, b = a[rest], b[rest]
    t = f.names
    la, lb = t.length[a].astype(np.int64), t.length[b].astype(np.int64)
    fa, fb = t.folded[a], t.folded[b]
    same_len = la == lb
    fold_diff = (fa != fb).sum(axis=1)
    look_same = (t.looks[a] == t.looks[b]) | (fa == fb)
    one_diff = same_len & (fold_diff == 1)
    lookalike = one_diff & look_same.all(axis=1)
    swapped = (t.sorted_key[a] == t.sorted_key[b]) & same_len & (fold_diff == 2) & (la >= 2)
    dropped = _one_char_dropped(fa, fb, la, lb) | _one_char_dropped(fb, fa, lb, la)
    sa = fa[:, 0] == fb[:, 0]
    surname = sa & np.where((t.surname_len[a] == 2) & (t.surname_len[b] == 2), fa[:, 1] == fb[:, 1], True)
    level[rest] = np.select(
        [t.py_key[a] == t.py_key[b], t.fold_key[a] == t.fold_key[b], lookalike, swapped, dropped,
         one_diff & sa & (la >= 3), surname],
        [1, 2, 3, 4, 5, 6, 7],
        8,
    )
    return level


def _one_char_dropped(long: np.ndarray, short: np.ndarray, ll: np.ndarray, ls: np.ndarray) -> np.ndarray:
    """``long`` with one character removed equals ``short`` (both folded syllable ids)."""
    hit = np.zeros(len(ll), dtype=bool)
    for k in range(MAX_CHARS):
        cut = np.concatenate([long[:, :k], long[:, k + 1 :], np.zeros((len(ll), 1), long.dtype)], axis=1)
        hit |= (cut == short).all(axis=1)
    return hit & (ll == ls + 1) & (ls >= 2)


def compare_dates(f: Features, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Birth-date levels 0–6 (see ``DATE_LEVELS``)."""
    a, b = f.birth[left], f.birth[right]
    ok = (a != NO_DATE) & (b != NO_DATE)
    level = np.where(ok, np.where(a == b, 0, 6), NULL).astype(np.int8)
    rest = np.flatnonzero(ok & (a != b))
    li, ri = left[rest], right[rest]
    ya, ma, da = f.birth_y[li], f.birth_m[li], f.birth_d[li]
    yb, mb, db = f.birth_y[ri], f.birth_m[ri], f.birth_d[ri]
    swapped = (ya == yb) & (ma == db) & (da == mb) & (ma != da)
    digits_a = ya * 10000 + ma * 100 + da
    digits_b = yb * 10000 + mb * 100 + db
    diff = np.zeros(len(rest), dtype=np.int64)
    for p in range(8):
        diff += (digits_a // 10**p % 10) != (digits_b // 10**p % 10)
    level[rest] = np.select(
        [swapped, np.abs(a[rest].astype(np.int64) - b[rest]) == 1, diff == 1, (ya == yb) & (ma == mb),
         np.abs(ya - yb) <= 1],
        [1, 2, 3, 4, 5],
        6,
    )
    # a date read from an ID number may be a parent's: it can confirm but not contradict
    derived = f.birth_from_id[left] | f.birth_from_id[right]
    return np.where(derived & (level >= 4), NULL, level).astype(np.int8)


def compare_ids(f: Features, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """ID levels 0–5 (see ``ID_LEVELS``); 15-digit numbers were already widened to 18.

    The same number on two records whose birth dates both contradict it says nothing about
    identity (a family shares it), so that case is NULL rather than agreement.
    """
    ok = f.ids.comparable[left] & f.ids.comparable[right]
    da, db = f.ids.digits[left], f.ids.digits[right]
    ne = da != db
    ndiff = ne.sum(axis=1)
    equal = ok & (ndiff == 0)
    # adjacent transposition: exactly two neighbouring positions differ, crosswise equal
    adj = ne[:, :-1] & ne[:, 1:] & (da[:, :-1] == db[:, 1:]) & (da[:, 1:] == db[:, :-1])
    typo = ok & ((ndiff == 1) | ((ndiff == 2) & adj.any(axis=1)))
    trusted = f.id_trusted[left] & f.id_trusted[right]
    checked = f.id_checked[left] & f.id_checked[right]
    conflicts = f.id_conflict[left].astype(np.int8) + f.id_conflict[right]
    level = np.select([equal & checked, equal & trusted, equal & (conflicts == 1), typo, checked], [0, 1, 2, 3, 4], 5)
    ok &= ~(equal & (conflicts == 2))
    return np.where(ok, level, NULL).astype(np.int8)


def compare_sex(f: Features, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    a, b = f.sex[left], f.sex[right]
    return np.where((a == 0) | (b == 0), NULL, np.where(a == b, 0, 1)).astype(np.int8)


def compare_context(f: Features, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Household, phone and address as one comparison (levels 0–6, see ``CONTEXT_LEVELS``).

    They are combined rather than scored independently because they are strongly correlated (a
    household shares an address and often a phone): adding three separate weights would count
    the same evidence three times.
    """
    ha, hb = f.household[left], f.household[right]
    pa_, pb = f.phone[left], f.phone[right]
    va, vb = f.village[left], f.village[right]
    ta, tb = f.township[left], f.township[right]
    hh = (ha >= 0) & (ha == hb)
    ph = (pa_ >= 0) & (pa_ == pb)
    vil = (va >= 0) & (va == vb)
    town = (ta >= 0) & (ta == tb)
    anything = ((ha >= 0) & (hb >= 0)) | ((pa_ >= 0) & (pb >= 0)) | ((va >= 0) & (vb >= 0)) | ((ta >= 0) & (tb >= 0))
    # "different" only when something known disagrees; phones alone change too often to tell
    contradicts = ((ta >= 0) & (tb >= 0) & ~town) | ((ha >= 0) & (hb >= 0) & ~hh)
    level = np.select([hh & ph, hh, ph, vil, town, contradicts], [0, 1, 2, 3, 4, 5], 6)
    return np.where(anything, level, NULL).astype(np.int8)


COMPARATORS = {
    "name": compare_names,
    "birth_date": compare_dates,
    "id_number": compare_ids,
    "sex": compare_sex,
    "context": compare_context,
}


def compare_all(f: Features, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """(pairs, fields) int8 matrix of levels, columns in ``FIELDS`` order."""
    return np.stack([COMPARATORS[name](f, left, right) for name in FIELDS], axis=1)


__all__ = ["FIELDS", "FIELD_LEVELS", "NULL", "Features", "compare_all", "days_from_ymd", "prepare"]
