"""Every pharmacy page and API GET, for each kind of account, in Chinese and English: no server error, refusals
as our error page (or problem+json), and the village clinic's pages within a phone's width of markup."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.pharmacy.world import pharmacy_world
from yigongti.orgs.models import Role
from yigongti.orgs.services import create_account


@pytest.mark.parametrize("who", ["pharmacist", "village_doctor", "manager", "bureau", "outsider", "anonymous"])
def test_every_pharmacy_page_answers(cast, client, login, who):
    from tests.cast import PASSWORD, SYSTEM

    params = pharmacy_world(cast)
    if who == "pharmacist":
        user = create_account(actor=SYSTEM, username="walk_ph", role=Role.PHARMACIST, password=PASSWORD,
                              facility=cast.county_hospital)[0]
    elif who != "anonymous":
        user = getattr(cast, who)
    if who != "anonymous":
        login(user)
    v = params["pharmacy", None, "pk"]
    paths = ["/pharmacy/", "/pharmacy/catalogue/", "/pharmacy/catalogue/?q=阿托&kind=western&flag=vbp",
             "/pharmacy/catalogue/new/", f"/pharmacy/catalogue/{params['pharmacy', 'item_edit', 'pk']}/edit/",
             "/pharmacy/catalogue/import/", "/pharmacy/agreements/", "/pharmacy/agreements/?all=1",
             "/pharmacy/orders/", f"/pharmacy/orders/{params['pharmacy', 'order', 'pk']}/",
             f"/pharmacy/stock/{v}/", f"/pharmacy/stock/{v}/?alerts=near", f"/pharmacy/stock/{v}/?alerts=low&q=x",
             f"/pharmacy/stock/{v}/?item={params['pharmacy', 'item_edit', 'pk']}", f"/pharmacy/stock/{v}/stocktake/",
             f"/pharmacy/stock/{cast.county_hospital.pk}/", "/pharmacy/villages/", "/pharmacy/stock/abc/",
             "/api/v1/pharmacy/catalogue", f"/api/v1/pharmacy/catalogue/{params['pharmacy', 'item_edit', 'pk']}",
             f"/api/v1/pharmacy/stock/{v}", f"/api/v1/pharmacy/stock/{v}/movements"]
    for lang in ("zh-hans", "en"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
        for path in paths:
            r = client.get(path)
            assert r.status_code in (200, 302, 401, 403, 404), (who, lang, path, r.status_code)
            if r.status_code in (403, 404) and path.startswith("/api/"):
                assert "problem+json" in r["Content-Type"], path
            elif r.status_code in (403, 404) and who != "anonymous":
                assert 'data-testid="error"' in r.content.decode(), path
