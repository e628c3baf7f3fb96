"""The indicator engine: measures per month in SQL, indicator formulas as plain functions.

1. ``encounter_measures_sql`` etc. (measures.py) turn source rows into monthly facts: integer
   measures by month × area × facility × level × residence county. On the live database the facts
   are materialised in ``indicators_monthlyfact`` by ``refresh_facts``; on DuckDB they are built from
   Parquet on the fly (``compute_parquet``).
2. ``aggregate`` sums facts for any grouping (county × month, township, facility) — the same SQL
   text on every engine.
3. ``evaluate`` turns summed measures into indicator values with Decimal arithmetic. Because the
   engines only ever add integers, the live database and DuckDB give identical figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from .definitions import INDICATORS, Indicator, Sum, Value
from .measures import MEASURES, MONEY_MEASURES, Dialect

Key = tuple[str, str, bool]  # (source, facility_level, in_county)
Facts = dict[Key, list[int]]
IDX = {m: i for i, m in enumerate(MEASURES)}
CENT = Decimal("0.01")


def aggregate_sql(table: str, group: str, where: str = "1=1") -> str:
    """Facts summed by a grouping expression and month, keeping the dimensions formulas filter on."""
    sums = ", ".join(f"SUM({m})" for m in MEASURES)
    return (f"SELECT {group} AS grp, month, source, facility_level, in_county, {sums} FROM {table} "
            f"WHERE {where} GROUP BY 1, 2, 3, 4, 5")


def collect(rows: Iterable[tuple]) -> dict[str, dict[str, Facts]]:
    """SQL rows → {group: {month: {(source, level, in_county): [measures]}}}."""
    out: dict[str, dict[str, Facts]] = defaultdict(lambda: defaultdict(dict))
    for grp, month, source, level, in_county, *vals in rows:
        facts = out[grp][month]
        key = (source, level, bool(in_county))
        cur = facts.get(key)
        ints = [int(v or 0) for v in vals]
        facts[key] = ints if cur is None else [a + b for a, b in zip(cur, ints)]
    return out


def merge(months: dict[str, Facts], wanted: Iterable[str]) -> Facts:
    """Sum the facts of several months (a quarter, a year) into one."""
    total: Facts = {}
    for m in wanted:
        for key, vals in months.get(m, {}).items():
            cur = total.get(key)
            total[key] = list(vals) if cur is None else [a + b for a, b in zip(cur, vals)]
    return total


def _sum(facts: Facts, s: Sum) -> int:
    i = IDX[s.measure]
    return sum(vals[i] for (source, level, inc), vals in facts.items() if s.matches(source, level, inc))


def _natural(raw: int, measure: str) -> Decimal:
    """Cents to yuan for money measures, the integer itself otherwise."""
    return Decimal(raw) / 100 if measure in MONEY_MEASURES else Decimal(raw)


def _q(x: Decimal, places: int = 2) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def ratio_value(ind: Indicator, facts: Facts) -> Value:
    num = _natural(_sum(facts, ind.numerator), ind.numerator.measure)
    if ind.kind == "count":
        return Value(ind, num, None, num)
    den = _natural(_sum(facts, ind.denominator), ind.denominator.measure)
    value = None if den == 0 else _q(num / den * ind.scale, ind.places)
    return Value(ind, num, den, value)


def _exact(ind: Indicator, facts: Facts) -> Decimal | None:
    """The unrounded value of a ratio or count (growth compares these, not rounded figures)."""
    num = _natural(_sum(facts, ind.numerator), ind.numerator.measure)
    if ind.kind == "count":
        return num
    den = _natural(_sum(facts, ind.denominator), ind.denominator.measure)
    return None if den == 0 else num / den * ind.scale


def growth_value(ind: Indicator, facts: Facts, prior: Facts | None) -> Value:
    base = INDICATORS[ind.base]
    now = _exact(base, facts)
    before = _exact(base, prior) if prior is not None else None
    if now is None or before is None:
        return Value(ind, None, None, None)
    num, den = _q(now - before, 4), _q(before, 4)
    value = None if before == 0 else _q((now - before) / before * 100, ind.places)
    return Value(ind, num, den, value)


def evaluate(ind: Indicator, facts: Facts, prior: Facts | None = None) -> Value:
    """The value of one encounter/settlement-based indicator from summed facts (a pure function)."""
    if ind.kind == "growth":
        return growth_value(ind, facts, prior)
    if ind.kind in ("ratio", "count"):
        return ratio_value(ind, facts)
    raise ValueError(f"{ind.code} is not computed from facts")


def long_form(by_group: dict[str, dict[str, Facts]], indicators: list[Indicator]) -> list[dict]:
    """Rows of (county, month, indicator, numerator, denominator, value), growth against the same
    month a year earlier when the data has it."""
    rows = []
    for grp in sorted(by_group):
        months = by_group[grp]
        for month in sorted(months):
            prior_key = f"{int(month[:4]) - 1:04d}{month[4:]}"
            prior = months.get(prior_key)
            for ind in indicators:
                v = evaluate(ind, months[month], prior)
                rows.append({"county": grp, "month": month, "indicator": ind.code, "numerator": v.numerator,
                             "denominator": v.denominator, "value": v.value})
    return rows


# ---------------------------------------------------------------------------------------------
# DuckDB over Parquet (the city scale)

ENCOUNTER_COLUMNS = ["encounter_id", "person_id", "residence_county", "facility_id", "facility_level",
                     "facility_county", "type", "admit_date", "discharge_date", "total_cost", "drug_cost",
                     "material_cost", "insurance_paid", "icd10", "referred_from"]
SETTLEMENT_COLUMNS = ["settlement_id", "person_id", "residence_county", "facility_id", "facility_level",
                      "facility_county", "type", "admit_date", "discharge_date", "settle_date", "total_cost",
                      "fund_paid"]


def _parquet(path: str) -> str:
    import os

    p = str(path)
    if os.path.isdir(p):
        p = os.path.join(p, "**", "*.parquet")
    return f"read_parquet('{p}', hive_partitioning = false, union_by_name = true)"


def _columns(con, rel: str) -> set[str]:
    return {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}


def _require(have: set[str], need: list[str], what: str) -> None:
    missing = [c for c in need if c not in have]
    if missing:
        from yigongti.core.errors import InvalidInput

        raise InvalidInput("missing_columns", f"{what} 缺少列：{', '.join(missing)}")


def parquet_sources(con, encounters: str, settlements: str | None = None, facilities: str | None = None):
    rel = _parquet(encounters)
    have = _columns(con, rel)
    _require(have, ENCOUNTER_COLUMNS, "就诊数据")
    opt = {
        "tcm": "COALESCE(CAST(tcm AS BOOLEAN), FALSE)" if "tcm" in have else "FALSE",
        "surgery": "COALESCE(CAST(surgery AS BOOLEAN), FALSE)" if "surgery" in have else "FALSE",
        "residence_area": "residence_area" if "residence_area" in have else "residence_county || '000000'",
        "unit_area": "facility_area" if "facility_area" in have else "facility_county || '000000'",
    }
    enc = (f"(SELECT encounter_id, residence_county, {opt['residence_area']} AS residence_area, "
           f"{opt['unit_area']} AS unit_area, CAST(facility_id AS VARCHAR) AS facility_key, facility_level, "
           f"facility_county, type, admit_date, discharge_date, total_cost, drug_cost, material_cost, insurance_paid, "
           f"{opt['tcm']} AS tcm, {opt['surgery']} AS surgery FROM {rel})")
    st = None
    if settlements:
        srel = _parquet(settlements)
        shave = _columns(con, srel)
        _require(shave, SETTLEMENT_COLUMNS, "结算数据")
        sarea = "residence_area" if "residence_area" in shave else "residence_county || '000000'"
        st = (f"(SELECT settlement_id, residence_county, {sarea} AS residence_area, "
              f"CAST(facility_id AS VARCHAR) AS facility_key, facility_level, facility_county, type, settle_date, "
              f"total_cost, fund_paid FROM {srel})")
    fac = None
    if facilities:
        frel = _parquet(facilities) if str(facilities).endswith(".parquet") or not str(facilities).endswith(".csv") \
            else f"read_csv_auto('{facilities}')"
        fhave = _columns(con, frel)
        farea = "facility_area" if "facility_area" in fhave else "facility_county || '000000'"
        fac = (f"(SELECT CAST(facility_id AS VARCHAR) AS facility_key, {farea} AS unit_area, facility_level, "
               f"facility_county, open_beds FROM {frel})")
    return enc, st, fac


def data_months(con, enc: str, st: str | None) -> tuple[list[str], str | None]:
    """The months of the data and the day after its last date (see encounter_measures_sql's as_of)."""
    import datetime as dt

    from .measures import months_between

    lo, hi = con.execute(f"SELECT min(admit_date), max(COALESCE(discharge_date, admit_date)) FROM {enc} e").fetchone()
    if st:
        slo, shi = con.execute(f"SELECT min(settle_date), max(settle_date) FROM {st} s").fetchone()
        lo, hi = min(x for x in (lo, slo) if x), max(x for x in (hi, shi) if x)
    if lo is None:
        return [], None
    return months_between(lo, hi), (hi + dt.timedelta(days=1)).isoformat()


def build_facts_duckdb(con, enc: str, st: str | None, fac: str | None, months: list[str],
                       coarse: bool = True, as_of: str | None = None) -> None:
    from .measures import bed_measures_sql, encounter_measures_sql, settlement_measures_sql

    d = Dialect("duckdb")
    parts = [encounter_measures_sql(d, enc, months, coarse, as_of=as_of)]
    if st:
        parts.append(settlement_measures_sql(d, st, months, coarse))
    if fac:
        parts.append(bed_measures_sql(d, fac, months, coarse))
    con.execute("CREATE OR REPLACE TEMP TABLE facts AS " + " UNION ALL ".join(f"({p})" for p in parts))


def compute_parquet(encounters: str, settlements: str | None = None, facilities: str | None = None,
                    threads: int | None = None) -> list[dict]:
    """The city-scale run: long-form indicator rows by county and month from Parquet files."""
    import duckdb

    from .definitions import computed_indicators

    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    enc, st, fac = parquet_sources(con, encounters, settlements, facilities)
    months, as_of = data_months(con, enc, st)
    if not months:
        return []
    build_facts_duckdb(con, enc, st, fac, months, as_of=as_of)
    rows = con.execute(aggregate_sql("facts", "substr(unit_area, 1, 6)")).fetchall()
    # referral indicators are live-database only: Parquet snapshots carry no referrals
    inds = computed_indicators(with_settlements=bool(st), with_beds=bool(fac), with_live_only=False)
    return long_form(collect(rows), inds)


def write_long_form(rows: list[dict], out: str) -> None:
    """Parquet (decimal columns) or CSV by the file's extension."""
    if out.endswith(".csv"):
        import csv

        with open(out, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, ["county", "month", "indicator", "numerator", "denominator", "value"])
            w.writeheader()
            w.writerows(rows)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    dec = pa.decimal128(24, 4)
    table = pa.table({
        "county": pa.array([r["county"] for r in rows], pa.string()),
        "month": pa.array([r["month"] for r in rows], pa.string()),
        "indicator": pa.array([r["indicator"] for r in rows], pa.string()),
        "numerator": pa.array([r["numerator"] for r in rows], dec),
        "denominator": pa.array([r["denominator"] for r in rows], dec),
        "value": pa.array([r["value"] for r in rows], dec),
    })
    pq.write_table(table, out)
