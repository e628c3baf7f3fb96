"""The 120 dispatcher in the browser: a call comes in, the caller is found in the resident index with his allergy
and chronic conditions, the dispatcher places it in the village, grades it I, sees the ambulances ranked by road
travel time, confirms the first one, and the board shows the vehicle out on that call — updated by its poll,
without a reload, when a second dispatcher's call arrives."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def county(cast):
    from tests.emergency.conftest import build_ems
    from yigongti.emergency.roads.graph import clear_cache
    from yigongti.encounters.models import Diagnosis, Encounter

    clear_cache()
    ems = build_ems(cast)
    enc = Encounter.objects.create(resident=cast.resident, area_code=cast.resident.area_code,
                                   residence_county="431127", facility=cast.township_center, type="outpatient",
                                   admit_date=dt.date(2026, 3, 2), main_icd10="I10.x00", main_diagnosis="原发性高血压",
                                   total_cost=0, drug_cost=0, material_cost=0, exam_cost=0, other_cost=0,
                                   insurance_paid=0, self_pay=0)
    Diagnosis.objects.create(encounter=enc, seq=1, icd10="Z88.0", name="青霉素过敏史")
    yield ems
    clear_cache()


def test_dispatcher_takes_a_call_sees_the_recommendation_and_dispatches(county, page, screenshot):
    from tests.browser.conftest import login_through_form
    from tests.cast import as_
    from yigongti.emergency.models import Call, Mission, VehicleStatus
    from yigongti.emergency.services import calls as svc

    ems = county
    login_through_form(page, "dispatcher")
    page.get_by_role("link", name="120调度").click()
    expect(page.get_by_test_id("no-calls")).to_be_visible()
    expect(page.get_by_test_id("board-vehicle")).to_have_count(5)
    expect(page.get_by_test_id("board-map")).to_have_attribute("data-ready", "1")  # the county's roads drawn

    page.get_by_test_id("new-call").click()
    picker = page.get_by_test_id("pick-map")
    expect(picker).to_have_attribute("data-ready", "1")
    box = picker.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)  # a click places the call
    expect(page.get_by_test_id("lon")).not_to_have_value("")
    expect(page.get_by_test_id("where-coords")).to_be_checked()
    page.get_by_test_id("where-region").check()  # the caller then names his village
    page.get_by_test_id("caller-phone").fill("13874601234")
    page.get_by_test_id("caller-phone").dispatch_event("change")
    match = page.get_by_test_id("caller-match")
    expect(match).to_contain_text("李建国")
    expect(match).to_contain_text("138****1234")
    expect(page.get_by_test_id("allergies")).to_contain_text("青霉素过敏史")
    expect(page.get_by_test_id("chronic")).to_contain_text("高血压")
    page.get_by_test_id("region").select_option(ems.cast.village.code)
    page.get_by_test_id("complaint").fill("胸痛大汗半小时")
    page.get_by_test_id("complaint-code").select_option("chest_pain")
    page.get_by_test_id("priority-1").click()
    page.get_by_test_id("need-monitoring").check()
    page.get_by_test_id("take-call").click()

    expect(page.get_by_test_id("call-priority")).to_contain_text("I级")
    expect(page.get_by_test_id("call-resident")).to_contain_text("李建国")
    candidates = page.get_by_test_id("candidate")
    expect(candidates.first).to_be_visible()
    first = candidates.first
    vehicle_id = int(first.get_attribute("data-vehicle"))
    expect(first.get_by_test_id("eta")).to_contain_text("分钟")
    screenshot("em_dispatch_recommendation")
    first.get_by_test_id("confirm-dispatch").click()

    call = Call.objects.get()
    mission = Mission.objects.get(call=call)
    assert mission.vehicle_id == vehicle_id and mission.recommended_rank == 1
    assert mission.vehicle.kind in ("monitoring", "negative_pressure")  # the monitoring need was met
    expect(page.get_by_test_id("missions")).to_contain_text(mission.vehicle.call_sign)
    expect(page.get_by_test_id("timeline").locator("[data-kind=dispatch_order]")).to_have_count(1)
    mission.vehicle.refresh_from_db()
    assert mission.vehicle.status == VehicleStatus.DISPATCHED

    page.goto("/emergency/board/")
    row = page.locator(f"[data-call='{call.pk}']")
    expect(row.get_by_test_id("call-vehicle")).to_contain_text(mission.vehicle.call_sign)
    expect(page.locator(f"[data-vehicle='{vehicle_id}']")).to_have_attribute("data-status", "dispatched")

    other = svc.take_call(as_(ems.dispatcher), priority=2, chief_complaint="车祸外伤", region=ems.cast.township.code)
    expect(page.locator(f"[data-call='{other.pk}']")).to_be_visible(timeout=12_000)  # the poll brought it
    page.locator(f"[data-call='{other.pk}']").get_by_test_id("recommend").click()
    panel = page.get_by_test_id("recommendation")
    expect(panel).to_have_attribute("data-call", str(other.pk))
    expect(panel.locator(f"[data-vehicle='{vehicle_id}']")).to_have_count(0)  # the one out is not offered
    panel.get_by_test_id("confirm-dispatch").first.click()
    expect(page.locator(f"[data-call='{other.pk}']").get_by_test_id("call-vehicle")).to_be_visible()
    screenshot("em_dispatch_board")
    assert Mission.objects.filter(call=other).count() == 1
