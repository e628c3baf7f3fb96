"""Recording vaccine doses (services.immunisation), the vaccine card and the due lists (queries.immunisation), the
pages and /api/v1/publichealth/immunisation: the vaccinate verb only at a 接种单位, refusals naming the rule,
retries, scope and audit."""

import datetime as dt

import pytest

from tests.care import _person
from tests.cast import as_
from yigongti.core.errors import Forbidden, InvalidInput, NotFound
from yigongti.core.models import AuditEvent
from yigongti.core.validation import today
from yigongti.publichealth.models import VaccineDose
from yigongti.publichealth.queries import immunisation as q
from yigongti.publichealth.services import immunisation as services


@pytest.fixture
def baby(care):
    """A child of 大塘村 born 100 days ago: HepB 1 and BCG overdue, IPV 1 and DTaP 1 due."""
    return _person("李小妹", "F", today() - dt.timedelta(days=100), care.cast.village, care.household, 61, ["child"])


def give(care, child, vaccine, dose, days, user=None):
    return services.record_dose(as_(user or care.nurse), child, {
        "vaccine": vaccine, "dose": dose, "given_on": (child.birth_date + dt.timedelta(days=days)).isoformat(),
        "lot": "202601A", "site": "左上臂"})


def test_a_nurse_of_the_township_center_records_a_dose_checked_against_the_schedule(care, baby):
    row = give(care, baby, "HepB", 1, 0)
    assert (row.vaccine, row.dose, row.age_days, row.schedule_edition) == ("HepB", 1, 0, "NIP-2021")
    assert row.facility == care.cast.township_center and row.by == care.nurse.staff and not row.catch_up
    assert AuditEvent.objects.filter(action="create", object_type="vaccine_dose", object_id=str(row.pk)).exists()
    assert give(care, baby, "HepB", 1, 0).pk == row.pk  # a retry returns the same dose
    late = give(care, baby, "BCG", 1, 95)
    assert late.catch_up  # after 3 months: 补种


def test_a_dose_before_its_minimum_interval_or_age_is_refused_with_the_rule_and_the_field(care, baby):
    give(care, baby, "HepB", 1, 10)
    with pytest.raises(InvalidInput) as e:
        give(care, baby, "HepB", 2, 35)
    assert e.value.code == "dose_refused" and e.value.field == "given_on" and "最小间隔" in e.value.message
    with pytest.raises(InvalidInput) as e:
        give(care, baby, "IPV", 1, 50)
    assert "最小接种年龄" in e.value.message
    with pytest.raises(InvalidInput) as e:
        give(care, baby, "DTaP", 2, 99)
    assert e.value.field == "dose" and "剂次顺序" in e.value.message
    assert VaccineDose.objects.filter(child=baby).count() == 1


def test_bad_input_names_every_field_and_a_future_date_is_refused(care, baby):
    with pytest.raises(InvalidInput) as e:
        services.record_dose(as_(care.nurse), baby, {"vaccine": "XYZ", "dose": "a", "given_on": "2026-13-01"})
    assert {"vaccine", "dose", "given_on"} <= set(e.value.errors)
    with pytest.raises(InvalidInput) as e:
        services.record_dose(as_(care.nurse), baby, {"vaccine": "BCG", "dose": 1,
                                                     "given_on": (today() + dt.timedelta(days=1)).isoformat()})
    assert e.value.field == "given_on"


@pytest.mark.parametrize("who", ["village_doctor", "other_village_doctor", "outsider", "bureau"])
def test_only_a_vaccination_unit_in_the_area_may_vaccinate(care, baby, who):
    with pytest.raises(Forbidden):
        give(care, baby, "HepB", 1, 0, user=getattr(care.cast, who))
    assert not VaccineDose.objects.exists()


def test_the_county_hospital_doctor_and_the_township_doctor_may_vaccinate(care, baby):
    assert give(care, baby, "HepB", 1, 0, user=care.cast.county_doctor).facility == care.cast.county_hospital
    assert give(care, baby, "BCG", 1, 0, user=care.cast.township_doctor).facility == care.cast.township_center


def test_the_card_shows_given_due_overdue_and_waiting(care, baby):
    give(care, baby, "HepB", 1, 0)
    card = q.card(as_(care.cast.village_doctor), baby.pk, on=today())
    status = {r.rule.code: r.status for r in card.rows}
    assert status["HepB-1"] == "given" and status["BCG-1"] == "overdue" and status["HepB-2"] == "due"
    assert status["IPV-1"] == "due" and status["IPV-2"] == "waiting" and status["MMR-1"] == "upcoming"
    assert {d.rule.code for d in card.due_now} == {"BCG-1", "HepB-2", "IPV-1", "DTaP-1"}
    assert AuditEvent.objects.filter(action="view", object_type="vaccine_card", object_id=str(baby.pk)).exists()


