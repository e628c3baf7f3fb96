"""Imaging: DICOM into a real Orthanc, matched to the order by accession number, thumbnails and key images
through the platform (scoped, audited, cached), the unmatched list and manual match."""

from __future__ import annotations

import io

import pydicom
import pytest
from PIL import Image

from tests.cast import as_
from tests.telemedicine.conftest import make_order
from tests.telemedicine.orthanc import send
from yigongti.core.actor import Actor
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.core.models import AuditEvent
from yigongti.telemedicine import dicomgen, imaging, pacs
from yigongti.telemedicine.models import ImagingStudy, OrderStatus, StudyStatus


def _dx(order, n=1):
    r = order.resident
    return dicomgen.study(order.accession_no, str(r.pk), r.name, "DX", n)


def test_the_generated_study_is_valid_dicom_with_the_accession_number():
    files = dicomgen.study("R26010100001", "P1", "张三", "CT", n=4)
    assert len(files) == 4
    ds = [pydicom.dcmread(io.BytesIO(f)) for f in files]
    assert {d.StudyInstanceUID for d in ds} == {ds[0].StudyInstanceUID}
    assert len({d.SOPInstanceUID for d in ds}) == 4
    assert ds[0].AccessionNumber == "R26010100001" and str(ds[0].PatientName) == "张三"
    assert ds[2].pixel_array.shape == (128, 128) and ds[0].Modality == "CT"
    dx = pydicom.dcmread(io.BytesIO(dicomgen.study("R1", "P1", "李四")[0]))
    assert dx.Modality == "DX" and dx.pixel_array.shape == (256, 256)
    assert dicomgen.study("R1", "P1", "李四") == dicomgen.study("R1", "P1", "李四")  # deterministic


def test_without_a_pacs_the_sync_does_nothing_and_the_panel_says_so(centers, settings):
    settings.YIGONGTI_ORTHANC_URL = ""
    assert pacs.client() is None
    assert imaging.sync_studies() == 0
    order = make_order(centers, "DX-CHEST", by=centers.cast.village_doctor, resident=centers.cast.resident)
    from yigongti.telemedicine.registry import KIND_PANELS

    ctx = KIND_PANELS["imaging"](as_(centers.cast.village_doctor), order)
    assert ctx["pacs_configured"] is False and ctx["studies"] == []


def test_a_study_sent_with_the_accession_number_is_matched_and_the_order_acquired(centers, orthanc):
    cast = centers.cast
    order = make_order(centers, "DX-CHEST", by=cast.village_doctor, resident=cast.resident)
    send(orthanc, _dx(order, 2))
    assert imaging.sync_studies() == 1
    study = ImagingStudy.objects.get()
    assert study.status == StudyStatus.MATCHED and study.order_id == order.pk
    assert study.instance_count == 2 and len(study.instances) == 2 and study.modality == "DX"
    order.refresh_from_db()
    assert order.status == OrderStatus.ACQUIRED and order.acquired_at is not None
    assert imaging.sync_studies() == 0  # the change log position is kept: nothing twice
    imaging.reset_cursor()
    assert imaging.sync_studies() == 0 and ImagingStudy.objects.count() == 1  # a rescan finds it known


def test_ct_slices_come_in_instance_order(centers, orthanc):
    cast = centers.cast
    order = make_order(centers, "CT-HEAD", by=cast.township_doctor, resident=cast.resident)
    files = dicomgen.study(order.accession_no, "P", "王五", "CT", n=5)
    send(orthanc, list(reversed(files)))
    imaging.sync_studies()
    study = ImagingStudy.objects.get(order=order)
    numbers = [orthanc.instance_tags(i)["InstanceNumber"] for i in study.instances]
    assert numbers == ["1", "2", "3", "4", "5"]


def test_a_study_without_an_order_goes_to_the_unmatched_list_and_a_member_matches_it(centers, orthanc):
    cast = centers.cast
    order = make_order(centers, "DX-CHEST", by=cast.village_doctor, resident=cast.resident)
    send(orthanc, dicomgen.study("WRONG123", "X", "未知"))
    imaging.sync_studies()
    study = ImagingStudy.objects.get()
    assert study.status == StudyStatus.UNMATCHED and study.order is None
    from yigongti.telemedicine.queries.imaging import unmatched_studies

    assert list(unmatched_studies(as_(centers.reader))) == [study]
    assert list(unmatched_studies(as_(cast.village_doctor))) == []
    with pytest.raises(Forbidden):
        imaging.match_study(study.pk, order.accession_no, actor=as_(cast.village_doctor))
    with pytest.raises(InvalidInput):
        imaging.match_study(study.pk, "R00000000000", actor=as_(centers.reader))
    imaging.match_study(study.pk, order.accession_no, actor=as_(centers.reader))
    study.refresh_from_db()
    order.refresh_from_db()
    assert study.status == StudyStatus.MATCHED and study.order_id == order.pk
    assert study.matched_by == centers.reader and order.status == OrderStatus.ACQUIRED


