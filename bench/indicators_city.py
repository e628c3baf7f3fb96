"""City-scale indicator benchmark: ``yigongti indicators compute`` vs a hand-written DuckDB query.

    python bench/indicators_city.py generate --rows 50000000 --out /tmp/ygt-ind/city   # a city-year
    python bench/indicators_city.py run --data /tmp/ygt-ind/city                        # time + compare

The city: 10 counties (431121–431130), each with 3 county hospitals, 15 township centers and 200
village clinics; 2025 as the year; out-of-county care at city hospitals (431102). Encounters are
Parquet partitioned by month (``month=YYYY-MM/``), settlements likewise, plus facilities.parquet.
Rows are derived from hashes of the row number, so a given --rows always gives the same data.
"""

from __future__ import annotations

import argparse
import calendar
import os
import subprocess
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb

ICD = ["J06.9", "I10", "E11.9", "K29.7", "M54.5", "J18.9", "I63.9", "I25.1", "J44.1", "N39.0", "O80",
       "S72.0", "C34.9", "K80.2", "K35.8", "J20.9", "R51", "A09", "H10.9", "L30.9"]


def generate(rows: int, out: Path, year: int = 2025) -> None:
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    icd = "[" + ", ".join(f"'{c}'" for c in ICD) + "]"
    per_month = rows // 12
    t0 = time.perf_counter()
    for k in range(12):
        lo, hi = k * per_month, (k + 1) * per_month if k < 11 else rows
        month = f"{year}-{k + 1:02d}"
        ndays = calendar.monthrange(year, k + 1)[1]
        season = 1.0 + 0.15 * (1 if k in (0, 1, 11) else 0)
        sql = f"""
COPY (
WITH b AS (SELECT i, hash(i) AS h1, hash(i + 1000000007) AS h2, hash(i + 2000000011) AS h3 FROM range({lo}, {hi}) t(i)),
c AS (SELECT i, h1, h2, h3, (h1 % 10)::INT AS rc,
        ((h1 >> 8) % 1000) / 1000.0 AS ut, ((h1 >> 20) % 1000) / 1000.0 AS ul, (h2 % 1000) / 1000.0 AS uc,
        ((h2 >> 12) % 1000) / 1000.0 AS ud, ((h2 >> 24) % 1000) / 1000.0 AS um, (h3 % 1000) / 1000.0 AS us,
        ((h3 >> 12) % {ndays})::INT AS dom, ((h3 >> 24) % 14)::INT AS los0 FROM b),
d AS (SELECT *, CASE WHEN ut < 0.03 THEN 'inpatient' WHEN ut < 0.10 THEN 'emergency' ELSE 'outpatient' END AS type FROM c),
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
  round(total * (0.04 + 0.2 * um), 2)::DECIMAL(12, 2) AS material_cost,
  round(total * (CASE WHEN type = 'inpatient' THEN 0.65 ELSE 0.40 END), 2)::DECIMAL(12, 2) AS insurance_paid,
  list_element({icd}, 1 + ((h2 >> 36) % 20)::INT) AS icd10,
  CASE WHEN type = 'inpatient' AND us < 0.05 AND i > 0 THEN i - 1 END AS referred_from,
  ((h2 >> 44) % 100) < 12 AS tcm,
  type = 'inpatient' AND ((h3 >> 50) % 100) < 25 AS surgery
FROM g
) TO '{out}/encounters/month={month}/data.parquet' (FORMAT PARQUET, ROW_GROUP_SIZE 500000)
"""
        (out / "encounters" / f"month={month}").mkdir(parents=True, exist_ok=True)
        con.execute(sql)
        (out / "settlements" / f"month={month}").mkdir(parents=True, exist_ok=True)
        con.execute(f"""COPY (SELECT encounter_id AS settlement_id, person_id, residence_county, facility_id,
            facility_level, facility_county, type, admit_date, discharge_date,
            COALESCE(discharge_date, admit_date) AS settle_date, total_cost, insurance_paid AS fund_paid
            FROM read_parquet('{out}/encounters/month={month}/data.parquet')
            WHERE total_cost IS NOT NULL AND ((encounter_id * 7) % 100) < 92)
            TO '{out}/settlements/month={month}/data.parquet' (FORMAT PARQUET, ROW_GROUP_SIZE 500000)""")
        print(f"{month}: rows {lo:,}–{hi:,} written ({time.perf_counter() - t0:.0f} s)", flush=True)
    con.execute(f"""COPY (SELECT DISTINCT facility_id, facility_county, facility_level,
        CASE facility_level WHEN 'county' THEN 420 WHEN 'township' THEN 45 ELSE 0 END AS open_beds
        FROM read_parquet('{out}/encounters/*/*.parquet') WHERE facility_level <> 'out_of_county')
        TO '{out}/facilities.parquet' (FORMAT PARQUET)""")
    print(f"generated {rows:,} encounters in {time.perf_counter() - t0:.0f} s", flush=True)


