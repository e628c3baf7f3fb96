"""The pages and the API: the payroll import page with its problem report, the summary by facility (aggregates for
the bureau, person rows for the facility's admin and the managers only, audited), the scheme editor, a month's scores
with the drill-down, and /api/v1/performance."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.performance.conftest import YEAR, row, write_xlsx
from tests.performance.world import ITEMS, LAST_MONTH, performance_objects
from tests.twofactor import pass_two_factor
from yigongti.core.models import AuditEvent
from yigongti.performance.models import PayrollRecord, Scheme

pytestmark = pytest.mark.django_db


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    pass_two_factor(c, user)
    return c


def test_the_manager_imports_a_file_and_downloads_the_problem_report(cast, pf, tmp_path):
    c = client(cast.manager)
    assert c.get("/performance/payroll/import/").status_code == 200
    f = write_xlsx(tmp_path / "p.xlsx", [row(pf.town[0]), ["", "查无此人", "431127199001011234", "", 1, 1, 1, 1]])
    with open(f, "rb") as fh:
        r = c.post("/performance/payroll/import/", {"year": YEAR, "file": fh}, follow=True)
    assert r.status_code == 200 and "问题行 1 行" in r.content.decode()
    batch = r.context["batch"]
    assert PayrollRecord.objects.filter(year=YEAR, staff=pf.town[0]).exists()
    report = c.get(f"/performance/payroll/import/{batch.pk}/problems.csv")
    text = report.content.decode("utf-8-sig")
    assert "查无此人" in text and "43****" in text and "431127199001011234" not in text
    assert AuditEvent.objects.filter(action="export", object_type="payroll_import").exists()


def test_a_bad_upload_is_a_chinese_message_not_a_500(cast, pf, tmp_path):
    c = client(cast.manager)
    bad = tmp_path / "x.xlsx"
    bad.write_bytes(b"not a zip")
    with open(bad, "rb") as fh:
        r = c.post("/performance/payroll/import/", {"year": YEAR, "file": fh})
    assert r.status_code == 200 and "Excel" in r.content.decode()


def test_the_bureau_sees_aggregates_but_no_persons(cast, pf):
    performance_objects(cast)
    c = client(cast.bureau)
    r = c.get(f"/performance/?year={YEAR}")
    page = r.content.decode()
    assert r.status_code == 200 and "塔峰镇卫生院" in page and 'data-testid="n06-value">0.80' in page
    assert "乡医甲" not in page
    assert c.get(f"/performance/payroll/facility/{cast.township_center.pk}/?year={YEAR}").status_code == 403
    assert AuditEvent.objects.filter(action="denied", object_type="payroll").exists()


def test_the_facility_admin_reads_their_staff_rows_masked_and_audited(cast, pf):
    performance_objects(cast, staff=[*pf.town, *pf.lead])
    c = client(pf.admin)
    r = c.get(f"/performance/payroll/facility/{cast.township_center.pk}/?year={YEAR}")
    page = r.content.decode()
    assert r.status_code == 200 and "乡医甲" in page and pf.town[0].id_number not in page and "43*" in page
    ev = AuditEvent.objects.filter(action="read", object_type="payroll").latest("seq")
    assert ev.actor == "pf_admin" and ev.detail["rows"] == 3
    assert c.get(f"/performance/payroll/facility/{cast.county_hospital.pk}/?year={YEAR}").status_code == 404
    assert client(cast.manager).get(f"/performance/payroll/facility/{cast.county_hospital.pk}/").status_code == 200


def test_clinicians_are_kept_out(cast):
    for who in ("township_doctor", "village_doctor", "auditor"):
        assert client(getattr(cast, who)).get("/performance/").status_code == 403


def test_the_scheme_editor_saves_items_and_shows_errors(cast, pf):
    c = client(cast.manager)
    data = {"name": "县级医院方案", "level": "county", "role": "all", "pool": "50000", "is_active": "1", "n_items": "3"}
    for n, it in enumerate(ITEMS):
        data.update({f"what_{n}": f"{it['kind']}:{it['measure']}", f"weight_{n}": it["weight"],
                     f"target_{n}": it["target"], f"direction_{n}": it["direction"], f"cap_{n}": it["cap"]})
    r = c.post("/performance/schemes/new/", data)
    assert r.status_code == 302
    s = Scheme.objects.get(name="县级医院方案")
    assert s.items.count() == 3
    data["weight_0"] = "-5"
    r = c.post(f"/performance/schemes/{s.pk}/", data)
    assert r.status_code == 422 and "权重" in r.content.decode()
    assert client(cast.bureau).get(f"/performance/schemes/{s.pk}/").status_code == 200  # read-only
    assert client(cast.bureau).post(f"/performance/schemes/{s.pk}/", data).status_code == 403


def test_a_months_scores_show_and_drill_down(cast, pf):
    o = performance_objects(cast)
    c = client(cast.manager)
    r = c.get(f"/performance/scores/?month={LAST_MONTH:%Y-%m}")
    page = r.content.decode()
    assert r.status_code == 200 and "塔峰镇卫生院" in page and "100000.00" in page and "一类保障" in page
    r = c.get(f"/performance/scores/{o['run'].pk}/facility/{cast.township_center.pk}/")
    assert r.status_code == 200 and "全科" in r.content.decode()
    r = c.post("/performance/scores/score/", {"scheme": o["scheme"].pk, "month": f"{LAST_MONTH:%Y-%m}"})
    assert r.status_code == 302 and f"month={LAST_MONTH:%Y-%m}" in r["Location"]
    admin = client(pf.other_admin)
    assert admin.get(f"/performance/scores/{o['run'].pk}/facility/{cast.township_center.pk}/").status_code == 404


def test_the_api_gives_aggregates_and_scores(cast, pf):
    o = performance_objects(cast)
    c = client(cast.bureau)
    r = c.get(f"/api/v1/performance/payroll/summary?year={YEAR}")
    body = r.json()
    assert r.status_code == 200 and body["n06"] == "0.80" and body["facilities"]
    assert set(body["facilities"][0]) == {"facility_id", "facility", "level", "headcount", "basic", "performance",
                                          "allowance", "other", "total", "mean"}  # aggregates: no person
    r = c.get(f"/api/v1/performance/scores?month={LAST_MONTH:%Y-%m}")
    run = r.json()[0]
    assert run["pool"] == "100000.00" and run["scores"][0]["facility_id"] == cast.township_center.pk
    r = c.get(f"/api/v1/performance/scores/{o['run'].pk}/facilities/{cast.township_center.pk}")
    assert r.status_code == 200 and len(r.json()["scores"]) == 3  # the center and its two departments
    r = c.post("/api/v1/performance/scores", {"scheme": o["scheme"].pk, "month": f"{LAST_MONTH:%Y-%m}"},
               content_type="application/json")
    assert r.status_code == 403 and r["Content-Type"].startswith("application/problem+json")
    r = client(cast.manager).post("/api/v1/performance/scores", {"scheme": o["scheme"].pk, "month": "2999-01"},
                                  content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "invalid_month"
