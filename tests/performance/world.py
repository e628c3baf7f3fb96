"""Payroll imported for last year, a scheme for the township centers with an encounter-based workload item, an
indicator item and satisfaction, last month scored: for the performance tests and the every-page walk
(tests/test_every_page.py), whose URL parameters ``performance_world`` returns."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

from tests.cast import SYSTEM

LAST_MONTH = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
ITEMS = [
    {"kind": "workload", "measure": "visits", "weight": "40", "target": "4", "direction": "higher", "cap": "1.2"},
    {"kind": "indicator", "measure": "DRUG_RATIO", "weight": "20", "target": "40", "direction": "lower", "cap": "1"},
    {"kind": "satisfaction", "measure": "satisfaction", "weight": "40", "target": "90", "direction": "higher",
     "cap": "1"},
]


def _encounter(c, facility, day, dept=None, kind="outpatient"):
    from yigongti.encounters.models import Encounter

    return Encounter.objects.create(resident=c.resident, area_code=c.resident.area_code, residence_county="431127",
                                    facility=facility, department=dept, type=kind, admit_date=day,
                                    total_cost=Decimal(100), drug_cost=Decimal(30))


def performance_objects(c, staff=None) -> dict:
    """The import, the scheme and last month's run."""
    from yigongti.orgs.models import Staff
    from yigongti.performance import payroll, services

    year = dt.date.today().year - 1
    staff = staff or list(Staff.objects.filter(work_facility__community=c.community))
    rows = payroll.example_rows(staff, lambda s: (Decimal(60000 if s.work_facility_id == c.county_hospital.pk
                                                          else 40000), Decimal(30000), Decimal(10000), Decimal(0)))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "payroll.xlsx"
        path.write_bytes(payroll.write_workbook([*rows, ["", "查无此人", "", "1", "1", "1", "1", "4"]]))
        batch = payroll.import_payroll(path, "payroll.xlsx", year, actor=SYSTEM, community=c.community)
    scheme = services.save_scheme(SYSTEM, None, {"name": "乡镇卫生院绩效方案", "level": "township", "pool": "100000"},
                                  ITEMS, community=c.community)
    day = LAST_MONTH + dt.timedelta(days=3)
    dept = c.township_center.departments.order_by("pk").first()
    for _ in range(3):
        _encounter(c, c.township_center, day, dept)
    _encounter(c, c.other_center, day)
    services.enter_satisfaction(SYSTEM, {"facility": c.township_center.pk, "month": f"{LAST_MONTH:%Y-%m}",
                                         "score": "95", "surveyed": "40"})
    run = services.score_month(SYSTEM, scheme, LAST_MONTH)
    return {"batch": batch, "scheme": scheme, "run": run}


def performance_world(c) -> dict:
    """The every-page walk's URL parameters of the performance pages and API."""
    o = performance_objects(c)
    batch, scheme, run = o["batch"], o["scheme"], o["run"]
    return {("performance", None, "pk"): batch.pk, ("performance", "payroll_facility", "pk"): c.township_center.pk,
            ("performance", "scheme", "pk"): scheme.pk, ("performance", "score_facility", "pk"): run.pk,
            ("performance", "score_facility", "facility_id"): c.township_center.pk,
            ("api", "/api/v1/performance/scores/{pk}/facilities/{facility_id}", "pk"): run.pk,
            ("api", "/api/v1/performance/scores/{pk}/facilities/{facility_id}", "facility_id"): c.township_center.pk}
