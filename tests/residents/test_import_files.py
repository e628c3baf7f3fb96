"""Resident imports with the files Chinese offices actually produce (Excel, WPS, GBK CSV …), bounded
before parsing, with batches that are complete or visibly failed, and names held to the form's rule."""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import time
import tracemalloc

import pytest
from django.db import DatabaseError

from tests.spreadsheets import csv_bytes, write_xlsx_bomb, xlsx_bytes
from yigongti.core.idcard import check_char, make_id_number
from yigongti.residents import importing
from yigongti.residents.models import BatchStatus, ImportBatch, ImportRow, Resident, SourceRecord

ZH_HEADER = ["记录号", "姓名", "性别", "出生日期", "身份证号", "联系电话", "现住址", "户号"]
ID_A = make_id_number("431127", dt.date(1972, 7, 8), 31, "M")
ID_B = make_id_number("431127", dt.date(1985, 2, 3), 42, "F")
# a number whose last three digits, once Excel has replaced them with zeros, fail the check digit
ID_C = next(
    n
    for n in (make_id_number("431127", dt.date(1972, 7, 8), q, "M") for q in range(1, 99, 2))
    if check_char(n[:15] + "00") != "0"
)


def _file(data: bytes, name: str) -> io.BytesIO:
    f = io.BytesIO(data)
    f.name = name
    return f


def _api_upload(client, data: bytes, name: str, system: str = "塔峰镇卫生院HIS", **extra):
    return client.post("/api/v1/residents/imports", {"file": _file(data, name), "source_system": system, **extra})


def _page_upload(client, data: bytes, name: str, system: str = "塔峰镇卫生院HIS"):
    return client.post("/residents/imports/upload/", {"file": _file(data, name), "source_system": system})


def _rows(batch: ImportBatch) -> dict[str, ImportRow]:
    return {r.data.get("record_id"): r for r in batch.rows.all()}


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


# --- what Excel and WPS produce ------------------------------------------------------------------------


def test_a_gbk_csv_saved_by_excel_with_chinese_headers_imports_through_the_page(cast, client, login):
    login(cast.manager)
    data = csv_bytes(
        [
            ZH_HEADER,
            ["A1", "赵大山", "男", "1972/7/8", ID_A, "13812345678", "塔峰镇大塘村3组", "H1"],
            ["A2", "钱秀兰", "女", "1985年2月3日", ID_B, "", "塔峰镇大塘村", ""],
        ],
        encoding="gbk",
    )
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really GBK, as Excel's "CSV（逗号分隔）" on a Chinese Windows writes it
    r = _page_upload(client, data, "花名册.csv")
    batch = ImportBatch.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/residents/imports/{batch.pk}/"
    rows = _rows(batch)
    assert rows["A1"].data["name"] == "赵大山" and rows["A1"].action == "create"
    assert rows["A2"].data["name"] == "钱秀兰" and rows["A2"].action == "create"
    client.post(f"/residents/imports/{batch.pk}/commit/")
    zhao = Resident.objects.get(name="赵大山")
    assert zhao.birth_date == dt.date(1972, 7, 8) and zhao.id_number == ID_A and zhao.village == cast.village
    assert Resident.objects.get(name="钱秀兰").birth_date == dt.date(1985, 2, 3)


@pytest.mark.parametrize("bom", [True, False])
def test_utf8_csv_with_or_without_bom_imports_through_the_api(cast, client, login, bom):
    login(cast.manager)
    data = csv_bytes([ZH_HEADER, ["B1", "孙小梅", "女", "1972-7-8", "", "", "塔峰镇大塘村", ""]], bom=bom)
    r = _api_upload(client, data, "list.csv")
    assert r.status_code == 201, r.content
    batch = ImportBatch.objects.get(pk=r.json()["id"])
    assert _rows(batch)["B1"].data["name"] == "孙小梅"  # the BOM did not end up in the first header
    assert _rows(batch)["B1"].action == "create"


