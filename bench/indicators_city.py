"""City-scale indicator benchmark: ``yigongti indicators compute`` vs a hand-written DuckDB query.

    python bench/indicators_city.py generate --rows 10000000 --out /tmp/ygt-ind/c10 \\
        [--money double|decimal] [--partition month|none] [--dates date|string|timestamp] \\
        [--ints int64|int32] [--extra-month]
    python bench/indicators_city.py run --data /tmp/ygt-ind/c10 [--repeat 2] [--cold] [--scenarios enc,full]

The city: 10 counties (431121–431130), each with 3 county hospitals, 15 township centers and 200
village clinics; 2025 as the year; out-of-county care at city hospitals (431102). Encounters are
Parquet partitioned by month (``month=YYYY-MM/``), settlements likewise, plus facilities.parquet.
Rows are derived from hashes of the row number, so a given --rows always gives the same data
(the variants only change how the same values are stored).

``run`` reads whatever is under --data (its column types are looked up, so data generated elsewhere
works too: money as DOUBLE or DECIMAL, dates as DATE, ISO strings or timestamps, ids as int32/int64,
hive partitions or single files) and runs, per scenario and repeat, each system in its own child
process: ``yigongti indicators compute`` and the hand-written query. Wall time includes Python
start-up and writing the result file for both; peak RSS is the child's own (``os.wait4``).
Every numerator, denominator and value the hand-written query gives is compared with ours.
Scenarios: ``enc`` = encounters + facilities (N07, N12, hospital KPIs, bed occupancy), ``full`` =
``enc`` + settlements (N08–N11).
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import shutil
import subprocess
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb

ICD = ["J06.9", "I10", "E11.9", "K29.7", "M54.5", "J18.9", "I63.9", "I25.1", "J44.1", "N39.0", "O80",
       "S72.0", "C34.9", "K80.2", "K35.8", "J20.9", "R51", "A09", "H10.9", "L30.9"]
MONEY = ("total_cost", "drug_cost", "herbal_cost", "material_cost", "insurance_paid", "fund_paid")
DATES = ("admit_date", "discharge_date", "settle_date")
IDS = ("encounter_id", "person_id", "referred_from", "settlement_id")


def _convert(cols: list[str], money: str, dates: str, ints: str) -> str:
    """The final projection: the same values stored as the variant asks."""
    out = []
    for c in cols:
        if c in MONEY and money == "double":
            out.append(f"CAST({c} AS DOUBLE) AS {c}")
        elif c in DATES and dates == "string":
            out.append(f"strftime({c}, '%Y-%m-%d') AS {c}")
        elif c in DATES and dates == "timestamp":
            out.append(f"CAST({c} AS TIMESTAMP) AS {c}")
        elif c in IDS and ints == "int32":
            out.append(f"CAST({c} AS INTEGER) AS {c}")
        else:
            out.append(c)
    return ", ".join(out)


ENC_COLS = ["encounter_id", "person_id", "residence_county", "facility_id", "facility_level", "facility_county",
            "type", "admit_date", "discharge_date", "total_cost", "drug_cost", "herbal_cost", "material_cost",
            "insurance_paid", "icd10", "referred_from", "tcm", "surgery"]
ST_COLS = ["settlement_id", "person_id", "residence_county", "facility_id", "facility_level", "facility_county",
           "type", "admit_date", "discharge_date", "settle_date", "total_cost", "fund_paid", "reverses"]


def generate(rows: int, out: Path, year: int = 2025, money: str = "decimal", partition: str = "month",
             dates: str = "date", ints: str = "int64", extra_month: bool = False) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    icd = "[" + ", ".join(f"'{c}'" for c in ICD) + "]"
    per_month = rows // 12
    # partition none: months are written to a scratch directory, then combined into one file each
    stage = out if partition == "month" else out / "_stage"
    enc_sel, st_sel = _convert(ENC_COLS, money, dates, ints), _convert(ST_COLS, money, dates, ints)
    nxt = f"{year + 1}-01"
    t0 = time.perf_counter()
    for k in range(12):
        lo, hi = k * per_month, (k + 1) * per_month if k < 11 else rows
        month = f"{year}-{k + 1:02d}"
        ndays = calendar.monthrange(year, k + 1)[1]
        season = 1.0 + 0.15 * (1 if k in (0, 1, 11) else 0)
        sql = f"""
