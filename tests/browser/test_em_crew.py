"""The crew on a 390 px phone: the mission with its ONE big button, a press redraws the panel with the next step;
the network drops in the mountains, the crew keeps pressing (the presses are kept on the phone with their time);
the network is back and each press is recorded once, at the moment it was pressed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login_through_form
from tests.emergency.conftest import build_ems
from tests.emergency.test_missions import send

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def test_the_crew_steps_on_a_phone_and_replays_its_offline_presses(cast, browser, live_server):
    from tests.browser.conftest import ARTIFACTS
    from yigongti.emergency.models import CallEvent, Vehicle

    ems = build_ems(cast)
    m = send(ems)
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    login_through_form(page, "crew_a1")
    page.wait_for_load_state("load")
    page.set_viewport_size(PHONE)
    page.goto("/emergency/crew/")

    button = page.locator("[data-testid=crew-step]")
    expect(button).to_have_text("确认接单")
    expect(button).to_have_attribute("data-step", "crew_ack")
    expect(page.locator("[data-testid=crew-address]")).to_contain_text("大塘村")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert button.bounding_box()["width"] > 300 and button.bounding_box()["height"] > 70
    button.click()
    expect(page.locator("[data-step=wheels_rolling]")).to_have_text("出车")
    expect(page.locator("[data-kind=crew_ack] [data-testid=crew-step-time]")).not_to_have_text("—")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "phone-crew-mission.png"), full_page=True)

    ctx.set_offline(True)
    page.locator("[data-step=wheels_rolling]").click()
    expect(page.locator("[data-step=on_scene]")).to_have_text("到达现场")
    page.locator("[data-step=on_scene]").click()
    expect(page.locator("[data-step=fmc]")).to_have_text("接触患者")
    expect(page.locator("[data-testid=crew-status]")).to_have_text("到达现场")  # as the phone believes
    expect(page.locator("[data-testid=crew-offline]")).to_contain_text("2 个节点")
    queued = page.evaluate("JSON.parse(localStorage.getItem('ygt-crew-queue'))")
    assert [q["kind"] for q in queued] == ["wheels_rolling", "on_scene"]
    assert CallEvent.objects.filter(mission=m).count() == 1
    page.screenshot(path=str(ARTIFACTS / "phone-crew-offline.png"), full_page=True)

    ctx.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("[data-testid=crew-offline]")).to_be_hidden()
    expect(page.locator("[data-kind=on_scene]")).not_to_have_class(re.compile("pending-upload"))  # reloaded
    expect(page.locator("[data-testid=crew-status]")).to_have_text("到达现场")
    events = {e.kind: e for e in CallEvent.objects.filter(mission=m)}
    assert set(events) == {"crew_ack", "wheels_rolling", "on_scene"}
    assert events["on_scene"].source == "replay"
    assert events["wheels_rolling"].at <= events["on_scene"].at
    assert events["on_scene"].at < events["on_scene"].recorded_at  # the time of the press, not of the upload
    assert Vehicle.objects.get(pk=ems.vehicles["A1"].pk).status == "on_scene"
    ctx.close()
