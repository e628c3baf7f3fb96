"""Batch linking: files in, person ids and an error report out; the hard cases of county data."""

import csv
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from yigongti.core.idcard import make_id_number
from yigongti.residents.matching import synth
from yigongti.residents.matching.cli import link_command
from yigongti.residents.matching.io import INPUT_COLUMNS, ErrorReport, InputFileError, check_table
from yigongti.residents.matching.link import link_table

MOTHER_ID = make_id_number("431127", dt.date(1988, 5, 20), 41, "F")
LIU_ID = make_id_number("432927", dt.date(1950, 11, 2), 9, "M")
INVALID_ID = LIU_ID[:17] + ("0" if LIU_ID[17] != "0" else "1")
ADDR = "湖南省永州市蓝山县所城镇幸福村3组8号"

# record_id, source, name, sex, birth, id, phone, address, household, who (ground truth)
ROWS = [
    ("a1", "县人民医院HIS", "陈秀兰", "女", "1988-05-20", MOTHER_ID, "13907461111", ADDR, "H1", "mother"),
    ("a2", "公共卫生档案", "陈秀蘭", "2", "19880520", None, "13907461111", ADDR, "H1", "mother"),
    ("c1", "乡镇卫生院HIS", "陈子涵", "1", "20160909", MOTHER_ID, "13907461111", ADDR, "H1", "twin1"),
    ("c2", "公共卫生档案", "陈子涵", "1", "20160909", None, None, ADDR, "H1", "twin1"),
    ("c3", "村卫生室", "陈子轩", "M", "2016-09-09", None, "13907461111", ADDR, "H1", "twin2"),
    ("c4", "公共卫生档案", "陈子轩", "1", "20160909", None, None, ADDR, "H1", "twin2"),
    ("l1", "县人民医院HIS", "刘德明", "男", "1950-11-02", LIU_ID, None, "楠市镇石门村", None, "liu"),
    ("l2", "乡镇卫生院HIS", "刘德民", "1", "19501102", INVALID_ID, "15807469999", "楠市镇石门村", None, "liu"),
    ("l3", "村卫生室", "牛德明", "M", "1950-02-11", LIU_ID[:6] + LIU_ID[8:17], None, "楠市镇石门村", "H9", "liu"),
]


def rows_table(rows=ROWS) -> pa.Table:
    cols = [*INPUT_COLUMNS, "who"]
    return pa.table({c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(cols)})


def persons_by_record(out: pa.Table) -> dict[str, str]:
    return dict(zip(out.column("record_id").to_pylist(), out.column("person_id").to_pylist(), strict=True))


@pytest.fixture
def linked():
    report = ErrorReport()
    out, _ = link_table(check_table(rows_table(), report))
    return persons_by_record(out)


def test_records_of_one_person_from_different_systems_are_linked(linked):
    assert linked["a1"] == linked["a2"]
    assert linked["l1"] == linked["l2"] == linked["l3"]


def test_twins_stay_apart_even_with_shared_household_address_and_birth_date(linked):
    assert linked["c1"] == linked["c2"]
    assert linked["c3"] == linked["c4"]
    assert linked["c1"] != linked["c3"]


def test_a_child_registered_under_the_mothers_id_is_not_merged_with_her(linked):
    assert linked["c1"] != linked["a1"]


def test_an_invalid_id_is_flagged_but_the_record_still_matches(tmp_path: Path):
    src = tmp_path / "in.parquet"
    pq.write_table(rows_table(), src)
    summary = link_command(src, tmp_path / "out.parquet", progress=False)
    report = pq.read_table(summary["errors_path"]).to_pylist()
    flagged = [r for r in report if r["record_id"] == "l2" and r["code"] == "id_invalid"]
    assert flagged and "身份证号无效" in flagged[0]["message"]
    out = persons_by_record(pq.read_table(tmp_path / "out.parquet"))
    assert out["l2"] == out["l1"]


def test_the_output_has_person_ids_scores_and_explanations(tmp_path: Path):
    out, _ = link_table(check_table(rows_table(), ErrorReport()))
    assert out.column_names == ["record_id", "person_id", "match_score", "explanation"]
    row = {r["record_id"]: r for r in out.to_pylist()}
    assert 0.5 < row["a2"]["match_score"] <= 1.0
    assert row["a2"]["explanation"].startswith("与记录 a1 匹配")


def test_duplicate_and_missing_record_ids_are_reported_not_dropped_silently():
    rows = [*ROWS, ("a1", "村卫生室", "陈秀兰", "女", "1988-05-20", None, None, ADDR, None, "mother"),
            ("", "村卫生室", "某某", "女", "1988-05-20", None, None, ADDR, None, "x")]
    report = ErrorReport()
    table = check_table(rows_table(rows), report)
    assert table.num_rows == len(ROWS)
    codes = {(r["row_number"], r["code"]) for r in report.rows}
    assert (len(ROWS) + 2, "record_id_duplicate") in codes
    assert (len(ROWS) + 3, "record_id_missing") in codes


