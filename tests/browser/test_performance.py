"""The community's finance and performance office in the browser, on a small demo county: imports a payroll file
(written with openpyxl: matched rows go in, an unknown person is reported), sees N06 with a value on the indicator
dashboard, and opens last month's scores by facility with the drill-down to the lines and the departments."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_payroll_import_n06_and_a_months_scores_on_the_demo_county(page, screenshot, tmp_path):
    import openpyxl

    from tests.browser.conftest import login_through_form
    from yigongti.demo.build import build_demo
    from yigongti.orgs.models import Staff
    from yigongti.performance.models import PayrollRecord

    logins = build_demo(population=3000, seed=7)
    password = next(row["password"] for row in logins if row["username"] == "manager")
    login_through_form(page, "manager", password)
    year = dt.date.today().year - 1

    # the payroll import: five staff of the township centers matched by ID number, one unknown person reported
    staff = list(Staff.objects.filter(work_facility__type__startswith="C", is_active=True).exclude(id_number="")
                 .order_by("pk")[:5])
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["姓名", "身份证号", "基本工资", "绩效工资", "津贴补贴", "其他"])
    for s in staff:
        ws.append([s.name, s.id_number, 50000, 30000, 9000, 1000])
    ws.append(["查无此人", "431127199001011234", 1, 1, 1, 1])
    path = tmp_path / "薪酬.xlsx"
    wb.save(path)
    page.goto("/performance/")
    page.click("[data-testid=payroll-import-link]")
    page.select_option("#year", str(year))
    page.set_input_files("#file", str(path))
    page.click("[data-testid=payroll-import-submit]")
    expect(page.locator("[data-testid=import-summary]")).to_contain_text("导入 5 行")
    expect(page.locator("[data-testid=import-problems]")).to_contain_text("查无此人")
    with page.expect_download() as dl:
        page.click("[data-testid=import-report]")
    assert dl.value.suggested_filename.endswith(".csv")
    assert PayrollRecord.objects.filter(year=year, staff__in=staff, total=90000).count() == 5
    screenshot("performance-import")

    # N06 on the dashboard: a value (no longer "pending") between the levels' means
    page.goto("/indicators/")
    value = page.inner_text("[data-testid=value-N06]")
    assert value.strip()[:1].isdigit(), value
    assert 0.5 <= float(value.split()[0]) <= 0.9
    page.goto(f"/performance/?year={year}")
    expect(page.locator("[data-testid=n06-value]")).not_to_have_text("—")
    expect(page.locator("[data-testid=payroll-summary] tbody tr").first).to_be_visible()

    # last month's scores: the split, the facilities, the drill-down to a facility's lines and departments
    page.goto("/performance/")
    page.click("[data-testid=scores-link]")
    expect(page.locator("[data-testid=split]").first).to_contain_text("一类保障")
    rows = page.locator("[data-testid=score-table] tbody tr")
    assert rows.count() > 3
    screenshot("performance-scores")
    page.locator("[data-testid=score-drill]").first.click()
    expect(page.locator("[data-testid=score-lines] tbody tr").first).to_be_visible()
    expect(page.locator("[data-testid=department-scores]")).to_be_visible()
    screenshot("performance-facility")
