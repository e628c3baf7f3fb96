"""Orders placed at the same moment on real concurrent connections (PostgreSQL only): every order gets its own
accession number; the same idempotency key twice at once makes one order; two readers signing at once make one
report."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.cast import as_
from tests.concurrency import race
from tests.telemedicine.conftest import make_order
from yigongti.core.errors import Conflict
from yigongti.telemedicine.models import Order, Report
from yigongti.telemedicine.services import orders as svc

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer (run with DATABASE_URL=postgresql://…)")


def test_orders_at_the_same_moment_get_distinct_accession_numbers(centers):
    c = centers.cast
    who = [c.village_doctor, c.township_doctor, c.county_doctor, c.village_doctor]
    results = race([lambda u=u: make_order(centers, "ECG12", by=u, resident=c.resident) for u in who])
    assert all(isinstance(r, Order) for r in results), results
    numbers = {r.accession_no for r in results}
    assert len(numbers) == 4 and Order.objects.count() == 4


def test_the_same_idempotency_key_at_once_makes_one_order(centers):
    c = centers.cast
    data = {"resident": c.resident.pk, "item": centers.items["CBC"].pk}
    results = race([lambda: svc.place_order(data, "same", actor=as_(c.village_doctor)) for _ in range(3)])
    assert all(isinstance(r, Order) for r in results), results
    assert len({r.pk for r in results}) == 1 and Order.objects.count() == 1


def test_two_readers_signing_at_once_make_one_report(centers):
    c = centers.cast
    order = make_order(centers, "ECG12", by=c.village_doctor, resident=c.resident)
    results = race([lambda: svc.sign_report(order.pk, {"conclusion": "正常心电图"}, actor=as_(centers.reader)),
                    lambda: svc.sign_report(order.pk, {"conclusion": "窦性心律"}, actor=as_(centers.reviewer))])
    assert sum(isinstance(r, Report) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert Report.objects.filter(order=order).count() == 1
