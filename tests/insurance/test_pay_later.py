"""先诊疗后付费: an account opened for an encounter carries its status (open, overdue once the due date has
passed) until it is settled with the settlement's number."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.cast import SYSTEM, as_
from tests.insurance.fixtures_cases import stay
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.core.models import AuditEvent
from yigongti.insurance import pay_later
from yigongti.insurance.models import PayLater
from yigongti.orgs.models import Role
from yigongti.orgs.services import create_account

TODAY = dt.date.today()


@pytest.fixture
def encounter(cast):
    return stay(cast, "resident", cast.county_hospital, TODAY - dt.timedelta(days=12), TODAY - dt.timedelta(days=10),
                total="5000")


@pytest.fixture
def admin(cast):
    return create_account(username="h_admin", role=Role.FACILITY_ADMIN, password="Ceshi-mima-2026",
                          facility=cast.county_hospital, actor=SYSTEM)[0]


def test_an_account_opens_with_the_self_paid_part_due_a_week_after_discharge(cast, encounter):
    a = pay_later.open_pay_later(encounter, actor=as_(cast.county_doctor))
    assert a.amount_due == Decimal("2000.00") and a.due_date == encounter.discharge_date + dt.timedelta(days=7)
    assert pay_later.status_of(a) == "overdue"  # discharged ten days ago
    assert AuditEvent.objects.filter(action="create", object_type="pay_later", object_id=str(a.pk)).exists()
    with pytest.raises(Conflict):
        pay_later.open_pay_later(encounter, actor=as_(cast.county_doctor))


def test_open_until_the_due_date_then_overdue(cast, encounter):
    a = pay_later.open_pay_later(encounter, {"due_date": TODAY.isoformat(), "amount_due": "1,200.50"},
                                 actor=as_(cast.county_doctor))
    assert a.amount_due == Decimal("1200.50")
    assert pay_later.status_of(a) == "open"
    assert pay_later.status_of(a, TODAY + dt.timedelta(days=1)) == "overdue"
    assert PayLater.objects.filter(pay_later.status_q("overdue", TODAY + dt.timedelta(days=1))).count() == 1
    assert PayLater.objects.filter(pay_later.status_q("open")).count() == 1
    assert pay_later.mark_overdue(TODAY + dt.timedelta(days=1), actor=SYSTEM) == 1


def test_bad_input_names_the_field(cast, encounter):
    with pytest.raises(InvalidInput) as e:
        pay_later.open_pay_later(encounter, {"amount_due": "-5"}, actor=as_(cast.county_doctor))
    assert e.value.field == "amount_due"
    with pytest.raises(InvalidInput) as e:
        pay_later.open_pay_later(encounter, {"due_date": "tomorrow"}, actor=as_(cast.county_doctor))
    assert e.value.field == "due_date"
    assert not PayLater.objects.exists()


def test_only_the_treating_facility_opens_an_account(cast, encounter):
    with pytest.raises(Forbidden):
        pay_later.open_pay_later(encounter, actor=as_(cast.township_doctor))


def test_the_officer_or_the_facilitys_admin_settles_with_the_settlement_number(cast, encounter, officer, admin):
    a = pay_later.open_pay_later(encounter, actor=as_(cast.county_doctor))
    with pytest.raises(Forbidden):
        pay_later.settle_pay_later(a, "JS20260501", actor=as_(cast.county_doctor))
    with pytest.raises(InvalidInput):
        pay_later.settle_pay_later(a, "", actor=as_(admin))
    settled = pay_later.settle_pay_later(a, "JS20260501", actor=as_(admin))
    assert (settled.status, settled.settlement_no) == ("settled", "JS20260501") and settled.settled_at
    assert pay_later.status_of(settled) == "settled"
    with pytest.raises(Conflict):
        pay_later.settle_pay_later(a, "JS20260502", actor=as_(officer))
    other = create_account(username="t_admin", role=Role.FACILITY_ADMIN, password="Ceshi-mima-2026",
                           facility=cast.township_center, actor=SYSTEM)[0]
    with pytest.raises(Forbidden):
        pay_later.settle_pay_later(a, "JS20260503", actor=as_(other))


def test_the_page_lists_overdue_accounts_and_settles(cast, encounter, officer, login):
    pay_later.open_pay_later(encounter, actor=as_(cast.county_doctor))
    c = login(officer)
    r = c.get("/insurance/pay-later/", {"status": "overdue"})
    assert r.status_code == 200 and len(r.context["page"].items) == 1 and 'data-testid="overdue"' in r.content.decode()
    assert "李*国" in r.content.decode()
    a = PayLater.objects.get()
    assert c.post(f"/insurance/pay-later/{a.pk}/settle/", {"settlement_no": "JS1234"}).status_code == 302
    assert c.get("/insurance/pay-later/").context["page"].items == []  # unsettled only by default
    assert len(c.get("/insurance/pay-later/", {"status": "settled"}).context["page"].items) == 1
    assert login(cast.township_doctor).get("/insurance/pay-later/", {"status": ""}).context["page"].items == []


def test_the_page_opens_an_account_for_an_encounter(cast, encounter, login):
    c = login(cast.county_doctor)
    assert c.post("/insurance/pay-later/", {"encounter": encounter.pk}).status_code == 302
    r = c.post("/insurance/pay-later/", {"encounter": "999999"})
    assert r.status_code == 200 and "就诊记录不存在" in r.content.decode()


def test_the_pay_later_api(cast, encounter, officer, login):
    c = login(cast.county_doctor)
    r = c.post("/api/v1/insurance/pay-later", {"encounter": encounter.pk, "due_date": TODAY.isoformat()},
               content_type="application/json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert r.json()["status"] == "open"
    o = login(officer)
    assert [x["id"] for x in o.get("/api/v1/insurance/pay-later").json()["items"]] == [pk]
    bad = o.post(f"/api/v1/insurance/pay-later/{pk}/settle", {"settlement_no": "中文"}, content_type="application/json")
    assert bad.status_code == 422 and bad["Content-Type"].startswith("application/problem+json")
    r = o.post(f"/api/v1/insurance/pay-later/{pk}/settle", {"settlement_no": "JS9999"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "settled"
