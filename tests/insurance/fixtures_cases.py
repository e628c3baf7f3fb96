"""Inpatient stays on top of the cast for the settlement-list, filing and pay-later tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from yigongti.encounters.models import Diagnosis, Encounter, InsuranceSettlement, Procedure
from yigongti.orgs.models import Department

D = dt.date
PNEUMONIA = "J18.900"  # 肺炎: MDCE → ES3 → ES35 under 2.0 and 1.1
NOT_MAIN = "Z95.800x001"  # known to both versions, not valid as a main diagnosis under 2.0
PROSTATE = "N40.x00"  # 前列腺增生: men only (MDCM)
DELIVERY = "O80.000"  # 单胎顺产: women only (MDCO)
PRETERM = "P07.300"  # 早产儿 (MDCP)
CHOLECYSTECTOMY = "51.2200"  # a procedure the tables know
UNKNOWN_PROCEDURE = "99.9999x999"


def stay(cast, who: str, facility, admit: dt.date, discharge: dt.date | None, main: str = PNEUMONIA,
         secondary: tuple[str, ...] = (), procedures: tuple[str, ...] = (), total: str = "6000",
         department: str = "呼吸内科", fund: str | None = None) -> Encounter:
    """An inpatient stay of a cast resident, its secondary diagnoses in order, its procedures and, when
    ``fund`` is given, its settlement."""
    r = getattr(cast, who)
    dept = Department.objects.get_or_create(facility=facility, code=department, defaults={"name": department})[0]
    e = Encounter.objects.create(
        resident=r, area_code=r.area_code, residence_county=r.area_code[:6], facility=facility, department=dept,
        type="inpatient", admit_date=admit, discharge_date=discharge, main_icd10=main, total_cost=Decimal(total),
        insurance_paid=Decimal(total) * Decimal("0.6"), self_pay=Decimal(total) * Decimal("0.4"))
    for i, code in enumerate(secondary, 1):
        Diagnosis.objects.create(encounter=e, seq=i, icd10=code)
    for code in procedures:
        Procedure.objects.create(encounter=e, code=code)
    if fund is not None:
        InsuranceSettlement.objects.create(
            settlement_no=f"JS{e.pk}", resident=r, area_code=r.area_code, residence_county=r.area_code[:6],
            type="inpatient", facility_code=facility.code, facility_county=facility.region.code[:6],
            facility_level="county", admit_date=admit, discharge_date=discharge, settle_date=discharge or admit,
            total_cost=Decimal(total), fund_paid=Decimal(fund), encounter=e)
    return e
