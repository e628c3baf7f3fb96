"""Regular medicines (长期用药) and the monthly delivery list per village: the service's checks and permissions,
the month's quantities and totals per drug, the pages, the Excel file and the API."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from tests.cast import as_
from yigongti.chronic.models import RegularMedicine
from yigongti.chronic.queries import medicines as q
from yigongti.chronic.services import medicines as services
from yigongti.core.audit import AuditEvent
from yigongti.core.errors import Conflict, Forbidden, InvalidInput

from .test_ledger import enrol

pytestmark = pytest.mark.django_db


@pytest.fixture
def patients(care):
    today = timezone.localdate()
    return {"gf": enrol(care, care.grandfather, next_due=today),
            "gm": enrol(care, care.grandmother, "t2dm", next_due=today),
            "far": enrol(care, care.cast.neighbour, village=care.cast.other_village,
                         facility=care.cast.other_clinic)}


def test_a_listed_drug_takes_its_usual_strength_dose_and_daily_amount(care, patients):
    med = services.add_medicine(as_(care.cast.village_doctor), patients["gf"], {"name": "硝苯地平缓释片"})
    assert (med.strength, med.dose, med.frequency, med.units_per_day, med.unit) == (
        "20mg×30片", "20mg", "bid", Decimal("2.00"), "片")
    assert med.since == timezone.localdate() and med.prescribed_by == care.cast.village_doctor.staff
    assert AuditEvent.objects.filter(action="create", object_type="regular_medicine", object_id=str(med.pk)).exists()


def test_any_other_drug_needs_its_dose_and_frequency_and_every_bad_field_is_named(care, patients):
    with pytest.raises(InvalidInput) as e:
        services.add_medicine(as_(care.cast.village_doctor), patients["gf"],
                              {"name": "自备药", "units_per_day": "0", "since": "2026-13-01"})
    assert set(e.value.errors) == {"dose", "frequency", "units_per_day", "since"}
    with pytest.raises(InvalidInput) as e:
        services.add_medicine(as_(care.cast.village_doctor), patients["gf"], {"name": ""})
    assert e.value.field == "name"
    with pytest.raises(InvalidInput) as e:
        services.add_medicine(as_(care.cast.village_doctor), patients["gf"],
                              {"name": "氨氯地平片", "since": "2026-01-10", "until": "2026-01-01"})
    assert e.value.field == "until"
    with pytest.raises(InvalidInput) as e:
        services.add_medicine(as_(care.cast.village_doctor), patients["gf"], {"name": "氨氯地平片",
                                                                               "units_per_day": "abc"})
    assert e.value.field == "units_per_day"
    assert not RegularMedicine.objects.exists()


def test_the_same_drug_twice_is_refused(care, patients):
    actor = as_(care.cast.village_doctor)
    services.add_medicine(actor, patients["gf"], {"name": "氨氯地平片"})
    with pytest.raises(Conflict) as e:
        services.add_medicine(actor, patients["gf"], {"name": "氨氯地平片"})
    assert e.value.code == "medicine_in_use"
    assert RegularMedicine.objects.count() == 1


def test_only_a_doctor_of_the_patients_area_writes(care, patients):
    for user in (care.nurse, care.public_health, care.cast.other_village_doctor, care.cast.manager):
        with pytest.raises(Forbidden):
            services.add_medicine(as_(user), patients["gf"], {"name": "氨氯地平片"})
    assert services.add_medicine(as_(care.cast.township_doctor), patients["gf"], {"name": "氨氯地平片"}).pk
    med = RegularMedicine.objects.get()
    with pytest.raises(Forbidden):
        services.stop_medicine(as_(care.cast.other_village_doctor), med)


def test_an_ended_management_takes_no_new_medicine(care, patients):
    e = patients["gf"]
    e.status = "ended"
    e.save()
    with pytest.raises(InvalidInput):
        services.add_medicine(as_(care.cast.village_doctor), e, {"name": "氨氯地平片"})


def test_stopping(care, patients):
    actor = as_(care.cast.village_doctor)
    today = timezone.localdate()
    med = services.add_medicine(actor, patients["gf"], {"name": "氨氯地平片",
                                                       "since": today - dt.timedelta(days=20)})
    with pytest.raises(InvalidInput):
        services.stop_medicine(actor, med, on=today - dt.timedelta(days=30))  # before it started
    with pytest.raises(InvalidInput):
        services.stop_medicine(actor, med, on=today + dt.timedelta(days=1))
    stopped = services.stop_medicine(actor, med)
    assert stopped.until == today
    assert services.stop_medicine(actor, stopped).until == today  # a second click changes nothing
    current, old = q.medicines_of(patients["gf"], today + dt.timedelta(days=1))
    assert current == [] and old == [stopped]


def test_the_months_quantity():
    first, last = dt.date(2026, 6, 1), dt.date(2026, 6, 30)
    assert q.quantity(Decimal(2), dt.date(2025, 1, 1), None, first, last) == 60
    assert q.quantity(Decimal(1), dt.date(2026, 6, 21), None, first, last) == 10  # started on the 21st
    assert q.quantity(Decimal("0.5"), dt.date(2025, 1, 1), dt.date(2026, 6, 5), first, last) == 3  # 2.5 → 3
    assert q.quantity(Decimal(1), dt.date(2025, 1, 1), dt.date(2026, 5, 31), first, last) == 0
    assert q.month_end(dt.date(2028, 2, 1)) == dt.date(2028, 2, 29)


def _med(e, name, units, since, until=None, strength="", unit="片"):
    return RegularMedicine.objects.create(enrolment=e, name=name, dose="1", frequency="qd", strength=strength,
                                          units_per_day=Decimal(units), unit=unit, since=since, until=until)


def test_the_delivery_list_per_patient_and_totals_per_drug(care, patients):
    june = dt.date(2026, 6, 1)
    _med(patients["gf"], "氨氯地平片", 1, dt.date(2025, 1, 1), strength="5mg×28片")
    _med(patients["gm"], "氨氯地平片", 1, dt.date(2026, 6, 16), strength="5mg×28片")  # half the month
    _med(patients["gm"], "二甲双胍片", 3, dt.date(2025, 1, 1), strength="0.5g×48片")
    _med(patients["gm"], "格列美脲片", 1, dt.date(2025, 1, 1), dt.date(2026, 5, 31))  # stopped in May
    _med(patients["far"], "氨氯地平片", 1, dt.date(2025, 1, 1), strength="5mg×28片")  # another village
    d = q.delivery_for(as_(care.cast.village_doctor), care.cast.village, june)
    assert d.patients == 2
    assert [(line.name, line.drug, line.days, line.quantity) for line in d.lines] == [
        ("李建国", "氨氯地平片", 30, 30), ("赵桂兰", "二甲双胍片", 30, 90), ("赵桂兰", "氨氯地平片", 15, 15)]
    assert [(t.drug, t.patients, t.quantity) for t in d.totals] == [("二甲双胍片", 1, 90), ("氨氯地平片", 2, 45)]
    ev = AuditEvent.objects.filter(action="view", object_type="chronic_delivery").latest("id")
    assert ev.detail["month"] == "2026-06" and len(ev.detail["enrolments"]) == 2
    wb = load_workbook(io.BytesIO(q.delivery_xlsx(d)))
    totals, detail = wb.worksheets
    assert [c.value for c in totals[4]] == ["氨氯地平片", "5mg×28片", "片", 2, 45]
    assert detail.max_row == 4 and detail.cell(2, 2).value == "李建国"


def test_the_delivery_list_is_one_query_whatever_the_size(care, patients):
    actor = as_(care.cast.village_doctor)
    q.delivery_for(actor, care.cast.village, dt.date(2026, 6, 1))
    with CaptureQueriesContext(connection) as few:
        q.delivery_for(actor, care.cast.village, dt.date(2026, 6, 1))
    for i in range(10):
        _med(patients["gf"], f"药{i}", 1, dt.date(2025, 1, 1))
    with CaptureQueriesContext(connection) as many:
        d = q.delivery_for(actor, care.cast.village, dt.date(2026, 6, 1))
    assert len(d.lines) == 10 and len(many.captured_queries) == len(few.captured_queries)


def test_a_bad_month_is_named():
    with pytest.raises(InvalidInput) as e:
        q.parse_month("2026-13")
    assert e.value.field == "month"
    with pytest.raises(InvalidInput):
        q.parse_month("1990-01")
    assert q.parse_month("2026-06") == dt.date(2026, 6, 1)


def test_the_medicines_page(care, patients, login, client):
    login(care.cast.village_doctor)
    url = f"/chronic/medicines/{patients['gf'].pk}/"
    assert client.get(url).status_code == 200
    resp = client.post(url, {"name": "氨氯地平片", "units_per_day": "1"})
    assert resp.status_code == 302
    med = RegularMedicine.objects.get()
    html = client.get(url).content.decode()
    assert "氨氯地平片" in html and 'data-testid="med-stop"' in html
    bad = client.post(url, {"name": "自备药"})
    assert bad.status_code == 400 and "请填写每次用量" in bad.content.decode()
    assert client.post(url, {"name": "氨氯地平片"}).status_code == 400  # already in use: said on the page
    other = services.add_medicine(as_(care.cast.village_doctor), patients["gm"], {"name": "二甲双胍片"})
    assert client.post(url, {"stop": other.pk}).status_code == 404  # not this patient's
    assert client.post(url, {"stop": med.pk}).status_code == 302
    med.refresh_from_db()
    assert med.until == timezone.localdate()
    assert client.get(f"/chronic/medicines/{patients['far'].pk}/").status_code == 404  # another village
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").status_code == 200


def test_a_nurse_reads_the_list_but_has_no_form(care, patients, login, client):
    login(care.nurse)
    html = client.get(f"/chronic/medicines/{patients['gf'].pk}/").content.decode()
    assert 'data-testid="med-form"' not in html
    assert client.post(f"/chronic/medicines/{patients['gf'].pk}/", {"name": "氨氯地平片"}).status_code == 403


def test_the_delivery_page_and_its_excel(care, patients, login, client):
    _med(patients["gf"], "氨氯地平片", 1, dt.date(2025, 1, 1))
    login(care.cast.village_doctor)
    html = client.get("/chronic/delivery/", {"month": "2026-06"}).content.decode()
    assert "氨氯地平片" in html and "30 片" in html
    x = client.get("/chronic/delivery/", {"month": "2026-06", "format": "xlsx"})
    assert x.status_code == 200 and "filename*=UTF-8''" in x["Content-Disposition"]
    assert client.get("/chronic/delivery/", {"month": "June"}).status_code == 400
    assert client.get("/chronic/delivery/", {"village": care.cast.other_village.code}).status_code == 404


def test_the_api(care, patients, login, client):
    login(care.cast.village_doctor)
    created = client.post("/api/v1/chronic/medicines", {"patient": patients["gf"].pk, "name": "二甲双胍片"},
                          content_type="application/json")
    assert created.status_code == 201 and created.json()["frequency"] == "tid"
    assert client.post("/api/v1/chronic/medicines", {"patient": patients["gf"].pk, "name": "二甲双胍片"},
                       content_type="application/json").status_code == 409
    bad = client.post("/api/v1/chronic/medicines", {"patient": patients["gf"].pk, "name": "x", "dose": "1"},
                      content_type="application/json")
    assert bad.status_code == 422 and "frequency" in str(bad.json())
    listed = client.get("/api/v1/chronic/medicines", {"patient": patients["gf"].pk}).json()
    assert [m["name"] for m in listed["current"]] == ["二甲双胍片"]
    mid = listed["current"][0]["id"]
    assert client.post(f"/api/v1/chronic/medicines/{mid}/stop", {}, content_type="application/json").json()["until"]
    month = f"{timezone.localdate():%Y-%m}"
    d = client.get("/api/v1/chronic/medicines/delivery", {"month": month}).json()
    assert d["village"] == care.cast.village.code and d["totals"][0]["drug"] == "二甲双胍片"
    x = client.get("/api/v1/chronic/medicines/delivery", {"month": month, "format": "xlsx"})
    assert x.status_code == 200 and x["Content-Type"].startswith("application/vnd.openxml")
    assert client.get("/api/v1/chronic/medicines", {"patient": patients["far"].pk}).status_code == 404
