"""Deliveries recorded at the same moment (PostgreSQL only: two real connections)."""

import datetime as dt
import time

import pytest
from django.db import connection

from tests.concurrency import race
from tests.familydoctor.test_fulfilment import make_contract
from yigongti.familydoctor.models import DeliverySource, ScheduledService, ServiceDelivery, ServiceKind
from yigongti.familydoctor.services import fulfilment

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so two connections cannot race "
                    "(run with DATABASE_URL=postgresql://…)")


def _record(care, source_id):
    return lambda: fulfilment.record_from_source(
        resident=care.grandfather, kind=ServiceKind.FOLLOW_UP, on=dt.date(2026, 3, 2), by=None, facility=None,
        source=DeliverySource.CHRONIC, source_id=source_id)


def test_the_same_source_record_counted_twice_at_once_is_one_delivery(care):
    make_contract(care, care.grandfather)
    results = race([_record(care, "chronic.followup:7"), _record(care, "chronic.followup:7")])
    assert all(isinstance(r, ServiceDelivery) for r in results), results
    assert results[0].pk == results[1].pk and ServiceDelivery.objects.count() == 1


def test_two_deliveries_at_once_take_consecutive_slots(care, monkeypatch):
    make_contract(care, care.grandfather)
    slow = fulfilment.service_for

    def slowly(*args, **kwargs):
        time.sleep(0.2)
        return slow(*args, **kwargs)

    monkeypatch.setattr(fulfilment, "service_for", slowly)
    results = race([_record(care, "chronic.followup:1"), _record(care, "chronic.followup:2")])
    assert all(isinstance(r, ServiceDelivery) for r in results), results
    seqs = sorted(ScheduledService.objects.filter(delivery__isnull=False).values_list("seq", flat=True))
    assert seqs == [1, 2]
