"""The register's pages and its API: the form re-shows typed values with the reason, problem+json in the API."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.assets.conftest import asset_data
from tests.cast import as_
from yigongti.assets import services
from yigongti.assets.models import Asset, AssetStatus

pytestmark = pytest.mark.django_db


def test_the_register_form_saves_and_the_detail_shows_depreciation(eq, login, client):
    login(eq.admin)
    r = client.post("/assets/new/", asset_data(eq.c.village_clinic))
    a = Asset.objects.get(number="YLSB-2024-0001")
    assert r.status_code == 302 and r["Location"] == f"/assets/{a.pk}/"
    page = client.get(f"/assets/{a.pk}/").content.decode()
    assert "心电图机" in page and "累计折旧" in page and "年限平均法" in page


def test_a_duplicate_number_re_shows_the_form_with_the_typed_values_and_the_reason(eq, login, client):
    services.register_asset(as_(eq.admin), asset_data(eq.c.township_center))
    login(eq.admin)
    r = client.post("/assets/new/", asset_data(eq.c.village_clinic, name="多参数监护仪", price="8800.50"))
    body = r.content.decode()
    assert r.status_code == 422
    assert "已被使用" in body and 'value="多参数监护仪"' in body and 'value="8800.50"' in body


def test_the_list_filters_by_status_category_text_and_overdue(eq, login, client):
    a = services.register_asset(as_(eq.admin), asset_data(eq.c.township_center))
    b = services.register_asset(as_(eq.admin), asset_data(eq.c.village_clinic, number="X-2", name="血细胞分析仪",
                                                           category="22", status="idle"))
    today = dt.date.today()
    services.record_maintenance(as_(eq.admin), b, {"kind": "maintenance", "done_on": str(today - dt.timedelta(200)),
                                                   "next_due": str(today - dt.timedelta(20))})
    login(eq.admin)
    assert "X-2" in client.get("/assets/?status=idle").content.decode()
    assert "X-2" not in client.get("/assets/?status=in_use").content.decode()
    assert a.number in client.get("/assets/?category=07").content.decode()
    assert "X-2" in client.get("/assets/?q=血细胞").content.decode()
    body = client.get("/assets/?overdue=1").content.decode()
    assert "X-2" in body and a.number not in body
    assert client.get("/assets/?facility=abc&page=x").status_code == 200


def test_the_menu_shows_the_register_to_admins_managers_and_the_bureau_only(eq, login, client):
    from yigongti.core import menu

    labels = lambda u: [lbl for lbl, _url in menu.entries_for(u)]  # noqa: E731
    assert "医学装备" in labels(eq.admin) and "医学装备" in labels(eq.c.manager) and "医学装备" in labels(eq.c.bureau)
    assert "医学装备" not in labels(eq.c.village_doctor)
    login(eq.c.village_doctor)
    assert client.get("/assets/").status_code == 403


def test_maintenance_transfer_and_disposal_pages(eq, login, client):
    a = services.register_asset(as_(eq.admin), asset_data(eq.c.township_center))
    login(eq.admin)
    r = client.post(f"/assets/{a.pk}/maintenance/", {"kind": "maintenance", "done_on": "2099-01-01"})
    assert r.status_code == 422 and "日期不能晚于今天" in r.content.decode()
    r = client.post(f"/assets/{a.pk}/maintenance/", {"kind": "maintenance", "done_on": str(dt.date.today())})
    assert r.status_code == 302
    assert client.get(f"/assets/{a.pk}/transfer/").status_code == 403  # the community's managers transfer
    r = client.post(f"/assets/{a.pk}/dispose/", {"reason": "老化"})
    assert r.status_code == 302
    d = a.disposals.get()
    r = client.post(f"/assets/disposals/{d.pk}/decide/", {"decision": "approve"})
    a.refresh_from_db()
    assert a.status == AssetStatus.IN_USE  # refused: not the admin's right
    login(eq.c.manager)
    client.post(f"/assets/{a.pk}/transfer/", {"to_facility": eq.c.other_center.pk})
    a.refresh_from_db()
    assert a.facility == eq.c.other_center
    client.post(f"/assets/disposals/{d.pk}/decide/", {"decision": "approve"})
    a.refresh_from_db()
    assert a.status == AssetStatus.SCRAPPED
    body = client.get(f"/assets/{a.pk}/").content.decode()
    assert "已批准" in body and "总市镇卫生院" in body


def test_the_api_lists_creates_and_records_maintenance(eq, login, client):
    login(eq.admin)
    r = client.post("/api/v1/assets", asset_data(eq.c.village_clinic), content_type="application/json")
    assert r.status_code == 201, r.content
    pk = r.json()["asset"]["id"]
    r = client.post("/api/v1/assets", asset_data(eq.c.village_clinic), content_type="application/json")
    assert r.status_code == 422 and r["Content-Type"].startswith("application/problem+json")
    assert "已被使用" in r.json()["errors"]["number"][0]
    r = client.get("/api/v1/assets?category=07")
    assert r.json()["count"] == 1 and r.json()["items"][0]["net"] is not None
    r = client.post(f"/api/v1/assets/{pk}/maintenance", {"kind": "calibration", "done_on": str(dt.date.today()),
                                                          "next_due": "2099-01-01"}, content_type="application/json")
    assert r.status_code == 201
    assert client.get(f"/api/v1/assets/{pk}").json()["asset"]["calibration_due"] == "2099-01-01"
    r = client.post("/api/v1/assets", asset_data(eq.c.other_center, number="Z"), content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    login(eq.far_admin)
    assert client.get(f"/api/v1/assets/{pk}").status_code == 404


def test_the_detail_names_the_system_for_a_disposal_no_account_requested(eq, login, client):
    from tests.cast import SYSTEM

    a = services.register_asset(SYSTEM, asset_data(eq.c.township_center))
    services.request_disposal(SYSTEM, a, {"reason": "演示数据"})
    login(eq.c.manager)
    body = client.get(f"/assets/{a.pk}/").content.decode()
    assert "系统 于" in body and 'data-testid="disposal-approve"' in body
