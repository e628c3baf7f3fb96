"""``yigongti drg group``: group a file of discharges under one CHS-DRG version, without the database."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click

REQUIRED = ("case_id", "sex", "age_years", "age_days", "birth_weight_g", "los_days", "discharge_mode", "diagnoses",
            "procedures")
OPTIONAL = ("department", "ventilation_hours")
OUTPUT = ("case_id", "version", "mdc", "adrg", "drg", "status", "trace")


class InputError(Exception):
    """A file the command cannot read (format, missing columns)."""


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".parquet"):
        return suffix[1:]
    raise InputError(f"{path.name}：只支持 .csv 或 .parquet 文件")


def read_rows(path: Path) -> Iterator[dict[str, str]]:
    """The input's rows as dicts of strings (parquet values are turned into text as CSV would give them)."""
    kind = _kind(path)
    if not path.is_file():
        raise InputError(f"输入文件不存在：{path}")
    if kind == "csv":
        try:
            fh = path.open(encoding="utf-8-sig", newline="")
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
        except UnicodeDecodeError:
            raise InputError(f"{path.name} 不是 UTF-8 编码的 CSV") from None
        try:
            _check_columns(path, header)
        except InputError:
            fh.close()
            raise
        try:
            with fh:
                for row in reader:
                    yield {k: (v or "") for k, v in row.items() if k is not None}
        except (UnicodeDecodeError, csv.Error) as e:
            raise InputError(f"{path.name} 第 {reader.line_num} 行读不出：{e}") from None
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as e:  # ArrowInvalid, ArrowIOError … for a damaged file
        raise InputError(f"{path.name} 不是可读的 Parquet 文件：{e}") from None
    _check_columns(path, table.column_names)
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    for i in range(table.num_rows):
        yield {name: _text(values[i]) for name, values in columns.items()}


def _text(value: object) -> str:
    """A Parquet value as CSV text; a list column (codes as list<string>) is joined with "|"."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "|".join(str(v) for v in value if v is not None)
    return str(value)


def _check_columns(path: Path, columns: Sequence[str]) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InputError(f"{path.name} 缺少列：{', '.join(missing)}")


def _int(value: str, name: str, *, optional: bool = False) -> int | None:
    v = value.strip()
    if v.lower() in ("nan", "none", "null"):  # a missing value as pandas or pyarrow writes it
        v = ""
    if not v:
        if optional:
            return None
        raise ValueError(f"{name} 为空")
    try:
        f = float(v)
    except ValueError:
        raise ValueError(f"{name} 不是数字：{v!r}") from None
    if f != int(f):
        raise ValueError(f"{name} 不是整数：{v!r}")
    return int(f)


def case_from_row(row: dict[str, str]):  # -> Case (import kept lazy for the CLI's start-up)
    from yigongti.insurance.drg import Case

    sex = row["sex"].strip()
    if sex.endswith(".0"):
        sex = sex[:-2]
    if sex not in ("1", "2"):
        raise ValueError(f"sex 应为 1（男）或 2（女），实为 {sex!r}")
    # ICD-10 医保版 codes start with an upper-case letter ("i21.000x005" is a typing slip, not another code)
    diagnoses = tuple(d[:1].upper() + d[1:] for d in (d.strip() for d in row["diagnoses"].split("|")) if d)
    return Case(case_id=row["case_id"].strip(), sex=sex, age_years=_int(row["age_years"], "age_years") or 0,
                diagnoses=diagnoses,
                procedures=tuple(p.strip() for p in row["procedures"].split("|") if p.strip()),
                age_days=_int(row["age_days"], "age_days", optional=True),
                birth_weight_g=_int(row["birth_weight_g"], "birth_weight_g", optional=True),
                los_days=_int(row["los_days"], "los_days", optional=True) or 0,
                discharge_mode=row["discharge_mode"].strip() or "1", department=row.get("department", "").strip(),
                ventilation_hours=_int(row.get("ventilation_hours", ""), "ventilation_hours", optional=True) or 0)


def resolve_pack(rules: str):
    """``--rules``: a version name ("CHS-DRG 2.0", "2.0") or a rule-pack directory."""
    from yigongti.insurance.drg import VERSIONS, load_pack, pack_for

    for v in VERSIONS:
        if rules in (v, v.split()[-1], v.replace(" ", "_"), v.replace("CHS-DRG ", "CHS_DRG_").replace(".", "")):
            return pack_for(v)
    path = Path(rules)
    if not path.is_dir():
        raise InputError(f"--rules 既不是版本名（{'、'.join(VERSIONS)}）也不是目录：{rules}")
    return load_pack(path)


def group_file(rules: str, input_path: Path, output_path: Path) -> dict[str, Any]:
    """Group every row of ``input_path`` and write ``output_path``; returns counts and timing."""
    from yigongti.insurance.drg import GroupResult, group
    from yigongti.insurance.drg.types import UNGROUPABLE

    out_kind = _kind(output_path)
    pack = resolve_pack(rules)
    started = time.perf_counter()
    results: list[GroupResult] = []
    for n, row in enumerate(read_rows(input_path), start=2):
        try:
            case = case_from_row(row)
        except ValueError as e:
            case_id = (row.get("case_id") or "").strip() or f"第{n}行"
            results.append(GroupResult(case_id, pack.version, UNGROUPABLE, trace=(f"不能入组：本行数据有误，{e}",),
                                       reason=f"本行数据有误，{e}"))
            continue
        results.append(group(pack, case))
    columns: dict[str, list[str]] = {c: [] for c in OUTPUT}
    for r in results:
        columns["case_id"].append(r.case_id)
        columns["version"].append(r.version)
        columns["mdc"].append(r.mdc)
        columns["adrg"].append(r.adrg)
        columns["drg"].append(r.drg)
        columns["status"].append(r.status)
        columns["trace"].append(" | ".join(r.trace))
    output_path.parent.mkdir(parents=True, exist_ok=True)
    if out_kind == "csv":
        with output_path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(OUTPUT)
            w.writerows(zip(*(columns[c] for c in OUTPUT), strict=True))
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({c: pa.array(columns[c], type=pa.string()) for c in OUTPUT}), output_path)
    grouped = sum(1 for r in results if r.status != UNGROUPABLE)
    return {"cases": len(results), "grouped": grouped, "ungroupable": len(results) - grouped,
            "seconds": time.perf_counter() - started, "version": pack.version}


@click.group()
def drg():
    """CHS-DRG grouping (national tables shipped as rule packs)."""


@drg.command("group")
@click.option("--rules", required=True, help='A version ("CHS-DRG 2.0", "CHS-DRG 1.1", or "2.0") or a rule-pack '
              "directory.")
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="cases.csv or cases.parquet")
@click.option("--output", "output_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="groups.csv or groups.parquet")
def drg_group(rules: str, input_path: Path, output_path: Path):
    """Group a file of discharges; writes case_id, version, mdc, adrg, drg, status, trace."""
    from yigongti.insurance.drg import RulePackError

    try:
        s = group_file(rules, input_path, output_path)
    except (InputError, RulePackError) as e:
        raise click.ClickException(str(e)) from None
    rate = s["cases"] / s["seconds"] if s["seconds"] else 0.0
    click.echo(f"{s['version']}：{s['cases']:,} 例，入组 {s['grouped']:,}，不能入组 {s['ungroupable']:,}；"
               f"{s['seconds']:.2f} 秒（{rate:,.0f} 例/秒）→ {output_path}")
