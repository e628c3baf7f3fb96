"""The resident's phone pages and the staff pages and API, end to end through the test client."""

from __future__ import annotations

import pytest

from tests.cast import as_
from tests.ihospital.world import amlodipine, ask
from yigongti.ihospital import principal, services
from yigongti.ihospital.models import OnlineConsultation

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def resident_client(client, ih):
    session = client.session
    session[principal.SESSION_KEY] = {"id": ih.c.resident.pk, "at": int(__import__("time").time())}
    session.save()
    return client


def test_the_resident_asks_writes_sees_the_delivery_and_pays(ih, resident_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = resident_client
    r = c.get("/ihospital/m/")
    assert r.status_code == 200 and "原发性高血压" in r.content.decode() and "2型糖尿病" in r.content.decode()
    r = c.post("/ihospital/m/new/", {"encounter": ih.visit.pk, "icd10": "I10", "question": "头晕",
                                     "pictures": SimpleUploadedFile("bp.png", PNG, "image/png")})
    assert r.status_code == 302
    cons = OnlineConsultation.objects.get()
    r = c.post("/ihospital/m/new/", {"encounter": ih.old.pk, "icd10": "J45.9", "question": "喘"})
    assert r.status_code == 422 and "复诊" in r.content.decode()
    pic = cons.messages.get().pictures.get()
    assert c.get(f"/ihospital/m/c/{cons.pk}/picture/{pic.pk}/").content == PNG
    services.accept_consultation(as_(ih.c.township_doctor), cons)
    services.prescribe(as_(ih.c.township_doctor), cons, {"lines": amlodipine(ih)})
    r = c.get(f"/ihospital/m/c/{cons.pk}/")
    body = r.content.decode()
    assert "电子处方" in body and "待发货" in body and "大塘村卫生室" in body
    r = c.post(f"/ihospital/m/c/{cons.pk}/pay/")
    assert r.status_code == 302 and "/ihospital/m/pay/sim/" in r["Location"]
    r = c.post(r["Location"], {"result": "success"})
    assert r.status_code == 302
    assert cons.payments.get().status == "paid"


def test_another_residents_consultation_is_not_found(ih, resident_client):
    cons = ask(ih)
    OnlineConsultation.objects.filter(pk=cons.pk).update(resident=ih.c.neighbour)
    assert resident_client.get(f"/ihospital/m/c/{cons.pk}/").status_code == 404


def test_the_doctor_works_the_queue_and_the_consultation_page(ih, client, login):
    cons = ask(ih, files=[PNG])
    login(ih.c.township_doctor)
    r = client.get("/ihospital/")
    assert r.status_code == 200 and "李建国" in r.content.decode()
    r = client.get(f"/ihospital/c/{cons.pk}/")
    assert r.status_code == 200 and "共享健康档案" in r.content.decode() and "原发性高血压" in r.content.decode()
    r = client.post(f"/ihospital/c/{cons.pk}/", {"action": "reply", "text": "继续服药", "video_url": "javascript:x"})
    assert r.status_code == 302
    cons.refresh_from_db()
    assert cons.status == "requested"  # the bad link refused the reply
    client.post(f"/ihospital/c/{cons.pk}/", {"action": "reply", "text": "继续服药", "video_url": ""})
    r = client.post(f"/ihospital/c/{cons.pk}/", {"action": "prescribe", "item_0": ih.items["氨氯地平"].pk,
                                                "dose_0": "5", "unit_0": "mg", "frequency_0": "qd", "days_0": "7",
                                                "quantity_0": "1"})
    cons.refresh_from_db()
    assert cons.status == "prescribed" and cons.prescription_ref


def test_the_pharmacist_reviews_dispenses_and_ships_from_the_pages(ih, client, login):
    cons = ask(ih)
    services.accept_consultation(as_(ih.c.township_doctor), cons)
    services.prescribe(as_(ih.c.township_doctor), cons, {"lines": [dict(amlodipine(ih)[0], days=14)]})
    login(ih.pharmacist)
    assert client.get(f"/ihospital/c/{cons.pk}/").status_code == 200
    client.post(f"/ihospital/c/{cons.pk}/", {"action": "approve"})
    client.post(f"/ihospital/c/{cons.pk}/", {"action": "dispense", "trace_codes": ""})
    d = cons.delivery
    d.refresh_from_db()
    assert d.dispensed_at
    r = client.post("/ihospital/deliveries/", {"delivery": d.pk, "action": "ship"})
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.status == "shipped"
    r = client.get("/ihospital/deliveries/")
    assert r.status_code == 200 and "已发货" in r.content.decode()


def test_the_api_lists_gets_replies_and_moves_deliveries(ih, client, login):
    cons = ask(ih)
    login(ih.c.township_doctor)
    r = client.get("/api/v1/ihospital/consultations")
    assert r.status_code == 200 and r.json()[0]["id"] == cons.pk
    r = client.post(f"/api/v1/ihospital/consultations/{cons.pk}/reply", {"text": "您好"},
                    content_type="application/json")
    assert r.status_code == 201 and r.json()["consultation"]["status"] == "in_consultation"
    r = client.post(f"/api/v1/ihospital/consultations/{cons.pk}/reply", {"text": "x", "video_url": "ftp://a"},
                    content_type="application/json")
    assert r.status_code == 422 and r["Content-Type"].startswith("application/problem+json")
    services.prescribe(as_(ih.c.township_doctor), cons, {"lines": amlodipine(ih)})
    services.dispense(as_(ih.pharmacist), cons)
    login(ih.pharmacist)
    d = client.get("/api/v1/ihospital/deliveries").json()[0]
    r = client.post(f"/api/v1/ihospital/deliveries/{d['id']}", {"action": "ship"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "shipped"
    login(ih.c.outsider)
    assert client.get(f"/api/v1/ihospital/consultations/{cons.pk}").status_code in (403, 404)


def test_staff_without_a_queue_are_refused(ih, client, login):
    login(ih.c.bureau)
    assert client.get("/ihospital/").status_code == 403
