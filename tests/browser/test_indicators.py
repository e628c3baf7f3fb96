"""A bureau user opens the indicator dashboard, sees the cards and charts, drills down to the
encounters behind a figure and downloads the monthly report."""

import pytest

from tests.browser.test_village_doctor import login
from tests.indicators.world import build_world
from yigongti.indicators.services import refresh_facts

pytestmark = pytest.mark.browser


def test_bureau_dashboard_drill_down_and_report(cast, page, screenshot):
    build_world(cast)
    refresh_facts()
    login(page, "bureau")
    page.click("text=监测指标")
    page.goto("/indicators/?period=2026-03&area=county:431127000000")
    card = page.locator("[data-testid=card-N07]")
    assert card.get_attribute("data-status") == "red"
    assert page.inner_text("[data-testid=value-N07]").startswith("60.00")
    assert page.inner_text("[data-testid=value-N10G]").startswith("—")  # no prior year: no value, not 0
    page.wait_for_selector("#trend-chart canvas")  # ECharts drew (the CSP allows our static script)
    page.wait_for_selector("#rank-chart canvas")
    screenshot("indicators-dashboard")
    page.click("[data-testid=card-N07] a")
    page.click("[data-testid=drill-records]")
    rows = page.locator("[data-testid=drill-encounters] tbody tr")
    assert rows.count() == 3
    with page.expect_download() as dl:
        page.goto("/indicators/?period=2026-03")
        page.click("[data-testid=report-xlsx]")
    assert dl.value.suggested_filename.endswith(".xlsx")
