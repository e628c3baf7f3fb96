"""Export the live database as Parquet snapshots in the city-scale schema (README: ``indicators compute``),
so the same indicator definitions can run on DuckDB, and so tests can check both engines agree."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.db import connection

from .services import LEVEL_SQL

ENCOUNTERS_SQL = f"""SELECT e.id, COALESCE(CAST(e.resident_id AS TEXT), 'x' || CAST(e.id AS TEXT)), e.residence_county,
  e.area_code, f.code, r.code, {LEVEL_SQL}, substr(r.code, 1, 6), e.type, e.admit_date, e.discharge_date,
  e.total_cost, e.drug_cost, e.material_cost, e.insurance_paid, e.main_icd10, e.referred_from_id, e.tcm, e.surgery,
  e.herbal_cost
  FROM encounters_encounter e JOIN orgs_facility f ON f.id = e.facility_id JOIN orgs_region r ON r.id = f.region_id
  ORDER BY e.id"""
SETTLEMENTS_SQL = """SELECT s.id, COALESCE(CAST(s.resident_id AS TEXT), s.settlement_no), s.residence_county,
  s.area_code, s.facility_code, s.facility_level, s.facility_county, s.type, s.admit_date, s.discharge_date,
  s.settle_date, s.total_cost, s.fund_paid, s.reverses_no FROM encounters_insurancesettlement s ORDER BY s.id"""
FACILITIES_SQL = f"""SELECT f.code, r.code, {LEVEL_SQL}, substr(r.code, 1, 6), f.open_beds
  FROM orgs_facility f JOIN orgs_region r ON r.id = f.region_id WHERE f.is_active ORDER BY f.code"""


def _money(v) -> Decimal | None:
    if v is None:
        return None
    return (v if isinstance(v, Decimal) else Decimal(repr(v))).quantize(Decimal("0.01"))


def _date(v) -> dt.date | None:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def export_parquet(out_dir: str | Path) -> dict[str, str]:
    """encounters.parquet, settlements.parquet and facilities.parquet under out_dir."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    money = pa.decimal128(12, 2)
    with connection.cursor() as cur:
        cur.execute(ENCOUNTERS_SQL)
        rows = cur.fetchall()
    cols: list = list(zip(*rows, strict=True)) if rows else [[] for _ in range(20)]
    enc = pa.table({
        "encounter_id": pa.array(cols[0], pa.int64()), "person_id": pa.array(cols[1], pa.string()),
        "residence_county": pa.array(cols[2], pa.string()), "residence_area": pa.array(cols[3], pa.string()),
        "facility_id": pa.array(cols[4], pa.string()), "facility_area": pa.array(cols[5], pa.string()),
        "facility_level": pa.array(cols[6], pa.string()), "facility_county": pa.array(cols[7], pa.string()),
        "type": pa.array(cols[8], pa.string()),
        "admit_date": pa.array([_date(v) for v in cols[9]], pa.date32()),
        "discharge_date": pa.array([_date(v) for v in cols[10]], pa.date32()),
        "total_cost": pa.array([_money(v) for v in cols[11]], money),
        "drug_cost": pa.array([_money(v) for v in cols[12]], money),
        "material_cost": pa.array([_money(v) for v in cols[13]], money),
        "insurance_paid": pa.array([_money(v) for v in cols[14]], money),
        "icd10": pa.array(cols[15], pa.string()), "referred_from": pa.array(cols[16], pa.int64()),
        "tcm": pa.array([bool(v) for v in cols[17]], pa.bool_()),
        "surgery": pa.array([bool(v) for v in cols[18]], pa.bool_()),
        "herbal_cost": pa.array([_money(v) for v in cols[19]], money),
    })
    pq.write_table(enc, out / "encounters.parquet")
    with connection.cursor() as cur:
        cur.execute(SETTLEMENTS_SQL)
        rows = cur.fetchall()
    c: list = list(zip(*rows, strict=True)) if rows else [[] for _ in range(14)]
    st = pa.table({
        "settlement_id": pa.array(c[0], pa.int64()), "person_id": pa.array(c[1], pa.string()),
        "residence_county": pa.array(c[2], pa.string()), "residence_area": pa.array(c[3], pa.string()),
        "facility_id": pa.array(c[4], pa.string()), "facility_level": pa.array(c[5], pa.string()),
        "facility_county": pa.array(c[6], pa.string()), "type": pa.array(c[7], pa.string()),
        "admit_date": pa.array([_date(v) for v in c[8]], pa.date32()),
        "discharge_date": pa.array([_date(v) for v in c[9]], pa.date32()),
        "settle_date": pa.array([_date(v) for v in c[10]], pa.date32()),
        "total_cost": pa.array([_money(v) for v in c[11]], money),
        "fund_paid": pa.array([_money(v) for v in c[12]], money),
        # 冲销/退费: the original's settlement number (Parquet ids here are row ids; the number links them)
        "reverses": pa.array([v or None for v in c[13]], pa.string()),
    })
    pq.write_table(st, out / "settlements.parquet")
    with connection.cursor() as cur:
        cur.execute(FACILITIES_SQL)
        rows = cur.fetchall()
    c = list(zip(*rows, strict=True)) if rows else [[] for _ in range(5)]
    fac = pa.table({"facility_id": pa.array(c[0], pa.string()), "facility_area": pa.array(c[1], pa.string()),
                    "facility_level": pa.array(c[2], pa.string()), "facility_county": pa.array(c[3], pa.string()),
                    "open_beds": pa.array(c[4], pa.int64())})
    pq.write_table(fac, out / "facilities.parquet")
    return {"encounters": str(out / "encounters.parquet"), "settlements": str(out / "settlements.parquet"),
            "facilities": str(out / "facilities.parquet")}


def live_long_form(months: list[str] | None = None) -> list[dict]:
    """The live engine's answer in the CLI's long form (county × month), from the monthly facts."""
    from .definitions import computed_indicators
    from .engine import aggregate_sql, collect, long_form

    with connection.cursor() as cur:
        cur.execute(aggregate_sql("indicators_monthlyfact", "substr(unit_area, 1, 6)"))
        rows = cur.fetchall()
    by = collect(rows)
    if months:
        by = {g: {m: f for m, f in ms.items() if m in months} for g, ms in by.items()}
    return long_form(by, computed_indicators())
