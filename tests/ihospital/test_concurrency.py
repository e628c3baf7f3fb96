"""The same payment notice delivered twice at once, and a delivery confirmed twice at once (a village's flaky
network): each counts once. PostgreSQL only (SQLite serialises every writer), with real connections."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.cast import as_
from tests.concurrency import race
from tests.ihospital.world import amlodipine, ask, principal_for
from yigongti.core.models import AuditEvent
from yigongti.ihospital import gateway, services
from yigongti.ihospital.models import Delivery, PaymentNotice

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer (run with DATABASE_URL=postgresql://…)")


@pytest.fixture
def shipped(ih):
    c = ask(ih)
    services.accept_consultation(as_(ih.c.township_doctor), c)
    services.prescribe(as_(ih.c.township_doctor), c, {"lines": amlodipine(ih)})
    services.dispense(as_(ih.pharmacist), c)
    d = Delivery.objects.get(consultation=c)
    services.move_delivery(as_(ih.pharmacist), d, "ship")
    return c, d


def test_the_same_notice_at_once_counts_once(ih, shipped):
    c, _d = shipped
    pay, _url = services.start_payment(principal_for(ih.c.resident), c.pk)
    notice = gateway.SimulatedGateway().notice_for(pay, success=True, notice_id="same-1")
    results = race([lambda: services.handle_payment_notice(notice), lambda: services.handle_payment_notice(notice)])
    assert all(getattr(r, "status", None) == "paid" for r in results), results
    assert PaymentNotice.objects.filter(payment=pay).count() == 1
    assert AuditEvent.objects.filter(object_type="ihospital_payment", object_id=str(pay.pk),
                                     detail__status="paid").count() == 1


def test_a_delivery_confirmed_twice_at_once_counts_once(ih, shipped):
    _c, d = shipped
    vd = as_(ih.c.village_doctor)
    results = race([lambda: services.move_delivery(vd, d, "deliver"), lambda: services.move_delivery(vd, d, "deliver")])
    assert all(getattr(r, "status", None) == "delivered" for r in results), results
    assert AuditEvent.objects.filter(object_type="ihospital_delivery", object_id=str(d.pk),
                                     detail__move="deliver").count() == 1