# The hand-written query: the same definitions written directly for DuckDB, one statement.
HAND_SQL = """
WITH enc AS (
  SELECT facility_county AS county, facility_level AS lvl, type, admit_date, discharge_date, total_cost, drug_cost,
         material_cost, tcm, surgery
  FROM read_parquet('{data}/encounters/*/*.parquet') WHERE facility_level <> 'out_of_county'),
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
    sum(CAST(round(drug_cost * 100) AS BIGINT)) FILTER (WHERE total_cost IS NOT NULL) AS drug,
    sum(CAST(round(material_cost * 100) AS BIGINT)) FILTER (WHERE total_cost IS NOT NULL) AS material
  FROM enc WHERE NOT (type = 'inpatient' AND discharge_date IS NULL)
  GROUP BY ALL),
months AS (SELECT strftime(d, '%Y-%m') AS month, d AS ms, d + INTERVAL 1 MONTH AS me
           FROM range(DATE '{first}', DATE '{last}' + INTERVAL 1 MONTH, INTERVAL 1 MONTH) t(d)),
beds AS (
  SELECT e.county, m.month,
    sum(date_diff('day', greatest(e.admit_date, m.ms::DATE), least(e.discharge_date, m.me::DATE))) AS occupied
  FROM enc e JOIN months m ON e.admit_date < m.me AND e.discharge_date > m.ms
  WHERE e.type = 'inpatient' GROUP BY ALL),
openb AS (
  SELECT f.facility_county AS county, m.month, sum(f.open_beds * date_diff('day', m.ms::DATE, m.me::DATE)) AS open_days
  FROM read_parquet('{data}/facilities.parquet') f CROSS JOIN months m GROUP BY ALL),
st AS (
  SELECT residence_county AS county, strftime(settle_date, '%Y-%m') AS month,
    sum(CAST(round(fund_paid * 100) AS BIGINT)) FILTER (WHERE ic) AS fund_in,
    sum(CAST(round(fund_paid * 100) AS BIGINT)) FILTER (WHERE ic AND facility_level IN ('township', 'village')) AS fund_gr,
    sum(CAST(round(fund_paid * 100) AS BIGINT)) AS fund_all,
    count(*) FILTER (WHERE ic AND type = 'inpatient') AS ip_in,
    count(*) FILTER (WHERE type = 'inpatient') AS ip_all,
    sum(CAST(round(total_cost * 100) AS BIGINT)) FILTER (WHERE ic AND type = 'inpatient') AS ip_cost_in
  FROM (SELECT *, facility_level IN ('county', 'township', 'village') AND facility_county = residence_county AS ic
        FROM read_parquet('{data}/settlements/*/*.parquet') WHERE facility_level <> 'pharmacy' AND type <> 'pharmacy')
  GROUP BY ALL)
SELECT ev.*, beds.occupied, openb.open_days, st.fund_in, st.fund_gr, st.fund_all, st.ip_in, st.ip_all, st.ip_cost_in
FROM ev LEFT JOIN beds USING (county, month) LEFT JOIN openb USING (county, month) LEFT JOIN st USING (county, month)
WHERE ev.month BETWEEN '{first_m}' AND '{last_m}'
"""


