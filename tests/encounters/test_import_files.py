"""Settlement, population and death imports with the files Excel and WPS produce, through the page and the
API: GBK CSV, BOM variants, Chinese headers, Excel dates, IDs that Excel turned into numbers, templates,
and bounds before parsing."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from tests.spreadsheets import csv_bytes as _csv
from tests.spreadsheets import xlsx_bytes as _xlsx
from yigongti.core.idcard import make_id_number
from yigongti.encounters.models import Death, InsuranceSettlement, PopulationByAge

HEADER = [
    "结算流水号",
    "身份证号",
    "参保地区划",
    "险种",
    "类别",
    "机构编码",
    "机构名称",
    "机构所在县",
    "机构层级",
    "入院日期",
    "出院日期",
    "结算日期",
    "总费用",
    "统筹支付",
    "个人支付",
    "主要诊断",
]
PERSON = make_id_number("431127", dt.date(1958, 3, 14), 12, "M")


def _row(no: str, admit="2026/9/1", discharge="2026/9/5", settle="2026年9月5日", idn=""):
    return [
        no,
        idn,
        "431127100201",
        "城乡居民",
        "住院",
        "431127A100001",
        "蓝山县中心医院",
        "431127",
        "县级",
        admit,
        discharge,
        settle,
        "5000",
        "3000",
        "2000",
        "J18.9",
    ]


def _post(c, url, data: bytes, name: str, **extra):
    f = io.BytesIO(data)
    f.name = name
    return c.post(url, {"file": f, **extra})


API = "/api/v1/encounters/imports/settlements"


@pytest.mark.parametrize(("encoding", "bom"), [("gbk", False), ("gb18030", False), ("utf-8", True), ("utf-8", False)])
def test_settlement_csv_in_every_encoding_excel_writes_imports_through_the_api(cast, login, encoding, bom):
    c = login(cast.bureau)
    r = _post(
        c, API, _csv([HEADER, _row("JS1"), _row("JS2", admit="2026-9-2", settle="20260906")], encoding, bom), "结算.csv"
    )
    assert r.status_code == 200, r.content
    assert (r.json()["imported"], r.json()["errors"]) == (2, [])
    s = InsuranceSettlement.objects.get(settlement_no="JS1")
    assert (s.admit_date, s.discharge_date, s.settle_date) == (
        dt.date(2026, 9, 1),
        dt.date(2026, 9, 5),
        dt.date(2026, 9, 5),
    )
    assert s.facility_name == "蓝山县中心医院" and s.scheme == "resident"
    assert InsuranceSettlement.objects.get(settlement_no="JS2").settle_date == dt.date(2026, 9, 6)


def test_an_excel_settlement_file_with_date_cells_and_a_damaged_id_number(cast, login):
    c = login(cast.bureau)
    good = _row("JX1", admit=dt.datetime(2026, 9, 1), discharge=dt.date(2026, 9, 4), settle=46270, idn=PERSON)
    damaged = _row("JX2", idn=float(PERSON))  # Excel stored the ID as a number: 4.31127195803141E+17
    r = _post(c, API, _xlsx([HEADER, good, damaged]), "结算.xlsx")
    rep = r.json()
    assert (rep["total"], rep["imported"]) == (2, 1)
    (err,) = rep["errors"]
    assert (err["row"], err["field"], err["label"]) == (2, "id_number", "身份证号") and "后几位已丢失" in err["message"]
    s = InsuranceSettlement.objects.get(settlement_no="JX1")
    assert s.settle_date == dt.date(1899, 12, 30) + dt.timedelta(days=46270)  # the Excel serial number
    assert s.resident_id == cast.resident.pk  # the intact ID number linked the person


def test_dates_out_of_range_or_unreadable_are_row_errors_in_chinese(cast, login):
    c = login(cast.bureau)
    rows = [HEADER, _row("JD1", admit="1850-01-01"), _row("JD2", settle="2099-1-1"), _row("JD3", admit="昨天")]
    rep = _post(c, API, _csv(rows, "gbk"), "d.csv").json()
    errs = {e["row"]: e["message"] for e in rep["errors"]}
    assert rep["imported"] == 0 and set(errs) == {1, 2, 3}
    assert "不能早于" in errs[1] and "不能晚于" in errs[2] and "无法识别" in errs[3]


def test_population_and_deaths_from_gbk_csv_with_chinese_headers(cast, login):
    c = login(cast.bureau)
    pop = _csv([["区划代码", "年份", "性别", "起始年龄", "人口数"], ["431127100", "2026", "女", "30", "1200"]], "gbk")
    assert _post(c, "/api/v1/encounters/imports/population", pop, "人口.csv").json()["imported"] == 1
    assert PopulationByAge.objects.get().sex == "F"
    deaths = _xlsx(
        [
            ["区划代码", "性别", "年龄", "死亡日期", "根本死因", "身份证号", "出生日期"],
            ["431127100201", "男", 68, "2026年3月1日", "I21.9", "", "1958/3/14"],
            ["431127100201", "男", 68, "2026-03-01", "I21.9", "", "1899-01-01"],
        ]
    )
    rep = _post(c, "/api/v1/encounters/imports/deaths", deaths, "死亡.xlsx").json()
    assert rep["imported"] == 1 and [(e["row"], e["field"]) for e in rep["errors"]] == [(2, "birth_date")]
    assert Death.objects.get().birth_date == dt.date(1958, 3, 14)


def test_the_import_page_takes_a_file_and_shows_the_report(cast, login):
    c = login(cast.bureau)
    page = c.get("/encounters/imports/").content.decode()
    assert "医保结算" in page and "/encounters/imports/settlements/template.xlsx" in page
    r = _post(
        c,
        "/encounters/imports/",
        _csv([HEADER, _row("JP1"), _row("JP2", admit="2026-13-01")], "gbk"),
        "结算.csv",
        kind="settlements",
    )
    html = r.content.decode()
    assert r.status_code == 200 and "已导入 1 行" in html and "入院日期" in html
    assert InsuranceSettlement.objects.filter(settlement_no="JP1").exists()


def test_the_import_page_is_refused_to_roles_that_may_not_import(cast, login):
    assert login(cast.village_doctor).get("/encounters/imports/").status_code == 403


@pytest.mark.parametrize("kind", ["settlements", "population", "deaths"])
def test_each_kind_has_an_excel_template_that_imports_back(cast, login, kind):
    from openpyxl import load_workbook

    c = login(cast.bureau)
    r = c.get(f"/encounters/imports/{kind}/template.xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    header = [cell.value for cell in load_workbook(io.BytesIO(r.content)).worksheets[0][1]]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in h) for h in header)
    api = c.get(f"/api/v1/encounters/imports/{kind}/template")
    assert api.status_code == 200 and api.content[:2] == b"PK"
    rep = _post(c, f"/api/v1/encounters/imports/{kind}", r.content, "模板.xlsx").json()
    assert (rep["imported"], rep["errors"]) == (1, []), rep


def test_a_file_over_the_size_limit_is_refused_with_the_limit_stated(cast, login, settings, monkeypatch):
    from yigongti.core import uploads

    settings.YIGONGTI_IMPORT_MAX_MB = 0.01
    monkeypatch.setattr(uploads, "read_sheet", lambda *a, **k: pytest.fail("an oversized file was parsed"))
    c = login(cast.bureau)
    big = _csv([HEADER] + [_row(f"JB{i}") for i in range(200)])
    r = _post(c, API, big, "big.csv")
    assert r.status_code == 422 and "不能超过 10 KB" in r.json()["title"]
    page = _post(c, "/encounters/imports/", big, "big.csv", kind="settlements").content.decode()
    assert "不能超过 10 KB" in page
    assert not InsuranceSettlement.objects.exists()


def test_every_row_counts_towards_the_row_limit(cast, login, monkeypatch):
    from yigongti.encounters import importers, services

    monkeypatch.setattr(importers, "MAX_ROWS", 3)
    monkeypatch.setattr(services, "MAX_ROWS", 3)
    c = login(cast.bureau)
    r = _post(c, API, _xlsx([HEADER] + [_row("JR1")] * 4), "dup.xlsx")
    assert r.status_code == 422 and r.json()["code"] == "too_many_rows" and "超过 3 行" in r.json()["title"]
    assert not InsuranceSettlement.objects.exists()


def test_broken_files_get_a_chinese_message_without_file_names(cast, login):
    c = login(cast.bureau)
    for data, name in ((b"PK\x03\x04broken", "x.xlsx"), (b"\x00\x00\x00", "x.csv"), (b"x", "x.doc")):
        r = _post(c, API, data, name)
        title = r.json()["title"]
        assert r.status_code == 422 and "/tmp" not in title and "uploads" not in title, (name, title)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in title)


def test_a_file_without_the_required_columns_is_refused_once_naming_them(cast, login):
    c = login(cast.bureau)
    r = _post(c, API, _csv([["流水", "金额"], ["X1", "10"]], "gbk"), "wrong.csv")
    body = r.json()
    assert r.status_code == 422 and body["code"] == "missing_columns"
    assert "结算流水号（settlement_no）" in body["title"] and "流水、金额" in body["title"]
    assert "settle_date" in body["errors"]["missing"]


def test_an_xlsx_bomb_is_refused_unopened_by_the_settlement_import(cast, login):
    from tests.residents.test_import_files import _xlsx_bomb

    c = login(cast.bureau)
    r = _post(c, API, _xlsx_bomb(1_000_001), "bomb.xlsx")
    assert r.status_code == 422 and r.json()["code"] == "file_too_large" and "解压后过大" in r.json()["title"]
    page = _post(c, "/encounters/imports/", _xlsx_bomb(1_000_001), "bomb.xlsx", kind="settlements")
    assert "解压后过大" in page.content.decode()
    assert not InsuranceSettlement.objects.exists()