CREATE OR REPLACE TEMP TABLE m AS
WITH b AS (SELECT i, hash(i) AS h1, hash(i + 1000000007) AS h2, hash(i + 2000000011) AS h3 FROM range({lo}, {hi}) t(i)),
c AS (SELECT i, h1, h2, h3, (h1 % 10)::INT AS rc,
        ((h1 >> 8) % 1000) / 1000.0 AS ut, ((h1 >> 20) % 1000) / 1000.0 AS ul, (h2 % 1000) / 1000.0 AS uc,
        ((h2 >> 12) % 1000) / 1000.0 AS ud, ((h2 >> 24) % 1000) / 1000.0 AS um, (h3 % 1000) / 1000.0 AS us,
        ((h3 >> 12) % {ndays})::INT AS dom, ((h3 >> 24) % 14)::INT AS los0 FROM b),
d AS (SELECT *, CASE WHEN ut < 0.03 THEN 'inpatient' WHEN ut < 0.10 THEN 'emergency' ELSE 'outpatient' END AS type
      FROM c),
e AS (SELECT *, CASE WHEN type = 'inpatient' THEN
          (CASE WHEN ul < 0.30 - rc * 0.01 THEN 'township' WHEN ul < 0.93 THEN 'county' ELSE 'out_of_county' END)
        ELSE (CASE WHEN ul < 0.40 + rc * 0.012 THEN 'village' WHEN ul < 0.74 THEN 'township'
                   WHEN ul < 0.97 THEN 'county' ELSE 'out_of_county' END) END AS level FROM d),
f AS (SELECT *,
        CASE WHEN level = 'out_of_county' THEN '431102'
             WHEN level = 'county' AND us < 0.03 THEN printf('4311%02d', 21 + (rc + 1) % 10)
             ELSE printf('4311%02d', 21 + rc) END AS fcounty,
        CASE WHEN type = 'inpatient' THEN (CASE level WHEN 'township' THEN 2500 WHEN 'county' THEN 6500 ELSE 18000 END)
             WHEN type = 'emergency' THEN 320
             ELSE (CASE level WHEN 'village' THEN 45 WHEN 'township' THEN 95 WHEN 'county' THEN 260 ELSE 480 END)
        END * {season} AS base FROM e),
g AS (SELECT *, CASE WHEN us > 0.999 THEN NULL ELSE round(base * (0.5 + uc), 2)::DECIMAL(12, 2) END AS total FROM f)
SELECT i AS encounter_id, ((h1 >> 32) % 6000000)::BIGINT AS person_id, printf('4311%02d', 21 + rc) AS residence_county,
  fcounty || '-' || level || '-' || ((h3 >> 40) % (CASE level WHEN 'village' THEN 200 WHEN 'township' THEN 15
                                                              WHEN 'county' THEN 3 ELSE 5 END))::VARCHAR AS facility_id,
  level AS facility_level, fcounty AS facility_county, type,
  (DATE '{month}-01' + dom) AS admit_date,
  CASE WHEN type = 'inpatient' THEN (DATE '{month}-01' + dom + los0 + (CASE WHEN us < 0.02 THEN 0 ELSE 1 END))
       ELSE (DATE '{month}-01' + dom) END AS discharge_date,
  total AS total_cost,
  round(total * (0.18 + 0.2 * ud), 2)::DECIMAL(12, 2) AS drug_cost,
  CASE WHEN total IS NULL THEN NULL WHEN ((h2 >> 44) % 100) < 12
       THEN round(round(total * (0.18 + 0.2 * ud), 2) * (0.2 + 0.5 * um), 2) ELSE 0 END::DECIMAL(12, 2) AS herbal_cost,
  round(total * (0.04 + 0.2 * um), 2)::DECIMAL(12, 2) AS material_cost,
  round(total * (CASE WHEN type = 'inpatient' THEN 0.65 ELSE 0.40 END), 2)::DECIMAL(12, 2) AS insurance_paid,
  list_element({icd}, 1 + ((h2 >> 36) % 20)::INT) AS icd10,
  CASE WHEN type = 'inpatient' AND us < 0.05 AND i > 0 THEN i - 1 END AS referred_from,
  ((h2 >> 44) % 100) < 12 AS tcm,
  type = 'inpatient' AND ((h3 >> 50) % 100) < 25 AS surgery
