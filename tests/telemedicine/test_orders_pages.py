"""The ordering doctor's pages and the orders API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.cast import as_
from tests.telemedicine.conftest import make_order
from yigongti.core.models import AuditEvent
from yigongti.telemedicine.models import Order, Recognition
from yigongti.telemedicine.services import orders as svc

pytestmark = pytest.mark.django_db


def test_village_doctor_orders_an_ecg_from_the_resident_page(centers, client, login):
    c = centers.cast
    login(c.village_doctor)
    page = client.get(reverse("residents:detail", args=[c.resident.pk])).content.decode()
    assert "检查检验报告" in page and "开具检查检验申请" in page
    url = reverse("telemedicine:order_new") + f"?resident={c.resident.pk}"
    form = client.get(url)
    assert form.status_code == 200 and "常规十二导联心电图" in form.content.decode()
    assert "心血管内科远程会诊" not in form.content.decode()  # consultations have their own form
    resp = client.post(url, {"resident": c.resident.pk, "item": centers.items["ECG12"].pk, "urgency": "emergency",
                             "clinical_question": "胸痛 2 小时", "idempotency_key": "web-1"})
    order = Order.objects.get()
    assert resp.status_code == 302 and resp.url == reverse("telemedicine:order", args=[order.pk])
    again = client.post(url, {"resident": c.resident.pk, "item": centers.items["ECG12"].pk,
                              "idempotency_key": "web-1"})
    assert again.status_code == 302 and Order.objects.count() == 1
    detail = client.get(resp.url).content.decode()
    assert order.accession_no in detail and "胸痛 2 小时" in detail and "急诊" in detail
    assert AuditEvent.objects.filter(action="view", object_type="telemedicine_order", object_id=str(order.pk)).exists()


def test_bad_form_input_shows_the_message(centers, client, login):
    c = centers.cast
    login(c.village_doctor)
    url = reverse("telemedicine:order_new")
    resp = client.post(url, {"resident": c.resident.pk, "item": "", "urgency": "whenever"})
    assert resp.status_code == 200 and "格式无效" in resp.content.decode()
    resp = client.post(url, {"resident": c.resident.pk, "item": centers.items["ECG12"].pk, "urgency": "whenever"})
    assert resp.status_code == 200 and "紧急程度无效" in resp.content.decode()
    assert client.post(url, {"resident": c.neighbour.pk, "item": centers.items["ECG12"].pk}).status_code == 404
    assert client.get(url + "?resident=abc").status_code == 200


def test_recent_result_is_shown_first_and_can_be_recognised(centers, client, login):
    c = centers.cast
    prior = make_order(centers, "CBC", by=c.township_doctor, resident=c.resident)
    svc.sign_report(prior.pk, {"conclusion": "血常规未见异常"}, actor=as_(centers.reader))
    login(c.village_doctor)
    url = reverse("telemedicine:order_new") + f"?resident={c.resident.pk}&item={centers.items['CBC'].pk}"
    page = client.get(url).content.decode()
    assert 'data-testid="recognition"' in page and "血常规未见异常" in page and "塔峰镇卫生院" in page
    resp = client.post(reverse("telemedicine:recognise"), {"resident": c.resident.pk,
                                                           "item": centers.items["CBC"].pk, "prior_order": prior.pk})
    assert resp.status_code == 302 and resp.url == reverse("telemedicine:order", args=[prior.pk])
    rec = Recognition.objects.get()
    assert rec.decision == "recognised" and rec.saved_amount == centers.items["CBC"].price
    assert Order.objects.count() == 1  # nothing repeated
    # without a reason the repeat is refused with the message; with one it is ordered
    resp = client.post(url, {"resident": c.resident.pk, "item": centers.items["CBC"].pk})
    assert resp.status_code == 200 and "重复检查的理由" in resp.content.decode()
    resp = client.post(url, {"resident": c.resident.pk, "item": centers.items["CBC"].pk, "repeat_reason": "贫血复查"})
    assert resp.status_code == 302 and Order.objects.count() == 2


def test_my_orders_list_and_cancel(centers, client, login):
    c = centers.cast
    order = make_order(centers, "DX-CHEST", by=c.village_doctor, resident=c.resident)
    login(c.village_doctor)
    page = client.get(reverse("telemedicine:orders")).content.decode()
    assert order.accession_no in page
    resp = client.post(reverse("telemedicine:order_cancel", args=[order.pk]), {"reason": ""})
    assert resp.status_code == 302
    order.refresh_from_db()
    assert order.status == "ordered"  # the message says why; nothing changed
    client.post(reverse("telemedicine:order_cancel", args=[order.pk]), {"reason": "患者拒绝"})
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_others_cannot_open_the_order(centers, client, login):
    c = centers.cast
    order = make_order(centers, "ECG12", by=c.village_doctor, resident=c.resident)
    for who in (c.other_village_doctor, c.outsider, c.manager, c.bureau):
        login(who)
        assert client.get(reverse("telemedicine:order", args=[order.pk])).status_code in (403, 404), who
    login(centers.reader)  # the center's reader sees the whole community's orders
    assert client.get(reverse("telemedicine:order", args=[order.pk])).status_code == 200


def test_the_api_places_shows_and_lists_orders(centers, client, login):
    c = centers.cast
    login(c.village_doctor)
    base = "/api/v1/telemedicine/orders"
    resp = client.post(base, {"resident": c.resident.pk, "item": centers.items["ECG12"].pk, "urgency": "urgent"},
                       content_type="application/json", HTTP_IDEMPOTENCY_KEY="api-1")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["accession_no"].startswith("E") and body["urgency"] == "urgent" and body["report"] is None
    again = client.post(base, {"resident": c.resident.pk, "item": centers.items["ECG12"].pk, "urgency": "urgent"},
                        content_type="application/json", HTTP_IDEMPOTENCY_KEY="api-1")
    assert again.json()["id"] == body["id"]
    key_in_body = {"resident": c.resident.pk, "item": centers.items["ECG12"].pk, "idempotency_key": "b-1"}
    first = client.post(base, key_in_body, content_type="application/json").json()
    assert client.post(base, {**key_in_body, "clinical_question": "重发"},
                       content_type="application/json").json()["id"] == first["id"]
    assert body["id"] in [o["id"] for o in client.get(base).json()["items"]]
    bad = client.post(base, {"resident": c.resident.pk, "item": "x"}, content_type="application/json")
    assert bad.status_code == 422 and bad["Content-Type"].startswith("application/problem+json")
    bad = client.post(base, {"resident": c.resident.pk, "item": centers.items["ECG12"].pk, "urgency": "now"},
                      content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_urgency"
    login(c.other_village_doctor)
    assert client.get(f"{base}/{body['id']}").status_code == 404


def test_the_api_reads_reports_and_reviews(centers, client, login):
    c = centers.cast
    order = make_order(centers, "DX-CHEST", by=c.village_doctor, resident=c.resident)
    base = "/api/v1/telemedicine/orders"
    login(centers.reader)
    wl = client.get(f"{base}/worklists/{centers.imaging.pk}").json()
    assert wl["items"][0]["accession_no"] == order.accession_no and wl["items"][0]["minutes_left"] > 0
    assert client.post(f"{base}/{order.pk}/start").json()["status"] == "in_progress"
    resp = client.post(f"{base}/{order.pk}/report", {"conclusion": "未见异常", "findings": "双肺清晰",
                                                     "structured": {"technique": "DR 正位"}},
                       content_type="application/json")
    assert resp.status_code == 201 and resp.json()["conclusion"] == "未见异常"
    again = client.post(f"{base}/{order.pk}/report", {"conclusion": "x"}, content_type="application/json")
    assert again.status_code == 409
    login(centers.reviewer)
    assert client.post(f"{base}/{order.pk}/review", {"note": "同意"},
                       content_type="application/json").json()["reviewer_id"] == centers.reviewer.pk
    login(c.village_doctor)
    got = client.get(f"{base}/{order.pk}").json()
    assert got["status"] == "reviewed" and got["report"]["conclusion"] == "未见异常"
    assert client.get(f"{base}/worklists/{centers.imaging.pk}").status_code == 404


def test_recent_results_api_and_recognition(centers, client, login):
    c = centers.cast
    prior = make_order(centers, "CHEM", by=c.village_doctor, resident=c.resident)
    svc.sign_report(prior.pk, {"conclusion": "电解质正常"}, actor=as_(centers.reader))
    login(c.village_doctor)
    base = "/api/v1/telemedicine/orders"
    recent = client.get(f"{base}/recent?resident={c.resident.pk}&item={centers.items['CHEM'].pk}").json()
    assert [r["id"] for r in recent] == [prior.pk]
    resp = client.post(f"{base}/recognitions", {"resident": c.resident.pk, "item": centers.items["CHEM"].pk,
                                                "prior_order": prior.pk}, content_type="application/json")
    assert resp.status_code == 201 and resp.json()["decision"] == "recognised"
