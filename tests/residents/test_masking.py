from yigongti.core.models import AuditEvent


def test_lists_and_details_show_masked_identifiers(cast, client, login):
    login(cast.township_doctor)
    r = cast.resident
    page = client.get(f"/residents/{r.pk}/").content.decode()
    assert r.id_number not in page and r.phone not in page
    assert r.id_number[:2] + "*" * 16 in page
    assert "138****1234" in page
    api = client.get(f"/api/v1/residents/{r.pk}").json()
    assert api["id_number"] == r.masked_id_number and api["phone"] == "138****1234"
    listing = client.get("/residents/").content.decode()
    assert r.id_number not in listing


def test_unmasking_needs_the_privilege(cast, client, login):
    login(cast.township_doctor)
    r = client.post(f"/api/v1/residents/{cast.resident.pk}/identifiers")
    assert r.status_code == 403 and r.json()["code"] == "unmask_not_allowed"
    assert AuditEvent.objects.filter(action="denied", detail__attempted="unmask").exists()


def test_a_privileged_unmask_shows_the_number_and_is_audited(cast, client, login):
    login(cast.county_doctor)
    page = client.post(f"/residents/{cast.resident.pk}/unmask/").content.decode()
    assert cast.resident.id_number in page
    api = client.post(f"/api/v1/residents/{cast.resident.pk}/identifiers").json()
    assert api == {"id_number": cast.resident.id_number, "phone": "13874601234"}
    assert AuditEvent.objects.filter(action="unmask", actor="county_doctor").count() == 2


def test_the_privilege_does_not_cross_scope(cast, client, login):
    login(cast.outsider)  # may unmask, but not our residents
    r = client.post(f"/api/v1/residents/{cast.resident.pk}/identifiers")
    assert r.status_code == 404
    assert not AuditEvent.objects.filter(action="unmask").exists()
