"""The measure SQL: one template per source, rendered for SQLite, PostgreSQL or DuckDB.

A *measure* is an integer summed per month over rows of the canonical columns below: counts,
days, or money in cents (each row rounded to the cent before summing, so that every engine adds the
same integers and the indicators agree to the last digit).

Canonical encounter columns (the Parquet schema of ``yigongti indicators compute``; the live
database provides them through a view-like SELECT):
  encounter_id, residence_county, residence_area, unit_area, facility_key, facility_level,
  facility_county, type, admit_date, discharge_date, total_cost, drug_cost, herbal_cost (中药饮片,
  part of drug_cost; NULL when not split), material_cost, insurance_paid, tcm, surgery
Canonical settlement columns:
  settlement_id, residence_county, residence_area, facility_key, facility_level, facility_county,
  type, settle_date, total_cost, fund_paid, reverses (the original's id on a 冲销/退费 row, whose
  amounts are negative; NULL otherwise)
Canonical referral columns (live database only: the city-scale Parquet schema has no referrals):
  referral_id, unit_area (the patient's home area), facility_key, facility_level, facility_county
  (of the referring facility), residence_county, direction, status, center_id, submitted_at,
  due_at, answered_at, escalated_at (timestamps stored in UTC)
``unit_area`` is the 12-digit area a row is attributed to: the facility's for encounters and beds,
the insured's for settlements; ``substr(unit_area, 1, 6)`` is the county of the figure.
``residence_area`` is the patient's (the insured's) home area, so that patient-flow indicators such
as the grassroots visit share can be ranked by the township patients live in.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

DIMENSIONS = ["month", "source", "unit_area", "residence_area", "facility_key", "facility_level", "facility_county",
              "residence_county", "in_county"]
# revenue_ex_drug: 医疗收入（不含药品收入）, the base of MATERIAL_100; drug_ex_herbal: 药品收入（不含中药饮片）
ENCOUNTER_MEASURES = ["visits", "er_visits", "tcm_visits", "visits_costed", "visit_cost", "discharges",
                      "discharges_costed", "discharge_cost", "los_days", "surgeries", "revenue", "drug", "material",
                      "fund", "occupied_bed_days", "revenue_ex_drug", "drug_ex_herbal"]
BED_MEASURES = ["open_bed_days"]
# st_cases: settled claims of care (outpatient and inpatient, 县域就诊率); a reversal row counts −1
SETTLEMENT_MEASURES = ["st_fund", "st_ip_cases", "st_ip_cost", "st_cases"]
# ref_response_min: whole minutes from submission to the center's answer, summed over answered referrals
REFERRAL_MEASURES = ["ref_up", "ref_down", "ref_all", "ref_answered", "ref_accepted", "ref_within_sla",
                     "ref_response_min", "ref_overdue"]
MEASURES = ENCOUNTER_MEASURES + BED_MEASURES + SETTLEMENT_MEASURES + REFERRAL_MEASURES
MONEY_MEASURES = {"visit_cost", "discharge_cost", "revenue", "drug", "material", "fund", "st_fund", "st_ip_cost",
                  "revenue_ex_drug", "drug_ex_herbal"}


@dataclass(frozen=True)
class Dialect:
    name: str  # sqlite | postgresql | duckdb

    def date(self, iso: str) -> str:
        return f"'{iso}'" if self.name == "sqlite" else f"DATE '{iso}'"

    def month(self, col: str) -> str:
        if self.name == "sqlite":
            return f"strftime('%Y-%m', {col})"
        if self.name == "postgresql":
            return f"to_char({col}, 'YYYY-MM')"
        return f"strftime({col}, '%Y-%m')"

    def days(self, start: str, end: str) -> str:
        if self.name == "sqlite":
            return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"
        if self.name == "postgresql":
            return f"({end} - {start})"
        return f"date_diff('day', {start}, {end})"

    def next_day(self, col: str) -> str:
        if self.name == "sqlite":
            return f"date({col}, '+1 day')"
        if self.name == "postgresql":
            return f"({col} + 1)"
        return f"CAST({col} + INTERVAL 1 DAY AS DATE)"

    def least(self, a: str, b: str) -> str:
        return f"MIN({a}, {b})" if self.name == "sqlite" else f"LEAST({a}, {b})"

    def greatest(self, a: str, b: str) -> str:
        return f"MAX({a}, {b})" if self.name == "sqlite" else f"GREATEST({a}, {b})"

    def timestamp(self, utc: dt.datetime) -> str:
        """A UTC instant comparable with a stored timestamp (SQLite keeps them as UTC text)."""
        text = utc.strftime("%Y-%m-%d %H:%M:%S")
        return f"'{text}'" if self.name == "sqlite" else f"TIMESTAMPTZ '{text}+00:00'"

    def minutes(self, start: str, end: str) -> str:
        """Whole minutes from start to end (floor of the exact difference, to the microsecond), so that
        both live databases count 14:59.9 as 14 minutes."""
        if self.name == "postgresql":
            return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({end} - {start})) / 60) AS BIGINT)"
        if self.name == "sqlite":
            # SQLite's date functions round to the millisecond (…:59.999999 becomes the next minute): take
            # the whole seconds of the stored text 'YYYY-MM-DD HH:MM:SS[.ffffff]' and add its microseconds.
            # Integer division truncates, which is the floor for the non-negative differences used here.
            def micros(col: str) -> str:
                return (f"(CAST(strftime('%s', substr({col}, 1, 19)) AS INTEGER) * 1000000"
                        f" + CAST(substr({col} || '.000000', 21, 6) AS INTEGER))")
            return f"(({micros(end)} - {micros(start)}) / 60000000)"
        return f"CAST(FLOOR(date_diff('microsecond', {start}, {end}) / 60000000) AS BIGINT)"

    def cents(self, col: str) -> str:
        return f"CAST(ROUND({col} * 100) AS BIGINT)"

    def flag(self, col: str) -> str:
        return f"CASE WHEN {col} THEN 1 ELSE 0 END"


def month_bounds(months: list[str]) -> list[tuple[str, str, str]]:
    """(YYYY-MM, first day, first day of next month) for each month."""
    out = []
    for m in months:
        y, mo = int(m[:4]), int(m[5:7])
        start = dt.date(y, mo, 1)
        stop = start + dt.timedelta(days=calendar.monthrange(y, mo)[1])
        out.append((m, start.isoformat(), stop.isoformat()))
    return out


def months_between(first: dt.date, last: dt.date) -> list[str]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _months_cte(d: Dialect, months: list[str]) -> str:
    rows = ", ".join(f"('{m}', {d.date(a)}, {d.date(b)})" for m, a, b in month_bounds(months))
    return f"months(month, mstart, mstop) AS (VALUES {rows})"


def _local_months_cte(d: Dialect, months: list[str], tz: str) -> str:
    """Months as UTC instants of local midnight: a referral submitted at 00:10 on 1 April in Beijing
    (16:10 UTC on 31 March) belongs to April, as on the referral pages."""
    zone = ZoneInfo(tz)

    def utc(day: str) -> dt.datetime:
        local = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), zone)
        return local.astimezone(dt.UTC)

    rows = ", ".join(f"('{m}', {d.timestamp(utc(a))}, {d.timestamp(utc(b))})" for m, a, b in month_bounds(months))
    return f"months(month, mstart, mstop) AS (VALUES {rows})"


def _select(d: Dialect, month: str, source: str, values: dict[str, str], in_county: str,
            residence: str = "residence_county", coarse: bool = False, home: str = "residence_area") -> str:
    """The fact columns. ``coarse`` keeps only what county-by-month figures need (the county of the
    area, the level and in-county flag), so a city-scale run groups far fewer keys."""
    if coarse:
        cols = [f"{month} AS month", f"'{source}' AS source", "substr(unit_area, 1, 6) AS unit_area",
                "'' AS residence_area", "'' AS facility_key", "facility_level", "'' AS facility_county",
                "'' AS residence_county",
                f"{in_county} AS in_county"]
    else:
        cols = [f"{month} AS month", f"'{source}' AS source", "unit_area", f"{home} AS residence_area",
                "facility_key", "facility_level",
                "facility_county", f"{residence} AS residence_county", f"{in_county} AS in_county"]
    cols += [f"{values.get(m, '0')} AS {m}" for m in MEASURES]
    return ",\n  ".join(cols)


def encounter_measures_sql(d: Dialect, src: str, months: list[str], coarse: bool = False,
                           as_of: str | None = None) -> str:
    """Rows of (dimensions, measures) for the given months, from an encounter source (a table
    expression with the canonical columns). Visits count in the month of the visit, discharges and
    their costs in the month of discharge, occupied bed-days in every month of the stay; a patient
    still in hospital occupies a bed until ``as_of`` (the day after the data's last date)."""
    ip = "type = 'inpatient'"
    op = "type <> 'inpatient'"
    has_cost = "total_cost IS NOT NULL"
    cents = d.cents
    ev = {
        "visits": f"CASE WHEN {op} THEN 1 ELSE 0 END",
        "er_visits": "CASE WHEN type = 'emergency' THEN 1 ELSE 0 END",
        "tcm_visits": f"CASE WHEN {op} AND {d.flag('tcm')} = 1 THEN 1 ELSE 0 END",
        "visits_costed": f"CASE WHEN {op} AND {has_cost} THEN 1 ELSE 0 END",
        "visit_cost": f"CASE WHEN {op} AND {has_cost} THEN {cents('total_cost')} ELSE 0 END",
        "discharges": f"CASE WHEN {ip} THEN 1 ELSE 0 END",
        "discharges_costed": f"CASE WHEN {ip} AND {has_cost} THEN 1 ELSE 0 END",
        "discharge_cost": f"CASE WHEN {ip} AND {has_cost} THEN {cents('total_cost')} ELSE 0 END",
        "los_days": f"CASE WHEN {ip} THEN {d.greatest(d.days('admit_date', 'discharge_date'), '1')} ELSE 0 END",
        "surgeries": f"CASE WHEN {ip} AND {d.flag('surgery')} = 1 THEN 1 ELSE 0 END",
        "revenue": f"CASE WHEN {has_cost} THEN {cents('total_cost')} ELSE 0 END",
        "drug": f"CASE WHEN {has_cost} AND drug_cost IS NOT NULL THEN {cents('drug_cost')} ELSE 0 END",
        "material": f"CASE WHEN {has_cost} AND material_cost IS NOT NULL THEN {cents('material_cost')} ELSE 0 END",
        "fund": f"CASE WHEN insurance_paid IS NOT NULL THEN {cents('insurance_paid')} ELSE 0 END",
        "revenue_ex_drug": f"CASE WHEN {has_cost} THEN {cents('total_cost')}"
                           f" - COALESCE({cents('drug_cost')}, 0) ELSE 0 END",
        "drug_ex_herbal": f"CASE WHEN {has_cost} AND drug_cost IS NOT NULL THEN {cents('drug_cost')}"
                          f" - COALESCE({cents('herbal_cost')}, 0) ELSE 0 END",
    }
    first, last = month_bounds([months[0]])[0][1], month_bounds([months[-1]])[0][2]
    # a same-day stay occupies its bed for the day (one bed-day, as ALOS counts it one day)
    bed_end = (f"CASE WHEN discharge_date = admit_date THEN {d.next_day('admit_date')}"
               f" ELSE COALESCE(discharge_date, {d.date(min(as_of or last, last))}) END")
    event = f"CASE WHEN {ip} THEN discharge_date ELSE admit_date END"
    in_county = "(facility_county = residence_county)"
    bed_days = d.days(d.greatest("admit_date", "mstart"), d.least("bed_end", "mstop"))
    bed_cols = _select(d, "bed_month", "enc", {"occupied_bed_days": bed_days}, in_county, coarse=coarse)
    # src is NOT MATERIALIZED: events and beds each read the source (beds with the inpatient filter
    # pushed into the scan) rather than DuckDB/PostgreSQL storing every row for the second reader
    # (a city-year: 6 GB and most of the time; bench/indicators_city.py).
    return f"""
WITH {_months_cte(d, months)},
src AS NOT MATERIALIZED (SELECT * FROM {src} enc_src),
events AS (
  SELECT *, {event} AS event_date FROM src
  WHERE NOT (type = 'inpatient' AND discharge_date IS NULL)
    AND ({event}) >= {d.date(first)} AND ({event}) < {d.date(last)}
),
beds AS (
  SELECT e.*, {bed_end} AS bed_end, m.month AS bed_month, m.mstart, m.mstop FROM src e
  JOIN months m ON e.admit_date < m.mstop AND {bed_end} > m.mstart
  WHERE e.type = 'inpatient'
)
SELECT {', '.join(DIMENSIONS)}, {', '.join(f'SUM({m}) AS {m}' for m in MEASURES)} FROM (
  SELECT {_select(d, d.month('event_date'), 'enc', ev, in_county, coarse=coarse)} FROM events
  UNION ALL
  SELECT {bed_cols} FROM beds
) rows
GROUP BY {', '.join(DIMENSIONS)}
"""


def bed_measures_sql(d: Dialect, src: str, months: list[str], coarse: bool = False) -> str:
    """Open bed-days: each facility's open beds × days of each month (src: facility_key, unit_area,
    facility_level, facility_county, open_beds)."""
    vals = {"open_bed_days": f"open_beds * {d.days('m.mstart', 'm.mstop')}"}
    return f"""
WITH {_months_cte(d, months)}
SELECT {_select(d, 'm.month', 'bed', vals, 'TRUE', residence='facility_county', coarse=coarse,
                 home='unit_area')}
FROM {src} f CROSS JOIN months m WHERE open_beds > 0
"""


def settlement_measures_sql(d: Dialect, src: str, months: list[str], coarse: bool = False) -> str:
    """Settlements count in the month they were settled; pharmacy purchases carry level 'pharmacy'. A
    reversal row (冲销/退费: ``reverses`` set, negative amounts) cancels its original claim: its amounts
    subtract and it counts −1 case, so a stay reversed and settled again counts once."""
    first, last = month_bounds([months[0]])[0][1], month_bounds([months[-1]])[0][2]
    ip = "type = 'inpatient'"
    one = "CASE WHEN reverses IS NULL THEN 1 ELSE -1 END"
    vals = {
        "st_fund": f"CASE WHEN fund_paid IS NOT NULL THEN {d.cents('fund_paid')} ELSE 0 END",
        "st_ip_cases": f"CASE WHEN {ip} THEN {one} ELSE 0 END",
        "st_ip_cost": f"CASE WHEN {ip} AND total_cost IS NOT NULL THEN {d.cents('total_cost')} ELSE 0 END",
        "st_cases": f"CASE WHEN type <> 'pharmacy' THEN {one} ELSE 0 END",
    }
    in_county = "(facility_level IN ('county', 'township', 'village') AND facility_county = residence_county)"
    return f"""
SELECT {', '.join(DIMENSIONS)}, {', '.join(f'SUM({m}) AS {m}' for m in MEASURES)} FROM (
  SELECT {_select(d, d.month('settle_date'), 'set', vals, in_county, coarse=coarse, home='unit_area')}
  FROM (SELECT settlement_id, residence_county, residence_area AS unit_area, facility_key,
               CASE WHEN type = 'pharmacy' THEN 'pharmacy' ELSE facility_level END AS facility_level,
               facility_county, type, settle_date, total_cost, fund_paid, reverses FROM {src} st_src) s
  WHERE settle_date >= {d.date(first)} AND settle_date < {d.date(last)}
) rows
GROUP BY {', '.join(DIMENSIONS)}
"""


def referral_measures_sql(d: Dialect, src: str, months: list[str], tz: str) -> str:
    """Referrals count in the local month they were submitted, attributed to the patient's home area
    (unit_area) and the referring facility. Only referrals sent through the center are *answered*; a
    declined one is answered but not accepted (a redirected one is accepted elsewhere). Live database
    only (SQLite, PostgreSQL)."""
    answered = "center_id IS NOT NULL AND answered_at IS NOT NULL"
    vals = {
        "ref_up": "CASE WHEN direction = 'up' THEN 1 ELSE 0 END",
        "ref_down": "CASE WHEN direction = 'down' THEN 1 ELSE 0 END",
        "ref_all": "1",
        "ref_answered": f"CASE WHEN {answered} THEN 1 ELSE 0 END",
        "ref_accepted": f"CASE WHEN {answered} AND status <> 'declined' THEN 1 ELSE 0 END",
        "ref_within_sla": f"CASE WHEN {answered} AND due_at IS NOT NULL AND answered_at <= due_at THEN 1 ELSE 0 END",
        "ref_response_min": f"CASE WHEN {answered} THEN {d.greatest(d.minutes('submitted_at', 'answered_at'), '0')}"
                            " ELSE 0 END",
        "ref_overdue": "CASE WHEN escalated_at IS NOT NULL THEN 1 ELSE 0 END",
    }
    in_county = "(facility_county = residence_county)"
    return f"""
WITH {_local_months_cte(d, months, tz)}
SELECT {', '.join(DIMENSIONS)}, {', '.join(f'SUM({m}) AS {m}' for m in MEASURES)} FROM (
  SELECT {_select(d, 'm.month', 'ref', vals, in_county, home='unit_area')}
  FROM {src} ref_src JOIN months m ON ref_src.submitted_at >= m.mstart AND ref_src.submitted_at < m.mstop
) rows
GROUP BY {', '.join(DIMENSIONS)}
"""
