import io

from openpyxl import load_workbook

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.models import AuditEvent
from yigongti.core.personal import mask_name
from yigongti.residents.models import ImportBatch

from .test_audit_chain import as_owner


def test_auditors_search_the_log_by_account_and_action(cast, client, login):
    login(cast.township_doctor)
    client.get(f"/residents/{cast.resident.pk}/")
    client.logout()
    login(cast.auditor)
    page = client.get("/audit/", {"actor": "township_doctor", "action": "view"}).content.decode()
    table = page.split('data-testid="audit-table"')[1]
    assert "township_doctor" in table and f"#{cast.resident.pk}" in table
    assert "manager" not in table


def test_the_log_shows_role_labels_facility_and_masked_object_names(cast, client, login):
    login(cast.township_doctor)
    client.get(f"/residents/{cast.resident.pk}/")
    client.logout()
    login(cast.auditor)
    table = client.get("/audit/", {"actor": "township_doctor", "action": "view"}).content.decode()
    table = table.split('data-testid="audit-table"')[1]
    assert "<td>医生</td>" in table and "<td>doctor</td>" not in table  # the role's label, not its code
    assert cast.township_center.name in table
    assert f'data-testid="audit-object-name">{mask_name(cast.resident.name)}<' in table
    assert cast.resident.name not in table  # an auditor has no care relationship: masked


def test_only_auditors_open_the_log_and_a_refusal_is_audited(cast, client, login):
    login(cast.bureau)
    client.get(f"/residents/{cast.resident.pk}/")
    page = client.get("/audit/")
    assert page.status_code == 403
    assert 'data-testid="audit-table"' not in page.content.decode()
    assert client.get("/audit/export.xlsx").status_code == 403
    assert client.post("/audit/verify/").status_code == 403
    assert AuditEvent.objects.filter(action="denied", actor="bureau", object_type="audit_event").count() == 3
    assert not AuditEvent.objects.filter(action__in=["export", "verify"]).exists()


def test_reading_the_log_is_itself_audited(cast, client, login):
    login(cast.auditor)
    client.get("/audit/", {"actor": "bureau"})
    ev = AuditEvent.objects.filter(object_type="audit_event").get()
    assert ev.actor == "auditor" and ev.detail["query"] == {"actor": "bureau"}


def test_the_log_exports_to_excel_audited_and_formula_safe(cast, client, login):
    audit.record(Actor(username="=HYPERLINK(\"http://evil\")", role="doctor"), "view", "resident",
                 cast.resident.pk, note="+cmd|' /C calc'!A0")
    login(cast.auditor)
    resp = client.get("/audit/export.xlsx", {"action": "view"})
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("序号", "时间", "账号", "角色")
    [row] = rows[1:]
    assert row[2] == '=HYPERLINK("http://evil")' and row[3] == "医生" and row[8] == mask_name(cast.resident.name)
    cells = {c.value: c for c in ws[2]}
    evil = cells['=HYPERLINK("http://evil")']
    assert evil.data_type == "s" and evil.quotePrefix  # text shown as typed, never run as a formula
    ev = AuditEvent.objects.filter(action="export", object_type="audit_event").get()
    assert ev.actor == "auditor" and ev.detail["rows"] == 1 and ev.detail["query"] == {"action": "view"}


def test_the_verify_button_reports_a_sound_chain_in_chinese(cast, client, login):
    login(cast.auditor)
    page = client.post("/audit/verify/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="audit-verify-result"' in page and "审计链完整" in page
    ev = AuditEvent.objects.filter(action="verify").get()
    assert ev.actor == "auditor" and ev.detail["ok"] is True


def test_the_verify_button_names_what_was_tampered_with(cast, client, login):
    login(cast.auditor)
    for i in range(5):
        audit.record(Actor(username="x"), "view", "resident", i)
    with as_owner() as cur:
        cur.execute("DELETE FROM core_auditevent WHERE seq = 3")
    page = client.post("/audit/verify/").content.decode()  # without HTMX: the whole page
    assert "审计链被破坏" in page and "被删除" in page and "事件 3" in page
    assert 'data-testid="audit-table"' in page
    assert AuditEvent.objects.filter(action="verify").get().detail["findings"] == ["deleted"]


def test_the_page_has_the_export_link_and_verify_button(cast, client, login):
    login(cast.auditor)
    page = client.get("/audit/", {"actor": "bureau"}).content.decode()
    assert 'href="/audit/export.xlsx?actor=bureau"' in page and 'data-testid="audit-verify"' in page


def test_the_page_is_in_english_too(cast, client, login):
    login(cast.auditor)
    client.post("/i18n/setlang/", {"language": "en", "next": "/audit/"})
    page = client.get("/audit/").content.decode()
    assert "Export to Excel" in page and "Verify the audit chain" in page


def test_reading_the_inbox_is_audited(cast, client, login):
    from yigongti.core import notify

    notify.notify([cast.county_doctor], "critical", "危急值：张三 血钾 6.8", "高钾血症", "/")
    login(cast.county_doctor)
    client.get("/inbox/")
    ev = AuditEvent.objects.filter(object_type="notification", action="list").get()
    assert ev.actor == "county_doctor" and len(ev.detail["shown"]) == 1
    assert "张三" not in str(ev.detail)


def test_downloading_an_imports_problem_report_is_audited(cast, client, login):
    batch = ImportBatch.objects.create(source_system="村卫生室", filename="list.csv", uploaded_by=cast.manager,
                                       file_problems=["第 3 行：缺少姓名"])
    login(cast.manager)
    resp = client.get(f"/residents/imports/{batch.pk}/report.csv")
    assert resp.status_code == 200
    ev = AuditEvent.objects.filter(action="export", object_type="import_batch").get()
    assert ev.actor == "manager" and ev.object_id == str(batch.pk) and ev.detail == {"report": "report.csv"}
