"""THE story of the county 120 chain, in the browser (the issue's "Done when"):

1. a call comes in: the dispatcher takes it (the caller's number finds the resident in the master index), the
   platform recommends the ambulances by road travel time and the dispatcher sends the first;
2. the crew steps through its statuses on a phone-sized page (390 px), one big button per step;
3. on scene the crew records vital signs and the STEMI impression and uploads the electrocardiograph's 12-lead file:
   it goes to the community's ECG center as an emergency order (on the reader's worklist, 急诊);
4. the crew sends the pre-arrival alert to the PCI center the platform ranked first; the county team sees it live
   on its alert page (and on its home page), with the ECG and the ETA, and acknowledges it;
5. the chest-pain case opened with the alert; the county doctor has its page open when the ambulance arrives: the
   door time appears without a reload and door-to-wire runs live; the doctor presses 导丝通过 and D2W is met.

On the tests' small county (``tests/emergency/conftest.py``): a 12 × 12 km road grid, the county hospital as the
chest-pain (PCI) center, 塔峰镇卫生院 as a chest-pain unit. Today the township's ambulance (B1) and two of the
county's (A3, N1) are out of service, so the county center's A1 — whose doctor has an account — is recommended."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def as_user(browser, live_server):
    contexts = []

    def _open(username, viewport=None):
        from tests.browser.conftest import login_through_form

        ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
        pg = ctx.new_page()
        pg.set_default_timeout(25_000)
        login_through_form(pg, username)
        if viewport:  # the menu folds on a phone: log in wide, then narrow
            pg.wait_for_load_state("load")
            pg.set_viewport_size(viewport)
        contexts.append(ctx)
        return pg

    yield _open
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def county(cast, settings, tmp_path):
    from tests.emergency.conftest import build_ems
    from tests.telemedicine.conftest import build_centers
    from yigongti.emergency.models import Vehicle, VehicleStatus

    settings.DATA_DIR = tmp_path
    try:
        from yigongti.emergency.roads.graph import clear_cache

        clear_cache()
    except ModuleNotFoundError:
        pass
    ems = build_ems(cast)
    ems.centers = build_centers(cast)
    Vehicle.objects.filter(call_sign__in=["B1", "A3", "N1"]).update(status=VehicleStatus.MAINTENANCE)
    return ems


def _fits(pg, what):
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what}: {width} px wide on a {PHONE['width']} px phone"


def _shot(pg, name):
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _device_file(resident) -> bytes:
    """What the ambulance's electrocardiograph exports: a DICOM 12-lead ECG of an inferior STEMI (no accession
    number: the device does not know the order)."""
    from yigongti.telemedicine.ecg.simulate import twelve_lead
    from yigongti.telemedicine.ecg.write import dicom_ecg

    samples, rate, uv = twelve_lead(120, stemi="inferior", hr=92)
    return dicom_ecg(samples, rate, uv, "", {"id": str(resident.pk), "name": resident.name,
                                             "birth_date": resident.birth_date, "sex": resident.sex})


def _step(crew, label: str, kind: str):
    button = crew.get_by_test_id("crew-step")
    expect(button).to_have_attribute("data-step", kind)
    expect(button).to_have_text(label)
    button.click()
    expect(crew.locator(f"[data-testid=crew-step-row][data-kind={kind}] [data-testid=crew-step-time]")) \
        .not_to_have_text("—")


def test_call_to_door_to_wire_in_the_browser(county, as_user):
    from yigongti.emergency.models import Call, Mission, PreArrivalAlert
    from yigongti.pathways.models import Case, CaseEvent
    from yigongti.telemedicine.models import EcgRecording

    cast = county.cast
    resident = cast.resident

    # 1. the dispatcher takes the call; the number finds 李建国 in the master index
    dispatcher = as_user("dispatcher")
    dispatcher.goto("/emergency/calls/new/")
    dispatcher.get_by_test_id("caller-phone").fill("13874601234")
    dispatcher.get_by_test_id("caller-phone").press("Tab")  # the lookup runs on change
    expect(dispatcher.get_by_test_id("caller-match")).to_contain_text(resident.name)
    expect(dispatcher.get_by_test_id("pick-resident")).to_be_checked()
    dispatcher.get_by_test_id("where-region").check()
    dispatcher.get_by_test_id("region").select_option(cast.village.code)
    dispatcher.get_by_test_id("complaint").fill("胸骨后压榨样疼痛1小时，大汗")
    dispatcher.get_by_test_id("complaint-code").select_option("chest_pain")
    dispatcher.get_by_test_id("priority-1").click()
    dispatcher.get_by_test_id("take-call").click()
    expect(dispatcher.get_by_test_id("call-no")).to_be_visible()
    call = Call.objects.get()
    assert call.resident_id == resident.pk and call.priority == 1
    # … the recommendation by road travel time; the dispatcher sends the first one
    first = dispatcher.get_by_test_id("candidate").first
    expect(first).to_have_attribute("data-rank", "1")
    expect(first).to_contain_text("A1")
    first.get_by_test_id("confirm-dispatch").click()
    dispatcher.wait_for_load_state("load")
    mission = Mission.objects.get(call=call)
    assert mission.vehicle.call_sign == "A1" and mission.recommended_rank == 1

    # 2. the crew's doctor on a phone: one big button per step
    crew = as_user("crew_a1", PHONE)
    crew.goto("/emergency/crew/")
    expect(crew.get_by_test_id("crew-vehicle")).to_contain_text("A1")
    expect(crew.get_by_test_id("crew-patient-name")).to_have_text(resident.name)
    _fits(crew, "crew page")
    for label, kind in (("确认接单", "crew_ack"), ("出车", "wheels_rolling"), ("到达现场", "on_scene"),
                        ("接触患者", "fmc")):
        _step(crew, label, kind)
    expect(crew.get_by_test_id("crew-status")).to_have_text("到达现场")
    _shot(crew, "em-chain-crew-phone")

    # 3. the pre-hospital record: vitals, STEMI, the 12-lead ECG to the ECG center
    crew.get_by_test_id("crew-prehospital").click()
    expect(crew.get_by_test_id("prehospital-call")).to_contain_text(call.call_no)
    _fits(crew, "pre-hospital record")
    crew.get_by_test_id("vital-sbp").fill("96")
    crew.get_by_test_id("vital-dbp").fill("60")
    crew.get_by_test_id("vital-heart_rate").fill("52")
    crew.get_by_test_id("vital-spo2").fill("94")
    crew.get_by_test_id("vitals-submit").click()
    expect(crew.get_by_test_id("vitals-table")).to_contain_text("96/60")
    crew.get_by_test_id("impression-code").select_option("stemi")
    crew.get_by_test_id("impression-submit").click()
    expect(crew.get_by_role("alert").filter(has_text="初步诊断已保存")).to_be_visible()
    crew.get_by_test_id("ecg-file").set_input_files(files=[{
        "name": "ecg.dcm", "mimeType": "application/dicom", "buffer": _device_file(resident)}])
    crew.get_by_test_id("ecg-submit").click()
    expect(crew.get_by_test_id("ecg-order")).to_contain_text("已采集")
    order = Mission.objects.get(pk=mission.pk).record.ecg_order
    assert order.urgency == "emergency" and EcgRecording.objects.filter(order=order).exists()
    # … the destinations: the PCI center first
    best = crew.get_by_test_id("destinations").locator("li").first
    expect(best).to_contain_text(cast.county_hospital.name)
    expect(best).to_contain_text("急诊PCI")
    _fits(crew, "pre-hospital record with destinations")
    _shot(crew, "em-chain-prehospital-phone")

    # the ECG is on the ECG center's worklist as an emergency
    reader = as_user("center_reader")
    reader.goto("/centers/")
    reader.locator("[data-center=ecg]").click()
    row = reader.locator(f"tr[data-order='{order.pk}']")
    expect(row).to_contain_text("急诊")
    expect(row).to_contain_text(order.accession_no)

    # 4. the county team has its alert page open; the crew sends the pre-arrival alert
    team = as_user("county_doctor")
    team.goto("/emergency/alerts/")
    expect(team.get_by_test_id("alerts-empty")).to_be_visible()
    crew.get_by_test_id(f"alert-{cast.county_hospital.pk}").click()
    expect(crew.get_by_test_id("sent-alert")).to_contain_text(cast.county_hospital.name)
    alert = PreArrivalAlert.objects.get()
    assert alert.ecg_order_id == order.pk and alert.eta_at is not None
    row = team.get_by_test_id(f"alert-row-{alert.pk}")
    expect(row).to_be_visible(timeout=25_000)  # the list polls: no reload
    expect(row).to_contain_text(resident.name)
    expect(row).to_contain_text(order.accession_no)
    expect(team.get_by_test_id("alerts-waiting")).to_contain_text("1 条待确认")
    team.goto("/")
    expect(team.get_by_test_id(f"home-ems-alert-{alert.pk}")).to_be_visible()
    team.goto(f"/emergency/alerts/{alert.pk}/")
    expect(team.get_by_test_id("alert-ecg-link")).to_have_text(order.accession_no)
    expect(team.get_by_test_id("alert-eta")).to_contain_text(re.compile(r"\d\d:\d\d"))
    expect(team.get_by_test_id("alert-impression")).to_contain_text("急性ST段抬高型心肌梗死")
    team.get_by_test_id("alert-ack").click()
    expect(team.get_by_test_id("alert-acked")).to_be_visible()
    _shot(team, "em-chain-alert")
    team.get_by_test_id("alert-ecg-link").click()  # the team reads the 12 leads before the patient arrives
    expect(team.get_by_test_id("ecg-viewer").first).to_have_attribute("data-drawn", "4")
    team.go_back()
    crew.reload()
    expect(crew.get_by_test_id("sent-alert-acked")).to_be_visible()

    # 5. the chest-pain case opened with the alert, before the door
    case = Case.objects.get()
    assert case.kind == "chest_pain" and case.subtype == "stemi" and case.facility == cast.county_hospital
    assert set(CaseEvent.objects.filter(case=case, active=True).values_list("code", flat=True)) >= {
        "fmc", "first_ecg"}
    team.get_by_test_id("alert-case-link").click()
    expect(team.get_by_test_id("case-title")).to_contain_text(case.case_no)
    expect(team.get_by_test_id("point-fmc")).to_be_visible()
    expect(team.get_by_test_id("point-first_ecg")).to_be_visible()
    expect(team.get_by_test_id("metric-d2w")).to_have_attribute("data-met", "pending")
    expect(team.get_by_test_id("point-door")).to_have_count(0)

    # the ambulance leaves and arrives: the door appears on the open case page, D2W runs
    crew.get_by_test_id("prehospital-back").click()
    _step(crew, "离开现场", "leave_scene")
    _step(crew, "到达医院", "arrive_hospital")
    expect(team.get_by_test_id("point-door")).to_be_visible(timeout=25_000)  # live: the page polls
    expect(team.get_by_test_id("metric-d2w")).to_contain_text("计时中")
    _shot(team, "em-chain-d2w-running")
    _step(crew, "交接完成", "handover")

    # the cath lab: the wire crosses; D2W is met
    team.get_by_test_id("press-wire").click()
    expect(team.get_by_test_id("point-wire")).to_be_visible()
    d2w = team.get_by_test_id("metric-d2w")
    expect(d2w).to_have_attribute("data-met", "met")
    expect(d2w.get_by_test_id("minutes")).to_contain_text("分钟")
    _shot(team, "em-chain-d2w-met")
    door = CaseEvent.objects.get(case=case, code="door", active=True)
    wire = CaseEvent.objects.get(case=case, code="wire", active=True)
    assert door.source == "emergency" and 0 <= (wire.at - door.at).total_seconds() < 90 * 60


def test_one_button_green_channel_from_a_village_phone(county, as_user):
    """The village doctor faces a suspected STEMI with the ECG already sent: one button on the resident's page (a
    phone) makes the green-channel referral, the 120 transfer on the dispatcher's board and the county team's alert
    with the ECG; the county team sees it on its alert page."""
    from tests.cast import SYSTEM, as_
    from yigongti.emergency.models import Call, CallKind
    from yigongti.pathways.models import Case
    from yigongti.referrals.services import setup_center
    from yigongti.telemedicine import ecg
    from yigongti.telemedicine.services.orders import place_order

    cast = county.cast
    resident = cast.resident
    setup_center(cast.community, actor=SYSTEM, members=[cast.county_doctor])
    order = place_order({"resident": resident.pk, "item": county.centers.items["ECG12"].pk, "urgency": "emergency",
                         "clinical_question": "胸痛1小时"}, actor=as_(cast.village_doctor))
    ecg.receive_file(order.pk, _device_file(resident), "ecg.dcm", actor=as_(cast.village_doctor))

    village = as_user("village_doctor", PHONE)
    village.goto(f"/residents/{resident.pk}/")
    village.get_by_text("一键呼叫：胸痛/卒中绿色通道").click()
    expect(village.get_by_test_id("gc-ecg")).to_contain_text(order.accession_no)
    _fits(village, "green-channel confirm page")
    village.get_by_test_id("gc-kind-chest_pain").check()
    village.get_by_test_id("gc-note").fill("胸痛1小时，II、III、aVF ST段抬高")
    village.get_by_test_id("gc-press").click()
    expect(village.get_by_test_id("gc-done")).to_be_visible()
    call = Call.objects.get(kind=CallKind.GREEN_CHANNEL)
    expect(village.get_by_test_id("gc-call")).to_contain_text(call.call_no)
    expect(village.get_by_test_id("gc-alert")).to_contain_text(order.accession_no)
    expect(village.get_by_test_id("gc-case")).to_contain_text(Case.objects.get().case_no)
    _fits(village, "green-channel summary")
    _shot(village, "em-green-channel-phone")
    village.go_back()  # a second tap on the stale page: the same call
    village.get_by_test_id("gc-press").click()
    expect(village.get_by_test_id("gc-call")).to_contain_text(call.call_no)
    assert Call.objects.filter(kind=CallKind.GREEN_CHANNEL).count() == 1

    # the dispatcher sees the transfer on the board; the county team its alert with the ECG
    dispatcher = as_user("dispatcher")
    dispatcher.goto(f"/emergency/calls/{call.pk}/")
    expect(dispatcher.get_by_test_id("call-no")).to_contain_text(call.call_no)
    expect(dispatcher.get_by_test_id("call-priority")).to_contain_text("I级")
    team = as_user("county_doctor")
    team.goto("/emergency/alerts/")
    row = team.locator("[data-testid^=alert-row-]").first
    expect(row).to_contain_text(resident.name)
    expect(row).to_contain_text(order.accession_no)
    expect(row).to_contain_text("一键呼叫")
