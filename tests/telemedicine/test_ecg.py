"""Remote ECG through the services, the pages and the API: a village uploads the recording of an ECG order, the
center and the ordering doctor see the 12 leads and the automatic measurements, nobody else does."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.cast import as_
from tests.telemedicine.conftest import make_order
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yigongti.core.models import AuditEvent
from yigongti.telemedicine import ecg
from yigongti.telemedicine.ecg.simulate import twelve_lead
from yigongti.telemedicine.ecg.write import aecg_xml, dicom_ecg
from yigongti.telemedicine.models import EcgRecording, OrderEvent, OrderStatus
from yigongti.telemedicine.registry import KIND_PANELS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def _file(order, stemi=None, seed=1, fmt="dicom", accession=None):
    samples, rate, uv = twelve_lead(seed, stemi=stemi, hr=75)
    r = order.resident
    patient = {"id": str(r.pk), "name": r.name, "birth_date": r.birth_date, "sex": r.sex}
    acc = order.accession_no if accession is None else accession
    if fmt == "aecg":
        return aecg_xml(samples, rate, uv, acc, patient)
    return dicom_ecg(samples, rate, uv, acc, patient)


@pytest.fixture
def ecg_order(centers):
    c = centers.cast
    return make_order(centers, "ECG12", by=c.village_doctor, resident=c.resident, urgency="emergency")


def test_village_doctor_uploads_a_dicom_ecg_and_the_order_is_acquired(centers, ecg_order, settings):
    c = centers.cast
    rec = ecg.receive_file(ecg_order.pk, _file(ecg_order, stemi="inferior"), "ecg.dcm", actor=as_(c.village_doctor))
    assert rec.source_format == "dicom" and rec.sample_rate == 500 and rec.n_samples == 5000
    assert len(rec.leads) == 12 and len(bytes(rec.samples)) == 12 * 5000 * 2
    assert rec.measurements["rate"] in range(72, 79) and rec.measurements["st"]["III"] >= 0.15
    assert (settings.DATA_DIR / "ecg" / rec.file).read_bytes()[128:132] == b"DICM"  # the original kept
    ecg_order.refresh_from_db()
    assert ecg_order.status == OrderStatus.ACQUIRED and ecg_order.acquired_at is not None
    assert OrderEvent.objects.filter(order=ecg_order, kind="acquired").exists()
    assert AuditEvent.objects.filter(action="create", object_type="telemedicine_ecg", object_id=str(rec.pk)).exists()


def test_an_aecg_upload_replaces_the_recording_until_the_order_is_reported(centers, ecg_order):
    c = centers.cast
    first = ecg.receive_file(ecg_order.pk, _file(ecg_order), "a.dcm", actor=as_(c.village_doctor))
    second = ecg.receive_file(ecg_order.pk, _file(ecg_order, fmt="aecg", seed=2), "a.xml",
                              actor=as_(c.township_doctor))  # the township over the village clinic
    assert second.pk == first.pk and second.source_format == "aecg"
    assert EcgRecording.objects.filter(order=ecg_order).count() == 1
    from yigongti.telemedicine.services.orders import sign_report

    sign_report(ecg_order.pk, {"conclusion": "窦性心律，正常心电图"}, actor=as_(centers.reader))
    with pytest.raises(Conflict):
        ecg.receive_file(ecg_order.pk, _file(ecg_order), "b.dcm", actor=as_(c.village_doctor))


def test_file_of_another_order_or_not_an_ecg_is_refused(centers, ecg_order):
    c = centers.cast
    with pytest.raises(InvalidInput, match="不一致"):
        ecg.receive_file(ecg_order.pk, _file(ecg_order, accession="E99999999999"), "x.dcm",
                         actor=as_(c.village_doctor))
    with pytest.raises(InvalidInput, match="不是有效的"):
        ecg.receive_file(ecg_order.pk, b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "x.png", actor=as_(c.village_doctor))
    with pytest.raises(InvalidInput):
        ecg.receive_file(ecg_order.pk, b"", "x.dcm", actor=as_(c.village_doctor))
    xray = make_order(centers, "DX-CHEST", by=c.village_doctor, resident=c.resident)
    with pytest.raises(InvalidInput, match="不是心电图"):
        ecg.receive_file(xray.pk, _file(ecg_order, accession=""), "x.dcm", actor=as_(c.village_doctor))
    with pytest.raises(NotFound):
        ecg.receive_file(987654, _file(ecg_order), "x.dcm", actor=as_(c.village_doctor))
    assert not EcgRecording.objects.exists()
    ecg_order.refresh_from_db()
    assert ecg_order.status == OrderStatus.ORDERED


def test_only_the_ordering_facility_or_the_center_may_upload(centers, ecg_order):
    c = centers.cast
    for user in (c.other_village_doctor, c.manager, c.bureau, c.outsider):
        with pytest.raises(Forbidden):
            ecg.receive_file(ecg_order.pk, _file(ecg_order), "x.dcm", actor=as_(user))
    assert ecg.receive_file(ecg_order.pk, _file(ecg_order), "x.dcm", actor=as_(centers.reader))


def test_cancelled_order_takes_no_recording(centers, ecg_order):
    from yigongti.telemedicine.services.orders import cancel_order

    c = centers.cast
    cancel_order(ecg_order.pk, "患者拒绝检查", actor=as_(c.village_doctor))
    with pytest.raises(Conflict):
        ecg.receive_file(ecg_order.pk, _file(ecg_order), "x.dcm", actor=as_(c.village_doctor))


# ---- pages -------------------------------------------------------------------------------------------------


def test_upload_page_takes_the_file_and_sends_the_doctor_back_to_the_order(centers, ecg_order, client, login):
    c = centers.cast
    login(c.village_doctor)
    url = reverse("telemedicine:ecg_upload", args=[ecg_order.pk])
    page = client.get(url)
    assert page.status_code == 200 and ecg_order.accession_no in page.content.decode()
    bad = client.post(url, {"file": SimpleUploadedFile("x.dcm", b"not a dicom")})
    assert bad.status_code == 400 and "不是有效的" in bad.content.decode()
    ok = client.post(url, {"file": SimpleUploadedFile("ecg.dcm", _file(ecg_order))})
    assert ok.status_code == 302 and ok["Location"] == reverse("telemedicine:order", args=[ecg_order.pk])
    assert EcgRecording.objects.filter(order=ecg_order).exists()


def test_ecg_page_and_samples_for_the_center_reader(centers, ecg_order, client, login):
    c = centers.cast
    rec = ecg.receive_file(ecg_order.pk, _file(ecg_order, stemi="anterior"), "a.dcm", actor=as_(c.village_doctor))
    login(centers.reader)
    page = client.get(reverse("telemedicine:ecg", args=[ecg_order.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "自动测量（仅供参考）" in html and 'id="ecg-meta"' in html
    assert "telemedicine/ecg.js" in html and "V2" in html  # ST elevated leads listed
    start = html.index('id="ecg-meta" type="application/json">') + len('id="ecg-meta" type="application/json">')
    meta = json.loads(html[start:html.index("</script>", start)])
    assert meta["leads"][:3] == ["I", "II", "III"] and meta["rate"] == 500 and meta["uv"] == 2.5
    embedded = np.frombuffer(base64.b64decode(meta["data"]), dtype="<i2").reshape(12, -1)
    assert np.array_equal(embedded, np.frombuffer(bytes(rec.samples), dtype="<i2").reshape(12, -1))
    samples = client.get(meta["samples_url"])
    assert samples.status_code == 200 and samples["Content-Type"] == "application/octet-stream"
    arr = np.frombuffer(samples.content, dtype="<i2").reshape(12, -1)
    assert np.array_equal(arr, np.frombuffer(bytes(rec.samples), dtype="<i2").reshape(12, -1))
    assert AuditEvent.objects.filter(object_type="telemedicine_ecg", action="view",
                                     actor=centers.reader.username).count() == 2


def test_ecg_page_is_not_for_another_village_nor_for_managers(centers, ecg_order, client, login):
    c = centers.cast
    ecg.receive_file(ecg_order.pk, _file(ecg_order), "a.dcm", actor=as_(c.village_doctor))
    for user in (c.other_village_doctor, c.manager, c.bureau):
        client.logout()
        login(user)
        assert client.get(reverse("telemedicine:ecg", args=[ecg_order.pk])).status_code in (403, 404)
        assert client.get(reverse("telemedicine:ecg_samples", args=[ecg_order.pk])).status_code in (403, 404)
        assert client.get(reverse("telemedicine:ecg_upload", args=[ecg_order.pk])).status_code in (403, 404)


def test_ecg_page_of_an_order_without_recording_is_404(centers, ecg_order, client, login):
    login(centers.cast.village_doctor)
    assert client.get(reverse("telemedicine:ecg", args=[ecg_order.pk])).status_code == 404


def test_order_panel_offers_the_upload_then_shows_the_ecg(centers, ecg_order):
    from django.template.loader import render_to_string

    c = centers.cast
    panel = KIND_PANELS["ecg"]
    ctx = panel(as_(c.village_doctor), ecg_order)
    assert ctx["ecg"] is None and ctx["ecg_may_upload"]
    html = render_to_string("telemedicine/kinds/_ecg.html", ctx)
    assert reverse("telemedicine:ecg_upload", args=[ecg_order.pk]) in html
    ecg.receive_file(ecg_order.pk, _file(ecg_order), "a.dcm", actor=as_(c.village_doctor))
    ctx = panel(as_(centers.reader), ecg_order)
    html = render_to_string("telemedicine/kinds/_ecg.html", ctx)
    assert ctx["ecg"] is not None and 'data-testid="ecg-viewer"' in html and "自动测量（仅供参考）" in html


# ---- API ---------------------------------------------------------------------------------------------------


def test_api_upload_read_and_samples(centers, ecg_order, client, login):
    c = centers.cast
    login(c.village_doctor)
    base = f"/api/v1/telemedicine/ecg/{ecg_order.pk}"
    bad = client.post(f"{base}/file", {"file": SimpleUploadedFile("x.xml", b"<?xml version='1.0'?><x/>")})
    assert bad.status_code == 422 and bad["Content-Type"].startswith("application/problem+json")
    assert bad.json()["code"] == "ecg_file"
    up = client.post(f"{base}/file", {"file": SimpleUploadedFile("a.xml", _file(ecg_order, fmt="aecg"))})
    assert up.status_code == 201, up.content
    assert up.json()["source_format"] == "aecg" and up.json()["measurements"]["rate"] in range(72, 79)
    got = client.get(base)
    assert got.status_code == 200 and got.json()["accession_no"] == ecg_order.accession_no
    s = client.get(f"{base}/samples").json()
    assert s["encoding"] == "int16le-base64" and len(base64.b64decode(s["data"])) == 12 * 5000 * 2
    client.logout()
    login(c.other_village_doctor)
    assert client.get(base).status_code == 404
    assert client.post(f"{base}/file", {"file": SimpleUploadedFile("a.xml", b"x")}).status_code == 403
