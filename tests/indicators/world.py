"""A small hand-countable month of care on top of the cast (tests/cast.py).

Beds are set so that bed-days are easy to count: county hospital 10, 塔峰镇卫生院 2, others 0
→ open bed-days in March 2026 = 12 × 31 = 372.

Encounters (E#) — 2026 unless said:
 E1 resident      大塘村卫生室  outpatient 03-02  total 50    drug 20   material 0    fund 30
 E2 resident      塔峰镇卫生院  outpatient 03-05  total 100   drug 40 (of which 中药饮片 15)  material 10  TCM
 E3 neighbour     石桥村卫生室  outpatient 03-10  cost missing (NULL)
 E4 neighbour     县中心医院    emergency  03-15  total 300   drug 90   material 30
 E5 far_resident  县中心医院    outpatient 03-20  total 200   drug 60   material 20   (lives in 郸城县 411625)
 E6 resident      县中心医院    inpatient  03-25 → 04-03 total 8000 drug 2000 material 1600 surgery (spans month end)
 E7 neighbour     塔峰镇卫生院  inpatient  03-10 → 03-14 total 2000 drug 700 material 300
 E8 resident      县中心医院    inpatient  02-26 → 03-02 total 6000 drug 1500 material 1200 (spans month start)
 E9 resident      大塘村卫生室  outpatient 2025-03-03 total 40 drug 16 (a year earlier, for growth)
 E10 neighbour    县中心医院    inpatient  03-30 → still in hospital: no discharge yet, but it occupies a bed
                                 until the data's last day (04-03, E6's discharge)
 E11 neighbour    塔峰镇卫生院  inpatient  04-01 → 04-01 (admitted and discharged the same day: one bed-day, one
                                 day of stay) total 500 drug 100 material 50

The encounters cover 2025-03 and 2026-02 … 2026-04; the settlements only 2026-03.

Settlements (S#) of county insureds (431127) and one of another county's:
 S1 resident   inpatient  县中心医院 (county, 431127)      settled 03-02 total 6000  fund 4200
 S2 neighbour  inpatient  塔峰镇卫生院 (township, 431127)  settled 03-14 total 2000  fund 1500
 S2R neighbour inpatient  塔峰镇卫生院 (township, 431127)  settled 03-16 total −2000 fund −1500 冲销 of S2
 S2B neighbour inpatient  塔峰镇卫生院 (township, 431127)  settled 03-16 total 2100  fund 1600  (settled again)
 S3 resident   inpatient  湘雅医院 (out_of_county, 430102) settled 03-20 total 30000 fund 18000
 S4 resident   outpatient 大塘村卫生室 (village, 431127)   settled 03-02 total 50    fund 30
 S5 resident   pharmacy   药店 (pharmacy, 431127)          settled 03-05 total 100   fund 80   (excluded)
 S6 far_res.   inpatient  郸城县人民医院 (county, 411625)  settled 03-08 total 5000  fund 3000 (郸城's own)
 S7 neighbour  inpatient  郸城县人民医院 (county, 411625)  settled 03-25 total 10000 fund 6000 (out of county for us)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from yigongti.encounters.models import Encounter, InsuranceSettlement
from yigongti.orgs.models import Facility

D = dt.date


def _enc(cast, who, facility, etype, admit, discharge=None, total=None, drug=None, material=None, fund=None,
         tcm=False, surgery=False, herbal=None):
    r = getattr(cast, who)
    def money(v):
        return None if v is None else Decimal(v)

    return Encounter.objects.create(
        resident=r, area_code=r.area_code, residence_county=r.area_code[:6], facility=facility, type=etype,
        admit_date=admit, discharge_date=discharge if etype == "inpatient" else (discharge or admit),
        total_cost=money(total), drug_cost=money(drug), material_cost=money(material), insurance_paid=money(fund),
        herbal_cost=money(herbal),
        tcm=tcm, surgery=surgery, main_icd10="J06.9")


def _st(cast, no, who, etype, fcode, fcounty, level, settle, total, fund, reverses=""):
    r = getattr(cast, who)
    return InsuranceSettlement.objects.create(
        settlement_no=no, resident=r, area_code=r.area_code, residence_county=r.area_code[:6], type=etype,
        facility_code=fcode, facility_county=fcounty, facility_level=level, admit_date=settle,
        discharge_date=settle if etype == "inpatient" else None, settle_date=settle, total_cost=Decimal(total),
        fund_paid=Decimal(fund), reverses_no=reverses)


def build_world(cast) -> dict:
    Facility.objects.filter(pk=cast.county_hospital.pk).update(open_beds=10)
    Facility.objects.filter(pk=cast.township_center.pk).update(open_beds=2)
    Facility.objects.filter(pk=cast.other_center.pk).update(open_beds=0)
    Facility.objects.filter(pk=cast.far_hospital.pk).update(open_beds=0)
    h, c, v, ov = cast.county_hospital, cast.township_center, cast.village_clinic, cast.other_clinic
    e = {
        1: _enc(cast, "resident", v, "outpatient", D(2026, 3, 2), total="50", drug="20", material="0", fund="30"),
        2: _enc(cast, "resident", c, "outpatient", D(2026, 3, 5), total="100", drug="40", material="10", tcm=True,
                herbal="15"),
        3: _enc(cast, "neighbour", ov, "outpatient", D(2026, 3, 10)),
        4: _enc(cast, "neighbour", h, "emergency", D(2026, 3, 15), total="300", drug="90", material="30"),
        5: _enc(cast, "far_resident", h, "outpatient", D(2026, 3, 20), total="200", drug="60", material="20"),
        6: _enc(cast, "resident", h, "inpatient", D(2026, 3, 25), D(2026, 4, 3), total="8000", drug="2000",
                material="1600", surgery=True),
        7: _enc(cast, "neighbour", c, "inpatient", D(2026, 3, 10), D(2026, 3, 14), total="2000", drug="700",
                material="300"),
        8: _enc(cast, "resident", h, "inpatient", D(2026, 2, 26), D(2026, 3, 2), total="6000", drug="1500",
                material="1200"),
        9: _enc(cast, "resident", v, "outpatient", D(2025, 3, 3), total="40", drug="16"),
        10: _enc(cast, "neighbour", h, "inpatient", D(2026, 3, 30), None),
        11: _enc(cast, "neighbour", c, "inpatient", D(2026, 4, 1), D(2026, 4, 1), total="500", drug="100",
                 material="50"),
    }
    s = [
        _st(cast, "S1", "resident", "inpatient", h.code, "431127", "county", D(2026, 3, 2), "6000", "4200"),
        _st(cast, "S2", "neighbour", "inpatient", c.code, "431127", "township", D(2026, 3, 14), "2000", "1500"),
        _st(cast, "S2R", "neighbour", "inpatient", c.code, "431127", "township", D(2026, 3, 16), "-2000", "-1500",
            reverses="S2"),
        _st(cast, "S2B", "neighbour", "inpatient", c.code, "431127", "township", D(2026, 3, 16), "2100", "1600"),
        _st(cast, "S3", "resident", "inpatient", "H43010200001", "430102", "out_of_county", D(2026, 3, 20), "30000",
            "18000"),
        _st(cast, "S4", "resident", "outpatient", v.code, "431127", "village", D(2026, 3, 2), "50", "30"),
        _st(cast, "S5", "resident", "pharmacy", "P43112700001", "431127", "pharmacy", D(2026, 3, 5), "100", "80"),
        _st(cast, "S6", "far_resident", "inpatient", cast.far_hospital.code, "411625", "county", D(2026, 3, 8),
            "5000", "3000"),
        _st(cast, "S7", "neighbour", "inpatient", cast.far_hospital.code, "411625", "county", D(2026, 3, 25),
            "10000", "6000"),
    ]
    return {"encounters": e, "settlements": s}
