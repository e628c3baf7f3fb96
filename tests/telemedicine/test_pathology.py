"""Pathology: the specimen's way from the township to the county pathology center, every step an OrderEvent, and
the report with its photographs."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.cast import _account, as_
from tests.telemedicine.conftest import make_order
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yigongti.core.models import AuditEvent, Notification
from yigongti.orgs.models import Profession, Role
from yigongti.telemedicine import pathology as svc
from yigongti.telemedicine.attachments import Upload
from yigongti.telemedicine.models import Attachment, CenterMember, OrderEvent, OrderStatus, SpecimenStatus
from yigongti.telemedicine.queries import pathology as queries

pytestmark = pytest.mark.django_db
SS = SpecimenStatus
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _files(settings, tmp_path):
    settings.YIGONGTI_TM_ATTACHMENT_DIR = tmp_path / "tm"


@pytest.fixture
def path(centers):
    """A pathology order of the township doctor, and a technician of the pathology center."""
    c = centers.cast
    centers.tech = _account("path_tech", Role.NURSE, c.county_hospital, profession=Profession.TECHNICIAN)
    CenterMember.objects.create(center=centers.pathology, user=centers.tech)
    centers.order = make_order(centers, "PATH-BIOPSY", by=c.township_doctor, resident=c.resident,
                               clinical_question="胃镜见胃窦溃疡，取活检")
    return centers


def _collect(path, **extra):
    return svc.register_specimen(path.order.pk, {"specimen_type": "胃黏膜活检组织", "site": "胃窦", **extra},
                                 actor=as_(path.cast.township_doctor))


def _to_sectioned(path):
    s = _collect(path)
    svc.move_specimen(s.pk, "send", actor=as_(path.cast.township_doctor))
    svc.move_specimen(s.pk, "receive", actor=as_(path.tech))
    return svc.move_specimen(s.pk, "section", actor=as_(path.tech))


def test_the_specimen_table_is_data():
    assert svc.check_move(SS.COLLECTED, "send").target == SS.SENT
    assert svc.check_move(SS.SENT, "receive").target == SS.RECEIVED
    assert svc.allowed_moves(SS.RECEIVED) == ["section", "reject"]
    assert svc.allowed_moves(SS.REPORTED) == [] and svc.allowed_moves(SS.REJECTED) == []
    with pytest.raises(Conflict):
        svc.check_move(SS.COLLECTED, "section")
    assert svc.specimen_no("P26120100001", 2) == "P26120100001-2"


def test_collecting_labels_the_container_and_marks_the_order_acquired(path):
    s = _collect(path)
    assert s.specimen_no == f"{path.order.accession_no}-1" and s.status == SS.COLLECTED
    path.order.refresh_from_db()
    assert path.order.status == OrderStatus.ACQUIRED and path.order.acquired_at == s.collected_at
    assert OrderEvent.objects.filter(order=path.order, kind="specimen_collected").exists()
    second = _collect(path, site="胃体")
    assert second.specimen_no.endswith("-2")


def test_the_way_to_the_report_every_step_an_event(path, tmp_path):
    s = _to_sectioned(path)
    path.order.refresh_from_db()
    assert path.order.status == OrderStatus.IN_PROGRESS and path.order.started_at is not None
    assert s.sent_at and s.received_at and s.sectioned_at
    kinds = list(OrderEvent.objects.filter(order=path.order).values_list("kind", flat=True))
    for k in ("specimen_collected", "specimen_sent", "specimen_received", "specimen_sectioned"):
        assert k in kinds
    img = svc.attach_image(path.order.pk, Upload("slide.jpg", JPEG), actor=as_(path.reader))
    assert img.content_type == "image/jpeg" and img.order_id == path.order.pk
    report = svc.report_pathology(path.order.pk, {
        "gross": "灰白组织 2 粒，直径 0.2 cm", "microscopic": "胃窦黏膜慢性炎，腺体轻度肠化",
        "diagnosis": "（胃窦）慢性萎缩性胃炎伴轻度肠化"}, actor=as_(path.reader))
    assert report.conclusion.startswith("（胃窦）") and report.structured["gross"].startswith("灰白")
    s.refresh_from_db()
    path.order.refresh_from_db()
    assert s.status == SS.REPORTED and path.order.status == OrderStatus.REPORTED
    assert Notification.objects.filter(recipient=path.cast.township_doctor).exists()  # the report came back


def test_each_side_makes_its_own_moves(path):
    c = path.cast
    s = _collect(path)
    with pytest.raises(Forbidden):
        svc.move_specimen(s.pk, "receive", actor=as_(c.township_doctor))  # the center receives, not the sender
    with pytest.raises(Forbidden):
        svc.move_specimen(s.pk, "send", actor=as_(c.other_village_doctor))
    with pytest.raises(Forbidden):
        svc.register_specimen(path.order.pk, {"specimen_type": "组织"}, actor=as_(c.manager))
    with pytest.raises(Conflict):
        svc.move_specimen(s.pk, "section", actor=as_(path.tech))  # not received yet
    with pytest.raises(Forbidden):
        svc.attach_image(path.order.pk, Upload("x.jpg", JPEG), actor=as_(c.township_doctor))


def test_a_rejected_specimen_tells_the_ordering_doctor_and_a_new_one_may_follow(path):
    c = path.cast
    s = _collect(path)
    with pytest.raises(InvalidInput):
        svc.move_specimen(s.pk, "reject", "", actor=as_(path.tech))
    rejected = svc.move_specimen(s.pk, "reject", "标本未固定，已自溶", actor=as_(path.tech))
    assert rejected.status == SS.REJECTED and rejected.reject_reason == "标本未固定，已自溶"
    n = Notification.objects.get(recipient=c.township_doctor, kind=svc.KIND_REJECTED)
    assert s.specimen_no in n.title
    again = _collect(path)
    assert again.specimen_no.endswith("-2")


def test_bad_input_never_half_applies(path):
    with pytest.raises(InvalidInput) as e:
        svc.register_specimen(path.order.pk, {"specimen_type": ""}, actor=as_(path.cast.township_doctor))
    assert e.value.field == "specimen_type"
    with pytest.raises(InvalidInput) as e:
        _collect(path, collected_at="2099-01-01T08:00")
    assert e.value.field == "collected_at"
    with pytest.raises(InvalidInput):
        _collect(path, container_count=99)
    ecg = make_order(path, "ECG12", by=path.cast.township_doctor, resident=path.cast.resident)
    with pytest.raises(InvalidInput):
        svc.register_specimen(ecg.pk, {"specimen_type": "组织"}, actor=as_(path.cast.township_doctor))
    with pytest.raises(Conflict):
        svc.report_pathology(path.order.pk, {"diagnosis": "慢性炎"}, actor=as_(path.reader))  # nothing received
    s = _to_sectioned(path)
    with pytest.raises(InvalidInput):
        svc.attach_image(path.order.pk, Upload("x.jpg", b"GIF89a not a jpeg"), actor=as_(path.reader))
    with pytest.raises(InvalidInput):
        svc.report_pathology(path.order.pk, {"diagnosis": " "}, actor=as_(path.reader))
    s.refresh_from_db()
    assert s.status == SS.SECTIONED and not Attachment.objects.exists()
    with pytest.raises(NotFound):
        svc.move_specimen(999999, "send", actor=as_(path.tech))


def test_the_desk_shows_the_center_the_community_and_the_sender_its_own(path):
    c = path.cast
    s = _collect(path)
    assert [x.pk for x in queries.desk(as_(path.tech), "waiting").items] == [s.pk]
    assert [x.pk for x in queries.desk(as_(c.township_doctor), "waiting").items] == [s.pk]
    assert queries.desk(as_(c.other_village_doctor), "waiting").items == []
    assert queries.counts(path.tech)["waiting"] == 1
    assert AuditEvent.objects.filter(object_type="specimen", action="list").exists()


def test_pages_walk_the_specimen_and_the_order_page_shows_the_panel(path, client, login):
    c = path.cast
    login(c.township_doctor)
    page = client.get(f"/centers/orders/{path.order.pk}/").content.decode()
    assert 'data-testid="pathology-panel"' in page and 'data-testid="collect-form"' in page
    resp = client.post(f"/centers/pathology/orders/{path.order.pk}/specimens/", {"specimen_type": "宫颈活检组织",
                                                                                 "container_count": "2"})
    assert resp.status_code == 302
    s = path.order.specimens.get()
    client.post(f"/centers/pathology/specimens/{s.pk}/send/")
    login(path.tech)
    assert "宫颈活检组织" in client.get("/centers/pathology/?tab=waiting").content.decode()
    client.post(f"/centers/pathology/specimens/{s.pk}/receive/")
    client.post(f"/centers/pathology/specimens/{s.pk}/section/")
    s.refresh_from_db()
    assert s.status == SS.SECTIONED
    login(path.reader)
    resp = client.post(f"/centers/pathology/orders/{path.order.pk}/images/",
                       {"files": [SimpleUploadedFile("g.jpg", JPEG, "image/jpeg")]})
    assert resp.status_code == 302 and Attachment.objects.filter(order=path.order).count() == 1
    page = client.get(f"/centers/pathology/orders/{path.order.pk}/").content.decode()
    assert 'data-testid="pathology-report-form"' in page
    client.post(f"/centers/pathology/orders/{path.order.pk}/report/", {"diagnosis": "（宫颈）慢性宫颈炎"})
    page = client.get(f"/centers/pathology/orders/{path.order.pk}/").content.decode()
    assert "（宫颈）慢性宫颈炎" in page
    a = Attachment.objects.get(order=path.order)
    login(c.outsider)
    assert client.get(f"/centers/attachments/{a.pk}/").status_code == 404
    assert client.post(f"/centers/pathology/specimens/{s.pk}/report/").status_code == 404


def test_api_walks_a_specimen(path, client, login):
    c = path.cast
    login(c.township_doctor)
    resp = client.post(f"/api/v1/telemedicine/pathology/orders/{path.order.pk}/specimens",
                       json.dumps({"specimen_type": "淋巴结"}), content_type="application/json")
    assert resp.status_code == 201, resp.content
    sid = resp.json()["id"]
    assert client.post(f"/api/v1/telemedicine/pathology/specimens/{sid}/send", "{}",
                       content_type="application/json").json()["status"] == "sent"
    refused = client.post(f"/api/v1/telemedicine/pathology/specimens/{sid}/receive", "{}",
                          content_type="application/json")
    assert refused.status_code == 403 and refused["Content-Type"] == "application/problem+json"
    login(path.tech)
    for action in ("receive", "section"):
        assert client.post(f"/api/v1/telemedicine/pathology/specimens/{sid}/{action}", "{}",
                           content_type="application/json").status_code == 200
    login(path.reader)
    resp = client.post(f"/api/v1/telemedicine/pathology/orders/{path.order.pk}/report",
                       json.dumps({"diagnosis": "淋巴结反应性增生"}), content_type="application/json")
    assert resp.status_code == 200 and resp.json()["diagnosis"] == "淋巴结反应性增生"
    assert resp.json()["specimens"][0]["status"] == "reported"
    bad = client.post(f"/api/v1/telemedicine/pathology/specimens/{sid}/explode", "{}",
                      content_type="application/json")
    assert bad.status_code == 422
