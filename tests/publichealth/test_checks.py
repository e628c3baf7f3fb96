"""Health checks (services.checks, queries.checks, the pages and /api/v1/publichealth/checks): impossible vital
signs refused with the field named, unlikely ones accepted once confirmed, BMI computed, dates checked, scope,
audit, and the 65+ / chronic patients still to check this year."""

import datetime as dt
from decimal import Decimal

import pytest

from tests.cast import as_
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.core.models import AuditEvent
from yigongti.core.validation import today
from yigongti.publichealth.models import HealthCheck
from yigongti.publichealth.queries import checks as q
from yigongti.publichealth.services import checks as services


def data(**kw):
    base = {"date": today().isoformat(), "purpose": "elderly", "sbp": "132", "dbp": "84", "heart_rate": "72",
            "height_cm": "165", "weight_kg": "60", "fbg": "5.6"}
    base.update(kw)
    return base


def test_a_village_doctor_records_the_elderly_check_bmi_computed_and_audited(care):
    row = services.record_check(as_(care.cast.village_doctor), care.grandfather, data())
    assert (row.sbp, row.dbp, row.fbg, row.bmi) == (132, 84, Decimal("5.6"), Decimal("22.0"))
    assert row.facility == care.cast.village_clinic and row.by == care.cast.village_doctor.staff
    assert AuditEvent.objects.filter(action="create", object_type="health_check", object_id=str(row.pk)).exists()
    again = services.record_check(as_(care.cast.village_doctor), care.grandfather, data())
    assert again.pk == row.pk and HealthCheck.objects.count() == 1  # the same check sent twice


@pytest.mark.parametrize("field,value", [("sbp", "300"), ("dbp", "20"), ("fbg", "80"), ("heart_rate", "400"),
                                         ("waist_cm", "5"), ("ldl", "abc")])
def test_impossible_values_are_refused_with_the_field_named(care, field, value):
    with pytest.raises(InvalidInput) as e:
        services.record_check(as_(care.cast.village_doctor), care.grandfather, data(**{field: value}))
    assert field in e.value.errors
    assert not HealthCheck.objects.exists()


def test_unlikely_values_need_a_confirmation(care):
    actor = as_(care.cast.village_doctor)
    with pytest.raises(InvalidInput) as e:
        services.record_check(actor, care.grandfather, data(sbp="200", dbp="120"))
    assert e.value.code == "unlikely_values" and {"sbp", "dbp"} <= set(e.value.errors)
    row = services.record_check(actor, care.grandfather, data(sbp="200", dbp="120"), confirm_unlikely=True)
    assert row.sbp == 200


def test_a_check_in_the_future_or_before_birth_or_without_purpose_is_refused(care):
    actor = as_(care.cast.village_doctor)
    for kw, field in (({"date": (today() + dt.timedelta(days=1)).isoformat()}, "date"),
                      ({"date": "1950-01-01"}, "date"), ({"date": "not a date"}, "date"),
                      ({"purpose": "x"}, "purpose")):
        with pytest.raises(InvalidInput) as e:
            services.record_check(actor, care.grandfather, data(**kw))
        assert field in e.value.errors


@pytest.mark.parametrize("who", ["other_village_doctor", "outsider", "bureau", "manager"])
def test_only_the_carers_of_the_area_record_checks(care, who):
    with pytest.raises(Forbidden):
        services.record_check(as_(getattr(care.cast, who)), care.grandfather, data())


def test_the_unchecked_list_has_the_65_plus_and_the_chronic_until_checked(care):
    actor = as_(care.public_health)
    year = today().year
    names = {r.name for r in q.unchecked(actor, year=year).items}
    assert care.grandfather.name in names and care.mother.name not in names
    services.record_check(as_(care.cast.village_doctor), care.grandfather, data())
    assert care.grandfather.name not in {r.name for r in q.unchecked(actor, year=year).items}
    cov = q.coverage(care.public_health, year=year)
    assert cov["elderly_checked"] == 1 and cov["elderly"] >= 2
    assert not q.unchecked(as_(care.cast.other_village_doctor), year=year, village=care.cast.village.code).items
    with pytest.raises(Forbidden):
        q.unchecked(as_(care.cast.bureau), year=year)