def test_a_utf16_unicode_text_file_from_excel_imports(cast, client, login):
    login(cast.manager)
    text = "\r\n".join("\t".join(r) for r in [ZH_HEADER, ["C1", "周海", "男", "19720708", "", "", "", ""]])
    r = _api_upload(client, text.encode("utf-16"), "unicode.txt")
    assert r.status_code == 201, r.content
    row = _rows(ImportBatch.objects.get())["C1"]
    assert row.data["name"] == "周海" and row.action == "create"


def test_excel_dates_in_every_form_offices_use_are_read(cast, client, login):
    login(cast.manager)
    data = xlsx_bytes(
        [
            ZH_HEADER,
            ["D1", "吴一", "男", dt.datetime(1972, 7, 8), "", "", "", ""],  # a real date cell
            ["D2", "吴二", "男", "1972/7/8", "", "", "", ""],
            ["D3", "吴三", "男", "1972-7-8", "", "", "", ""],
            ["D4", "吴四", "男", "19720708", "", "", "", ""],
            ["D5", "吴五", "男", "1972年7月8日", "", "", "", ""],
            ["D6", "吴六", "男", 26488, "", "", "", ""],  # an Excel serial number (General format)
            ["D7", "吴七", "男", 19720708, "", "", "", ""],
        ]
    )  # typed as a number
    r = _api_upload(client, data, "wps.xlsx")
    assert r.status_code == 201, r.content
    batch = ImportBatch.objects.get()
    assert {k: (row.action, row.problems) for k, row in _rows(batch).items()} == {
        f"D{i}": ("create", []) for i in range(1, 8)
    }
    client.post(f"/api/v1/residents/imports/{batch.pk}/commit")
    births = set(Resident.objects.filter(name__startswith="吴").values_list("birth_date", flat=True))
    assert births == {dt.date(1972, 7, 8)}


def test_birth_dates_in_the_future_or_before_1900_are_row_errors(cast, client, login):
    login(cast.manager)
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    data = csv_bytes(
        [
            ZH_HEADER,
            ["E1", "郑甲", "男", future, "", "", "", ""],
            ["E2", "郑乙", "男", "1899-12-31", "", "", "", ""],
            ["E3", "郑丙", "男", "1972-02-30", "", "", "", ""],
            ["E4", "郑丁", "男", "1972-02-28", "", "", "", ""],
        ]
    )
    batch = ImportBatch.objects.get(pk=_api_upload(client, data, "x.csv").json()["id"])
    rows = _rows(batch)
    assert rows["E1"].action == "error" and "晚于今天" in rows["E1"].problems[0]
    assert rows["E2"].action == "error" and "早于 1900 年" in rows["E2"].problems[0]
    assert rows["E3"].action == "error" and "不是存在的日期" in rows["E3"].problems[0]
    assert rows["E4"].action == "create"


def test_id_numbers_that_excel_turned_into_numbers_are_flagged(cast, client, login):
    login(cast.manager)
    as_float = float(ID_A)  # Excel keeps 15 significant digits: the last three are gone
    data = xlsx_bytes(
        [
            ZH_HEADER,
            ["F1", "冯一", "男", "1972-07-08", as_float, 13812345678, "", ""],
            ["F2", "冯二", "女", "1985-02-03", ID_B, "", "", ""],
        ]
    )
    batch = ImportBatch.objects.get(pk=_api_upload(client, data, "ids.xlsx").json()["id"])
    rows = _rows(batch)
    assert rows["F1"].data["id_number"] == "4.31127197207081E+17"
    assert any("后几位已丢失" in p for p in rows["F1"].problems)
    assert rows["F1"].data["phone"] == "13812345678"  # a phone stored as a number loses nothing
    assert rows["F2"].problems == []
    csv_data = csv_bytes(
        [
            ZH_HEADER,
            ["F3", "冯三", "男", "1972-07-08", "4.31127E+17", "", "", ""],
            ["F4", "冯四", "男", "1972-07-08", ID_C[:15] + "000", "", "", ""],
        ],
        encoding="gbk",
    )
    rows = _rows(ImportBatch.objects.get(pk=_api_upload(client, csv_data, "ids.csv", "另一HIS").json()["id"]))
    assert any("后几位已丢失" in p for p in rows["F3"].problems)
    assert any("后几位已丢失" in p for p in rows["F4"].problems)
    client.post(f"/api/v1/residents/imports/{batch.pk}/commit")
    assert Resident.objects.get(name="冯一").id_number is None  # the damaged number is not kept as the person's


