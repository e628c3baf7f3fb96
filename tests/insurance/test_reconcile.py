"""Monthly reconciliation with the agency's statement: differences, agency-only, ledger-only and unreadable
rows, each with its row number and a Chinese message; a partly bad file still imports what it can."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.cast import as_
from tests.insurance.conftest import YEAR
from tests.spreadsheets import csv_bytes, xlsx_bytes
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.insurance.models import ReconciliationLine
from yigongti.insurance.reconcile import reconcile, template_xlsx

K = ReconciliationLine.Kind


def _march(world):
    return sorted((s for s in world.created if s.settle_date.year == YEAR and s.settle_date.month == 3
                   and s.residence_county == world.county), key=lambda s: s.settlement_no)


def _statement(world) -> tuple[bytes, list]:
    ours = _march(world)
    rows: list[list] = [["结算流水号", "结算日期", "统筹基金支付", "定点机构编码"]]
    for s in ours[:-1]:  # the last one is missing from the agency's statement
        rows.append([s.settlement_no, s.settle_date, float(s.fund_paid), s.facility_code])
    rows[1][2] = rows[1][2] + 12.5  # an amount that differs
    rows.append(["JS9999999999", dt.date(YEAR, 3, 9), 321.0, "431127A100001"])  # only the agency has it
    rows.append(["JS8888888888", dt.date(YEAR, 3, 9), "abc", ""])  # unreadable amount
    rows.append(["", dt.date(YEAR, 3, 9), 10.0, ""])  # no number
    rows.append([ours[2].settlement_no, dt.date(YEAR, 3, 9), 1.0, ""])  # the same number twice
    rows.append(["JS7777777777", "2026-02-30", 10.0, ""])  # a date that does not exist
    return xlsx_bytes(rows), ours


def test_a_statement_lists_each_kind_of_difference_and_imports_the_rest(insurance_world, officer):
    data, ours = _statement(insurance_world)
    rec = reconcile(insurance_world.cast.community, YEAR, 3, SimpleUploadedFile("对账单.xlsx", data),
                    actor=as_(officer))
    lines = list(rec.lines.all())
    kinds = {k: [x for x in lines if x.kind == k] for k in K.values}
    assert rec.rows == len(ours) - 1 + 5
    assert rec.matched == len(ours) - 2 and rec.differences == 1
    diff = kinds[K.DIFFERENT][0]
    assert diff.row_number == 2 and diff.settlement_no == ours[0].settlement_no
    assert diff.agency_amount - diff.ledger_amount == Decimal("12.50") and "相差" in diff.message
    assert [x.settlement_no for x in kinds[K.AGENCY_ONLY]] == ["JS9999999999"]
    assert [x.settlement_no for x in kinds[K.LEDGER_ONLY]] == [ours[-1].settlement_no]
    unreadable = {x.row_number: x.message for x in kinds[K.UNREADABLE]}
    n = len(ours) + 1  # the row of the agency-only line
    assert "统筹基金支付无法识别" in unreadable[n + 1]
    assert "结算流水号为空" in unreadable[n + 2]
    assert "重复" in unreadable[n + 3]
    assert "不是存在的日期" in unreadable[n + 4]
    assert rec.ledger_total == sum(s.fund_paid for s in ours)


def test_a_csv_statement_with_chinese_header_variants_is_read(insurance_world, officer):
    ours = _march(insurance_world)
    rows = [["流水号", "基金支付"]] + [[s.settlement_no, str(s.fund_paid)] for s in ours]
    rec = reconcile(insurance_world.cast.community, YEAR, 3,
                    SimpleUploadedFile("statement.csv", csv_bytes(rows, "gbk")), actor=as_(officer))
    assert rec.matched == len(ours) and not rec.lines.exists()
    assert rec.agency_total == rec.ledger_total


def test_a_statement_without_the_required_columns_or_of_the_wrong_type_is_refused(insurance_world, officer):
    c = insurance_world.cast.community
    with pytest.raises(InvalidInput) as e:
        reconcile(c, YEAR, 3, SimpleUploadedFile("a.xlsx", xlsx_bytes([["姓名", "金额"], ["张三", 1]])),
                  actor=as_(officer))
    assert "缺少必需的列" in e.value.message and "结算流水号" in e.value.message
    with pytest.raises(InvalidInput) as e:
        reconcile(c, YEAR, 3, SimpleUploadedFile("a.pdf", b"%PDF-1.4"), actor=as_(officer))
    assert e.value.code == "file_type"


def test_only_the_officer_reconciles(insurance_world):
    from yigongti.core.models import AuditEvent

    manager = insurance_world.cast.manager
    with pytest.raises(Forbidden):
        reconcile(insurance_world.cast.community, YEAR, 3, SimpleUploadedFile("a.xlsx", xlsx_bytes([["x"]])),
                  actor=as_(manager))
    assert AuditEvent.objects.filter(action="denied", actor_id=manager.pk,
                                     detail__attempted="insurance.reconcile").exists()


def test_the_template_opens_with_the_headers(insurance_world):
    import io

    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(template_xlsx()))
    assert [c.value for c in wb.worksheets[0][1]][:3] == ["结算流水号", "结算日期", "统筹基金支付"]


def test_the_pages_upload_and_show_the_differences(insurance_world, officer, login):
    client = login(officer)
    assert client.get("/insurance/reconcile/template.xlsx").status_code == 200
    data, _ = _statement(insurance_world)
    r = client.post("/insurance/reconcile/", {"year": YEAR, "month": 3,
                                               "file": SimpleUploadedFile("对账单.xlsx", data)})
    assert r.status_code == 302
    r = client.get(r["Location"])
    assert r.status_code == 200 and "JS9999999999" in r.text and "统筹基金支付无法识别" in r.text
    r = client.get(r.request["PATH_INFO"] + "?kind=ledger_only")
    assert "JS9999999999" not in r.text
    r = client.post("/insurance/reconcile/", {"year": YEAR, "month": 3,
                                               "file": SimpleUploadedFile("x.txt", b"hello")})
    assert r.status_code == 422 and 'data-testid="reconcile-error"' in r.text


def test_the_api_imports_a_statement_and_a_doctor_sees_nothing(insurance_world, officer, login):
    data, _ = _statement(insurance_world)
    client = login(officer)
    r = client.post("/api/v1/insurance/budget/reconciliations",
                    {"year": YEAR, "month": 3, "file": SimpleUploadedFile("s.xlsx", data)})
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert r.json()["counts"]["unreadable"] == 4
    r = client.get(f"/api/v1/insurance/budget/reconciliations/{pk}/lines?kind=unreadable")
    assert len(r.json()["items"]) == 4
    doctor = login(insurance_world.cast.county_doctor)
    assert doctor.get(f"/api/v1/insurance/budget/reconciliations/{pk}").status_code == 403
    assert doctor.get(f"/insurance/reconcile/{pk}/").status_code == 403
