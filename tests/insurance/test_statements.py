"""The settlement on paper: each member's statement (Excel, PDF with the Chinese font embedded) and the
community's summary workbook carry the member, its amount, the totals, the rules and the explanation."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.cast import as_
from tests.insurance.test_settlement import PAST, year_world  # noqa: F401  (the fixture)
from yigongti.core.audit import AuditEvent
from yigongti.insurance import settlement as st
from yigongti.insurance import statements

pypdf = pytest.importorskip("pypdf")


@pytest.fixture
def closed(year_world, cast, officer):  # noqa: F811
    return st.close_year(year_world, "workload", {}, actor=as_(officer))


def _allocation(s, facility):
    return s.allocations.select_related("facility").get(facility=facility)


def _cells(data: bytes) -> list[str]:
    wb = load_workbook(io.BytesIO(data))
    return [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_the_member_statement_workbook_names_the_member_its_amount_and_the_rules(closed, cast):
    a = _allocation(closed, cast.county_hospital)
    cells = _cells(statements.member_statement_xlsx(closed, a))
    text = "\n".join(cells)
    assert "蓝山县中心医院" in text and f"{a.amount:,.2f} 元" in text
    assert "年度预算总额" in text and "100,000.00 元" in text and "结余留用" in text
    assert any(line in cells for line in closed.explanation)  # the explanation lines as they are


def test_the_member_statement_pdf_shows_the_member_and_its_amount_in_embedded_chinese(closed, cast):
    a = _allocation(closed, cast.township_center)
    reader = pypdf.PdfReader(io.BytesIO(statements.member_statement_pdf(closed, a)))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "塔峰镇卫生院" in text and f"{a.amount:,.2f}" in text and "成员单位清算单" in text
    fonts = [f.get_object() for page in reader.pages for f in page["/Resources"]["/Font"].values()]
    assert any("/DescendantFonts" in f or "/FontDescriptor" in f for f in fonts)


def test_the_summary_workbook_totals_the_community_amount(closed):
    wb = load_workbook(io.BytesIO(statements.summary_xlsx(closed, list(closed.allocations.select_related("facility")))))
    assert wb.sheetnames == ["清算汇总", "成员分配"]
    ws = wb["成员分配"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    members, total = rows[:-1], rows[-1]
    assert len(members) == 5 and total[1] == "合计"
    assert round(sum(r[7] for r in members), 2) == float(closed.community_amount) == total[7]


def test_the_statements_download_from_the_pages_and_are_audited(closed, cast, client, login):
    login(cast.manager)
    base = f"/insurance/settlement/{closed.pk}"
    x = client.get(f"{base}/statement/{cast.county_hospital.pk}.xlsx")
    assert x.status_code == 200 and "蓝山县中心医院" in "".join(_cells(x.content))
    p = client.get(f"{base}/statement/{cast.county_hospital.pk}.pdf")
    assert p.status_code == 200 and p["Content-Type"] == "application/pdf" and p.content.startswith(b"%PDF")
    assert client.get(f"{base}/summary.xlsx").status_code == 200
    assert client.get(f"{base}/statement/{cast.far_hospital.pk}.xlsx").status_code == 404
    assert AuditEvent.objects.filter(action="export", object_type="year_settlement", actor="manager").count() == 3


def test_the_statements_download_from_the_api(closed, cast, officer, client, login):
    login(officer)
    api = f"/api/v1/insurance/settlement/{closed.pk}"
    assert client.get(f"{api}/statement/{cast.village_clinic.pk}.pdf").content.startswith(b"%PDF")
    assert "大塘村卫生室" in "".join(_cells(client.get(f"{api}/statement/{cast.village_clinic.pk}.xlsx").content))
    assert "合计" in _cells(client.get(f"{api}/summary.xlsx").content)


def test_no_statement_for_a_doctor_or_another_county(closed, cast, client, login):
    login(cast.county_doctor)
    assert client.get(f"/insurance/settlement/{closed.pk}/summary.xlsx").status_code == 403
    from tests.cast import SYSTEM
    from yigongti.orgs.models import Role
    from yigongti.orgs.services import create_account

    far_bureau, _ = create_account(username="far_bureau", role=Role.BUREAU, password="Ceshi-mima-2026",
                                   region=cast.far_county, actor=SYSTEM)
    login(far_bureau)
    assert client.get(f"/api/v1/insurance/settlement/{closed.pk}/summary.xlsx").status_code == 404
    assert client.get(f"/insurance/settlement/{closed.pk}/statement/{cast.county_hospital.pk}.pdf").status_code == 404
    assert client.get("/api/v1/insurance/settlement").json() == []