def test_the_list_of_checks_is_scoped_and_filtered(care):
    services.record_check(as_(care.cast.village_doctor), care.grandfather, data())
    page = q.list_checks(as_(care.cast.village_doctor), year=today().year)
    assert [c.resident for c in page.items] == [care.grandfather] and page.count == 1
    assert not q.list_checks(as_(care.cast.other_village_doctor), year=today().year).items
    assert not q.list_checks(as_(care.cast.village_doctor), year=today().year, purpose="chronic").items
    with pytest.raises(InvalidInput):
        q.list_checks(as_(care.cast.village_doctor), year="19x")


def test_pages_form_confirm_list_and_detail(care, client, login):
    login(care.cast.village_doctor)
    url = f"/publichealth/checks/new/?resident={care.grandfather.pk}"
    r = client.get(url)
    assert r.status_code == 200 and 'value="elderly" selected' in r.content.decode()
    r = client.post(url, {**data(sbp="300"), "resident": care.grandfather.pk})
    assert r.status_code == 422 and "is-invalid" in r.content.decode()
    r = client.post(url, {**data(sbp="200", dbp="120"), "resident": care.grandfather.pk})
    assert r.status_code == 422 and 'data-testid="check-confirm"' in r.content.decode()
    r = client.post(url, {**data(sbp="200", dbp="120"), "resident": care.grandfather.pk, "confirm_unlikely": "1"})
    assert r.status_code == 302
    pk = HealthCheck.objects.get().pk
    assert "200/120" in client.get(f"/publichealth/checks/{pk}/").content.decode()
    assert care.grandfather.name in client.get("/publichealth/checks/").content.decode()
    assert client.get("/publichealth/checks/?tab=todo").status_code == 200


def test_api_list_due_post_and_get(care, client, login):
    login(care.cast.village_doctor)
    body = {"resident_id": care.grandfather.pk, "date": today().isoformat(), "purpose": "elderly", "sbp": 300,
            "dbp": 80}
    r = client.post("/api/v1/publichealth/checks", body, content_type="application/json")
    assert r.status_code == 422 and "sbp" in r.json()["errors"]
    body["sbp"] = 140
    r = client.post("/api/v1/publichealth/checks", body, content_type="application/json")
    assert r.status_code == 201 and r.json()["sbp"] == 140
    got = client.get(f"/api/v1/publichealth/checks/{r.json()['id']}").json()
    assert got["resident_id"] == care.grandfather.pk
    assert client.get("/api/v1/publichealth/checks").json()["count"] == 1
    due = client.get("/api/v1/publichealth/checks/due").json()
    assert care.grandfather.pk not in {p["id"] for p in due["items"]}
    assert care.grandmother.pk in {p["id"] for p in due["items"]}


def test_a_check_counts_as_the_contracts_health_check_and_refreshes_the_due_items(
        care, django_capture_on_commit_callbacks):
    from tests.familydoctor.test_fulfilment import make_contract
    from yigongti.familydoctor import due
    from yigongti.familydoctor.models import DeliverySource, DueItem, ServiceDelivery

    contract = make_contract(care, care.grandfather)
    due.refresh_resident(care.grandfather.pk)
    assert DueItem.objects.filter(resident=care.grandfather, kind="check").exists()
    with django_capture_on_commit_callbacks(execute=True):
        row = services.record_check(as_(care.cast.village_doctor), care.grandfather, data())
    d = ServiceDelivery.objects.get(source=DeliverySource.HEALTH_CHECK, source_id=str(row.pk))
    assert d.contract == contract and d.service == care.services["HC"]
    assert not DueItem.objects.filter(resident=care.grandfather, kind="check").exists()
