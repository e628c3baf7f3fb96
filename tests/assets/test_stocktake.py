"""Stocktake (盘点) by QR label on a phone: found, found elsewhere, missing at closing."""

from __future__ import annotations

import pytest

from tests.assets.conftest import asset_data
from tests.cast import as_
from yigongti.assets import queries, services
from yigongti.core.errors import Conflict, Forbidden, InvalidInput

pytestmark = pytest.mark.django_db


def _three(eq):
    a = services.register_asset(as_(eq.admin), asset_data(eq.c.township_center, number="S-1"))
    b = services.register_asset(as_(eq.admin), asset_data(eq.c.township_center, number="S-2"))
    elsewhere = services.register_asset(as_(eq.admin), asset_data(eq.c.village_clinic, number="S-3"))
    return a, b, elsewhere


def test_a_stocktake_finds_by_label_or_number_and_closes_with_what_is_missing(eq):
    a, b, _elsewhere = _three(eq)
    st = services.start_stocktake(as_(eq.admin), eq.c.township_center)
    services.scan(as_(eq.admin), st, services.label_text(a))
    services.scan(as_(eq.admin), st, services.label_text(a))  # twice is once
    line = services.scan(as_(eq.admin), st, "S-3")
    assert line.elsewhere
    s = queries.stocktake_summary(st)
    assert (s["n_found"], s["n_elsewhere"], s["expected"], [x.number for x in s["todo"]]) == (2, 1, 2, ["S-2"])
    st = services.close_stocktake(as_(eq.admin), st)
    assert (st.expected, st.missing) == (2, [b.pk])
    with pytest.raises(Conflict):
        services.scan(as_(eq.admin), st, "S-2")


def test_an_unknown_code_and_a_second_open_stocktake_are_refused(eq):
    _three(eq)
    st = services.start_stocktake(as_(eq.admin), eq.c.township_center)
    with pytest.raises(InvalidInput) as e:
        services.scan(as_(eq.admin), st, "NOPE-9")
    assert "未找到该设备" in e.value.message
    with pytest.raises(Conflict):
        services.start_stocktake(as_(eq.c.manager), eq.c.township_center)
    with pytest.raises(Forbidden):
        services.start_stocktake(as_(eq.admin), eq.c.other_center)


def test_the_phone_page_scans_and_shows_the_label(eq, login, client):
    a, _b, _e = _three(eq)
    login(eq.admin)
    label = client.get(f"/assets/{a.pk}/label/")
    assert label.status_code == 200 and "<svg" in label.content.decode()
    r = client.post("/assets/stocktakes/", {"facility": eq.c.township_center.pk})
    assert r.status_code == 302
    page = r["Location"]
    r = client.get(page)
    assert "camera=(self)" in r["Permissions-Policy"] and 'id="scan-code"' in r.content.decode()
    client.post(page, {"code": services.label_text(a)})
    body = client.get(page).content.decode()
    assert "已盘到 1 / 应盘 2" in body
    r = client.post(page, {"code": "???"}, follow=True)
    assert "未找到该设备" in r.content.decode()
