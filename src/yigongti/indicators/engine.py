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
from dataclasses import dataclass
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
        facts[key] = ints if cur is None else [a + b for a, b in zip(cur, ints, strict=True)]
    return out


def merge(months: dict[str, Facts], wanted: Iterable[str]) -> Facts:
    """Sum the facts of several months (a quarter, a year) into one."""
    total: Facts = {}
    for m in wanted:
        for key, vals in months.get(m, {}).items():
            cur = total.get(key)
            total[key] = list(vals) if cur is None else [a + b for a, b in zip(cur, vals, strict=True)]
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
    assert ind.numerator is not None, ind.code
    num = _natural(_sum(facts, ind.numerator), ind.numerator.measure)
    if ind.kind == "count":
        return Value(ind, num, None, num)
    assert ind.denominator is not None, ind.code
    den = _natural(_sum(facts, ind.denominator), ind.denominator.measure)
    value = None if den == 0 else _q(num / den * ind.scale, ind.places)
    return Value(ind, num, den, value)


def _exact(ind: Indicator, facts: Facts) -> Decimal | None:
    """The unrounded value of a ratio or count (growth compares these, not rounded figures)."""
    assert ind.numerator is not None, ind.code
    num = _natural(_sum(facts, ind.numerator), ind.numerator.measure)
    if ind.kind == "count":
        return num
    assert ind.denominator is not None, ind.code
    den = _natural(_sum(facts, ind.denominator), ind.denominator.measure)
    return None if den == 0 else num / den * ind.scale


def growth_value(ind: Indicator, facts: Facts, prior: Facts | None) -> Value:
    assert ind.base is not None, ind.code
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


def long_form(by_group: dict[str, dict[str, Facts]], indicators: list[Indicator],
              unavailable: dict[str, str] | None = None) -> list[dict]:
    """Rows of (county, month, indicator, numerator, denominator, value), growth against the same
    month a year earlier when the data has it. Indicators in ``unavailable`` (an input column is
    missing, see definitions.unavailable) get no value rather than a zero, and the reason in
    ``note``."""
    rows: list[dict] = []
    gone = unavailable or {}
    for grp in sorted(by_group):
        months = by_group[grp]
        for month in sorted(months):
            prior_key = f"{int(month[:4]) - 1:04d}{month[4:]}"
            prior = months.get(prior_key)
            for ind in indicators:
                if ind.code in gone:
                    rows.append({"county": grp, "month": month, "indicator": ind.code, "numerator": None,
                                 "denominator": None, "value": None, "note": gone[ind.code]})
                    continue
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
    """A Parquet file or a directory searched recursively (``month=YYYY-MM/…``: the partition names
    are not read as columns, so a partition for a month past the data's end changes nothing)."""
    import os

    p = str(path)
    if not os.path.isdir(p):
        return f"read_parquet('{p}', hive_partitioning = false)"
    p = os.path.join(p, "**", "*.parquet")
    # files may differ in the optional columns they carry: then columns are matched by name, which
    # costs DuckDB memory per file, so only when the files' footers say the column sets differ
    import duckdb

    sets = duckdb.connect().execute(
        f"SELECT count(DISTINCT cols) FROM (SELECT file_name, list_sort(list(name)) AS cols "
        f"FROM parquet_schema('{p}') WHERE num_children IS NULL OR num_children = 0 GROUP BY file_name)").fetchone()
    union = ", union_by_name = true" if sets and sets[0] > 1 else ""
    return f"read_parquet('{p}', hive_partitioning = false{union})"


def _types(con, rel: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}


def _columns(con, rel: str) -> set[str]:
    return set(_types(con, rel))


def _require(have: set[str] | dict[str, str], need: list[str], what: str) -> None:
    missing = [c for c in need if c not in have]
    if missing:
        from yigongti.core.errors import InvalidInput

        raise InvalidInput("missing_columns", f"{what} 缺少列：{', '.join(missing)}")


def _unsupported(what: str, col: str, typ: str):
    from yigongti.core.errors import InvalidInput

    return InvalidInput("column_type", f"{what} 的列 {col} 类型为 {typ}，无法识别")


INT_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}


def cents_sql(col: str, typ: str, what: str = "数据") -> str:
    """Exact integer cents of a money column of any numeric type, rounded half away from zero
    (the definition: every row rounded to the cent, as Decimal ROUND_HALF_UP does).

    A DOUBLE is read as the shortest decimal that converts back to it (what ``repr`` prints: 0.285
    is 0.285, not 0.28499999999999998): ``round(x * 100)`` gives that decimal's cents unless x·100
    lies within 10⁻⁶ of a half cent (error of the product < 4·10⁻⁷ below 10⁹ cents), and only those
    rare rows take the exact path through the decimal text. FLOAT always takes it."""
    t = typ.upper()
    if t.startswith("DECIMAL"):
        scale = int(t.rstrip(")").split(",")[1])
        return f"CAST({col} * 100 AS BIGINT)" if scale <= 2 else f"CAST(ROUND({col}, 2) * 100 AS BIGINT)"
    text = f"CAST(ROUND(CAST(CAST({col} AS VARCHAR) AS DECIMAL(38, 18)) * 100) AS BIGINT)"
    if t == "DOUBLE":
        c = f"({col} * 100)"
        return (f"(CASE WHEN abs({c}) < 1e9 AND abs(abs({c} - trunc({c})) - 0.5) > 1e-6 "
                f"THEN CAST(round({c}) AS BIGINT) ELSE {text} END)")
    if t in ("FLOAT", "VARCHAR"):
        return text
    if t in INT_TYPES:
        return f"(CAST({col} AS BIGINT) * 100)"
    if t == '"NULL"':
        return "CAST(NULL AS BIGINT)"
    raise _unsupported(what, col, typ)


