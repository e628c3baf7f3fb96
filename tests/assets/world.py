"""An asset with a maintenance record, a transfer and a pending disposal, for the every-page walk
(tests/test_every_page.py): the URL parameters of the register's pages and API."""

from __future__ import annotations

import datetime as dt

from tests.assets.conftest import asset_data
from tests.cast import SYSTEM


def assets_world(c) -> dict:
    from yigongti.assets import services

    a = services.register_asset(SYSTEM, asset_data(c.township_center, number="WALK-0001"))
    services.record_maintenance(SYSTEM, a, {"kind": "calibration", "done_on": str(dt.date.today()),
                                            "next_due": str(dt.date.today() + dt.timedelta(days=365))})
    services.transfer_asset(SYSTEM, a, {"to_facility": c.village_clinic.pk})
    d = services.request_disposal(SYSTEM, a, {"reason": "巡检用"})
    st = services.start_stocktake(SYSTEM, c.village_clinic)
    services.scan(SYSTEM, st, services.label_text(a))
    return {("assets", None, "pk"): a.pk, ("assets", "disposal_decide", "pk"): d.pk,
            ("assets", "stocktake", "pk"): st.pk,
            ("api", "/api/v1/assets/{pk}", "pk"): a.pk}