FROM g
"""
        con.execute(sql)
        (stage / "encounters" / f"month={month}").mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY (SELECT {enc_sel} FROM m) TO '{stage}/encounters/month={month}/data.parquet' "
                    "(FORMAT PARQUET, ROW_GROUP_SIZE 500000)")
        # settlements: 92 % of the costed encounters, settled on the discharge (visit) date; 1 % of
        # the inpatient ones are reversed three days later (冲销: negated amounts, ``reverses`` = the
        # original's id) and settled again at 97 %; with --extra-month, December's late settlements
        # go to the next year's January partition
        cols = ("person_id, residence_county, facility_id, facility_level, facility_county, type, admit_date, "
                "discharge_date")
        base = (f"SELECT encounter_id, {cols}, COALESCE(discharge_date, admit_date) AS settle_date, total_cost, "
                "insurance_paid FROM m WHERE total_cost IS NOT NULL AND ((encounter_id * 7) % 100) < 92")
        redo = "type = 'inpatient' AND ((encounter_id * 13) % 100) = 0"
        settled = (f"SELECT encounter_id AS settlement_id, {cols}, settle_date, total_cost, "
                   f"insurance_paid AS fund_paid, CAST(NULL AS VARCHAR) AS reverses FROM ({base}) b UNION ALL "
                   f"SELECT encounter_id + {2 * rows}, {cols}, settle_date + 3, -total_cost, -insurance_paid, "
                   f"CAST(encounter_id AS VARCHAR) FROM ({base}) b WHERE {redo} UNION ALL "
                   f"SELECT encounter_id + {rows}, {cols}, settle_date + 3, round(total_cost * 0.97, 2), "
                   f"round(insurance_paid * 0.97, 2), NULL FROM ({base}) b WHERE {redo}")
        parts = [(month, f"SELECT * FROM ({settled}) s")]
        if extra_month and k == 11:
            parts = [(month, f"SELECT * FROM ({settled}) s WHERE settle_date < DATE '{nxt}-01'"),
                     (nxt, f"SELECT * FROM ({settled}) s WHERE settle_date >= DATE '{nxt}-01'")]
        for pm, q in parts:
            (stage / "settlements" / f"month={pm}").mkdir(parents=True, exist_ok=True)
            con.execute(f"COPY (SELECT {st_sel} FROM ({q}) q) TO '{stage}/settlements/month={pm}/data.parquet' "
                        "(FORMAT PARQUET, ROW_GROUP_SIZE 500000)")
        print(f"{month}: rows {lo:,}–{hi:,} written ({time.perf_counter() - t0:.0f} s)", flush=True)
    if extra_month:  # the extract job already made next month's (empty) encounter partition
        (stage / "encounters" / f"month={nxt}").mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY (SELECT {enc_sel} FROM m WHERE false) TO '{stage}/encounters/month={nxt}/data.parquet' "
                    "(FORMAT PARQUET)")
    if partition == "none":
        for kind in ("encounters", "settlements"):
            con.execute(f"COPY (SELECT * FROM read_parquet('{stage}/{kind}/*/*.parquet', hive_partitioning = false)) "
                        f"TO '{out}/{kind}.parquet' (FORMAT PARQUET, ROW_GROUP_SIZE 500000)")
    con.execute(f"""COPY (SELECT DISTINCT facility_id, facility_county, facility_level,
        CASE facility_level WHEN 'county' THEN 420 WHEN 'township' THEN 45 ELSE 0 END AS open_beds
        FROM read_parquet('{stage}/encounters/*/*.parquet', hive_partitioning = false)
        WHERE facility_level <> 'out_of_county')
        TO '{out}/facilities.parquet' (FORMAT PARQUET)""")
    if partition == "none":
        shutil.rmtree(stage)
    variant = {"rows": rows, "money": money, "partition": partition, "dates": dates, "ints": ints,
               "extra_month": extra_month}
    (out / "variant.json").write_text(json.dumps(variant))
    print(f"generated {rows:,} encounters ({variant}) in {time.perf_counter() - t0:.0f} s", flush=True)


# ---------------------------------------------------------------------------------------------
# The hand-written query: the same definitions written directly for DuckDB, one statement (after a
# first query for the data's months), as someone who knows the data would write it. Column types are
# looked up only to add the casts that data needs (string or timestamp dates).

HAND_SQL = """
WITH enc AS NOT MATERIALIZED (
  SELECT facility_county AS county, facility_level AS lvl, type, {admit} AS admit_date,
         {discharge} AS discharge_date, total_cost, drug_cost, {herbal} AS herbal_cost, material_cost, tcm, surgery
  FROM {enc_rel} WHERE facility_level <> 'out_of_county'),