def _q(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def hand_rows(data: Path, threads: int | None) -> tuple[list[dict], float]:
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    t0 = time.perf_counter()
    lo, hi = con.execute(f"SELECT min(admit_date), max(COALESCE(discharge_date, admit_date)) "
                         f"FROM read_parquet('{data}/encounters/*/*.parquet')").fetchone()
    sql = HAND_SQL.format(data=data, first=lo.replace(day=1), last=hi.replace(day=1), first_m=lo.strftime("%Y-%m"),
                          last_m=hi.strftime("%Y-%m"))
    cur = con.execute(sql)
    cols = [c[0] for c in cur.description]
    raw = [dict(zip(cols, r)) for r in cur.fetchall()]
    out = []
    ratio = {  # indicator: (numerator, denominator, scale, numerator in cents, denominator in cents)
        "N07": ("gr_visits", "visits", 100, False, False), "N12": ("tcm_visits", "visits", 100, False, False),
        "ALOS": ("los_days", "discharges", 1, False, False), "BED_OCC": ("occupied", "open_days", 100, False, False),
        "IP_COST": ("discharge_cost", "discharges_costed", 1, True, False),
        "OP_COST": ("visit_cost", "visits_costed", 1, True, False), "DRUG_RATIO": ("drug", "revenue", 100, True, True),
        "MATERIAL_100": ("material", "revenue", 100, True, True), "N08": ("fund_in", "fund_all", 100, True, True),
        "N09": ("fund_gr", "fund_in", 100, True, True), "N10": ("ip_cost_in", "ip_in", 1, True, False),
        "N11": ("ip_in", "ip_all", 100, False, False),
    }
    for r in raw:
        for code, (n, d, scale, nc, dc) in ratio.items():
            num = Decimal(r[n] or 0) / (100 if nc else 1)
            den = Decimal(r[d] or 0) / (100 if dc else 1)
            out.append({"county": r["county"], "month": r["month"], "indicator": code, "numerator": num,
                        "denominator": den, "value": None if den == 0 else _q(num / den * scale)})
        for code, n in (("VISITS", "visits"), ("ER_VISITS", "er_visits"), ("DISCHARGES", "discharges"),
                        ("SURGERIES", "surgeries")):
            out.append({"county": r["county"], "month": r["month"], "indicator": code,
                        "numerator": Decimal(r[n] or 0), "denominator": None, "value": Decimal(r[n] or 0)})
    return out, time.perf_counter() - t0


def run(data: Path, threads: int | None, repeat: int) -> None:
    result = data / "result.parquet"
    cli_times, hand_times = [], []
    for _ in range(repeat):
        cmd = [sys.executable, "-m", "yigongti", "indicators", "compute", "--encounters", str(data / "encounters"),
               "--settlements", str(data / "settlements"), "--facilities", str(data / "facilities.parquet"),
               "--out", str(result)] + (["--threads", str(threads)] if threads else [])
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env={**os.environ, "DJANGO_SETTINGS_MODULE": "yigongti.settings"})
        cli_times.append(time.perf_counter() - t0)
        hand, t = hand_rows(data, threads)
        hand_times.append(t)
    import pyarrow.parquet as pq

    cli = {(r["county"], r["month"], r["indicator"]): r for r in pq.read_table(result).to_pylist()}
    mismatches = 0
    for h in hand:
        c = cli.get((h["county"], h["month"], h["indicator"]))
        if c is None or c["numerator"] != h["numerator"] or c["denominator"] != h["denominator"] \
                or c["value"] != h["value"]:
            mismatches += 1
            if mismatches <= 5:
                print("MISMATCH", h, c)
    n = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{data}/encounters/*/*.parquet')").fetchone()[0]
    best_cli, best_hand = min(cli_times), min(hand_times)
    print(f"encounters: {n:,}; indicator rows compared: {len(hand):,}; mismatches: {mismatches}")
    print(f"yigongti indicators compute (full set, subprocess incl. startup): best {best_cli:.2f} s  "
          f"(runs: {', '.join(f'{t:.2f}' for t in cli_times)})")
    print(f"hand-written DuckDB query (same indicators):                    best {best_hand:.2f} s  "
          f"(runs: {', '.join(f'{t:.2f}' for t in hand_times)})")
    print(f"ratio CLI / hand-written: {best_cli / best_hand:.2f}x (target ≤ 1.5x)")
    if mismatches:
        sys.exit(1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--rows", type=int, default=50_000_000)
    g.add_argument("--out", type=Path, default=Path("/tmp/ygt-ind/city"))
    r = sub.add_parser("run")
    r.add_argument("--data", type=Path, default=Path("/tmp/ygt-ind/city"))
    r.add_argument("--threads", type=int, default=None)
    r.add_argument("--repeat", type=int, default=2)
    a = p.parse_args()
    if a.cmd == "generate":
        generate(a.rows, a.out)
    else:
        run(a.data, a.threads, a.repeat)


if __name__ == "__main__":
    main()