def date_sql(col: str, typ: str, what: str = "数据") -> str:
    """A DATE from DATE, TIMESTAMP (its calendar day; with a time zone, the day in Beijing), ISO text
    ('2025-03-01', '2025-03-01 08:30:00') or integers like 20250301."""
    t = typ.upper()
    if t == "DATE":
        return col
    if t.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"CAST(timezone('Asia/Shanghai', {col}) AS DATE)"
    if t.startswith("TIMESTAMP"):
        return f"CAST({col} AS DATE)"
    if t == "VARCHAR":
        return f"COALESCE(TRY_CAST({col} AS DATE), CAST(CAST({col} AS TIMESTAMP) AS DATE))"
    if t in INT_TYPES:
        return f"CAST(strptime(CAST({col} AS VARCHAR), '%Y%m%d') AS DATE)"
    if t == '"NULL"':
        return "CAST(NULL AS DATE)"
    raise _unsupported(what, col, typ)


def _text(col: str, typ: str) -> str:
    return col if typ.upper() == "VARCHAR" else f"CAST({col} AS VARCHAR)"


def _flag(col: str, typ: str) -> str:
    return f"COALESCE({col}, FALSE)" if typ.upper() == "BOOLEAN" else f"COALESCE(CAST({col} AS BOOLEAN), FALSE)"


ENC_MONEY = ["total_cost", "drug_cost", "herbal_cost", "material_cost", "insurance_paid"]
ENC_TEXT = ["residence_county", "facility_id", "facility_level", "facility_county", "type"]


def parquet_sources(con, encounters: str, settlements: str | None = None, facilities: str | None = None):
    """The canonical columns of measures.py over Parquet, whatever the files' column types: dates
    become DATE, codes text, flags BOOLEAN, and money *exact integer cents* (``cents_sql``; the
    city-scale dialect ``CentsDialect`` then sums them as they are). Casts are added only where
    a column's type needs one, so DATE/VARCHAR/DECIMAL(…, 2) data is read without per-row work."""
    rel = _parquet(encounters)
    have = _types(con, rel)
    _require(have, ENCOUNTER_COLUMNS, "就诊数据")
    what = "就诊数据"
    col = {c: _text(c, have[c]) for c in ENC_TEXT}
    col |= {c: cents_sql(c, have[c], what) if c in have else "CAST(NULL AS BIGINT)" for c in ENC_MONEY}
    col |= {c: date_sql(c, have[c], what) for c in ("admit_date", "discharge_date")}
    col |= {c: _flag(c, have[c]) if c in have else "FALSE" for c in ("tcm", "surgery")}
    col["residence_area"] = (_text("residence_area", have["residence_area"]) if "residence_area" in have
                             else f"{col['residence_county']} || '000000'")
    col["unit_area"] = (_text("facility_area", have["facility_area"]) if "facility_area" in have
                        else f"{col['facility_county']} || '000000'")
    enc = (f"(SELECT encounter_id, {col['residence_county']} AS residence_county, {col['residence_area']} AS "
           f"residence_area, {col['unit_area']} AS unit_area, {col['facility_id']} AS facility_key, "
           f"{col['facility_level']} AS facility_level, {col['facility_county']} AS facility_county, "
           f"{col['type']} AS type, {col['admit_date']} AS admit_date, {col['discharge_date']} AS discharge_date, "
           + ", ".join(f"{col[c]} AS {c}" for c in ENC_MONEY)
           + f", {col['tcm']} AS tcm, {col['surgery']} AS surgery FROM {rel})")
    st = None
    if settlements:
        srel = _parquet(settlements)
        sh = _types(con, srel)
        what = "结算数据"
        _require(sh, SETTLEMENT_COLUMNS, what)
        sc = {c: _text(c, sh[c]) for c in ("residence_county", "facility_id", "facility_level", "facility_county",
                                           "type")}
        sarea = (_text("residence_area", sh["residence_area"]) if "residence_area" in sh
                 else f"{sc['residence_county']} || '000000'")
        # 冲销/退费 rows name the settlement they reverse (optional column)
        rev = _text("reverses", sh["reverses"]) if "reverses" in sh else "CAST(NULL AS VARCHAR)"
        st = (f"(SELECT settlement_id, {sc['residence_county']} AS residence_county, {sarea} AS residence_area, "
              f"{sc['facility_id']} AS facility_key, {sc['facility_level']} AS facility_level, "
              f"{sc['facility_county']} AS facility_county, {sc['type']} AS type, "
              f"{date_sql('settle_date', sh['settle_date'], what)} AS settle_date, "
              f"{cents_sql('total_cost', sh['total_cost'], what)} AS total_cost, "
              f"{cents_sql('fund_paid', sh['fund_paid'], what)} AS fund_paid, {rev} AS reverses FROM {srel})")
    fac = None
    if facilities:
        frel = _parquet(facilities) if str(facilities).endswith(".parquet") or not str(facilities).endswith(".csv") \
            else f"read_csv_auto('{facilities}')"
        fh = _types(con, frel)
        _require(fh, ["facility_id", "facility_county", "facility_level", "open_beds"], "机构数据")
        fcounty = _text("facility_county", fh["facility_county"])
        farea = _text("facility_area", fh["facility_area"]) if "facility_area" in fh else f"{fcounty} || '000000'"
        fac = (f"(SELECT {_text('facility_id', fh['facility_id'])} AS facility_key, {farea} AS unit_area, "
               f"{_text('facility_level', fh['facility_level'])} AS facility_level, {fcounty} AS facility_county, "
               f"CAST(open_beds AS BIGINT) AS open_beds FROM {frel})")
    return enc, st, fac