ev AS (
  SELECT county, strftime(CASE WHEN type = 'inpatient' THEN discharge_date ELSE admit_date END, '%Y-%m') AS month,
    count(*) FILTER (WHERE type <> 'inpatient') AS visits,
    count(*) FILTER (WHERE type <> 'inpatient' AND lvl IN ('township', 'village')) AS gr_visits,
    count(*) FILTER (WHERE type = 'emergency') AS er_visits,
    count(*) FILTER (WHERE type <> 'inpatient' AND tcm) AS tcm_visits,
    count(*) FILTER (WHERE type <> 'inpatient' AND total_cost IS NOT NULL) AS visits_costed,
    sum(CAST(round(total_cost * 100) AS BIGINT)) FILTER (WHERE type <> 'inpatient') AS visit_cost,
    count(*) FILTER (WHERE type = 'inpatient') AS discharges,
    count(*) FILTER (WHERE type = 'inpatient' AND total_cost IS NOT NULL) AS discharges_costed,
    sum(CAST(round(total_cost * 100) AS BIGINT)) FILTER (WHERE type = 'inpatient') AS discharge_cost,
    sum(greatest(date_diff('day', admit_date, discharge_date), 1)) FILTER (WHERE type = 'inpatient') AS los_days,
    count(*) FILTER (WHERE type = 'inpatient' AND surgery) AS surgeries,
    sum(CAST(round(total_cost * 100) AS BIGINT)) AS revenue,
    sum(CAST(round(drug_cost * 100) AS BIGINT) - COALESCE(CAST(round(herbal_cost * 100) AS BIGINT), 0))
      FILTER (WHERE total_cost IS NOT NULL) AS drug_ex_herbal,
    sum(CAST(round(total_cost * 100) AS BIGINT) - COALESCE(CAST(round(drug_cost * 100) AS BIGINT), 0))
      AS revenue_ex_drug,
    sum(CAST(round(material_cost * 100) AS BIGINT)) FILTER (WHERE total_cost IS NOT NULL) AS material
  FROM enc WHERE NOT (type = 'inpatient' AND discharge_date IS NULL)
  GROUP BY ALL),
months AS (SELECT strftime(d, '%Y-%m') AS month, d AS ms, d + INTERVAL 1 MONTH AS me
           FROM range(DATE '{first}', DATE '{last}' + INTERVAL 1 MONTH, INTERVAL 1 MONTH) t(d)),
beds AS (  -- a same-day stay occupies its bed for one day
  SELECT e.county, m.month,
    sum(date_diff('day', greatest(e.admit_date, m.ms::DATE), least(e.bed_end, m.me::DATE))) AS occupied
  FROM (SELECT *, CASE WHEN discharge_date = admit_date THEN admit_date + 1 ELSE discharge_date END AS bed_end
        FROM enc WHERE type = 'inpatient') e
  JOIN months m ON e.admit_date < m.me AND e.bed_end > m.ms GROUP BY ALL),
openb AS (
  SELECT f.facility_county AS county, m.month, sum(f.open_beds * date_diff('day', m.ms::DATE, m.me::DATE)) AS open_days
  FROM read_parquet('{fac}') f CROSS JOIN months m GROUP BY ALL){st_cte}
