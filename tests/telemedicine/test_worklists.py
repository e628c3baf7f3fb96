"""The centers' worklists, the report form and the review, and the home panels."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.cast import as_
from tests.telemedicine.conftest import make_order
from yigongti.core.actor import Actor
from yigongti.core.models import Notification
from yigongti.telemedicine.models import CriticalFinding, CriticalValue, Order, Report
from yigongti.telemedicine.queries import orders as queries
from yigongti.telemedicine.services import orders as svc

pytestmark = pytest.mark.django_db


def test_worklist_puts_emergencies_first_then_waiting_time(centers):
    c = centers.cast
    old = make_order(centers, "ECG12", by=c.village_doctor, resident=c.resident)
    Order.objects.filter(pk=old.pk).update(ordered_at=timezone.now() - dt.timedelta(hours=3),
                                           due_at=timezone.now() - dt.timedelta(hours=1))
    new = make_order(centers, "ECG12", by=c.village_doctor, resident=c.resident)
    urgent = make_order(centers, "ECG12", by=c.township_doctor, resident=c.resident, urgency="urgent")
    emergency = make_order(centers, "ECG12", by=c.other_village_doctor, resident=c.neighbour, urgency="emergency")
    make_order(centers, "DX-CHEST", by=c.village_doctor, resident=c.resident)  # another center's
    page = queries.worklist(Actor.from_user(centers.reader), centers.ecg)
    assert [r.order.pk for r in page.items] == [emergency.pk, urgent.pk, old.pk, new.pk]
    rows = {r.order.pk: r for r in page.items}
    assert rows[old.pk].overdue and rows[old.pk].overdue_minutes >= 59
    assert 0 < rows[emergency.pk].minutes_left <= centers.ecg.tat_emergency_minutes
    counts = queries.center_counts([centers.ecg])[0]
    assert (counts.open, counts.overdue, counts.emergency) == (4, 1, 1)


def test_reader_reads_from_the_worklist_with_a_template(centers, client, login):
    c = centers.cast
    order = make_order(centers, "ECG12", by=c.village_doctor, resident=c.resident)
    login(centers.reader)
    index = client.get(reverse("telemedicine:centers")).content.decode()
    assert centers.ecg.name in index
    wl = client.get(reverse("telemedicine:worklist", args=[centers.ecg.pk])).content.decode()
    assert order.accession_no in wl and "大塘村卫生室" in wl
    partial = client.get(reverse("telemedicine:worklist", args=[centers.ecg.pk]), HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and order.accession_no in partial.content.decode()
    form = client.get(reverse("telemedicine:report", args=[order.pk])).content.decode()
    assert "正常心电图" in form and "自动测量（仅供参考）" in form
    client.post(reverse("telemedicine:start", args=[order.pk]))
    tpl = centers.templates["正常心电图"]
    resp = client.post(reverse("telemedicine:report", args=[order.pk]), {
        "template": tpl.pk, "findings": tpl.findings, "conclusion": tpl.conclusion, "s_rate": "75",
        "s_rhythm": "窦性心律"})
    assert resp.status_code == 302
    report = Report.objects.get(order=order)
    assert report.structured == {"rate": "75", "rhythm": "窦性心律"} and report.template == tpl
    assert Notification.objects.filter(recipient=c.village_doctor, kind=svc.REPORT_KIND).exists()
    login(c.village_doctor)
    detail = client.get(reverse("telemedicine:order", args=[order.pk])).content.decode()
    assert "正常心电图" in detail and "心率（次/分）" in detail
    home = client.get("/").content.decode()
    assert "新出检查检验报告" in home
    resident_page = client.get(reverse("residents:detail", args=[c.resident.pk])).content.decode()
    assert "正常心电图" in resident_page


def test_report_form_errors_are_shown_and_non_members_are_refused(centers, client, login):
    c = centers.cast
    order = make_order(centers, "ECG12", by=c.village_doctor, resident=c.resident)
    login(centers.reader)
    resp = client.post(reverse("telemedicine:report", args=[order.pk]), {"conclusion": ""})
    assert resp.status_code == 200 and "请填写结论" in resp.content.decode()
    login(c.county_doctor)  # a doctor of the hospital, not a reader of the center
    assert client.get(reverse("telemedicine:report", args=[order.pk])).status_code == 404
    assert client.get(reverse("telemedicine:worklist", args=[centers.ecg.pk])).status_code == 404


def test_a_critical_finding_starts_the_critical_value_loop(centers, client, login):
    c = centers.cast
    stemi = CriticalFinding.objects.create(kind="ecg", code="T-STEMI", name="急性 ST 段抬高型心肌梗死", stemi=True)
    order = make_order(centers, "ECG12", by=c.village_doctor, resident=c.resident, urgency="emergency")
    login(centers.reader)
    assert "T-STEMI" in client.get(reverse("telemedicine:report", args=[order.pk])).content.decode()
    resp = client.post(reverse("telemedicine:report", args=[order.pk]), {
        "conclusion": "急性下壁 ST 段抬高型心肌梗死", "critical_findings": [stemi.code]})
    assert resp.status_code == 302
    order.refresh_from_db()
    assert order.critical and order.report.critical
    cv = CriticalValue.objects.get(order=order)
    assert cv.finding == stemi
    note = Notification.objects.filter(recipient=c.village_doctor, kind=svc.REPORT_KIND).get()
    assert note.urgent and "危急值" in note.title


def test_second_reader_reviews_from_the_order_page(centers, client, login):
    c = centers.cast
    order = make_order(centers, "CT-HEAD", by=c.township_doctor, resident=c.resident)
    svc.sign_report(order.pk, {"conclusion": "颅内未见异常"}, actor=as_(centers.reader))
    login(centers.reader)
    own = client.get(reverse("telemedicine:order", args=[order.pk])).content.decode()
    assert 'data-testid="review-form"' not in own
    login(centers.reviewer)
    wl = client.get(reverse("telemedicine:worklist", args=[centers.imaging.pk]) + "?state=review").content.decode()
    assert order.accession_no in wl
    assert 'data-testid="review-form"' in client.get(reverse("telemedicine:order", args=[order.pk])).content.decode()
    client.post(reverse("telemedicine:review", args=[order.pk]), {"note": "同意"})
    order.refresh_from_db()
    assert order.status == "reviewed"


def test_readers_home_panel_counts_the_worklists(centers, client, login):
    c = centers.cast
    make_order(centers, "ECG12", by=c.village_doctor, resident=c.resident, urgency="emergency")
    login(centers.reader)
    home = client.get("/").content.decode()
    assert "诊断中心待报告" in home and "home-tm-center-ecg" in home


def test_director_keeps_the_catalogue_and_templates_from_the_page(centers, client, login):
    login(centers.reader)
    url = reverse("telemedicine:catalogue", args=[centers.lab.pk])
    assert "血常规" in client.get(url).content.decode()
    resp = client.post(url, {"what": "item", "code": "coag", "name": "凝血四项", "price": "45", "recognised": "on",
                             "validity_days": "7", "active": "on"})
    assert resp.status_code == 302
    item = centers.lab.items.get(code="COAG")
    assert item.recognised and item.validity_days == 7
    bad = client.post(url, {"what": "item", "code": "X", "name": "x", "recognised": "on", "validity_days": "0"})
    assert bad.status_code == 200 and "互认有效期" in bad.content.decode()
    client.post(url, {"what": "template", "name": "凝血正常", "item": item.pk, "conclusion": "凝血功能正常"})
    assert centers.lab.templates.filter(name="凝血正常").exists()
    login(centers.reviewer)  # a reader who is not the director sees, cannot edit
    page = client.get(url).content.decode()
    assert "凝血四项" in page and 'data-testid="item-form"' not in page
    assert client.post(url, {"what": "item", "code": "Y", "name": "y"}).status_code == 403