def missing_inputs(encounters: str, con=None) -> dict[str, str]:
    """{indicator code: which optional column is missing} for an encounter Parquet source: without
    ``tcm`` N12 is unknown, without ``surgery`` SURGERIES is (never 0)."""
    from .definitions import OPTIONAL_COLUMNS, computed_indicators, unavailable

    if con is None:
        import duckdb

        con = duckdb.connect()
    have = _columns(con, _parquet(encounters))
    missing = {c for c in OPTIONAL_COLUMNS if c not in have}
    return unavailable(computed_indicators(with_live_only=False), missing)


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


@dataclass(frozen=True)
class CentsDialect(Dialect):
    """DuckDB over ``parquet_sources``, whose money columns already are exact integer cents."""

    def cents(self, col: str) -> str:
        return col


def needed_measures(indicators: list[Indicator]) -> set[str]:
    """The measures the given indicators read (a growth indicator reads its base's)."""
    out: set[str] = set()
    for ind in indicators:
        base = INDICATORS[ind.base] if ind.kind == "growth" and ind.base else ind
        out |= {s.measure for s in (base.numerator, base.denominator) if s}
    return out


def facts_sql(enc: str, st: str | None, fac: str | None, months: list[str], as_of: str | None,
              measures: set[str]) -> str:
    """One statement: the measure templates over each source, summed by county × month × source ×
    level × in-county. Measures no indicator reads are 0 here, and DuckDB then drops their
    per-row expressions from the scans."""
    from .measures import bed_measures_sql, encounter_measures_sql, settlement_measures_sql

    d = CentsDialect("duckdb")
    parts = [encounter_measures_sql(d, enc, months, True, as_of=as_of)]
    if st:
        parts.append(settlement_measures_sql(d, st, months, True))
    if fac:
        parts.append(bed_measures_sql(d, fac, months, True))
    sums = ", ".join(f"SUM({m})" if m in measures else "0" for m in MEASURES)
    union = " UNION ALL ".join(f"({p})" for p in parts)
    return (f"SELECT substr(unit_area, 1, 6) AS grp, month, source, facility_level, in_county, {sums} "
            f"FROM ({union}) facts GROUP BY 1, 2, 3, 4, 5")


def compute_parquet(encounters: str, settlements: str | None = None, facilities: str | None = None,
                    threads: int | None = None, memory_limit: str | None = None) -> list[dict]:
    """The city-scale run: long-form indicator rows by county and month from Parquet files, in one
    pass over each source (plus a read of the dates' range, mostly from the files' statistics)."""
    import duckdb

    from .definitions import computed_indicators

    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute("SET memory_limit = ?", [str(memory_limit)])
    enc, st, fac = parquet_sources(con, encounters, settlements, facilities)
    months, as_of = data_months(con, enc, st)
    if not months:
        return []
    # referral indicators are live-database only: Parquet snapshots carry no referrals
    inds = computed_indicators(with_settlements=bool(st), with_beds=bool(fac), with_live_only=False)
    gone = missing_inputs(encounters, con)
    measures = needed_measures([i for i in inds if i.code not in gone])
    rows = con.execute(facts_sql(enc, st, fac, months, as_of, measures)).fetchall()
    return long_form(collect(rows), inds, gone)


LONG_FORM = ["county", "month", "indicator", "numerator", "denominator", "value", "note"]


def write_long_form(rows: list[dict], out: str) -> None:
    """Parquet (decimal columns) or CSV by the file's extension; ``note`` says why a value is missing
    when it is not a zero denominator (a missing input column)."""
    if out.endswith(".csv"):
        import csv

        with open(out, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, LONG_FORM)
            w.writeheader()
            w.writerows({k: r.get(k) for k in LONG_FORM} for r in rows)
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
        "note": pa.array([r.get("note") for r in rows], pa.string()),
    })
    pq.write_table(table, out)
