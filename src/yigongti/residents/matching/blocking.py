"""Candidate pairs: records that share at least one blocking key.

Each key is built so that one common kind of error cannot hide a true pair from *every* key:
an ID typo is caught by name + birth year, a homophone by the folded-pinyin keys, a wrong
surname by given name + birth date, a missing birth date by name + village, phone or household.
Keys are integers computed in numpy; DuckDB does the self-join and de-duplication on 2 cores.
Oversized blocks (a very common name in a very common key) are skipped: the other keys still
catch their true pairs, and one block of n records costs n²/2 comparisons.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from .compare import Features
from .normalize import NO_DATE

MAX_BLOCK = 300


def blocking_keys(f: Features) -> dict[str, np.ndarray]:
    """Integer blocking keys per record (-1 = no key)."""
    t = f.names
    has_name = f.name_idx >= 0
    ni = np.where(has_name, f.name_idx, 0)
    fold_key = np.where(has_name, t.fold_key[ni], -1)
    folded = t.folded[ni].astype(np.int64)
    has_date = f.birth != NO_DATE
    day = f.birth.astype(np.int64) + 50_000  # non-negative
    year = np.where(has_date, f.birth.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 200, 0)
    surname = folded[:, 0]
    given = folded[:, 1] * 1024 * 1024 + folded[:, 2] * 1024 + folded[:, 3]

    def key(mask: np.ndarray, value: np.ndarray) -> np.ndarray:
        return np.where(mask, value, -1).astype(np.int64)

    id17 = ((f.ids.digits[:, :17].astype(np.int64) - 48) * (10 ** np.arange(16, -1, -1, dtype=np.int64))).sum(axis=1)
    village = np.where(f.village >= 0, f.village, 0)
    ymd = f.birth.astype("datetime64[D]")
    month = np.where(has_date, ymd.astype("datetime64[M]").astype(np.int64) % 12 + 1, 0)
    dom = np.where(has_date, (ymd - ymd.astype("datetime64[M]")).astype(np.int64) + 1, 0)
    md_sorted = np.minimum(month, dom) * 100 + np.maximum(month, dom)
    return {
        "id": key(f.ids.comparable, id17),
        # region + birth date in the number, with the surname: a typo in the sequence or check digit
        "id_date_surname": key(f.ids.comparable & has_name, (id17 // 1000 % 10**11) * 1000 + surname),
        "name_year_month": key(has_name & has_date, (fold_key * 1000 + year) * 13 + month),
        # month and day swapped (05-03 / 03-05) keep the same unordered pair
        "name_year_md": key(has_name & has_date, (fold_key * 1000 + year) * 3200 + md_sorted),
        "surname_date": key(has_name & has_date, surname * 200_000 + day),
        "given_date": key(has_name & has_date & (given > 0), given * 200_000 + day),
        # a dropped or changed character together with a day-off date
        "surname_month_village": key(has_name & has_date & (f.village >= 0),
                                     ((surname * 1000 + year) * 13 + month) * 10**6 + village),
        "name_phone": key(has_name & (f.phone >= 0), fold_key * 10**11 + (f.phone % 10**11)),
        # for records without a birth date
        "name_village_sex": key(has_name & (f.village >= 0), (fold_key * 10**7 + village) * 3 + f.sex),
        "name_household": key(has_name & (f.household >= 0), fold_key * 10**8 + f.household),
    }


def candidate_pairs(
    f: Features, max_block: int = MAX_BLOCK, threads: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) record indices, left < right, each pair once."""
    keys = blocking_keys(f)
    n = f.n
    idx = np.arange(n, dtype=np.int64)
    parts_i, parts_k = [], []
    for kno, values in enumerate(keys.values()):
        ok = values >= 0
        parts_i.append(idx[ok])
        # key numbers go into the top bits so keys of different kinds never collide
        parts_k.append((values[ok] % (1 << 56)) | (kno << 56))
    long = pa.table({"i": np.concatenate(parts_i), "k": np.concatenate(parts_k)})
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.register("long_keys", long)
    result = con.execute(
        f"""
        WITH sized AS (
            SELECT i, k FROM long_keys
            WHERE k IN (SELECT k FROM long_keys GROUP BY k HAVING count(*) BETWEEN 2 AND {int(max_block)})
        )
        SELECT DISTINCT a.i * {n} + b.i AS p
        FROM sized a JOIN sized b ON a.k = b.k AND a.i < b.i
        """
    ).fetchnumpy()["p"]
    con.close()
    p = np.sort(np.asarray(result, dtype=np.int64))
    return p // n, p % n
