"""The county map in the browser (map.js over ECharts, no tiles): the roads page draws the generated network's
roads by class, places and stations from the GeoJSON endpoint; a page lays vehicles and a route over it; a click
on the map gives its coordinates; it fits a 390 px phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login_through_form
from tests.emergency.conftest import build_ems

pytestmark = pytest.mark.browser


def test_the_roads_page_draws_the_county_and_takes_overlays(cast, browser, live_server):
    from tests.browser.conftest import ARTIFACTS
    from yigongti.emergency.roads.generate import generate_network

    build_ems(cast)
    generate_network(cast.county, seed=3, target_nodes=3000)
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login_through_form(page, cast.manager.username)
    page.goto("/emergency/roads/")
    el = page.locator("[data-testid=roads-map]")
    expect(el).to_have_attribute("data-ready", "1")
    series = page.evaluate("""() => document.querySelector('[data-testid=roads-map]').ygtMap.chart.getOption()
        .series.map((s) => s.id)""")
    assert {"road-national", "road-county", "road-township", "road-village", "places", "stations"} <= set(series)
    # the places' labels are their names (the county seat, the townships)
    names = page.evaluate("""() => document.querySelector('[data-testid=roads-map]').ygtMap.chart.getOption()
        .series.find((s) => s.id === 'places').data.map((d) => d.name)""")
    assert cast.township.name in names and cast.village.name in names
    picked = page.evaluate("""() => new Promise((done) => {
        const el = document.createElement('div'); el.style.cssText = 'width:600px;height:400px';
        document.body.appendChild(el);
        const m = ygtMap.mount(el, {geojson: document.querySelector('[data-testid=roads-map]').dataset.geojson,
                                    onPick: (lon, lat) => done([lon, lat])});
        m.ready.then(() => {
          m.setPoints('vehicles', [{id: 1, lon: 112.19, lat: 25.35, name: 'A1', color: '#2f9e44', label: 'A1'}]);
          m.setRoutes([{coords: [[112.19, 25.35], [112.2, 25.36]]}]);
          const ids = m.chart.getOption().series.map((s) => s.id);
          if (ids.indexOf('ov-vehicles') < 0 || ids.indexOf('routes') < 0) done(['missing overlay']);
          const [x, y] = m.chart.convertToPixel({geoIndex: 0}, [112.19, 25.35]);
          m.chart.getZr().trigger('click', {offsetX: x, offsetY: y, target: null});
        });
    })""")
    assert picked[0] == pytest.approx(112.19, abs=0.01) and picked[1] == pytest.approx(25.35, abs=0.01)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "em_roads_map.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/emergency/roads/")
    expect(el).to_have_attribute("data-ready", "1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
    ctx.close()
