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
    # and the figures are the hand-counted ones (see world.py)
    assert duck[("431127", "2026-03", "N07")] == (Decimal(3), Decimal(5), Decimal("60.00"))
    assert duck[("431127", "2026-03", "BED_OCC")] == (Decimal(14), Decimal(372), Decimal("3.76"))
    assert duck[("431127", "2026-03", "N08")][2] == Decimal("19.27")
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
    assert set(table[0]) == {"county", "month", "indicator", "numerator", "denominator", "value"}
    row = next(r for r in table if (r["county"], r["month"], r["indicator"]) == ("431127", "2026-03", "N07"))
    assert row["value"] == Decimal("60.00")
    # without --facilities the bed occupancy is not computed
    assert not any(r["indicator"] == "BED_OCC" for r in table)
    write_long_form([], str(tmp_path / "empty.csv"))
