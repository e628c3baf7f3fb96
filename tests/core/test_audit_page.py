from yigongti.core.models import AuditEvent


def test_auditors_search_the_log_by_account_and_action(cast, client, login):
    login(cast.township_doctor)
    client.get(f"/residents/{cast.resident.pk}/")
    client.logout()
    login(cast.auditor)
    page = client.get("/audit/", {"actor": "township_doctor", "action": "view"}).content.decode()
    assert "township_doctor" in page and f"resident {cast.resident.pk}" in page
    assert "manager" not in page.split('data-testid="audit-table"')[1]


def test_only_auditors_open_the_log(cast, client, login):
    login(cast.bureau)
    client.get(f"/residents/{cast.resident.pk}/")
    page = client.get("/audit/")
    assert page.status_code == 403
    assert 'data-testid="audit-table"' not in page.content.decode()


def test_reading_the_log_is_itself_audited(cast, client, login):
    login(cast.auditor)
    client.get("/audit/", {"actor": "bureau"})
    ev = AuditEvent.objects.filter(object_type="audit_event").get()
    assert ev.actor == "auditor" and ev.detail["query"] == {"actor": "bureau"}
