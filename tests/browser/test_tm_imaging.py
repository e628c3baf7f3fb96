"""The imaging story in the browser: the township's DR sends a chest film over DICOM to Orthanc with the order's
accession number, the county imaging center pulls it in (matched to the order), reads it from the platform's
thumbnails, marks a key image and signs the report; the township doctor sees the report and the key image on the
order page, on a phone. A film that came without the accession number waits on the unmatched list until the
center files it by hand."""

import pytest
from playwright.sync_api import expect

from tests.telemedicine import conftest as tm
from tests.telemedicine.conftest import make_order
from tests.telemedicine.orthanc import c_store, wait_stable
from yigongti.telemedicine import dicomgen
from yigongti.telemedicine.models import Device, DeviceKind, ImagingStudy, OrderStatus, StudyStatus

pytestmark = pytest.mark.browser
centers = tm.centers  # the fixtures: the community's centers, the real Orthanc


@pytest.fixture
def as_user(browser, live_server):
    contexts = []

    def _open(username, width=1280):
        from tests.browser.conftest import login_through_form

        ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
        pg = ctx.new_page()
        pg.set_default_timeout(15_000)
        login_through_form(pg, username)
        if width != 1280:  # log in on the wide layout, then the phone's
            pg.set_viewport_size({"width": width, "height": 844})
        contexts.append(ctx)
        return pg

    yield _open
    for ctx in contexts:
        ctx.close()


def _sheet_loads(pg) -> None:
    """The tiles' thumbnail sheet is an image the browser can load with this user's session."""
    url = pg.get_attribute("[data-testid=thumbnails]", "data-sheet")
    assert url
    size = pg.evaluate("""url => new Promise(ok => { const i = new Image(); i.onload = () => ok([i.naturalWidth,
        i.naturalHeight]); i.onerror = () => ok([0, 0]); i.src = url; })""", url)
    assert size[0] > 0 and size[1] > 0


def _send(orthanc, orthanc_server, tmp_path, files, aet="DR_TOWN1"):
    c_store(orthanc_server, files, tmp_path, calling_aet=aet)
    for sid in orthanc.study_ids():
        wait_stable(orthanc, sid)


def test_an_imaging_study_sent_to_orthanc_is_matched_read_and_reported(centers, orthanc, orthanc_server, as_user,
                                                                       tmp_path):
    cast = centers.cast
    Device.objects.create(facility=cast.township_center, kind=DeviceKind.MODALITY, modality="DX", model="DR",
                          ae_title="DR_TOWN1")
    order = make_order(centers, "DX-CHEST", by=cast.township_doctor, resident=cast.resident, urgency="urgent",
                       clinical_question="咳嗽、发热 3 天，排除肺炎")
    r = cast.resident
    _send(orthanc, orthanc_server, tmp_path, dicomgen.study(order.accession_no, str(r.pk), r.name, "DX", 2))

    reader = as_user("center_reader")
    reader.goto("/centers/imaging/unmatched/")
    reader.click("[data-testid=sync]")  # the worker does this every pass; the center may not wait
    expect(reader.locator(".alert-success, .alert-info").first).to_contain_text("1")
    expect(reader.locator("[data-testid=unmatched-table]")).not_to_contain_text(order.accession_no)
    study = ImagingStudy.objects.get()
    assert study.order_id == order.pk and study.device.facility == cast.township_center

    reader.goto(f"/centers/{centers.imaging.pk}/worklist/")
    row = reader.locator(f"tr[data-accession='{order.accession_no}']")
    expect(row).to_contain_text(str(OrderStatus.ACQUIRED.label))
    row.locator("[data-testid=read]").click()
    expect(reader.locator("[data-testid=thumb]")).to_have_count(2)
    _sheet_loads(reader)
    reader.locator("[data-testid=key-form] input[name=instance]").first.check()
    reader.click("[data-testid=save-keys]")
    expect(reader.locator("[data-testid=key-images] img")).to_have_count(1)
    reader.select_option("[data-testid=template]", label="胸部正位片未见异常")
    expect(reader.locator("#conclusion")).to_have_value("胸部正位片未见明显异常")
    reader.fill("#conclusion", "右下肺斑片影，考虑肺炎，建议抗感染治疗后复查")
    reader.click("[data-testid=sign]")
    expect(reader.locator(".alert-success").first).to_be_visible()
    order.refresh_from_db()
    assert order.status == OrderStatus.REPORTED

    doctor = as_user("township_doctor", width=390)  # on the township doctor's phone
    doctor.goto(f"/centers/orders/{order.pk}/")
    expect(doctor.locator("[data-testid=report-conclusion]")).to_contain_text("考虑肺炎")
    expect(doctor.locator("[data-testid=key-images] img")).to_have_count(1)
    doctor.wait_for_function("() => document.querySelector('[data-testid=key-images] img').naturalWidth > 0")
    _sheet_loads(doctor)
    assert doctor.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_film_without_the_accession_number_is_filed_by_hand(centers, orthanc, orthanc_server, as_user,
                                                              tmp_path):
    cast = centers.cast
    order = make_order(centers, "DX-CHEST", by=cast.village_doctor, resident=cast.resident)
    _send(orthanc, orthanc_server, tmp_path, dicomgen.study("", "unknown", cast.resident.name, "DX"), aet="DR_X")
    reader = as_user("center_reader")
    reader.goto("/centers/imaging/unmatched/")
    reader.click("[data-testid=sync]")
    table = reader.locator("[data-testid=unmatched-table]")
    expect(table.locator("tr[data-study]")).to_have_count(1)
    table.locator("input[name=order]").first.fill(order.accession_no)
    table.locator("[data-testid=match]").first.click()
    expect(reader.locator(".alert-success").first).to_contain_text(order.accession_no)
    expect(table.locator("tr[data-study]")).to_have_count(0)
    study = ImagingStudy.objects.get()
    assert study.status == StudyStatus.MATCHED and study.order_id == order.pk