def test_a_file_without_essential_columns_gets_one_clear_message(tmp_path: Path):
    with pytest.raises(InputFileError, match="record_id"):
        check_table(pa.table({"name": ["张三"]}), ErrorReport())
    bad = tmp_path / "bad.csv"
    bad.write_text("id,full_name\n1,张三\n", encoding="utf-8")
    summary = link_command(bad, tmp_path / "out.csv", progress=False)
    assert not summary["ok"] and "缺少必需的列" in summary["error"]
    assert "missing_columns" in (tmp_path / "out.errors.csv").read_text(encoding="utf-8-sig")


def test_missing_optional_columns_are_a_warning_not_a_failure():
    report = ErrorReport()
    table = check_table(pa.table({"record_id": ["1", "2"], "name": ["张三", "张叁"]}), report)
    out, _ = link_table(table)
    assert out.num_rows == 2
    missing = {r["field"] for r in report.rows if r["code"] == "missing_column"}
    assert missing == set(INPUT_COLUMNS) - {"record_id", "name"}


def test_garbled_names_and_impossible_dates_are_reported_per_row(tmp_path: Path):
    rows = [*ROWS, ("g1", "村卫生室", "锟斤拷", "女", "1988-02-30", None, None, ADDR, None, "x")]
    src = tmp_path / "in.parquet"
    pq.write_table(rows_table(rows), src)
    summary = link_command(src, tmp_path / "out.parquet", progress=False)
    report = pq.read_table(summary["errors_path"]).to_pylist()
    codes = {r["code"] for r in report if r["record_id"] == "g1"}
    assert {"name_garbled", "birth_date_invalid"} <= codes
    assert "g1" in persons_by_record(pq.read_table(tmp_path / "out.parquet"))


def write_csv(path: Path, rows=ROWS) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(INPUT_COLUMNS)
        for r in rows:
            w.writerow(["" if v is None else v for v in r[:9]])


def test_cli_round_trip_on_a_small_csv(tmp_path: Path):
    src = tmp_path / "records.csv"
    write_csv(src)
    out = tmp_path / "clusters.csv"
    # no Django settings: the matching package must run on its own
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    proc = subprocess.run(
        [sys.executable, "-m", "yigongti.residents.matching.cli", "--input", str(src), "--output", str(out), "--quiet"],
        capture_output=True, text=True, check=True, env=env,
    )
    assert '"ok": true' in proc.stdout
    with open(out, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(ROWS)
    by = {r["record_id"]: r["person_id"] for r in rows}
    assert by["a1"] == by["a2"] and by["c1"] != by["c3"]


def test_cli_round_trip_on_parquet_keeps_leading_zero_ids_and_dates(tmp_path: Path):
    table = rows_table().set_column(4, "birth_date", pa.array(
        [dt.date.fromisoformat(d) if "-" in d else dt.datetime.strptime(d, "%Y%m%d").date() for d in
         rows_table().column("birth_date").to_pylist()], pa.date32()))
    src = tmp_path / "records.parquet"
    pq.write_table(table, src)
    summary = link_command(src, tmp_path / "clusters.parquet", progress=False)
    assert summary["ok"] and summary["records_linked"] == len(ROWS)
    assert summary["persons"] == 4  # mother, two twins and 刘德明; nothing else merged


def test_excel_files_are_read_too(tmp_path: Path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(INPUT_COLUMNS))
    for r in ROWS:
        ws.append(list(r[:9]))
    ws.append(["x1", "村卫生室", "覃嘉懿", 2, dt.date(2001, 7, 1), None, 13800000000, ADDR, None])
    src = tmp_path / "records.xlsx"
    wb.save(src)
    summary = link_command(src, tmp_path / "clusters.parquet", progress=False)
    assert summary["ok"] and summary["records_linked"] == len(ROWS) + 1
    assert summary["persons"] == 5


def test_linking_synthetic_county_records_is_accurate():
    _people, records = synth.generate(3000, seed=3)
    out, _ = link_table(check_table(records, ErrorReport()))
    truth = dict(zip(records.column("record_id").to_pylist(), records.column("true_person_id").to_pylist(),
                     strict=True))
    pred = persons_by_record(out)
    ids = list(truth)
    from collections import defaultdict

    groups_t, groups_p = defaultdict(set), defaultdict(set)
    for r in ids:
        groups_t[truth[r]].add(r)
        groups_p[pred[r]].add(r)
    pairs = lambda groups: {(a, b) for g in groups.values() for a in g for b in g if a < b}  # noqa: E731
    t, p = pairs(groups_t), pairs(groups_p)
    precision, recall = len(t & p) / len(p), len(t & p) / len(t)
    assert precision > 0.98 and recall > 0.97
