"""The dashboard, drill-down, reports and evidence, seen by the cast."""

from __future__ import annotations

import io

import pytest

from tests.indicators.world import build_world
from yigongti.core.models import AuditEvent
from yigongti.indicators.services import refresh_facts


@pytest.fixture
def world(cast):
    build_world(cast)
    refresh_facts()
    return cast


def test_bureau_sees_every_indicator_with_target_and_status(world, login):
    c = login(world.bureau)
    r = c.get("/indicators/?period=2026-03")
    assert r.status_code == 200
    html = r.content.decode()
    for code in ("N01", "N04", "N07", "N08", "N11", "N13", "N14", "BED_OCC", "ALOS", "DRUG_RATIO"):
        assert f'data-testid="card-{code}"' in html
    # N07 = 60.00 % against ≥ 65 → red (more than 5 % short)
    assert 'data-testid="value-N07">60.00' in html
    assert 'data-testid="card-N07" data-status="red"' in html
    # DRUG_RATIO (without 中药饮片) 27.69 ≤ 30 → green
    assert 'data-testid="card-DRUG_RATIO" data-status="green"' in html
    assert 'data-testid="value-DRUG_RATIO">27.69' in html
    # the older names are notes on the cards they alias, never cards of their own with internal codes
    assert 'card-ALIAS_' not in html and "ALIAS_COUNTY_RATE</" not in html
    assert 'data-testid="alias-ALIAS_COUNTY_RATE">' in html and "县域就诊率</span>：60.00%" in html
    assert 'data-testid="alias-ALIAS_GRASSROOTS_RATE">又称“县域内基层就诊率”' in html
    # targets carry their source, or say they are a local default
    assert 'title="国办发〔2015〕70号">目标 ≥ 65%' in html
    assert 'data-testid="target-N08" title="本地默认值（卫健局可调整）"' in html
    assert 'data-testid="target-BED_OCC" title="本地默认值（卫健局可调整）">目标 75–93%' in html
    # counts print without decimals
    assert 'data-testid="value-VISITS">5<' in html


def test_a_year_says_which_months_it_covers_and_why_growth_is_missing(world, login):
    c = login(world.bureau)
    html = c.get("/indicators/?period=2026").content.decode()
    assert 'data-testid="coverage">（有数据：2026年3–4月）' in html
    assert 'data-testid="value-COST_GROWTH">—' in html
    assert 'data-testid="note-COST_GROWTH"> · 上年同期（2025年3–4月）数据不全，仅2025年3月有数据' in html


def test_patient_flow_indicators_have_no_facility_ranking(world, login):
    c = login(world.bureau)
    r = c.get("/indicators/?period=2026-03&focus=N07")
    assert r.context["children"] and r.context["facilities"] == []
    r = c.get("/indicators/N07/?period=2026-03")
    assert r.context["facilities"] == [] and 'data-testid="ranking-facility"' not in r.content.decode()
    r = c.get("/indicators/ALOS/?period=2026-03")
    assert r.context["facilities"]  # a facility KPI is ranked by facility


def test_detail_prints_counts_without_decimals_and_says_what_is_refined(world, login):
    c = login(world.bureau)
    html = c.get("/indicators/GR_VISIT_GROWTH/?period=2026-03&area=county:431127000000").content.decode()
    assert "<dd class=\"col-7\">2</dd>" in html  # 3 − 1 visits, not 2.0000
    html = c.get("/indicators/N13/?period=2026-03&area=county:431127000000").content.decode()
    assert 'data-testid="refine"' in html and "慢病管理（chronic）" in html
    assert 'data-testid="drill-records"' not in html  # a registry figure has no encounter drill-down


def test_zero_denominator_shows_a_dash(world, login):
    c = login(world.bureau)
    html = c.get("/indicators/?period=2026-05").content.decode()
    assert 'data-testid="value-N07">—' in html
    assert 'data-testid="value-ALOS">—' in html


def test_drill_down_lists_the_encounters_and_is_audited(world, login):
    c = login(world.bureau)
    r = c.get("/indicators/N07/records/?period=2026-03&area=county:431127000000")
    assert r.status_code == 200
    items = r.context["page"].items
    assert items and {e.facility.care_level for e in items} <= {"township", "village"}
    assert len(r.context["page"].items) == 3  # E1 E2 E3
    ev = AuditEvent.objects.filter(action="list", object_type="encounter").order_by("-seq").first()
    assert ev.detail["indicator"] == "N07" and len(ev.detail["ids"]) == 3
    assert "李建国" not in r.content.decode()  # names are masked in the drill-down


def test_village_doctor_drill_down_sees_only_their_village(world, login):
    c = login(world.village_doctor)
    r = c.get("/indicators/VISITS/records/?period=2026-03&area=county:431127000000")
    # scope of 大塘村: E1 (its clinic, its resident) and E2 (its resident at the township center)
    assert sorted(e.admit_date.day for e in r.context["page"].items) == [2, 5]