def test_the_excel_template_downloads_and_imports_back(cast, client, login):
    from openpyxl import load_workbook

    login(cast.manager)
    r = client.get("/residents/imports/template.xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    assert [c.value for c in ws[1]] == ZH_HEADER
    assert ws["E2"].number_format == "@"  # the ID column is text, so Excel keeps all 18 digits
    assert "模板" in client.get("/residents/imports/").content.decode()
    api = client.get("/api/v1/residents/imports/template")
    assert api.status_code == 200 and api.content[:2] == b"PK"
    batch = ImportBatch.objects.get(pk=_api_upload(client, r.content, "模板.xlsx").json()["id"])
    (row,) = batch.rows.all()
    assert (row.action, row.data["name"], row.data["birth_date"]) == ("create", "张三", "1972-07-08")


# --- column mapping ------------------------------------------------------------------------------------


def test_unknown_headers_get_a_mapping_step_in_the_page(cast, client, login):
    login(cast.manager)
    data = csv_bytes([["客户编号", "客户名称", "生日"], ["K1", "陈实", "1990-01-02"]], encoding="gbk")
    r = _page_upload(client, data, "客户.csv")
    assert r.status_code == 302 and r["Location"] == "/residents/imports/mapping/"
    page = client.get("/residents/imports/mapping/").content.decode()
    assert "客户名称" in page and 'name="col_name"' in page
    assert "/tmp" not in page and "stash" not in page  # no temporary file name reaches the user
    r = client.post(
        "/residents/imports/mapping/", {"col_record_id": "客户编号", "col_name": "客户名称", "col_birth_date": "生日"}
    )
    batch = ImportBatch.objects.get()
    assert r["Location"] == f"/residents/imports/{batch.pk}/"
    row = _rows(batch)["K1"]
    assert (row.data["name"], row.action) == ("陈实", "create")
    assert client.get("/residents/imports/mapping/")["Location"] == "/residents/imports/"  # used up


def test_unknown_headers_through_the_api_list_them_and_accept_a_mapping(cast, client, login):
    login(cast.manager)
    data = csv_bytes([["编码", "客户名称"], ["K2", "陈虚"]])
    r = _api_upload(client, data, "c.csv")
    assert r.status_code == 422 and r.json()["code"] == "missing_columns"
    assert r.json()["errors"]["headers"] == ["编码", "客户名称"]
    r = _api_upload(client, data, "c.csv", mapping=json.dumps({"record_id": "编码", "name": "客户名称"}))
    assert r.status_code == 201, r.content
    assert _rows(ImportBatch.objects.get())["K2"].data["name"] == "陈虚"


# --- bounds before parsing -----------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(cast, client, login, settings, monkeypatch):
    from yigongti.core import uploads

    settings.YIGONGTI_IMPORT_MAX_MB = 0.01  # 10 KB
    monkeypatch.setattr(uploads, "read_sheet", lambda *a, **k: pytest.fail("an oversized file was parsed"))
    login(cast.manager)
    big = csv_bytes([ZH_HEADER] + [[f"G{i}", "王五", "男", "1972-07-08", "", "", "", ""] for i in range(600)])
    r = _api_upload(client, big, "big.csv")
    assert r.status_code == 422 and r.json()["code"] == "file_too_large"
    assert "不能超过 10 KB" in r.json()["title"]
    r = _page_upload(client, big, "big.csv")
    assert any("不能超过 10 KB" in m for m in _messages(r))
    assert not ImportBatch.objects.exists()
    assert not list(uploads.upload_dir().iterdir())  # no temporary copy left behind


def test_an_oversized_upload_is_not_even_spooled_to_disk(cast, client, login, settings, monkeypatch):
    from django.core.files import uploadhandler

    settings.YIGONGTI_IMPORT_MAX_MB = 0.125  # 128 KB; the body below is 300 KB
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every accepted file would go to a temporary file
    monkeypatch.setattr(
        uploadhandler.TemporaryFileUploadHandler,
        "receive_data_chunk",
        lambda *a, **k: pytest.fail("the oversized file was written to disk"),
    )
    login(cast.manager)
    big = csv_bytes([ZH_HEADER] + [[f"T{i}", "王五", "男", "1972-07-08", "", "", "", ""] for i in range(10_000)])
    assert len(big) > 300_000
    r = _api_upload(client, big, "big.csv")
    assert r.status_code == 422 and "不能超过 128 KB" in r.json()["title"]
    r = _page_upload(client, big, "big.csv")
    assert any("不能超过 128 KB" in m for m in _messages(r))


def test_every_row_counts_towards_the_row_limit_duplicates_included(cast, client, login, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 5)
    login(cast.manager)
    same = ["H1", "王五", "男", "1972-07-08", "", "", "", ""]
    r = _api_upload(client, csv_bytes([ZH_HEADER] + [same] * 6), "dup.csv")
    assert r.status_code == 422 and r.json()["code"] == "too_many_rows"
    assert "超过 5 行" in r.json()["title"] and "重复的行也计入" in r.json()["title"]
    r = _api_upload(client, xlsx_bytes([ZH_HEADER] + [same] * 6), "dup.xlsx")
    assert r.status_code == 422 and r.json()["code"] == "too_many_rows"
    assert _api_upload(client, csv_bytes([ZH_HEADER] + [same] * 5), "ok.csv").status_code == 201
    assert ImportBatch.objects.count() == 1


@functools.lru_cache(maxsize=2)
def _xlsx_bomb(rows: int) -> bytes:
    buf = io.BytesIO()
    write_xlsx_bomb(buf, rows)
    return buf.getvalue()


def _upload_measured(client, data: bytes, name: str):
    """Upload through the API; (response, seconds, peak bytes allocated by Python meanwhile)."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        r = _api_upload(client, data, name)
    finally:
        seconds = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return r, seconds, peak


def test_an_xlsx_bomb_of_a_million_identical_rows_is_refused_unopened(cast, client, login):
    bomb = _xlsx_bomb(1_000_001)
    assert len(bomb) < 2_000_000  # small on disk, 180 MB of sheet XML inside
    login(cast.manager)
    r, seconds, peak = _upload_measured(client, bomb, "bomb.xlsx")
    assert r.status_code == 422 and r.json()["code"] == "file_too_large"
    assert "解压后过大" in r.json()["title"] and "上限 50 MB" in r.json()["title"]
    # Memory, not time, is the test's measure (timings live in bench/import_bounds.py).
    assert peak < 40 * 1024 * 1024, (seconds, peak)
    assert not ImportBatch.objects.exists()


def test_an_xlsx_under_the_unzip_limit_is_streamed_and_stops_at_the_row_limit(cast, client, login, settings):
    settings.YIGONGTI_IMPORT_MAX_UNZIPPED_MB = 500  # let the bomb through the zip check: the row count stops it
    login(cast.manager)
    bomb = _xlsx_bomb(1_000_001)
    r, seconds, peak = _upload_measured(client, bomb, "bomb.xlsx")
    assert r.status_code == 422 and r.json()["code"] == "too_many_rows"
    assert f"超过 {importing.MAX_ROWS} 行" in r.json()["title"]
    assert peak < 80 * 1024 * 1024, (seconds, peak)  # 10,001 rows read, not a million


def test_a_nested_parquet_file_is_refused_with_a_message(cast, client, login):
    import pyarrow as pa
    import pyarrow.parquet as pq

    login(cast.manager)
    buf = io.BytesIO()
    pq.write_table(
        pa.table(
            {"record_id": ["P1"], "name": ["张三"], "address": pa.array([{"town": "塔峰镇", "village": "大塘村"}])}
        ),
        buf,
    )
    r = _api_upload(client, buf.getvalue(), "nested.parquet")
    assert r.status_code == 422 and r.json()["code"] == "nested_columns"
    assert "嵌套列（address）" in r.json()["title"]
    flat = io.BytesIO()
    pq.write_table(pa.table({"record_id": ["P2"], "name": ["张三"], "birth_date": [dt.date(1972, 7, 8)]}), flat)
    r = _api_upload(client, flat.getvalue(), "flat.parquet")
    assert r.status_code == 201 and _rows(ImportBatch.objects.get())["P2"].data["birth_date"] == "1972-07-08"


def test_unreadable_files_get_our_chinese_message_never_a_file_name(cast, client, login):
    login(cast.manager)
    for data, name in (
        (b"\x00\x01binary\x00junk", "x.csv"),
        (b"PK\x03\x04 not a zip", "x.xlsx"),
        (b"PAR1 not parquet", "x.parquet"),
        (b"\xd0\xcf\x11\xe0 old excel", "x.xls"),
    ):
        r = _api_upload(client, data, name)
        body = r.json()
        assert r.status_code == 422, (name, body)
        assert "/tmp" not in body["title"] and "uploads" not in body["title"] and "Error" not in body["title"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in body["title"])
    assert not ImportBatch.objects.exists()


# --- batches complete or visibly failed ----------------------------------------------------------------


def test_a_preview_interrupted_while_staging_leaves_a_failed_batch_not_an_empty_one(cast, client, login, monkeypatch):
    login(cast.manager)

    def crash(*args, **kwargs):
        raise DatabaseError("server closed the connection unexpectedly")

    monkeypatch.setattr(ImportRow.objects, "bulk_create", crash)
    r = _api_upload(client, csv_bytes([ZH_HEADER, ["I1", "王五", "男", "1972-07-08", "", "", "", ""]]), "a.csv")
    assert r.status_code == 422 and "预览失败" in r.json()["title"] and "connection" not in r.json()["title"]
    (batch,) = ImportBatch.objects.all()
    assert batch.status == BatchStatus.FAILED and batch.failure and not batch.rows.exists()
    assert client.post(f"/api/v1/residents/imports/{batch.pk}/commit").status_code == 409
    assert client.post(f"/api/v1/residents/imports/{batch.pk}/discard").json()["status"] == "discarded"


def test_a_batch_left_incomplete_cannot_commit_and_is_marked_failed(cast, client, login):
    login(cast.manager)
    # what a server killed during a preview used to leave: "previewed", no rows, summary {}
    batch = ImportBatch.objects.create(source_system="HIS", filename="a.csv", uploaded_by=cast.manager)
    r = client.post(f"/api/v1/residents/imports/{batch.pk}/commit")
    assert r.status_code == 422 and r.json()["code"] == "batch_incomplete" and "不完整" in r.json()["title"]
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED and "不完整" in batch.failure and batch.committed_at is None
    page = client.get(f"/residents/imports/{batch.pk}/").content.decode()
    assert "导入失败" in page and "放弃该批次" in page and "确认入库" not in page
    assert client.post(f"/residents/imports/{batch.pk}/discard/").status_code == 302
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DISCARDED


def test_a_csv_with_nul_bytes_is_refused_and_leaves_no_batch(cast, client, login):
    login(cast.manager)
    data = csv_bytes([ZH_HEADER, ["N1", "王\x00五", "男", "1972-07-08", "", "", "", ""]])
    r = _api_upload(client, data, "nul.csv")
    assert r.status_code == 422 and r.json()["code"] == "file_binary" and "NUL" in r.json()["title"]
    assert not ImportBatch.objects.exists()


def test_committing_a_staged_81_character_name_fails_naming_the_row_and_field(cast, client, login):
    login(cast.manager)
    data = csv_bytes(
        [
            ZH_HEADER,
            ["L1", "长" * 81, "男", "1972-07-08", "", "", "", ""],
            ["L2", "王五", "男", "1972-07-08", "", "", "", ""],
        ]
    )
    batch = ImportBatch.objects.get(pk=_api_upload(client, data, "long.csv").json()["id"])
    rows = _rows(batch)
    assert rows["L1"].action == "error" and rows["L1"].problems == ["姓名：姓名不能超过 40 个字"]
    # a row staged before names were checked (an older preview) is refused at commit, naming it
    ImportRow.objects.filter(pk=rows["L1"].pk).update(action="create", problems=[])
    r = client.post(f"/api/v1/residents/imports/{batch.pk}/commit")
    body = r.json()
    assert r.status_code == 422 and body["code"] == "row_invalid" and "name" in body["errors"]
    assert body["title"].startswith(f"第 {rows['L1'].row_number} 行姓名：姓名不能超过 40 个字")
    assert not Resident.objects.filter(name="王五").exists()  # all or nothing
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED


# --- names and summaries -------------------------------------------------------------------------------


def test_imported_names_pass_the_forms_rule(cast, client, login):
    login(cast.manager)
    bad = {"M1": "<script>alert(1)</script>", "M2": '=HYPERLINK("http://evil.example","点我")', "M3": "张三😀"}
    data = xlsx_bytes(
        [ZH_HEADER]
        + [[k, v, "男", "1972-07-08", "", "", "", ""] for k, v in bad.items()]
        + [["M4", "欧阳·娜娜", "女", "1990-01-01", "", "", "", ""]]
    )
    batch = ImportBatch.objects.get(pk=_api_upload(client, data, "names.xlsx").json()["id"])
    rows = _rows(batch)
    for k in bad:
        assert rows[k].action == "error" and rows[k].problems == ["姓名：姓名只能包含汉字、字母和间隔号"], k
    assert rows["M4"].action == "create"
    client.post(f"/api/v1/residents/imports/{batch.pk}/commit")
    assert list(Resident.objects.filter(source_records__batch=batch).values_list("name", flat=True)) == ["欧阳·娜娜"]
    assert not SourceRecord.objects.filter(name__in=bad.values()).exists()


def test_a_forty_character_name_commits_its_pinyin_key_fits_the_column(cast, client, login):
    login(cast.manager)  # on PostgreSQL a longer key than the column failed the whole commit with a 500
    data = csv_bytes([ZH_HEADER, ["Q1", "庄" * 40, "男", "1972-07-08", "", "", "", ""]])
    batch = _api_upload(client, data, "q.csv").json()
    assert client.post(f"/api/v1/residents/imports/{batch['id']}/commit").status_code == 200
    person = Resident.objects.get(name="庄" * 40)
    assert 0 < len(person.pinyin_key) <= Resident._meta.get_field("pinyin_key").max_length


def test_the_same_name_rule_serves_the_form_and_the_import():
    from yigongti.residents.services import name_problem

    assert importing.name_problem is name_problem
    assert name_problem("=1+1") and name_problem("张" * 41) and not name_problem("买买提·艾力")


def test_summaries_are_chinese_sentences_not_python_dicts(cast, client, login):
    login(cast.manager)
    data = csv_bytes(
        [
            ZH_HEADER,
            ["S1", "王五", "男", "1972-07-08", "", "", "", ""],
            ["S2", "赵六", "男", "1960-01-01", "", "", "", ""],
            ["S3", "", "男", "", "", "", "", ""],
        ]
    )
    body = _api_upload(client, data, "s.csv").json()
    assert body["summary_text"] == "共 3 行：新建 2、无法导入 1"
    r = client.post(f"/residents/imports/{body['id']}/commit/", follow=True)
    page = r.content.decode()
    assert "已入库：新建 2" in page and "RowAction" not in page and "{" not in "".join(_messages(r))
    listing = client.get("/residents/imports/").content.decode()
    assert "已入库：新建 2" in listing and "&#x27;create&#x27;" not in listing and "{&#x27;" not in listing


def test_the_problem_report_neutralises_formulas(cast, client, login):
    login(cast.manager)
    data = csv_bytes(
        [
            ZH_HEADER,
            ["=cmd|' /C calc'!A0", "王五", "男", "1972-07-08", "", "", "", ""],
            ["+SUM(A1)", "<b>x</b>", "男", "1972-07-08", "", "", "", ""],
        ]
    )
    batch = _api_upload(client, data, "inj.csv").json()
    text = client.get(f"/residents/imports/{batch['id']}/report.csv").content.decode("utf-8-sig")
    cells = [line.split(",")[1] for line in text.splitlines()[1:]]
    assert "'=cmd|' /C calc'!A0" in text.replace('"', "") and all(not c.startswith(("=", "+")) for c in cells)