SELECT ev.*, beds.occupied, openb.open_days{st_cols}
FROM ev LEFT JOIN beds USING (county, month) LEFT JOIN openb USING (county, month){st_join}
WHERE ev.month BETWEEN '{first_m}' AND '{last_m}'
"""
HAND_ST = """,
st AS (
  SELECT residence_county AS county, strftime({settle}, '%Y-%m') AS month,
    sum(CAST(round(fund_paid * 100) AS BIGINT)) FILTER (WHERE ic) AS fund_in,
    sum(CAST(round(fund_paid * 100) AS BIGINT)) FILTER (WHERE ic AND facility_level IN ('township', 'village'))
      AS fund_gr,
    sum(CAST(round(fund_paid * 100) AS BIGINT)) AS fund_all,
    sum({case}) FILTER (WHERE ic AND type = 'inpatient') AS ip_in,
    sum({case}) FILTER (WHERE type = 'inpatient') AS ip_all,
    sum(CAST(round(total_cost * 100) AS BIGINT)) FILTER (WHERE ic AND type = 'inpatient') AS ip_cost_in
  FROM (SELECT *, facility_level IN ('county', 'township', 'village') AND facility_county = residence_county AS ic
        FROM {st_rel} WHERE facility_level <> 'pharmacy' AND type <> 'pharmacy')
  GROUP BY ALL)"""
ENC_RATIOS = {  # indicator: (numerator, denominator, scale, numerator in cents, denominator in cents)
    "N07": ("gr_visits", "visits", 100, False, False), "N12": ("tcm_visits", "visits", 100, False, False),
    "ALOS": ("los_days", "discharges", 1, False, False), "BED_OCC": ("occupied", "open_days", 100, False, False),
    "IP_COST": ("discharge_cost", "discharges_costed", 1, True, False),
    "OP_COST": ("visit_cost", "visits_costed", 1, True, False),
    "DRUG_RATIO": ("drug_ex_herbal", "revenue", 100, True, True),  # 药占比 without 中药饮片
    "MATERIAL_100": ("material", "revenue_ex_drug", 100, True, True),  # per 100 yuan of non-drug revenue
}
ST_RATIOS = {"N08": ("fund_in", "fund_all", 100, True, True), "N09": ("fund_gr", "fund_in", 100, True, True),
             "N10": ("ip_cost_in", "ip_in", 1, True, False), "N11": ("ip_in", "ip_all", 100, False, False)}
COUNTS = (("VISITS", "visits"), ("ER_VISITS", "er_visits"), ("DISCHARGES", "discharges"), ("SURGERIES", "surgeries"))


def sources(data: Path) -> dict[str, str]:
    """encounters/settlements as a directory (any partitioning) or a single file; facilities file."""
    out = {}
    for kind in ("encounters", "settlements"):
        d, f = data / kind, data / f"{kind}.parquet"
        out[kind] = str(d) if d.is_dir() else str(f)
    out["facilities"] = str(data / "facilities.parquet")
    return out


def _rel(path: str) -> str:
    glob = os.path.join(path, "**", "*.parquet") if os.path.isdir(path) else path
    return f"read_parquet('{glob}', hive_partitioning = false)"


def _types(con, rel: str) -> dict[str, str]:
    return dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {rel})").fetchall())


def _as_date(con, rel: str, col: str) -> str:
    return col if _types(con, rel)[col] == "DATE" else f"CAST({col} AS DATE)"


def _q(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def hand_rows(data: Path, with_settlements: bool) -> list[dict]:
    src = sources(data)
    con = duckdb.connect()
    enc_rel = _rel(src["encounters"])
    admit, discharge = _as_date(con, enc_rel, "admit_date"), _as_date(con, enc_rel, "discharge_date")
    lo, hi = con.execute(f"SELECT min({admit}), max(COALESCE({discharge}, {admit})) FROM {enc_rel}").fetchone()
    st = {"st_cte": "", "st_cols": "", "st_join": ""}
    if with_settlements:
        st_rel = _rel(src["settlements"])
        # a reversal row (冲销, ``reverses`` set) cancels its original: −1 admission
        case = "CASE WHEN reverses IS NULL THEN 1 ELSE -1 END" if "reverses" in _types(con, st_rel) else "1"
        st = {"st_cte": HAND_ST.format(st_rel=st_rel, settle=_as_date(con, st_rel, "settle_date"), case=case),
              "st_cols": ", st.fund_in, st.fund_gr, st.fund_all, st.ip_in, st.ip_all, st.ip_cost_in",
              "st_join": " LEFT JOIN st USING (county, month)"}
    herbal = "herbal_cost" if "herbal_cost" in _types(con, enc_rel) else "NULL"
    sql = HAND_SQL.format(enc_rel=enc_rel, admit=admit, discharge=discharge, herbal=herbal, fac=src["facilities"],
                          first=lo.replace(day=1), last=hi.replace(day=1), first_m=lo.strftime("%Y-%m"),
                          last_m=hi.strftime("%Y-%m"), **st)
    cur = con.execute(sql)
    cols = [c[0] for c in cur.description]
    raw = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    ratios = {**ENC_RATIOS, **(ST_RATIOS if with_settlements else {})}
    out = []
    for r in raw:
        for code, (n, d, scale, nc, dc) in ratios.items():
            num = Decimal(r[n] or 0) / (100 if nc else 1)
            den = Decimal(r[d] or 0) / (100 if dc else 1)
            out.append({"county": r["county"], "month": r["month"], "indicator": code, "numerator": num,
                        "denominator": den, "value": None if den == 0 else _q(num / den * scale)})
        for code, n in COUNTS:
            out.append({"county": r["county"], "month": r["month"], "indicator": code,
                        "numerator": Decimal(r[n] or 0), "denominator": None, "value": Decimal(r[n] or 0)})
    return out


def write_rows(rows: list[dict], out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    dec = pa.decimal128(24, 4)
    pq.write_table(pa.table({k: pa.array([r[k] for r in rows], pa.string() if k in ("county", "month", "indicator")
                                         else dec) for k in ("county", "month", "indicator", "numerator",
                                                             "denominator", "value")}), out)


# ---------------------------------------------------------------------------------------------
# Running both side by side


def _drop_caches() -> bool:
    try:
        subprocess.run(["sync"], check=True)
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("3\n")
        return True
    except OSError:
        return False


def _child(cmd: list[str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds (user + system) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, "DJANGO_SETTINGS_MODULE": "yigongti.settings"})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def _compare(ours: Path, hand: Path) -> tuple[int, int]:
    import pyarrow.parquet as pq

    cli = {(r["county"], r["month"], r["indicator"]): r for r in pq.read_table(ours).to_pylist()}
    rows = pq.read_table(hand).to_pylist()
    bad = 0
    for h in rows:
        c = cli.get((h["county"], h["month"], h["indicator"]))
        if c is None or any(c[k] != h[k] for k in ("numerator", "denominator", "value")):
            bad += 1
            if bad <= 5:
                print("MISMATCH hand:", h, "ours:", c)
    return len(rows), bad


def run(data: Path, repeat: int, cold: bool, scenarios: list[str], extra: list[str]) -> None:
    src = sources(data)
    variant = json.loads((data / "variant.json").read_text()) if (data / "variant.json").exists() else {}
    work = Path(os.environ.get("TMPDIR", "/tmp")) / "ygt-ind-run"
    work.mkdir(parents=True, exist_ok=True)
    if cold and not _drop_caches():
        print("cannot drop the OS page cache (needs root): warm runs only")
        cold = False
    n = duckdb.connect().execute(f"SELECT count(*) FROM {_rel(src['encounters'])}").fetchone()[0]
    print(f"data: {data} {variant or '(not generated here)'}; encounters {n:,}")
    failed = False
    summary = []
    for sc in scenarios:
        ours_cmd = [sys.executable, "-m", "yigongti", "indicators", "compute", "--encounters", src["encounters"],
                    *(["--settlements", src["settlements"]] if sc == "full" else []),
                    "--facilities", src["facilities"], "--out", str(work / f"ours-{sc}.parquet"), *extra]
        hand_cmd = [sys.executable, __file__, "_hand", "--data", str(data), "--scenario", sc,
                    "--out", str(work / f"hand-{sc}.parquet")]
        runs: dict[str, list[tuple[float, float, float]]] = {"ours": [], "hand": []}
        for _ in range(repeat):
            for name, cmd in (("ours", ours_cmd), ("hand", hand_cmd)):
                if cold:
                    _drop_caches()
                runs[name].append(_child(cmd))
        compared, bad = _compare(work / f"ours-{sc}.parquet", work / f"hand-{sc}.parquet")
        failed |= bad > 0
        label = "cold" if cold else "warm"
        print(f"\nscenario {sc} ({'encounters + facilities' if sc == 'enc' else '+ settlements'}), {label}, "
              f"{repeat} run(s) each; {compared:,} indicator rows compared, {bad} mismatches")
        print(f"{'system':<30} {'best s':>7} {'runs s':<22} {'CPU s':>6} {'peak RSS MB':>11}")
        for name, title in (("ours", "yigongti indicators compute"), ("hand", "hand-written DuckDB query")):
            ts = [t for t, _, _ in runs[name]]
            print(f"{title:<30} {min(ts):7.2f} {', '.join(f'{t:.2f}' for t in ts):<22} "
                  f"{min(c for _, _, c in runs[name]):6.2f} {max(m for _, m, _ in runs[name]):11.0f}")
        t_ratio = min(t for t, _, _ in runs["ours"]) / min(t for t, _, _ in runs["hand"])
        c_ratio = min(c for _, _, c in runs["ours"]) / min(c for _, _, c in runs["hand"])
        m_ratio = max(m for _, m, _ in runs["ours"]) / max(m for _, m, _ in runs["hand"])
        first = runs["ours"][0][0] / runs["hand"][0][0]
        print(f"ratio ours / hand: time {t_ratio:.2f}x (first run {first:.2f}x; target <= 1.5x), "
              f"CPU {c_ratio:.2f}x, peak memory {m_ratio:.2f}x")
        summary.append((sc, label, t_ratio, c_ratio, m_ratio))
    print("\nsummary: " + "; ".join(f"{sc} {lb}: time {t:.2f}x, CPU {c:.2f}x, memory {m:.2f}x"
                                    for sc, lb, t, c, m in summary))
    if failed:
        sys.exit(1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--rows", type=int, default=50_000_000)
    g.add_argument("--out", type=Path, default=Path("/tmp/ygt-ind/city"))
    g.add_argument("--money", choices=["decimal", "double"], default="decimal")
    g.add_argument("--partition", choices=["month", "none"], default="month")
    g.add_argument("--dates", choices=["date", "string", "timestamp"], default="date")
    g.add_argument("--ints", choices=["int64", "int32"], default="int64")
    g.add_argument("--extra-month", action="store_true",
                   help="December's late settlements in the next year's January partition, and an empty "
                        "encounter partition for that month")
    r = sub.add_parser("run")
    r.add_argument("--data", type=Path, default=Path("/tmp/ygt-ind/city"))
    r.add_argument("--repeat", type=int, default=2)
    r.add_argument("--cold", action="store_true", help="drop the OS page cache before every child (root)")
    r.add_argument("--scenarios", default="enc,full")
    r.add_argument("--threads", type=int, default=None, help="passed to compute")
    r.add_argument("--memory-limit", default=None, help="passed to compute, e.g. 2GB")
    h = sub.add_parser("_hand")  # the child process of the hand-written query
    h.add_argument("--data", type=Path, required=True)
    h.add_argument("--scenario", required=True)
    h.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    if a.cmd == "generate":
        generate(a.rows, a.out, money=a.money, partition=a.partition, dates=a.dates, ints=a.ints,
                 extra_month=a.extra_month)
    elif a.cmd == "_hand":
        write_rows(hand_rows(a.data, a.scenario == "full"), a.out)
    else:
        extra = (["--threads", str(a.threads)] if a.threads else []) + \
                (["--memory-limit", a.memory_limit] if a.memory_limit else [])
        run(a.data, a.repeat, a.cold, a.scenarios.split(","), extra)


if __name__ == "__main__":
    main()
