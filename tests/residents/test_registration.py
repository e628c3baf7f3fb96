"""Registering and editing residents: validation messages, nothing saved lost, scope on writes."""

import datetime as dt

from yigongti.core.idcard import check_char, make_id_number
from yigongti.core.models import AuditEvent
from yigongti.residents.models import Resident

NEW_ID = make_id_number("431127", dt.date(1972, 8, 8), 40, "F")


def test_a_village_doctor_registers_a_resident_with_sex_and_birth_from_the_id(cast, client, login):
    login(cast.village_doctor)
    r = client.post("/api/v1/residents", {"name": "赵春花", "id_number": NEW_ID, "phone": "139 0746 1111",
                                         "village": cast.village.code, "tags": ["htn"]},
                    content_type="application/json")
    assert r.status_code == 201, r.content
    saved = Resident.objects.get(id_number=NEW_ID)
    assert (saved.sex, saved.birth_date, saved.phone) == ("F", dt.date(1972, 8, 8), "13907461111")
    assert r.json()["tags"] == ["htn"]
    assert AuditEvent.objects.filter(action="create", object_type="resident", object_id=str(saved.pk)).exists()


def test_a_bad_check_digit_is_a_problem_naming_the_field(cast, client, login):
    login(cast.village_doctor)
    bad = NEW_ID[:17] + ("0" if NEW_ID[17] != "0" else "1")
    r = client.post("/api/v1/residents", {"name": "赵春花", "id_number": bad, "village": cast.village.code},
                    content_type="application/json")
    assert r.status_code == 422
    assert r["Content-Type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "invalid_input" and "校验位" in body["errors"]["id_number"][0]
    assert not Resident.objects.filter(name="赵春花").exists()


def test_an_impossible_date_and_a_sex_mismatch_are_both_reported(cast, client, login):
    login(cast.village_doctor)
    r = client.post("/api/v1/residents", {"name": "赵春花", "id_number": NEW_ID, "sex": "M",
                                         "birth_date": "1972-08-09", "village": cast.village.code},
                    content_type="application/json")
    errors = r.json()["errors"]
    assert "性别与身份证号不符" in errors["sex"][0]
    assert "出生日期与身份证号不符" in errors["birth_date"][0]


def test_malformed_json_values_are_a_validation_problem_not_a_500(cast, client, login):
    login(cast.village_doctor)
    r = client.post("/api/v1/residents", {"name": "赵春花", "birth_date": "1972-02-30",
                                         "village": cast.village.code}, content_type="application/json")
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error"
    assert r.json()["errors"][0]["field"] == "birth_date"


def test_a_duplicate_id_number_is_a_conflict(cast, client, login):
    login(cast.village_doctor)
    r = client.post("/api/v1/residents", {"name": "李建国", "id_number": cast.resident.id_number,
                                         "village": cast.village.code}, content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "duplicate_id_number"


def test_registering_outside_ones_scope_is_forbidden(cast, client, login):
    login(cast.village_doctor)
    r = client.post("/api/v1/residents", {"name": "赵春花", "id_number": NEW_ID, "village": cast.other_village.code},
                    content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "village_out_of_scope"
    assert not Resident.objects.filter(name="赵春花").exists()


def test_an_unknown_village_code_is_named(cast, client, login):
    login(cast.village_doctor)
    r = client.post("/api/v1/residents", {"name": "赵春花", "id_number": NEW_ID, "village": "431127999999"},
                    content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "unknown_village"


def test_the_form_shows_chinese_errors_and_keeps_what_was_typed(cast, client, login):
    login(cast.village_doctor)
    page = client.post("/residents/new/", {"name": "赵春花", "id_number": "43112719720808123", "phone": "12345",
                                           "village": cast.village.code})
    text = page.content.decode()
    assert page.status_code == 200
    assert "身份证号应为18位" in text and "电话号码格式不正确" in text
    assert 'value="赵春花"' in text


def test_the_form_registers_and_redirects_to_the_record(cast, client, login):
    login(cast.village_doctor)
    page = client.post("/residents/new/", {"name": "赵春花", "id_number": NEW_ID, "village": cast.village.code,
                                           "tags": ["htn", "elderly"]})
    saved = Resident.objects.get(id_number=NEW_ID)
    assert page.status_code == 302 and page["Location"] == f"/residents/{saved.pk}/"
    assert set(saved.tags.values_list("tag", flat=True)) == {"htn", "elderly"}


def test_a_failed_edit_leaves_the_saved_record_as_it_was(cast, client, login):
    login(cast.village_doctor)
    r = client.patch(f"/api/v1/residents/{cast.resident.pk}", {"name": "李建军", "phone": "999"},
                     content_type="application/json")
    assert r.status_code == 422
    cast.resident.refresh_from_db()
    assert (cast.resident.name, cast.resident.phone) == ("李建国", "13874601234")


def test_an_edit_is_saved_and_audited_with_the_changed_fields(cast, client, login):
    login(cast.village_doctor)
    r = client.patch(f"/api/v1/residents/{cast.resident.pk}", {"phone": "13974609999", "tags": ["htn", "t2dm"]},
                     content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["tags"] == ["htn", "t2dm"]
    ev = AuditEvent.objects.filter(action="update", object_type="resident").latest("seq")
    assert ev.detail["fields"] == ["phone", "tags"]


def test_editing_in_the_page_without_retyping_identifiers_keeps_them(cast, client, login):
    login(cast.village_doctor)
    page = client.get(f"/residents/{cast.resident.pk}/edit/").content.decode()
    assert cast.resident.id_number not in page  # the form never carries the unmasked number
    client.post(f"/residents/{cast.resident.pk}/edit/", {"name": "李建国", "id_number": "", "phone": "",
                                                          "village": cast.village.code, "sex": "M",
                                                          "birth_date": "1958-03-14"})
    cast.resident.refresh_from_db()
    assert cast.resident.id_number and cast.resident.phone == "13874601234"


def test_a_15_digit_number_is_stored_as_18_digits(cast, client, login):
    login(cast.village_doctor)
    r = client.post("/api/v1/residents", {"name": "周老汉", "id_number": "431127400101001",
                                         "village": cast.village.code}, content_type="application/json")
    assert r.status_code == 201, r.content
    assert Resident.objects.get(name="周老汉").id_number == "43112719400101001" + check_char("43112719400101001")