def test_outsider_cannot_open_our_county(world, login):
    c = login(world.outsider)
    r = c.get("/indicators/?area=county:431127000000")
    assert r.status_code == 404


def test_settlement_drill_down(world, login):
    c = login(world.bureau)
    r = c.get("/indicators/N11/records/?period=2026-03&area=county:431127000000")
    nos = sorted(s.settlement_no for s in r.context["page"].items)
    # inpatient, no pharmacy, insureds of our county; the reversal S2R and the new settlement S2B are listed
    assert nos == ["S1", "S2", "S2B", "S2R", "S3", "S7"]


def test_reports_download_as_excel_and_pdf(world, login):
    from openpyxl import load_workbook

    c = login(world.bureau)
    r = c.get("/indicators/report.xlsx?period=2026-03&area=county:431127000000")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    assert wb.sheetnames == ["指标总览", "月度趋势", "乡镇排名", "机构排名"]
    rows = {row[0]: row for row in wb["指标总览"].iter_rows(min_row=3, values_only=True)}
    assert rows["N07"][4] == 60.0 and rows["N07"][6] == "未达标"
    pdf = c.get("/indicators/report.pdf?period=2026-03&area=county:431127000000")
    body = b"".join(pdf.streaming_content)
    assert body.startswith(b"%PDF") and len(body) > 2000
    assert AuditEvent.objects.filter(action="export", object_type="indicator_report").count() == 2


def test_manager_files_evidence_for_a_qualitative_indicator(world, login):
    c = login(world.manager)
    r = c.post(f"/indicators/evidence/?area=community:{world.community.pk}",
               {"indicator": "N02", "item": "board", "status": "met", "evidence": "2026年第1次管委会纪要",
                "year": "2026"})
    assert r.status_code == 302
    html = c.get("/indicators/?period=2026-03").content.decode()
    assert 'data-testid="card-N02"' in html and "1/3" in html
    # a village doctor may not
    c2 = login(world.village_doctor)
    c2.post("/indicators/evidence/?area=county:431127000000",
            {"indicator": "N02", "item": "charter", "status": "met", "year": "2026"})
    from yigongti.indicators.models import EvidenceItem

    assert not EvidenceItem.objects.filter(item="charter").exists()


def test_api_returns_figures_and_definitions(world, login):
    c = login(world.bureau)
    defs = c.get("/api/v1/indicators/definitions").json()
    assert {d["code"] for d in defs} >= {f"N{i:02d}" for i in range(1, 15)}
    data = c.get("/api/v1/indicators/figures?period=2026-03&area=county:431127000000").json()
    n07 = next(f for f in data["figures"] if f["code"] == "N07")
    assert n07["value"] == "60.00" and n07["status"] == "red"
    assert data["coverage"] == ""  # March is covered
    n11 = next(f for f in data["figures"] if f["code"] == "N11")
    assert n11["aliases"] == [{"code": "ALIAS_COUNTY_RATE", "name": "县域就诊率", "value": "60.00"}]
    assert not any(f["code"].startswith("ALIAS_") for f in data["figures"])
    bed = next(d for d in defs if d["code"] == "BED_OCC")
    assert (bed["target"], bed["target_high"], bed["target_origin"]) == ("75", "93", "本地默认值（卫健局可调整）")
    assert next(d for d in defs if d["code"] == "MATERIAL_100")["target_origin"] == "国办发〔2015〕38号"
    year = c.get("/api/v1/indicators/figures?period=2026&area=county:431127000000").json()
    assert year["coverage"] == "2026年3–4月"
    growth = next(f for f in year["figures"] if f["code"] == "COST_GROWTH")
    assert growth["value"] is None and growth["note"].startswith("上年同期（2025年3–4月）数据不全")
    bad = c.get("/api/v1/indicators/figures?period=2026-13")
    assert bad.status_code == 422 and bad["Content-Type"] == "application/problem+json"


def test_worker_writes_the_monthly_report_at_month_end(world, settings, tmp_path):
    import datetime as dt

    from django.utils import timezone

    from yigongti.core import jobs
    from yigongti.core.models import Job
    from yigongti.indicators.jobs import REPORT, month_end, schedule_indicator_jobs

    settings.DATA_DIR = tmp_path
    now = timezone.make_aware(dt.datetime(2026, 3, 31, 23, 0))
    schedule_indicator_jobs(now)
    schedule_indicator_jobs(now)  # idempotent
    report = Job.objects.get(kind=REPORT)
    assert report.args == {"period": "2026-03"}
    assert report.due_at == month_end(now) == timezone.make_aware(dt.datetime(2026, 4, 1, 0, 5))
    assert jobs.run_due(now=timezone.make_aware(dt.datetime(2026, 4, 1, 3, 0))) == 2  # refresh + report
    report.refresh_from_db()
    assert report.status == "done", report.error
    assert sorted(p.rsplit(".", 1)[1] for p in report.result["files"]) == ["pdf", "xlsx"]