def test_an_unmatched_study_may_be_ignored_with_a_reason(centers, orthanc):
    send(orthanc, dicomgen.study("PHANTOM", "QA", "质控"))
    imaging.sync_studies()
    study = ImagingStudy.objects.get()
    with pytest.raises(InvalidInput):
        imaging.ignore_study(study.pk, " ", actor=as_(centers.reader))
    imaging.ignore_study(study.pk, "质控体模", actor=as_(centers.reader))
    study.refresh_from_db()
    assert study.status == StudyStatus.IGNORED


def test_thumbnails_come_through_the_platform_scoped_audited_and_cached(centers, orthanc, client, login):
    cast = centers.cast
    order = make_order(centers, "DX-CHEST", by=cast.village_doctor, resident=cast.resident)
    orthanc_study = send(orthanc, _dx(order, 2))
    imaging.sync_studies()
    study = ImagingStudy.objects.get()
    login(centers.reader)
    page = client.get(f"/centers/imaging/studies/{study.pk}/")
    assert page.status_code == 200 and 'data-testid="thumb"' in page.content.decode()
    sheet_url = f"/centers/imaging/studies/{study.pk}/thumbnails.jpg"
    assert sheet_url in page.content.decode()
    sheet = client.get(sheet_url)  # the study's thumbnails in one image, rendered when the study arrived
    assert sheet.status_code == 200 and sheet["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(sheet.content)).size == (2 * 160, 160)
    url = f"/centers/imaging/studies/{study.pk}/i/1/768.jpg"
    first = client.get(url)
    assert first.status_code == 200 and first.content[:2] == b"\xff\xd8"
    orthanc.delete_study(orthanc_study)  # the second look comes from the platform's cache
    again = client.get(url)
    assert again.status_code == 200 and again.content == first.content
    assert client.get(sheet_url).content == sheet.content
    assert "no-store" in again["Cache-Control"]  # not kept by the browser of a shared terminal
    assert AuditEvent.objects.filter(object_type="telemedicine_imaging_images", object_id=str(study.pk)).count() == 1
    assert client.get(f"/centers/imaging/studies/{study.pk}/i/5/160.jpg").status_code == 404
    assert client.get(f"/centers/imaging/studies/{study.pk}/i/0/999.jpg").status_code == 404


def test_outsiders_and_non_clinical_roles_cannot_see_a_study(centers, orthanc, client, login):
    cast = centers.cast
    order = make_order(centers, "DX-CHEST", by=cast.village_doctor, resident=cast.resident)
    send(orthanc, _dx(order))
    imaging.sync_studies()
    study = ImagingStudy.objects.get()
    for user in (cast.other_village_doctor, cast.outsider, cast.manager):
        client.logout()
        login(user)
        assert client.get(f"/centers/imaging/studies/{study.pk}/").status_code in (403, 404), user
        assert client.get(f"/centers/imaging/studies/{study.pk}/i/0/160.jpg").status_code in (403, 404), user
        assert client.get(f"/centers/imaging/studies/{study.pk}/thumbnails.jpg").status_code in (403, 404), user
    client.logout()
    login(cast.village_doctor)  # the ordering doctor sees the images of her order
    assert client.get(f"/centers/imaging/studies/{study.pk}/i/0/160.jpg").status_code == 200
    assert AuditEvent.objects.filter(object_type="telemedicine_imaging_study", action="denied").exists()


def test_the_reader_marks_key_images(centers, orthanc):
    cast = centers.cast
    order = make_order(centers, "CT-HEAD", by=cast.township_doctor, resident=cast.resident)
    send(orthanc, dicomgen.study(order.accession_no, "P", "王五", "CT", n=4))
    imaging.sync_studies()
    study = ImagingStudy.objects.get()
    with pytest.raises(Forbidden):
        imaging.set_key_images(study.pk, study.instances[:1], actor=as_(cast.township_doctor))
    with pytest.raises(InvalidInput):
        imaging.set_key_images(study.pk, ["not-an-instance"], actor=as_(centers.reader))
    imaging.set_key_images(study.pk, [study.instances[2], study.instances[1]], actor=as_(centers.reader))
    study.refresh_from_db()
    assert study.key_instances == study.instances[1:3]
    from yigongti.telemedicine.registry import KIND_PANELS

    ctx = KIND_PANELS["imaging"](as_(cast.township_doctor), order)
    assert ctx["pacs_configured"] and len(ctx["studies"][0].keys) == 2
    assert ctx["studies"][0].viewer_url.startswith(orthanc.url + "/web-viewer/")


def test_the_worker_polls_the_pacs(centers, orthanc):
    from yigongti.core import jobs
    from yigongti.telemedicine import imaging_jobs

    order = make_order(centers, "DX-CHEST", by=centers.cast.village_doctor, resident=centers.cast.resident)
    send(orthanc, _dx(order))
    imaging_jobs.schedule_sync()
    imaging_jobs.schedule_sync()  # the same minute: queued once
    assert jobs.run_due() == 1
    assert ImagingStudy.objects.get().order_id == order.pk


def test_the_api_lists_shows_and_matches(centers, orthanc, client, login):
    cast = centers.cast
    order = make_order(centers, "DX-CHEST", by=cast.village_doctor, resident=cast.resident)
    send(orthanc, dicomgen.study("NOPE", "X", "未知"))
    login(centers.reader)
    assert client.post("/api/v1/telemedicine/imaging/sync").json() == {"new_studies": 1}
    rows = client.get("/api/v1/telemedicine/imaging/unmatched").json()
    assert len(rows) == 1 and rows[0]["status"] == "unmatched"
    pk = rows[0]["id"]
    bad = client.post(f"/api/v1/telemedicine/imaging/studies/{pk}/match", {"order": "R999"},
                      content_type="application/json")
    assert bad.status_code == 422 and bad["Content-Type"].startswith("application/problem+json")
    ok = client.post(f"/api/v1/telemedicine/imaging/studies/{pk}/match", {"order": order.accession_no},
                     content_type="application/json")
    assert ok.status_code == 200 and ok.json()["order"] == order.pk
    one = client.get(f"/api/v1/telemedicine/imaging/studies/{pk}").json()
    assert one["thumbnails"] == f"/centers/imaging/studies/{pk}/thumbnails.jpg"
    assert one["images"] == [f"/centers/imaging/studies/{pk}/i/0/768.jpg"]
    client.logout()
    login(cast.village_doctor)
    assert client.post("/api/v1/telemedicine/imaging/sync").status_code == 403


def test_the_unmatched_page_works_without_a_pacs(centers, settings, client, login):
    settings.YIGONGTI_ORTHANC_URL = ""
    login(centers.reader)
    page = client.get("/centers/imaging/unmatched/")
    assert page.status_code == 200 and "PACS" in page.content.decode()
    assert 'data-tab="imaging"' in page.content.decode()  # the center's tab
    assert imaging.sync_now(actor=Actor.system()) == 0
    client.logout()
    login(centers.cast.village_doctor)
    page = client.get("/centers/imaging/unmatched/")
    assert page.status_code == 200 and 'data-tab="imaging"' not in page.content.decode()
    assert 'data-study=' not in page.content.decode()


def test_a_modality_sends_over_dicom_and_the_device_is_known_by_its_ae_title(centers, orthanc, orthanc_server,
                                                                          tmp_path):
    from tests.telemedicine.orthanc import c_store, wait_stable
    from yigongti.telemedicine.models import Device, DeviceKind

    cast = centers.cast
    dr = Device.objects.create(facility=cast.township_center, kind=DeviceKind.MODALITY, modality="DX",
                               model="DR-1", ae_title="DR_TOWN1")
    order = make_order(centers, "DX-CHEST", by=cast.township_doctor, resident=cast.resident)
    c_store(orthanc_server, _dx(order), tmp_path, calling_aet="DR_TOWN1")
    wait_stable(orthanc, orthanc.study_ids()[0])
    assert imaging.sync_studies() == 1
    study = ImagingStudy.objects.get()
    assert study.source_ae == "DR_TOWN1" and study.device == dr and study.order_id == order.pk
    order.refresh_from_db()
    assert order.device == dr


def test_a_pacs_that_does_not_answer_is_said_so_never_a_server_error(centers, orthanc, settings, client, login):
    from yigongti.telemedicine import imaging_jobs

    order = make_order(centers, "DX-CHEST", by=centers.cast.village_doctor, resident=centers.cast.resident)
    send(orthanc, _dx(order))
    imaging.sync_studies()
    study = ImagingStudy.objects.get()
    settings.YIGONGTI_ORTHANC_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.DATA_DIR = settings.DATA_DIR / "empty"  # and nothing cached
    with pytest.raises(imaging.PacsUnavailable):
        imaging.sync_studies()
    assert imaging_jobs.run_sync(None)["studies"] == 0
    login(centers.reader)
    assert client.get(f"/centers/imaging/studies/{study.pk}/").status_code == 200
    assert client.get(f"/centers/orders/{order.pk}/").status_code == 200
    assert client.get(f"/centers/imaging/studies/{study.pk}/thumbnails.jpg").status_code == 503
    page = client.post("/centers/imaging/sync/", follow=True)
    assert page.status_code == 200 and "PACS" in page.content.decode()
    assert client.post("/api/v1/telemedicine/imaging/sync").status_code == 503
