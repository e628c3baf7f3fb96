"""``yigongti indicators compute`` on Parquet it did not write: other column types, hive partitions,
a partition past the data's end, missing optional columns — and money rounded exactly as defined
(each row to the cent, half away from zero, from the decimal the file holds)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from yigongti.core.errors import InvalidInput
from yigongti.indicators.engine import cents_sql, compute_parquet, date_sql, write_long_form

CENT = Decimal("0.01")
COUNTIES = ["431121", "431122"]


def _cents(v) -> int | None:
    """The definition, in Python: the decimal value rounded half up to the cent."""
    if v is None:
        return None
    d = v if isinstance(v, Decimal) else Decimal(repr(v))
    return int(d.quantize(CENT, rounding=ROUND_HALF_UP) * 100)


# --------------------------------------------------------------------------------- money


@pytest.mark.parametrize("typ", ["DOUBLE", "DECIMAL(18,3)", "VARCHAR"])
def test_money_is_rounded_half_up_from_the_decimal_the_file_holds(typ):
    # half-cent ties that binary doubles hold just below the half (0.285 is 0.28499999999999998…):
    # round(x * 100) on the double gives 28, the definition 29
    ties = ["0.285", "1.005", "2.675", "1234.565", "8.345", "0.015", "-0.125", "-2.675", "99999.995", "0.005"]
    rng = random.Random(5)
    plain = [f"{rng.randint(-10**7, 10**7) / 100:.2f}" for _ in range(300)]
    third = [f"{rng.randint(0, 10**8) / 1000:.3f}" for _ in range(300)]
    values = ties + plain + third + ["0.1", "12.34", "0.004999999999999", "0.0050000000001"]
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t (i INTEGER, x {typ})")
    con.executemany("INSERT INTO t VALUES (?, CAST(? AS " + typ + "))", list(enumerate(values)))
    got = dict(con.execute(f"SELECT i, {cents_sql('x', typ)} FROM t").fetchall())
    held = dict(con.execute("SELECT i, x FROM t").fetchall())  # the value as stored: float, Decimal or text
    assert got == {i: _cents(Decimal(v) if isinstance(v, str) else v) for i, v in held.items()}
    assert got[0] == 29 and got[1] == 101 and got[6] == -13


def test_double_money_fast_path_agrees_with_the_definition_on_arbitrary_doubles():
    rng = random.Random(11)
    xs = [rng.uniform(-1e6, 1e6) for _ in range(2000)] + [rng.randint(0, 10**6) / 1000 + 0.0005 for _ in range(500)]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, x DOUBLE)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(xs)))
    got = dict(con.execute(f"SELECT i, {cents_sql('x', 'DOUBLE')} FROM t").fetchall())
    assert [got[i] for i in range(len(xs))] == [_cents(x) for x in xs]


def test_integer_and_null_money_and_an_unknown_type_is_a_clear_error():
    con = duckdb.connect()
    assert con.execute(f"SELECT {cents_sql('x', 'INTEGER')} FROM (SELECT 12 AS x)").fetchone()[0] == 1200
    assert con.execute(f"SELECT {cents_sql('x', 'DECIMAL(10,0)')} FROM (SELECT 7::DECIMAL(10,0) AS x)").fetchone()[0] \
        == 700
    with pytest.raises(InvalidInput, match="total_cost"):
        cents_sql("total_cost", "BLOB", "就诊数据")


def test_dates_are_read_from_text_timestamps_and_integers():
    con = duckdb.connect()
    cases = [("VARCHAR", "'2025-03-01'"), ("VARCHAR", "'2025-03-01 08:30:00'"),
             ("TIMESTAMP", "TIMESTAMP '2025-03-01 23:59:00'"),
             ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ '2025-02-28 23:00:00+00'"),  # 07:00 in Beijing
             ("INTEGER", "20250301"), ("DATE", "DATE '2025-03-01'")]
    for typ, literal in cases:
        sql = f"SELECT {date_sql('d', typ)} FROM (SELECT CAST({literal} AS {typ}) AS d)"
        assert con.execute(sql).fetchone()[0] == dt.date(2025, 3, 1), typ
    with pytest.raises(InvalidInput, match="admit_date"):
        date_sql("admit_date", "DOUBLE", "就诊数据")


# --------------------------------------------------------------------------------- a small city


def _world(seed: int = 3):
    """Encounters, settlements and facilities of two counties over 2025-01..03, money with three
    decimals (many half-cent ties), stays across months, same-day stays, missing costs."""
    rng = random.Random(seed)
    levels = ["county", "township", "village", "out_of_county"]
    enc, st = [], []
    for i in range(600):
        rc = rng.choice(COUNTIES)
        level = rng.choice(levels)
        fc = "431102" if level == "out_of_county" else (rc if rng.random() < 0.9 else rng.choice(COUNTIES))
        typ = rng.choice(["outpatient"] * 6 + ["emergency", "inpatient", "inpatient"])
        if typ == "inpatient" and level == "village":
            level = "township"
        admit = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(88))
        discharge = admit if typ != "inpatient" else admit + dt.timedelta(days=rng.choice([0, 0, 1, 3, 9, 25, 40]))
        if typ == "inpatient" and rng.random() < 0.05:
            discharge = None  # still in hospital
        total = None if rng.random() < 0.05 else Decimal(rng.randint(1000, 900000)) / 1000
        if total is not None and rng.random() < 0.3:
            total = total.quantize(Decimal("0.01")) + Decimal("0.005")  # a tie
        drug = None if total is None or rng.random() < 0.1 else (total * Decimal("0.3")).quantize(Decimal("0.001"))
        tcm = rng.random() < 0.2
        herbal = (drug * Decimal("0.4")).quantize(Decimal("0.001")) if tcm and drug is not None else None
        material = None if total is None else (total * Decimal("0.1")).quantize(Decimal("0.001"))
        paid = None if total is None else (total * Decimal("0.6")).quantize(Decimal("0.001"))
        fid = f"{fc}-{level}-{rng.randrange(3)}"
        enc.append({"encounter_id": i, "person_id": rng.randrange(200), "residence_county": rc, "facility_id": fid,
                    "facility_level": level, "facility_county": fc, "type": typ, "admit_date": admit,
                    "discharge_date": discharge, "total_cost": total, "drug_cost": drug, "herbal_cost": herbal,
                    "material_cost": material, "insurance_paid": paid, "icd10": "J06.9", "referred_from": None,
                    "tcm": tcm, "surgery": typ == "inpatient" and rng.random() < 0.3})
        if total is not None and (discharge or admit) < dt.date(2025, 4, 1):
            st.append({"settlement_id": i, "person_id": rng.randrange(200), "residence_county": rc,
                       "facility_id": fid, "facility_level": level, "facility_county": fc,
                       "type": "outpatient" if typ == "emergency" else typ, "admit_date": admit,
                       "discharge_date": discharge, "settle_date": discharge or admit, "total_cost": total,
                       "fund_paid": paid})
    fac = sorted({(e["facility_id"], e["facility_county"], e["facility_level"]) for e in enc
                  if e["facility_level"] != "out_of_county"})
    facilities = [{"facility_id": f, "facility_county": c, "facility_level": lv,
                   "open_beds": {"county": 300, "township": 40}.get(lv, 0)} for f, c, lv in fac]
    return enc, st, facilities


MONEY = {"total_cost", "drug_cost", "herbal_cost", "material_cost", "insurance_paid", "fund_paid"}
DATES = {"admit_date", "discharge_date", "settle_date"}


def _column(name, values, money="decimal", dates="date", ints="int64", codes="text"):
    if name in MONEY:
        if money == "double":
            return pa.array([None if v is None else float(v) for v in values], pa.float64())
        return pa.array(values, pa.decimal128(14, 3))
    if name in DATES:
        if dates == "string":
            return pa.array([None if v is None else v.isoformat() for v in values], pa.string())
        if dates == "timestamp":  # with a time of day
            return pa.array([None if v is None else dt.datetime.combine(v, dt.time(8, 30)) for v in values],
                            pa.timestamp("us"))
        if dates == "timestamptz":  # 07:00 in Beijing is 23:00 UTC the day before
            utc = dt.UTC
            return pa.array([None if v is None else dt.datetime.combine(v, dt.time(7, 0), dt.timezone(
                dt.timedelta(hours=8))).astimezone(utc) for v in values], pa.timestamp("us", tz="UTC"))
        return pa.array(values, pa.date32())
    if name in ("encounter_id", "settlement_id", "person_id", "referred_from"):
        return pa.array(values, pa.int32() if ints == "int32" else pa.int64())
    if name in ("residence_county", "facility_county") and codes == "int":
        return pa.array([int(v) for v in values], pa.int64())
    if name in ("tcm", "surgery"):  # 0/1 from systems without a boolean type
        return pa.array([int(v) for v in values], pa.int8()) if ints == "int32" else pa.array(values, pa.bool_())
    if name == "open_beds":
        return pa.array(values, pa.int32() if ints == "int32" else pa.int64())
    return pa.array(values, pa.string())


def _table(rows, drop=(), **variant):
    names = [k for k in rows[0] if k not in drop]
    return pa.table({k: _column(k, [r[k] for r in rows], **variant) for k in names})


def _write(tmp: Path, partition: str = "none", extra_month: bool = False, drop=(), **variant) -> dict[str, str]:
    enc, st, fac = _world()
    tmp.mkdir(parents=True, exist_ok=True)
    out = {"facilities": str(tmp / "facilities.parquet")}
    pq.write_table(_table(fac, **variant), out["facilities"])
    for kind, rows, key in (("encounters", enc, "admit_date"), ("settlements", st, "settle_date")):
        if partition == "none":
            out[kind] = str(tmp / f"{kind}.parquet")
            pq.write_table(_table(rows, drop=drop, **variant), out[kind])
            continue
        by = defaultdict(list)
        for r in rows:
            by[r[key].strftime("%Y-%m")].append(r)
        for month, part in by.items():
            (tmp / kind / f"month={month}").mkdir(parents=True)
            table = _table(part, drop=drop, **variant)
            if month == "2025-02":  # another writer, another column order
                table = table.select(list(reversed(table.column_names)))
            if month == "2025-03" and variant.get("money") == "double" and "herbal_cost" in table.column_names:
                table = table.drop(["herbal_cost"])  # and one that has no 中药饮片 split
            pq.write_table(table, tmp / kind / f"month={month}" / "part-0.parquet")
        if extra_month:  # the extract job already made a partition for a month past the data: empty
            (tmp / kind / "month=2025-09").mkdir(parents=True)
            pq.write_table(_table(rows, drop=drop, **variant).slice(0, 0), tmp / kind / "month=2025-09" / "p.parquet")
        out[kind] = str(tmp / kind)
    return out


def _compute(files, **kw):
    return compute_parquet(files["encounters"], files["settlements"], files["facilities"], **kw)


def _by_key(rows):
    return {(r["county"], r["month"], r["indicator"]): (r["numerator"], r["denominator"], r["value"]) for r in rows}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    return _compute(_write(tmp_path_factory.mktemp("base")))


def _q(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def test_figures_are_the_hand_computed_ones(baseline):
    """A reading of docs/indicators.md in plain Python over the same rows."""
    enc, st, _ = _world()
    got = _by_key(baseline)
    sums: dict[tuple, Decimal] = defaultdict(Decimal)
    for e in enc:
        if e["facility_level"] == "out_of_county" or (e["type"] == "inpatient" and e["discharge_date"] is None):
            continue
        ip = e["type"] == "inpatient"
        k = (e["facility_county"], (e["discharge_date"] if ip else e["admit_date"]).strftime("%Y-%m"))
        total = _cents(e["total_cost"])
        if not ip:
            sums[(*k, "visits")] += 1
            sums[(*k, "tcm")] += e["tcm"]
            if total is not None:
                sums[(*k, "visit_cost")] += total
                sums[(*k, "visits_costed")] += 1
        else:
            sums[(*k, "discharges")] += 1
            sums[(*k, "los")] += max((e["discharge_date"] - e["admit_date"]).days, 1)
        if total is not None:
            sums[(*k, "revenue")] += total
            drug = _cents(e["drug_cost"])
            sums[(*k, "revenue_ex_drug")] += total - (drug or 0)
            if drug is not None:
                sums[(*k, "drug")] += drug - (_cents(e["herbal_cost"]) or 0)
    for s in st:
        k = (s["residence_county"], s["settle_date"].strftime("%Y-%m"))
        fund = _cents(s["fund_paid"])
        sums[(*k, "fund_all")] += fund
        if s["facility_level"] != "out_of_county" and s["facility_county"] == s["residence_county"]:
            sums[(*k, "fund_in")] += fund
    checked = 0
    for county in COUNTIES:
        for month in ("2025-01", "2025-02", "2025-03"):
            def s(m, county=county, month=month):
                return sums[(county, month, m)]
            assert got[(county, month, "VISITS")][2] == s("visits")
            assert got[(county, month, "DISCHARGES")][2] == s("discharges")
            assert got[(county, month, "REVENUE")][2] == s("revenue") / 100
            assert got[(county, month, "OP_COST")][2] == _q(s("visit_cost") / 100 / s("visits_costed"))
            assert got[(county, month, "N12")][2] == _q(s("tcm") / s("visits") * 100)
            assert got[(county, month, "ALOS")][2] == _q(s("los") / s("discharges"))
            assert got[(county, month, "DRUG_RATIO")][2] == _q(s("drug") / s("revenue") * 100)
            assert got[(county, month, "N08")][2] == _q(s("fund_in") / s("fund_all") * 100)
            checked += 8
    assert checked == 48


@pytest.mark.parametrize("variant", [
    {"money": "double"},
    {"dates": "string"},
    {"dates": "timestamp"},
    {"dates": "timestamptz"},
    {"ints": "int32", "codes": "int"},
    {"partition": "month", "extra_month": True},
    {"money": "double", "dates": "string", "ints": "int32", "partition": "month", "extra_month": True},
], ids=lambda v: "-".join(f"{k}={x}" for k, x in v.items()))
def test_other_column_types_and_partitions_give_the_same_figures(baseline, tmp_path, variant):
    rows = _compute(_write(tmp_path, **variant))
    if variant.get("partition") == "month" and variant.get("money") == "double":
        # March's files carry no herbal_cost: 药占比 of the care they hold counts every drug
        march = {k for k in _by_key(baseline) if k[1] >= "2025-03" and k[2] == "DRUG_RATIO"}
        assert all(_by_key(rows)[k][0] >= _by_key(baseline)[k][0] for k in march)
        assert all(_by_key(rows)[(c, "2025-03", "DRUG_RATIO")][0] > _by_key(baseline)[(c, "2025-03", "DRUG_RATIO")][0]
                   for c in COUNTIES)
        rows = [r for r in rows if (r["county"], r["month"], r["indicator"]) not in march]
        baseline = [r for r in baseline if (r["county"], r["month"], r["indicator"]) not in march]
    assert _by_key(rows) == _by_key(baseline)
    # the empty partition past the data's end adds no month
    assert "2025-09" not in {r["month"] for r in rows}


def test_threads_and_memory_limit_settings_change_nothing(baseline, tmp_path):
    assert _by_key(_compute(_write(tmp_path), threads=1, memory_limit="256MB")) == _by_key(baseline)


def test_without_tcm_and_surgery_columns_n12_and_surgeries_have_no_value_and_say_why(baseline, tmp_path):
    rows = _compute(_write(tmp_path, drop=("tcm", "surgery"), partition="month"))
    base = _by_key(baseline)
    n12 = [r for r in rows if r["indicator"] == "N12"]
    surgeries = [r for r in rows if r["indicator"] == "SURGERIES"]
    assert n12 and surgeries
    assert all(r["value"] is None and r["numerator"] is None and "tcm" in r["note"] for r in n12)
    assert all(r["value"] is None and "surgery" in r["note"] for r in surgeries)
    # everything else is unchanged (never a 0.00)
    others = {k: v for k, v in _by_key(rows).items() if k[2] not in ("N12", "SURGERIES")}
    assert others == {k: v for k, v in base.items() if k[2] not in ("N12", "SURGERIES")}
    # and the files say it too
    write_long_form(rows, str(tmp_path / "r.csv"))
    text = (tmp_path / "r.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "county,month,indicator,numerator,denominator,value,note"
    assert any(line.startswith("431121,2025-01,N12,,,,") and "tcm" in line for line in text.splitlines())
    write_long_form(rows, str(tmp_path / "r.parquet"))
    back = pq.read_table(tmp_path / "r.parquet").to_pylist()
    assert next(r for r in back if r["indicator"] == "SURGERIES")["note"].count("surgery") == 1


def test_cli_names_the_missing_column_and_refuses_unreadable_types(tmp_path):
    from click.testing import CliRunner

    from yigongti.cli import main

    files = _write(tmp_path / "a", drop=("tcm",))
    out = tmp_path / "r.parquet"
    res = CliRunner().invoke(main, ["indicators", "compute", "--encounters", files["encounters"],
                                    "--facilities", files["facilities"], "--out", str(out), "--threads", "1",
                                    "--memory-limit", "512MB"])
    assert res.exit_code == 0, res.output
    assert "N12 无值" in res.output and "tcm" in res.output
    assert "SURGERIES 无值" not in res.output
    # a date column of a type that is no date
    enc, _, _ = _world()
    bad = _table(enc).set_column(7, "admit_date", pa.array([[1]] * len(enc), pa.list_(pa.int64())))
    pq.write_table(bad, tmp_path / "bad.parquet")
    res = CliRunner().invoke(main, ["indicators", "compute", "--encounters", str(tmp_path / "bad.parquet"),
                                    "--out", str(out)])
    assert res.exit_code == 2
    assert "admit_date" in res.output and "Traceback" not in res.output
