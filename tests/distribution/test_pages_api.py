"""The pages and the API: the phone order form, the center's queue, the pick list, the routes with their map, the
receive page, the shortage registry; bad input answered in Chinese (pages) and problem+json (API), never a 500."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.cast import as_
from tests.distribution.world import build_roads
from yigongti.core.models import AuditEvent
from yigongti.distribution import services
from yigongti.distribution.models import OrderStatus, Shortage, VillageOrder
from yigongti.pharmacy import ledger


def test_the_order_form_lists_the_village_catalogue_only_and_submits(w, client, login):
    c = w.c
    login(c.village_doctor)
    page = client.get("/distribution/orders/new/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "苯磺酸氨氯地平片" in body and "头孢曲松" not in body
    r = client.post("/distribution/orders/new/", {f"qty_{w.amlodipine.pk}": "3", "submit": "1"})
    o = VillageOrder.objects.get()
    assert r.status_code == 302 and o.status == OrderStatus.SUBMITTED


def test_a_bad_quantity_is_shown_in_chinese(w, client, login):
    login(w.c.village_doctor)
    r = client.post("/distribution/orders/new/", {f"qty_{w.amlodipine.pk}": "abc", "submit": "1"})
    assert r.status_code == 422 and "请填写整数" in r.content.decode()


def test_the_center_approves_picks_and_dispatches_on_the_order_page(w, client, login):
    o = services.create_order(as_(w.c.village_doctor), w.c.village_clinic, {w.amlodipine.pk: 12}, submit=True)
    login(w.pharmacist)
    assert "QL" in client.get("/distribution/").content.decode()
    line = o.lines.get()
    client.post(f"/distribution/orders/{o.pk}/approve/", {f"line_{line.pk}": "11"})
    client.post(f"/distribution/orders/{o.pk}/pick/")
    page = client.get(f"/distribution/orders/{o.pk}/").content.decode()
    assert "A2401" in page and "A2409" in page
    client.post(f"/distribution/orders/{o.pk}/dispatch/")
    o.refresh_from_db()
    assert o.status == OrderStatus.DISPATCHED and ledger.on_hand(w.center, w.amlodipine) == 49


def test_the_village_receives_on_its_page_and_a_resend_counts_once(w, client, login):
    o = services.create_order(as_(w.c.village_doctor), w.c.village_clinic, {w.metformin.pk: 4}, submit=True)
    for fn in (services.approve_order, services.pick_order, services.dispatch_order):
        fn(as_(w.pharmacist), o)
    login(w.c.village_doctor)
    assert client.get(f"/distribution/orders/{o.pk}/receive/").status_code == 200
    line = o.lines.get()
    for _ in range(2):
        client.post(f"/distribution/orders/{o.pk}/lines/{line.pk}/receive/", {"received": "4", "damaged": "0"})
    assert ledger.on_hand(w.c.village_clinic, w.metformin) == 4
    o.refresh_from_db()
    assert o.status == OrderStatus.RECEIVED


def test_another_clinic_sees_no_order_of_ours(w, client, login):
    o = services.create_order(as_(w.c.village_doctor), w.c.village_clinic, {w.metformin.pk: 4}, submit=True)
    login(w.c.other_village_doctor)
    assert client.get(f"/distribution/orders/{o.pk}/").status_code == 404
    assert client.get(f"/api/v1/distribution/orders/{o.pk}").status_code == 404


def test_routes_are_planned_over_the_roads_and_drawn(w, client, login):
    build_roads(w.c)
    for clinic, doc in ((w.c.village_clinic, w.c.village_doctor), (w.c.other_clinic, w.c.other_village_doctor)):
        o = services.create_order(as_(doc), clinic, {w.metformin.pk: 2}, submit=True)
        services.approve_order(as_(w.pharmacist), o)
        services.pick_order(as_(w.pharmacist), o)
    login(w.pharmacist)
    day = timezone.localdate()
    client.post("/distribution/routes/", {"day": str(day), "max_stops": "12"})
    page = client.get(f"/distribution/routes/?day={day}").content.decode()
    assert "大塘村卫生室" in page and "<svg" in page
    run = w.center.pk and VillageOrder.objects.first().run
    assert run is not None and run.distance_m == 60000  # out 30 km along the road, and back
    assert [s.facility.name for s in run.stops.all()] == ["大塘村卫生室", "石桥村卫生室"]
    client.post("/distribution/routes/", {"day": str(day), "run": str(run.pk)})
    assert set(VillageOrder.objects.values_list("status", flat=True)) == {OrderStatus.DISPATCHED}


def test_api_order_create_approve_receive_round_trip(w, client, login):
    login(w.c.village_doctor)
    r = client.post("/api/v1/distribution/orders", {"lines": [{"item": w.metformin.pk, "quantity": 3}]},
                    content_type="application/json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    bad = client.post("/api/v1/distribution/orders", {"lines": [{"item": w.ceftriaxone.pk, "quantity": 3}]},
                      content_type="application/json")
    assert bad.status_code == 422 and bad["Content-Type"].startswith("application/problem+json")
    client.logout()
    login(w.pharmacist)
    line = r.json()["lines"][0]["id"]
    assert client.post(f"/api/v1/distribution/orders/{pk}/approve", {"approved": {str(line): 2}},
                       content_type="application/json").json()["lines"][0]["approved"] == 2
    assert client.post(f"/api/v1/distribution/orders/{pk}/pick").json()["status"] == "picked"
    assert client.post(f"/api/v1/distribution/orders/{pk}/dispatch").json()["status"] == "dispatched"
    client.logout()
    login(w.c.village_doctor)
    body = {"lines": [{"line": line, "received": 3}]}
    over = client.post(f"/api/v1/distribution/orders/{pk}/receive", body, content_type="application/json")
    assert over.status_code == 422 and over.json()["code"] == "over_picked"
    body = {"lines": [{"line": line, "received": 2}]}
    for _ in range(2):
        ok = client.post(f"/api/v1/distribution/orders/{pk}/receive", body, content_type="application/json",
                         HTTP_IDEMPOTENCY_KEY="k1")
    assert ok.status_code == 200 and ok.json()["status"] == "received"
    assert ledger.on_hand(w.c.village_clinic, w.metformin) == 2


def test_shortage_registered_answered_and_overdue_flagged(w, client, login):
    c = w.c
    login(c.village_doctor)
    r = client.post("/distribution/shortages/new/", {"drug_name": "硝苯地平控释片", "quantity": "2",
                                                      "resident": str(c.resident.pk)})
    assert r.status_code == 302
    s = Shortage.objects.get()
    assert s.due_at - s.registered_at == dt.timedelta(hours=48)
    assert c.resident.name not in client.get("/distribution/shortages/").content.decode()  # masked
    assert AuditEvent.objects.filter(object_type="shortage_patients").exists()
    Shortage.objects.filter(pk=s.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    assert 'data-testid="overdue"' in client.get("/distribution/shortages/").content.decode()
    client.logout()
    login(w.pharmacist)
    r = client.post(f"/distribution/shortages/{s.pk}/", {"answer": "transfer", "answer_text": "从塔峰镇卫生院调拨"})
    assert r.status_code == 302
    s.refresh_from_db()
    assert s.status == "answered"
    again = client.post(f"/api/v1/distribution/shortages/{s.pk}/answer", {"answer": "transfer", "answer_text": "x"},
                        content_type="application/json")
    assert again.status_code == 409


def test_the_village_doctor_cannot_answer_a_shortage(w, client, login):
    s = services.register_shortage(as_(w.c.village_doctor), w.c.village_clinic, {"drug_name": "阿司匹林"})
    login(w.c.village_doctor)
    r = client.post(f"/api/v1/distribution/shortages/{s.pk}/answer", {"answer": "transfer", "answer_text": "x"},
                    content_type="application/json")
    assert r.status_code == 403


def test_every_distribution_page_and_list_answers_every_role_without_a_server_error(w, client, login):
    from tests.distribution.world import distribution_world

    build_roads(w.c)
    params = distribution_world(w.c)
    o, line, s = params["distribution", None, "pk"], params["distribution", None, "line"], \
        params["distribution", "shortage", "pk"]
    o2 = services.create_order(as_(w.c.village_doctor), w.c.village_clinic, {w.metformin.pk: 2}, submit=True)
    services.approve_order(as_(w.pharmacist), o2)
    services.pick_order(as_(w.pharmacist), o2)
    services.plan_routes(as_(w.pharmacist), w.center, timezone.localdate(), time_limit_s=0.2)
    urls = ["/distribution/", "/distribution/?status=picked", "/distribution/orders/new/",
            f"/distribution/orders/{o}/", f"/distribution/orders/{o2.pk}/", f"/distribution/orders/{o}/receive/",
            "/distribution/routes/", "/distribution/routes/?day=bad", "/distribution/shortages/",
            "/distribution/shortages/new/", f"/distribution/shortages/{s}/",
            "/api/v1/distribution/orders", f"/api/v1/distribution/orders/{o}", "/api/v1/distribution/shortages",
            "/api/v1/distribution/orders/suggestions"]
    c = w.c
    for user in (c.village_doctor, c.other_village_doctor, w.pharmacist, w.township_pharmacist, c.bureau, c.manager,
                 c.auditor, c.outsider, c.county_doctor, c.city):
        client.logout()
        login(user)
        for lang in ("zh-hans", "en"):
            client.cookies["django_language"] = lang
            for url in urls:
                r = client.get(url)
                assert r.status_code in (200, 302, 400, 403, 404), (user.username, lang, url, r.status_code)
    assert line


def test_api_pick_with_chosen_lots_refuses_a_lot_the_center_lacks(w, client, login):
    o = services.approve_order(as_(w.pharmacist), services.create_order(
        as_(w.c.village_doctor), w.c.village_clinic, {w.amlodipine.pk: 5}, submit=True))
    line = o.lines.get()
    login(w.pharmacist)
    bad = client.post(f"/api/v1/distribution/orders/{o.pk}/pick-lots",
                      {"lots": {str(line.pk): [{"lot": w.met_lot.pk, "quantity": 5}]}}, content_type="application/json")
    assert bad.status_code == 422 and "批号" in bad.json()["title"]
    ok = client.post(f"/api/v1/distribution/orders/{o.pk}/pick-lots",
                     {"lots": {str(line.pk): [{"lot": w.late.pk, "quantity": 5}]}}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["lines"][0]["picks"][0]["lot"] == "A2409"
