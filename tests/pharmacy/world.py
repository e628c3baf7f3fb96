"""A distribution center with an item, a purchase order received in part and a village clinic's stock, for the
every-page walk (tests/test_every_page.py): the URL parameters of the pharmacy's pages and API."""

from __future__ import annotations

import datetime as dt

from tests.cast import SYSTEM


def pharmacy_world(c) -> dict:
    from django.db import transaction

    from tests.pharmacy.conftest import make_item, trace_codes
    from yigongti.pharmacy import ledger, services
    from yigongti.pharmacy.models import DistributionCenter, Supplier

    DistributionCenter.objects.get_or_create(community=c.community, defaults={"facility": c.county_hospital})
    item = make_item(c.community, "XC10AAA005A001010101583", "阿托伐他汀钙片", strength="20mg", pack_size=7)
    supplier = Supplier.objects.create(community=c.community, name="巡检供应商")
    order = services.create_order(SYSTEM, c.community, {"supplier": supplier.pk,
                                                        "lines": [{"item": item.pk, "quantity": 5}]})
    services.receive(SYSTEM, order, {"lines": [{
        "order_line": order.lines.get().pk, "quantity": 2, "lot": "WALK01",
        "expires_on": str(dt.date.today() + dt.timedelta(days=60)), "trace_codes": trace_codes(2, 900)}]})
    lot = item.lots.get()
    with transaction.atomic():
        ledger.transfer(from_facility=order.facility, to_facility=c.village_clinic, lots=[(lot, 1)])
    services.set_limit(SYSTEM, c.village_clinic, {"item": item.pk, "minimum": 3})
    return {("pharmacy", None, "pk"): c.village_clinic.pk, ("pharmacy", "item_edit", "pk"): item.pk,
            ("pharmacy", "order", "pk"): order.pk, ("pharmacy", "order_cancel", "pk"): order.pk,
            ("api", "/api/v1/pharmacy/catalogue/{pk}", "pk"): item.pk,
            ("api", "/api/v1/pharmacy/stock/{facility}", "facility"): c.village_clinic.pk,
            ("api", "/api/v1/pharmacy/stock/{facility}/movements", "facility"): c.village_clinic.pk}
