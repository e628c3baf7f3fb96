"""Every export a spreadsheet opens neutralises formula injection (OWASP "CSV injection")."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from yigongti.core import exports

ATTACKS = ['=HYPERLINK("http://evil.example","点我")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1+1", "＝1+1"]


@pytest.mark.parametrize("text", ATTACKS)
def test_formula_like_text_gets_an_apostrophe_in_csv(text):
    assert exports.safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["-12.5", "+86", "1e5", "张三", "", 42, None])
def test_numbers_and_plain_text_are_left_alone(value):
    assert exports.safe_cell(value) == ("" if value is None else value)


def test_csv_response_has_a_bom_and_safe_cells():
    resp = exports.csv_response("名单.csv", ["姓名", "备注"], [["=1+1", "ok"], ["王五", "@x"]])
    body = resp.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows == [["姓名", "备注"], ["'=1+1", "ok"], ["王五", "'@x"]]
    assert "filename*=UTF-8''%E5%90%8D%E5%8D%95.csv" in resp["Content-Disposition"]


def test_xlsx_cells_never_become_formulas():
    wb = exports.new_workbook("名单")
    exports.append_row(wb.active, ATTACKS)
    exports.set_cell(wb.active, 2, 1, "=1+1")
    ws = load_workbook(io.BytesIO(exports.workbook_bytes(wb))).active
    assert [c.value for c in ws[1]] == ATTACKS  # the text is kept exactly
    assert all(c.data_type == "s" for c in ws[1]) and ws["A2"].data_type == "s"
    assert ws["A1"].quotePrefix


def test_the_monthly_indicator_report_in_excel_cannot_carry_a_formula(db, monkeypatch):
    from yigongti.indicators import reports

    evil = '=HYPERLINK("http://evil.example","塔峰镇卫生院")'
    monkeypatch.setattr(
        reports,
        "sections",
        lambda area, period: {
            "overview": [["N01", "维度", evil, "%", 1.5, "≥1", "达标", 3, 2, ""]],
            "months": ["2026-01"],
            "trend": [["N01", evil, 1.5]],
            "ranks": {
                code: {
                    "child": [
                        {"rank": 1, "name": evil, "value": 1, "numerator": 1, "denominator": 1, "status": "green"}
                    ],
                    "facility": [],
                }
                for code in list(reports.RANKED)[:1]
            },
        },
    )
    content = reports.build_excel(SimpleNamespace(name="蓝山县", code="431127"), reports.parse_period("2026-01"))
    wb = load_workbook(io.BytesIO(content))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == evil]
    assert len(cells) >= 3 and all(c.data_type == "s" for c in cells)
