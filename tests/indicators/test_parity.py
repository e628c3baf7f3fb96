"""The live database and DuckDB over Parquet give identical figures on the same data."""

from __future__ import annotations

from decimal import Decimal

from tests.indicators.world import build_world
from yigongti.indicators.definitions import INDICATORS, REFERRAL_CODES
from yigongti.indicators.engine import compute_parquet, write_long_form
from yigongti.indicators.services import refresh_facts
from yigongti.indicators.snapshot import export_parquet, live_long_form


def _key(rows):
    return {(r["county"], r["month"], r["indicator"]): (r["numerator"], r["denominator"], r["value"]) for r in rows}


def _as_other_systems_write_it(files: dict[str, str], out) -> tuple[str, str, str]:
    import duckdb

    con = duckdb.connect()
    out.mkdir()
    paths = []
    for kind, month_of in (("encounters", "admit_date"), ("settlements", "settle_date")):
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM '{files[kind]}'").fetchall()]
        sel = ", ".join(f"CAST({c} AS DOUBLE) AS {c}" if c.endswith(("_cost", "_paid")) else
                        f"strftime({c}, '%Y-%m-%d') AS {c}" if c.endswith("_date") else c for c in cols)
        con.execute(f"COPY (SELECT {sel}, strftime({month_of}, '%Y-%m') AS month FROM '{files[kind]}') "
                    f"TO '{out}/{kind}' (FORMAT PARQUET, PARTITION_BY (month))")
        (out / kind / "month=2099-01").mkdir()
        con.execute(f"COPY (SELECT {sel} FROM '{files[kind]}' LIMIT 0) TO '{out}/{kind}/month=2099-01/0.parquet'")
        paths.append(f"{out}/{kind}")
    return paths[0], paths[1], files["facilities"]


def test_live_engine_and_duckdb_agree_to_the_last_digit(cast, tmp_path):
    build_world(cast)
    refresh_facts()
    live = _key(live_long_form())
    # the referral indicators are declared live-database only: Parquet snapshots carry no referrals
    live_only = {k for k in live if INDICATORS[k[2]].live_only}
    assert {k[2] for k in live_only} == set(REFERRAL_CODES)
    live = {k: v for k, v in live.items() if k not in live_only}
    files = export_parquet(tmp_path)
    duck = _key(compute_parquet(files["encounters"], files["settlements"], files["facilities"]))
    assert live.keys() == duck.keys()
    assert live == duck
    # the same snapshot as other systems write it: money as DOUBLE, dates as text, hive partitions
    # by month (and one for a month past the data's end) — still the live figures to the last digit
    assert _key(compute_parquet(*_as_other_systems_write_it(files, tmp_path / "other"))) == live
    # and the figures are the hand-counted ones (see world.py)
    assert duck[("431127", "2026-03", "N07")] == (Decimal(3), Decimal(5), Decimal("60.00"))
    assert duck[("431127", "2026-03", "BED_OCC")] == (Decimal(14), Decimal(372), Decimal("3.76"))
    assert duck[("431127", "2026-03", "N08")][2] == Decimal("19.54")
    # the reversed and re-settled stay (S2, S2R, S2B) counts once on both engines
    assert duck[("431127", "2026-03", "N11")] == (Decimal(2), Decimal(4), Decimal("50.00"))
    assert duck[("431127", "2026-03", "MATERIAL_100")][2] == Decimal("25.00")
    assert duck[("431127", "2026-04", "BED_OCC")][:2] == (Decimal(6), Decimal(360))  # E11: same day, 1 bed-day
    # 郸城县 (411625) has S6 in its own county: 1 of 1 admissions in county
    assert duck[("411625", "2026-03", "N11")][2] == Decimal("100.00")


def test_cli_writes_long_form_parquet(cast, tmp_path):
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from yigongti.cli import main

    build_world(cast)
    files = export_parquet(tmp_path)
    out = tmp_path / "result.parquet"
    res = CliRunner().invoke(main, ["indicators", "compute", "--encounters", files["encounters"],
                                    "--settlements", files["settlements"], "--out", str(out)])
    assert res.exit_code == 0, res.output
    table = pq.read_table(out).to_pylist()
    assert set(table[0]) == {"county", "month", "indicator", "numerator", "denominator", "value", "note"}
    row = next(r for r in table if (r["county"], r["month"], r["indicator"]) == ("431127", "2026-03", "N07"))
    assert row["value"] == Decimal("60.00")
    # without --facilities the bed occupancy is not computed
    assert not any(r["indicator"] == "BED_OCC" for r in table)
    write_long_form([], str(tmp_path / "empty.csv"))


def test_cli_without_the_optional_columns_reports_no_value_and_names_the_column(cast, tmp_path):
    """N12 needs ``tcm`` and SURGERIES needs ``surgery``: without them the figures are unknown, not 0."""
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from yigongti.cli import main

    build_world(cast)
    files = export_parquet(tmp_path)
    bare = tmp_path / "bare.parquet"
    table = pq.read_table(files["encounters"])
    pq.write_table(table.drop(["tcm", "surgery", "herbal_cost"]), bare)
    out = tmp_path / "result.csv"
    res = CliRunner().invoke(main, ["indicators", "compute", "--encounters", str(bare),
                                    "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "N12 无值：数据缺少列 tcm（中医类诊疗标志）" in res.stderr
    assert "SURGERIES 无值：数据缺少列 surgery（手术标志）" in res.stderr
    rows = {(r["county"], r["month"], r["indicator"]): r for r in compute_parquet(str(bare))}
    assert rows[("431127", "2026-03", "N12")]["value"] is None
    assert rows[("431127", "2026-04", "SURGERIES")]["value"] is None
    assert rows[("431127", "2026-03", "N07")]["value"] == Decimal("60.00")  # the rest is unaffected
    # without the herbal split the drug share counts every drug: 2410/8650 = 27.86 %
    assert rows[("431127", "2026-03", "DRUG_RATIO")]["value"] == Decimal("27.86")
    # with the columns, the same figures are known
    full = {(r["county"], r["month"], r["indicator"]): r for r in compute_parquet(files["encounters"])}
    assert full[("431127", "2026-03", "N12")]["value"] == Decimal("20.00")
    assert full[("431127", "2026-04", "SURGERIES")]["value"] == Decimal("1")
    assert full[("431127", "2026-03", "DRUG_RATIO")]["value"] == Decimal("27.69")
