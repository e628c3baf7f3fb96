"""The pharmacy's pages and API: the receipt form (refused with the reason beside the line; accepted → the stock
page shows the lot), the catalogue's filters and edit, the village clinic's stock page with alerts, the
stocktake page, the villages' count, and /api/v1/pharmacy (catalogue, stock, movements, receipts)."""

from __future__ import annotations

import datetime as dt
import json

from tests.pharmacy.conftest import TODAY, trace_codes
from yigongti.pharmacy import services
from yigongti.pharmacy.models import Item, StockBalance, TraceCode


def _order(ph, qty=3):
    return services.create_order(ph.pharmacist, ph.c.community, {
        "supplier": ph.supplier.pk, "lines": [{"item": ph.item.pk, "quantity": qty}]})


def test_the_receipt_form_refuses_with_the_reason_then_receives(ph, login, client):
    o = _order(ph)
    ol = o.lines.get()
    login(ph.pharmacist)
    page = client.get(f"/pharmacy/orders/{o.pk}/")
    assert page.status_code == 200 and "追溯码" in page.content.decode()
    bad = {"order_line": ol.pk, f"quantity_{ol.pk}": "3", f"lot_{ol.pk}": "L9",
           f"expires_on_{ol.pk}": str(TODAY - dt.timedelta(days=2)), f"trace_codes_{ol.pk}": "\n".join(trace_codes(3))}
    r = client.post(f"/pharmacy/orders/{o.pk}/", bad)
    assert r.status_code == 422 and "已于" in r.content.decode() and "拒收" in r.content.decode()
    good = {**bad, f"expires_on_{ol.pk}": str(TODAY + dt.timedelta(days=500))}
    r = client.post(f"/pharmacy/orders/{o.pk}/", good)
    assert r.status_code == 302 and r["Location"] == f"/pharmacy/stock/{ph.c.county_hospital.pk}/"
    body = client.get(r["Location"]).content.decode()
    assert "L9" in body and "苯磺酸氨氯地平片" in body
    assert TraceCode.objects.filter(lot__number="L9").count() == 3


def test_catalogue_filters_and_edit(ph, login, client):
    login(ph.pharmacist)
    body = client.get("/pharmacy/catalogue/?kind=consumable").content.decode()
    assert "医用纱布块" in body and "盐酸二甲双胍片" not in body
    assert "盐酸二甲双胍片" in client.get("/pharmacy/catalogue/?q=二甲双胍").content.decode()
    assert client.get("/pharmacy/catalogue/?kind=zz&level=zz&page=x").status_code == 200
    r = client.post(f"/pharmacy/catalogue/{ph.item2.pk}/edit/", {
        "code": ph.item2.code, "kind": "western", "generic_name": "盐酸二甲双胍片", "price": "abc"})
    assert r.status_code == 422 and "价格" in r.content.decode()
    r = client.post(f"/pharmacy/catalogue/{ph.item2.pk}/edit/", {
        "code": ph.item2.code, "kind": "western", "generic_name": "盐酸二甲双胍片", "price": "7.70",
        "min_level": "township", "is_active": "on"})
    assert r.status_code == 302
    assert Item.objects.get(pk=ph.item2.pk).min_level == "township"
    login(ph.c.village_doctor)
    assert client.get("/pharmacy/catalogue/").status_code == 200
    assert client.get(f"/pharmacy/catalogue/{ph.item2.pk}/edit/").status_code == 403


def test_the_village_stock_page_alerts_and_stocktake(ph, login, client):
    from django.db import transaction

    from yigongti.pharmacy import ledger
    from yigongti.pharmacy.models import MovementKind

    v = ph.c.village_clinic
    with transaction.atomic():
        ledger.post(facility=v, lot=ph.lot_soon, quantity=2, kind=MovementKind.TRANSFER_IN)
    services.set_limit(ph.c.village_doctor, v, {"item": ph.item.pk, "minimum": 5})
    login(ph.c.village_doctor)
    r = client.get("/pharmacy/")
    assert r.status_code == 302 and r["Location"] == f"/pharmacy/stock/{v.pk}/"
    body = client.get(f"/pharmacy/stock/{v.pk}/").content.decode()
    assert "A001" in body and "低于下限" in body and "近效期" in body
    assert "A001" in client.get(f"/pharmacy/stock/{v.pk}/?alerts=low").content.decode()
    assert "出入库记录" in client.get(f"/pharmacy/stock/{v.pk}/?item={ph.item.pk}").content.decode()
    assert client.get(f"/pharmacy/stock/{ph.c.other_clinic.pk}/").status_code == 404
    client.post(f"/pharmacy/stock/{v.pk}/stocktake/", {"action": "start"})
    client.post(f"/pharmacy/stock/{v.pk}/stocktake/", {"action": "count", f"lot_{ph.lot_soon.pk}": "1"})
    r = client.post(f"/pharmacy/stock/{v.pk}/stocktake/", {"action": "close"})
    assert r.status_code == 302
    assert StockBalance.objects.get(facility=v, lot=ph.lot_soon).quantity == 1
    body = client.get("/pharmacy/villages/").content.decode()
    assert "大塘村卫生室" in body


def test_the_api_catalogue_stock_and_receipts(ph, login, client):
    login(ph.pharmacist)
    r = client.get("/api/v1/pharmacy/catalogue?kind=western")
    assert r.status_code == 200 and r.json()["count"] == 2
    assert client.get(f"/api/v1/pharmacy/catalogue/{ph.item.pk}").json()["code"] == ph.item.code
    r = client.post("/api/v1/pharmacy/catalogue", json.dumps({"code": "XC0", "generic_name": "x", "price": "1"}),
                    content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "invalid_item"
    o = _order(ph, 2)
    payload = {"order": o.pk, "lines": [{"item": ph.item.pk, "lot": "API1", "quantity": 2,
                                         "expires_on": str(TODAY + dt.timedelta(days=300)),
                                         "trace_codes": ["1234"] * 2}]}
    r = client.post("/api/v1/pharmacy/receipts", json.dumps(payload), content_type="application/json")
    assert r.status_code == 422 and "lines.0.trace_codes" in r.json()["errors"]
    payload["lines"][0]["trace_codes"] = trace_codes(2, 77)
    r = client.post("/api/v1/pharmacy/receipts", json.dumps(payload), content_type="application/json")
    assert r.status_code == 201, r.content
    r = client.get(f"/api/v1/pharmacy/stock/{ph.c.county_hospital.pk}")
    row = next(x for x in r.json()["rows"] if x["item_id"] == ph.item.pk)
    assert row["on_hand"] == 2 and row["lots"][0]["number"] == "API1"
    moves = client.get(f"/api/v1/pharmacy/stock/{ph.c.county_hospital.pk}/movements").json()
    assert moves[0]["kind"] == "receipt" and moves[0]["quantity"] == 2
    r = client.post("/api/v1/pharmacy/receipts", json.dumps(payload), content_type="application/json")
    assert r.status_code == 409
    login(ph.c.outsider)
    assert client.get(f"/api/v1/pharmacy/stock/{ph.c.county_hospital.pk}").status_code == 404
