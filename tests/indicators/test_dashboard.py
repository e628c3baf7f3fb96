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
    for code in ("N01", "N04", "N07", "N08", "N11", "N14", "BED_OCC", "ALOS", "DRUG_RATIO", "ALIAS_COUNTY_RATE"):
        assert f'data-testid="card-{code}"' in html
    # N07 = 60.00 % against ≥ 65 → red (more than 5 % short)
    assert 'data-testid="value-N07">60.00' in html
    assert 'data-testid="card-N07" data-status="red"' in html
    # DRUG_RATIO 27.86 ≤ 30 → green
    assert 'data-testid="card-DRUG_RATIO" data-status="green"' in html


def test_zero_denominator_shows_a_dash(world, login):
    c = login(world.bureau)
    html = c.get("/indicators/?period=2026-05").content.decode()
    assert 'data-testid="value-N07">—' in html
    assert 'data-testid="value-ALOS">—' in html


def test_drill_down_lists_the_encounters_and_is_audited(world, login):
    c = login(world.bureau)
    r = c.get("/indicators/N07/records/?period=2026-03&area=county:431127000000")
    assert r.status_code == 200
    assert r.context["page"].items and {e.facility.type for e in r.context["page"].items} <= {"B200", "D600"}
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
    assert nos == ["S1", "S2", "S3", "S7"]  # inpatient, no pharmacy, insureds of our county


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
               {"indicator": "N02", "item": "board", "status": "met", "evidence": "2026年第1次管委会纪要", "year": "2026"})
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
