"""The national registry export: the constructed month's chest-pain and stroke cases, written as Excel and read
back with openpyxl (one sheet per registry section, gaps marked), as CSV, through the page and the API; who may
export; every export audited."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.cast import as_
from tests.pathways.test_dashboards import build_month, make_case, residents
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.core.models import AuditEvent
from yigongti.emergency.models import Call, CallEvent, Mission, PreArrivalAlert, PrehospitalRecord, VitalSigns
from yigongti.pathways import export as ex
from yigongti.pathways import services

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def month(ems):
    return build_month(ems)


def hm(t0: dt.datetime, minutes: float) -> str:
    return timezone.localtime(t0 + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M")


def sheet_rows(wb, name: str) -> dict[str, dict[str, object]]:
    """{case number: {field: value}} of one sheet (the first column is the case number)."""
    ws = wb[name]
    values = list(ws.iter_rows(values_only=True))
    header = values[0]
    return {row[0]: {h: ("" if v is None else v) for h, v in zip(header, row, strict=True)} for row in values[1:]}


def test_every_registry_field_is_mapped_or_listed_as_a_gap():
    for kind, sections in ex.SECTIONS.items():
        fields = ex.fields_of(kind)
        assert {f.section for f in fields} == set(sections)
        assert len({(f.section, f.name) for f in fields}) == len(fields)
        assert all(f.source for f in fields)
        gaps = ex.gaps(kind)
        assert gaps and all(f.get is None and "未采集" in f.source for f in gaps)
    assert "罪犯血管" in {f.name for f in ex.gaps("chest_pain")}
    assert "导丝通过时间" not in {f.name for f in ex.gaps("chest_pain")}
    with pytest.raises(InvalidInput):
        ex.fields_of("trauma")


def test_the_chest_pain_export_reads_back_from_the_xlsx_section_by_section(ems, month):
    c = ems.cast
    t = ex.export(as_(c.county_doctor), month.center, month.month)
    wb = load_workbook(io.BytesIO(ex.to_xlsx(t)))
    assert wb.sheetnames == ["基本信息", "院前急救", "院内诊治", "介入治疗", "转归", "核对指标", "字段对照"]
    a, b, cc = (month.cases[k] for k in "ABC")
    basic = sheet_rows(wb, "基本信息")
    assert set(basic) == {month.cases[k].case_no for k in "ABCD"}  # not the ruled-out case, not the stroke
    ra = basic[a.case_no]
    assert ra["患者姓名"] == a.resident.name and ra["证件号码"] == a.resident.id_number
    assert ra["性别"] == "男" and ra["来院方式"] == "转院" and ra["救治医院"] == "蓝山县中心医院"
    assert ra["证件类型"] == "居民身份证" and ra["联系电话"] == a.resident.phone
    assert ra["发病地址"] == "塔峰镇大塘村" and ra["民族"] == ""  # a gap: left for the reviewer
    pre = sheet_rows(wb, "院前急救")
    assert pre[a.case_no]["首诊医院"] == "塔峰镇卫生院"
    assert pre[a.case_no]["到达首诊医院时间"] == hm(month.t0, 0)
    assert pre[a.case_no]["离开首诊医院时间"] == hm(month.t0, 25)
    assert pre[a.case_no]["首次医疗接触时间"] == hm(month.t0, 0)
    assert pre[a.case_no]["首份心电图时间"] == hm(month.t0, 8)
    assert pre[a.case_no]["心电图诊断时间"] == hm(month.t0, 15)
    assert pre[cc.case_no]["首诊医院"] == ""
    hosp = sheet_rows(wb, "院内诊治")
    assert hosp[a.case_no]["到达本院大门时间"] == hm(month.t0, 60)
    assert hosp[a.case_no]["初步诊断"] == "STEMI" and hosp[a.case_no]["再灌注措施"] == "转运PCI"
    assert hosp[cc.case_no]["再灌注措施"] == "直接PCI"
    assert hosp[month.cases["D"].case_no]["初步诊断"] == "NSTEMI"
    assert hosp[month.cases["D"].case_no]["肌钙蛋白报告时间"] == hm(month.t0, 30)
    pci = sheet_rows(wb, "介入治疗")
    assert pci[a.case_no]["导丝通过时间"] == hm(month.t0, 130) and pci[b.case_no]["导丝通过时间"] == hm(month.t0, 200)
    check = sheet_rows(wb, "核对指标")
    assert check[a.case_no]["D2W(分钟)"] == "70" and check[a.case_no]["DIDO(分钟)"] == "25"
    assert check[b.case_no]["D2W(分钟)"] == "120"
    assert check[b.case_no]["延误原因"] == "入门至导丝通过（D2W）：导管室/手术室占用"
    assert check[cc.case_no]["DIDO(分钟)"] == ""
    # the gaps' headers are amber, the captured ones are not
    ws = wb["介入治疗"]
    header = {cell.value: cell for cell in ws[1]}
    assert header["罪犯血管"].fill.fgColor.rgb.endswith("FFE699")
    assert header["导丝通过时间"].fill.fgColor.rgb in ("00000000", None)
    mapping = list(wb["字段对照"].iter_rows(values_only=True))
    assert mapping[0] == ("分区", "平台字段", "数据来源", "采集情况")
    assert ("介入治疗", "罪犯血管", "未采集", "未采集") in mapping
    assert len(mapping) - 1 == len(ex.CHEST_PAIN)


def test_the_120_record_fills_the_first_aid_section(ems, month):
    c = ems.cast
    t0 = month.t0
    call = Call.objects.create(call_no="120-2612020001", rang_at=t0 - dt.timedelta(minutes=20), resident=None,
                               address="大塘村村口老樟树")
    mission = Mission.objects.create(call=call, vehicle=ems.vehicles["A1"], dispatched_at=t0 - dt.timedelta(minutes=18))
    for kind, minutes in (("dispatch_order", -18), ("wheels_rolling", -17), ("on_scene", -5), ("leave_scene", 10)):
        CallEvent.objects.create(call=call, mission=mission, kind=kind, at=t0 + dt.timedelta(minutes=minutes))
    record = PrehospitalRecord.objects.create(mission=mission, impression="急性下壁心肌梗死？", impression_code="stemi")
    VitalSigns.objects.create(record=record, at=t0, sbp=96, dbp=60, heart_rate=48, spo2=93, gcs=15)
    VitalSigns.objects.create(record=record, at=t0 + dt.timedelta(minutes=8), sbp=110, dbp=70)
    PreArrivalAlert.objects.create(mission=mission, call=call, facility=c.county_hospital, pathway="chest_pain",
                                   sent_at=t0 + dt.timedelta(minutes=6))
    person = residents(c, 1, start=7)[0]
    case = make_case(c, person, "chest_pain", t0, {"fmc": 0, "door": 30, "wire": 95}, subtype="stemi", call=call)
    t = ex.export(as_(c.county_doctor), month.center, month.month)
    row = dict(zip([f"{f.section}/{f.name}" for f in t.fields],
                   next(r for r in t.rows if r[0] == case.case_no), strict=True))
    assert row["院前急救/120受理号"] == "120-2612020001" and row["院前急救/呼救时间"] == hm(t0, -20)
    assert row["院前急救/出车时间"] == hm(t0, -17) and row["院前急救/到达现场时间"] == hm(t0, -5)
    assert row["院前急救/离开现场时间"] == hm(t0, 10) and row["院前急救/派车时间"] == hm(t0, -18)
    assert row["院前急救/救护车"] == "A1 湘M·12001" and row["院前急救/出车单位"] == "蓝山县急救中心"
    assert row["院前急救/院前初步诊断"] == "急性下壁心肌梗死？"
    assert row["院前急救/院前血压(mmHg)"] == "96/60" and row["院前急救/院前心率(次/分)"] == "48"  # the first vitals
    assert row["院前急救/是否提前预警"] == "是" and row["院前急救/预警时间"] == hm(t0, 6)
    assert row["基本信息/发病地址"] == "大塘村村口老樟树" and row["基本信息/来院方式"] == "呼叫120出车"


def test_the_csv_has_one_row_per_case_with_section_and_field_headers(ems, month):
    t = ex.export(as_(ems.cast.county_doctor), month.center, month.month)
    body = ex.to_csv(t)
    assert body.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header, rows = table[0], table[1:]
    assert header[0] == "基本信息/院内病例号" and "介入治疗/导丝通过时间" in header
    assert len(rows) == 4 and len(header) == len(ex.CHEST_PAIN)
    a = next(r for r in rows if r[0] == month.cases["A"].case_no)
    assert a[header.index("介入治疗/导丝通过时间")] == hm(month.t0, 130)


def test_the_stroke_export_has_the_stroke_registry_sections(ems, month):
    c = ems.cast
    s = month.cases["S"]
    services.record_event(as_(c.county_doctor), s, "nihss", at=month.t0 + dt.timedelta(minutes=10), value="12")
    wb = load_workbook(io.BytesIO(ex.to_xlsx(ex.export(as_(c.county_doctor), month.stroke, month.month))))
    assert wb.sheetnames == ["基本信息", "院前急救", "院内诊治", "静脉溶栓", "血管内治疗", "转归", "核对指标",
                             "字段对照"]
    hosp = sheet_rows(wb, "院内诊治")[s.case_no]
    assert hosp["入院NIHSS评分"] == "12" and hosp["头颅CT完成时间"] == hm(month.t0, 20)
    assert hosp["卒中类型"] == "缺血性卒中"
    ivt = sheet_rows(wb, "静脉溶栓")[s.case_no]
    assert ivt["是否静脉溶栓"] == "是" and ivt["溶栓开始时间"] == hm(month.t0, 50) and ivt["溶栓药物"] == ""
    assert sheet_rows(wb, "核对指标")[s.case_no]["DNT(分钟)"] == "50"
    assert sheet_rows(wb, "血管内治疗")[s.case_no]["是否血管内治疗"] == "否"


def test_who_may_export_and_every_export_is_audited(ems, month):
    c = ems.cast
    t = ex.export(as_(c.manager), month.center, month.month)
    assert len(t.rows) == 4
    ev = AuditEvent.objects.filter(action="export", object_type="pathway_case").order_by("-pk").first()
    assert ev is not None and sorted(ev.detail["ids"]) == sorted(month.cases[k].pk for k in "ABCD")
    # the township's doctor exports the unit's cases (those it saw first), not the county center's
    unit = ex.export(as_(c.township_doctor), month.unit, month.month)
    assert {r[0] for r in unit.rows} == {month.cases["A"].case_no, month.cases["B"].case_no}
    for who in (c.township_doctor, c.outsider, c.bureau, c.village_doctor):
        with pytest.raises(Forbidden):
            ex.export(as_(who), month.center, month.month)
    assert AuditEvent.objects.filter(action="denied").exists()
    assert [p.pk for p in ex.exportable_centers(c.township_doctor)] == [month.unit.pk]
    assert ex.exportable_centers(c.bureau) == []


def test_a_bad_period_is_refused_with_a_reason(ems, month):
    doctor = as_(ems.cast.county_doctor)
    with pytest.raises(InvalidInput, match="尚未到来"):
        ex.export(doctor, month.center, "2999-01")
    with pytest.raises(InvalidInput, match="不能早于"):
        ex.export(doctor, month.center, "2026-06", "2026-05")
    with pytest.raises(InvalidInput, match="12 个月"):
        ex.export(doctor, month.center, "2024-01", "2026-01")


def test_the_export_page_and_the_api_serve_the_files(client, login, ems, month):
    c = ems.cast
    login(c.county_doctor)
    page = client.get(reverse("pathways:export"))
    assert page.status_code == 200 and 'data-testid="gap"' in page.content.decode()
    resp = client.get(reverse("pathways:export"), {"center": month.center.pk, "first": month.month, "format": "xlsx"})
    assert resp.status_code == 200 and resp["Content-Type"] == XLSX
    assert f"registry-chest_pain-{c.county_hospital.code}-{month.month}.xlsx" in resp["Content-Disposition"]
    wb = load_workbook(io.BytesIO(resp.content))
    assert month.cases["A"].case_no in sheet_rows(wb, "介入治疗")
    bad = client.get(reverse("pathways:export"), {"center": month.center.pk, "first": "2999-01", "format": "csv"})
    assert bad.status_code == 400 and "尚未到来" in bad.content.decode()
    api = client.get(f"/api/v1/pathways/export/{month.center.pk}", {"first": month.month})
    assert api.status_code == 200
    data = api.json()
    assert data["columns"][0] == "基本信息/院内病例号" and len(data["rows"]) == 4
    csv_resp = client.get(f"/api/v1/pathways/export/{month.center.pk}", {"first": month.month, "format": "csv"})
    assert csv_resp.status_code == 200 and "介入治疗/导丝通过时间" in csv_resp.content.decode("utf-8-sig")
    mapping = client.get("/api/v1/pathways/export/mapping/chest_pain").json()
    assert mapping["gaps"] == len(ex.gaps("chest_pain")) and mapping["fields"][0]["field"] == "院内病例号"
    assert client.get("/api/v1/pathways/export/mapping/trauma").status_code == 422
    assert client.get(f"/api/v1/pathways/export/{month.center.pk}", {"first": "2026-13"}).status_code == 422
    login(c.outsider)
    assert client.get(reverse("pathways:export")).status_code == 403
    assert client.get(f"/api/v1/pathways/export/{month.center.pk}", {"first": month.month}).status_code == 403


def test_the_documented_mapping_names_every_field_and_every_gap():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "pathways-registry.md").read_text(encoding="utf-8")
    for kind in ex.FIELDS:
        gaps_part = doc.split("## Stroke")[0 if kind == "chest_pain" else 1]
        for f in ex.fields_of(kind):
            assert f"| {f.section} | {f.name} |" in gaps_part, f"{kind}: {f.name} is not in the documented mapping"


def test_the_export_page_refuses_a_center_that_does_not_export(client, login, ems, month):
    from yigongti.pathways.models import PathwayCenter

    c = ems.cast
    trauma = PathwayCenter.objects.get(facility=c.county_hospital, kind="trauma")
    login(c.county_doctor)
    assert client.get(reverse("pathways:export"), {"center": trauma.pk}).status_code == 403
    assert client.get(reverse("pathways:export"), {"center": "x"}).status_code == 400
    assert client.get(reverse("pathways:export"), {"center": 99999}).status_code == 404
    stroke = client.get(reverse("pathways:export"), {"center": month.stroke.pk})
    assert stroke.status_code == 200 and "mTICI分级" in stroke.content.decode()
