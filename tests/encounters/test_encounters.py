"""Encounters: the shared record seen across levels, scoped and audited; importers."""

from __future__ import annotations

import datetime as dt
import io

from tests.cast import as_
from tests.indicators.world import build_world
from yigongti.core.models import AuditEvent
from yigongti.encounters.models import Death, InsuranceSettlement, PopulationByAge


def test_timeline_shows_visits_at_every_level(cast, login):
    build_world(cast)
    c = login(cast.township_doctor)
    r = c.get(f"/encounters/residents/{cast.resident.pk}/")
    assert r.status_code == 200
    facilities = {e.facility.name for e in r.context["page"].items}
    assert facilities == {"大塘村卫生室", "塔峰镇卫生院", "蓝山县中心医院"}
    # out-of-county care comes from the settlements (S3 at 湘雅, not the pharmacy of our county)
    assert [s.settlement_no for s in r.context["outside"]] == ["S3"]
    ev = AuditEvent.objects.filter(action="list", object_type="encounter").order_by("-seq").first()
    # the resident's own encounters: E1 E2 E6 E8 E9 (E10 and the others are the neighbour's)
    assert ev.detail["resident"] == cast.resident.pk and len(ev.detail["ids"]) == 5


def test_village_doctor_cannot_open_another_villages_timeline(cast, login):
    build_world(cast)
    c = login(cast.other_village_doctor)
    assert c.get(f"/encounters/residents/{cast.resident.pk}/").status_code == 404


def test_county_hospital_sees_the_patient_from_another_county_it_treated(cast, login):
    w = build_world(cast)
    e5 = w["encounters"][5]
    assert login(cast.county_doctor).get(f"/encounters/{e5.pk}/").status_code == 200
    assert AuditEvent.objects.filter(action="view", object_type="encounter", object_id=str(e5.pk),
                                     actor="county_doctor").exists()
    c = login(cast.township_doctor)
    assert c.get(f"/encounters/{e5.pk}/").status_code == 404
    assert AuditEvent.objects.filter(action="denied", object_type="encounter", object_id=str(e5.pk)).exists()


def test_outsider_sees_nothing(cast, login):
    w = build_world(cast)
    c = login(cast.outsider)
    assert c.get(f"/encounters/{w['encounters'][1].pk}/").status_code == 404
    assert c.get(f"/api/v1/encounters/{w['encounters'][1].pk}").status_code == 404


def test_doctor_records_an_encounter_through_the_api(cast, login):
    c = login(cast.village_doctor)
    r = c.post("/api/v1/encounters", {"resident": cast.resident.pk, "type": "outpatient", "admit_date": "2026-10-08",
                                      "main_icd10": "J06.9", "total_cost": "35.50", "drug_cost": "20.00"},
               content_type="application/json")
    assert r.status_code == 201, r.content
    assert r.json()["facility_code"] == cast.village_clinic.code
    bad = c.post("/api/v1/encounters", {"resident": cast.neighbour.pk, "type": "outpatient",
                                        "admit_date": "2026-10-08", "main_icd10": "XYZ"},
                 content_type="application/json")
    assert bad.status_code == 422
    assert {e["field"] if isinstance(e, dict) else e for e in bad.json()["errors"]} >= {"resident", "main_icd10"}


SETTLEMENTS_HEADER = ("settlement_no,id_number,residence_area,scheme,type,facility_code,facility_name,facility_county,"
                      "facility_level,admit_date,discharge_date,settle_date,total_cost,fund_paid")
SETTLEMENTS_CSV = SETTLEMENTS_HEADER + """
JS1,,431127100201,居民医保,住院,H43010500001,中南大学湘雅医院,430105,县外,2026-09-01,2026-09-10,2026-09-10,"32,000.50",18000
JS2,,431127100201,resident,outpatient,431127100B200,塔峰镇卫生院,431127,township,2026-09-03,,2026-09-03,80,40
JS3,,431127100201,resident,inpatient,431127A100001,县中心医院,431127,county,2026-09-05,,2026-09-09,5000,3000
JS4,,4311271,resident,outpatient,X,,431127,county,2026-13-01,,2026-09-01,abc,10
JS5,,411625100201,resident,outpatient,X,,411625,county,2026-09-01,,2026-09-01,10,5
"""


def test_settlement_import_reports_each_bad_row(cast, login):
    c = login(cast.bureau)
    f = io.BytesIO(SETTLEMENTS_CSV.encode("utf-8-sig"))
    f.name = "jiesuan.csv"
    r = c.post("/api/v1/encounters/imports/settlements", {"file": f})
    assert r.status_code == 200, r.content
    rep = r.json()
    assert (rep["total"], rep["imported"]) == (5, 2)
    errs = {(e["row"], e["field"]) for e in rep["errors"]}
    assert (3, "discharge_date") in errs  # inpatient without discharge date
    assert {(4, "residence_area"), (4, "admit_date"), (4, "total_cost")} <= errs
    assert any(e["field"] == "area_code" for e in rep["errors"])  # JS5: another county, out of scope
    s1 = InsuranceSettlement.objects.get(settlement_no="JS1")
    assert s1.facility_level == "out_of_county" and str(s1.total_cost) == "32000.50" and not s1.in_county
    # importing the same file again skips what is already there
    f.seek(0)
    again = c.post("/api/v1/encounters/imports/settlements", {"file": f}).json()
    assert again["imported"] == 0


def test_village_doctor_may_not_import(cast, login):
    f = io.BytesIO(SETTLEMENTS_CSV.encode())
    f.name = "x.csv"
    r = login(cast.village_doctor).post("/api/v1/encounters/imports/settlements", {"file": f})
    assert r.status_code == 403


def test_population_and_deaths_import_from_excel_and_parquet(cast, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from openpyxl import Workbook

    from yigongti.encounters.services import import_rows

    wb = Workbook()
    ws = wb.active
    ws.append(["区划代码", "年份", "性别", "起始年龄", "人口数"])
    ws.append(["431127100", 2026, "男", 30, 1200])
    ws.append(["431127100", 2026, "女", 32, 1100])  # not a band start
    path = tmp_path / "pop.xlsx"
    wb.save(path)
    rep = import_rows("population", str(path), actor=as_(cast.bureau))
    assert (rep.total, rep.imported) == (2, 1) and rep.errors[0].field == "age_from"
    assert PopulationByAge.objects.get().area_code == "431127100000"
    table = pa.table({"area_code": ["431127100201", "431127100201"], "sex": ["M", "F"], "age": [61, 45],
                      "death_date": [dt.date(2026, 3, 1), dt.date(2026, 4, 1)], "cause_icd10": ["I21.9", "bad"]})
    pq.write_table(table, tmp_path / "deaths.parquet")
    rep = import_rows("deaths", str(tmp_path / "deaths.parquet"), actor=as_(cast.bureau))
    assert (rep.imported, [(e.row, e.field) for e in rep.errors]) == (1, [(2, "cause_icd10")])
    assert Death.objects.get().cause_icd10 == "I21.9"


def test_a_lone_minus_sign_in_an_amount_is_a_row_error_not_a_crash():
    from yigongti.encounters.importers import ImportReport, parse_settlements

    header = SETTLEMENTS_HEADER.split(",")
    row = dict(zip(header, SETTLEMENTS_CSV.splitlines()[2].split(","), strict=True))  # JS2, a clean row
    report = ImportReport("settlements")
    assert len(parse_settlements([{**row, "total_cost": "-"}], report)) == 0
    assert [(e.row, e.field) for e in report.errors] == [(1, "total_cost")]
    assert "金额不是数字" in report.errors[0].message