def test_the_card_is_scoped_and_needs_the_public_health_category(care, baby):
    with pytest.raises(NotFound):
        q.card(as_(care.cast.other_village_doctor), baby.pk, on=today())
    with pytest.raises(Forbidden):
        q.card(as_(care.cast.bureau), baby.pk, on=today())


def test_the_due_list_of_an_area_overdue_first_and_changes_at_once_after_a_dose(care, baby):
    actor = as_(care.cast.village_doctor)
    result = q.due_list(actor, on=today())
    mine = [r for r in result.rows if r.child.pk == baby.pk]
    assert mine[0].due.overdue and {r.due.rule.code for r in mine} == {"HepB-1", "BCG-1", "IPV-1", "DTaP-1"}
    give(care, baby, "HepB", 1, 0)
    after = {r.due.rule.code for r in q.due_list(actor, on=today()).rows if r.child.pk == baby.pk}
    assert "HepB-1" not in after and "HepB-2" in after
    only = q.due_list(actor, on=today(), overdue_only=True, vaccine="BCG")
    assert [r.due.rule.code for r in only.rows if r.child.pk == baby.pk] == ["BCG-1"]
    assert not q.due_list(as_(care.cast.other_village_doctor), on=today()).rows
    with pytest.raises(InvalidInput):
        q.due_list(actor, on=today(), village="abc")


def test_pages_card_list_and_vaccinate_form(care, baby, client, login):
    login(care.nurse)
    r = client.get(f"/publichealth/immunisation/card/{baby.pk}/")
    body = r.content.decode()
    assert r.status_code == 200 and "李小妹" in body and 'data-testid="card-vaccinate"' in body
    r = client.get("/publichealth/immunisation/")
    assert r.status_code == 200 and "李小妹" in r.content.decode()
    url = f"/publichealth/immunisation/vaccinate/{baby.pk}/"
    assert client.get(url + "?vaccine=BCG&dose=1").status_code == 200
    bad = client.post(url, {"vaccine": "HepB", "dose": "2", "given_on": today().isoformat()})
    assert bad.status_code == 422 and "剂次顺序" in bad.content.decode()
    ok = client.post(url, {"vaccine": "HepB", "dose": "1", "given_on": baby.birth_date.isoformat()})
    assert ok.status_code == 302 and VaccineDose.objects.filter(child=baby, vaccine="HepB").exists()


def test_a_village_doctor_sees_the_card_but_may_not_vaccinate(care, baby, client, login):
    login(care.cast.village_doctor)
    r = client.get(f"/publichealth/immunisation/vaccinate/{baby.pk}/")
    assert r.status_code == 200 and 'data-testid="vaccinate-forbidden"' in r.content.decode()
    r = client.post(f"/publichealth/immunisation/vaccinate/{baby.pk}/",
                    {"vaccine": "HepB", "dose": "1", "given_on": baby.birth_date.isoformat()})
    assert r.status_code == 403 and not VaccineDose.objects.exists()


def test_api_schedule_due_card_and_dose(care, baby, client, login):
    login(care.nurse)
    s = client.get("/api/v1/publichealth/immunisation/schedule").json()
    assert s["edition"] == "NIP-2021" and len(s["doses"]) == 22
    r = client.post("/api/v1/publichealth/immunisation/doses", {
        "resident_id": baby.pk, "vaccine": "HepB", "dose": 2, "given_on": today().isoformat()},
        content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "dose_refused" and "剂次顺序" in r.json()["title"]
    r = client.post("/api/v1/publichealth/immunisation/doses", {
        "resident_id": baby.pk, "vaccine": "HepB", "dose": 1, "given_on": baby.birth_date.isoformat()},
        content_type="application/json")
    assert r.status_code == 201 and r.json()["resident_id"] == baby.pk and r.json()["schedule_edition"] == "NIP-2021"
    card = client.get(f"/api/v1/publichealth/immunisation/card/{baby.pk}").json()
    assert {x["vaccine"]: x["status"] for x in card["rows"] if x["dose"] == 1}["HepB"] == "given"
    due = client.get("/api/v1/publichealth/immunisation?overdue=true").json()
    assert any(i["resident_id"] == baby.pk and i["vaccine"] == "BCG" for i in due["items"])
    assert client.get("/api/v1/publichealth/immunisation?village=12").status_code == 422


def test_a_dose_refreshes_the_childs_due_items_at_once(care, baby, django_capture_on_commit_callbacks):
    from yigongti.familydoctor import due
    from yigongti.familydoctor.models import DueItem

    due.refresh_resident(baby.pk)
    assert DueItem.objects.filter(resident=baby, kind="vaccine", ref="HepB-1").exists()
    with django_capture_on_commit_callbacks(execute=True):
        give(care, baby, "HepB", 1, 0)
    refs = set(DueItem.objects.filter(resident=baby, kind="vaccine").values_list("ref", flat=True))
    assert "HepB-1" not in refs and "HepB-2" in refs
