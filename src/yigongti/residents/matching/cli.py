"""Batch linking from the command line: ``yigongti empi link`` calls ``link_command``.

Runnable without Django: ``python -m yigongti.residents.matching.cli --input a.csv --output b.parquet``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from .io import ErrorReport, InputFileError, add_field_warnings, check_table, read_table, write_table
from .link import link_table


def default_errors_path(output_path: str | Path) -> Path:
    out = Path(output_path)
    return out.with_name(f"{out.stem}.errors{out.suffix or '.csv'}")


def link_command(input_path: str | Path, output_path: str | Path, errors_path: str | Path | None = None,
                 progress: bool = True) -> dict[str, Any]:
    """Link the records of one file and write ``record_id, person_id, match_score, explanation``.

    The error report (row_number, record_id, severity, field, code, message) is written next to
    the output unless ``errors_path`` says otherwise, and always when anything was reported.
    Returns a summary; ``summary["ok"]`` is False when the file itself could not be used, with
    the reason in ``summary["error"]`` (no output is written then, and nothing raises).
    """
    started = time.perf_counter()
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else None
    errors_path = Path(errors_path) if errors_path else default_errors_path(output_path)
    report = ErrorReport()
    try:
        raw = read_table(input_path)
        table = check_table(raw, report)
    except InputFileError as exc:
        report.add(None, None, "error", "file", exc.code, exc.message)
        write_table(report.to_table(), errors_path)
        return {"ok": False, "error": exc.message, "code": exc.code, "errors_path": str(errors_path)}
    if say:
        say(f"读取 {raw.num_rows:,} 行，可用 {table.num_rows:,} 行")
    out, result = link_table(table, progress=say)
    if result.features is not None:
        add_field_warnings(report, table, result.features.issues)
    write_table(out, output_path)
    write_table(report.to_table(), errors_path)
    summary = {
        "ok": True,
        "rows_read": raw.num_rows,
        "records_linked": table.num_rows,
        "persons": result.stats.get("persons", 0),
        "candidate_pairs": result.stats.get("candidate_pairs", 0),
        "errors": report.errors,
        "warnings": report.warnings,
        "output_path": str(output_path),
        "errors_path": str(errors_path),
        "seconds": round(time.perf_counter() - started, 2),
    }
    if say:
        say(f"完成：{summary['records_linked']:,} 条记录归并为 {summary['persons']:,} 人，"
            f"错误 {summary['errors']} 条，警告 {summary['warnings']} 条，用时 {summary['seconds']} 秒")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="居民主索引批量匹配 (EMPI batch link)")
    parser.add_argument("--input", help="CSV, Parquet or Excel file of records")
    parser.add_argument("--output", help="clusters file (.parquet or .csv)")
    parser.add_argument("--fit-defaults", type=int, metavar="PERSONS",
                        help="maintainers: re-estimate default_params.json on synthetic data of this size")
    parser.add_argument("--errors", default=None, help="error report file (default: next to the output)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.fit_defaults:
        return _fit_defaults(args.fit_defaults)
    if not args.input or not args.output:
        parser.error("--input and --output are required")
    summary = link_command(args.input, args.output, args.errors, progress=not args.quiet)
    print(json.dumps(summary, ensure_ascii=False))
    return 0 if summary["ok"] else 2


def _fit_defaults(persons: int) -> int:
    from . import synth
    from .link import fit_default_params
    from .model import save_params

    _people, records = synth.generate(persons, seed=2024)
    params = fit_default_params(records)
    path = Path(__file__).with_name("default_params.json")
    save_params(params, path)
    print(f"wrote {path} (λ={params.lam:.2e}, {len(params.common_names)} common names)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
