"""Races between real connections (PostgreSQL only): a line confirmed twice at the same moment (a village's flaky
network resending) counts once; two orders picked at once never hold more than the center has."""

import pytest
from django.db import connection

from tests.cast import as_
from tests.concurrency import race
from yigongti.distribution import services
from yigongti.distribution.models import LineReceipt, Pick
from yigongti.pharmacy import ledger

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so two connections cannot race "
                    "(run with DATABASE_URL=postgresql://…)")


def test_a_line_confirmed_twice_at_once_counts_once(w):
    o = services.create_order(as_(w.c.village_doctor), w.c.village_clinic, {w.amlodipine.pk: 12}, submit=True)
    for fn in (services.approve_order, services.pick_order, services.dispatch_order):
        fn(as_(w.pharmacist), o)
    line = o.lines.get()
    doc = as_(w.c.village_doctor)
    results = race([lambda: services.receive_line(doc, line, received=12),
                    lambda: services.receive_line(doc, line, received=12)])
    assert all(isinstance(r, LineReceipt) for r in results), results
    assert results[0].pk == results[1].pk
    assert LineReceipt.objects.count() == 1
    assert ledger.on_hand(w.c.village_clinic, w.amlodipine) == 12


def test_two_picks_at_once_share_the_stock_and_never_exceed_it(w):
    a = services.create_order(as_(w.c.village_doctor), w.c.village_clinic, {w.amlodipine.pk: 40}, submit=True)
    b = services.create_order(as_(w.c.other_village_doctor), w.c.other_clinic, {w.amlodipine.pk: 40}, submit=True)
    for o in (a, b):
        services.approve_order(as_(w.pharmacist), o)
    ph = as_(w.pharmacist)
    race([lambda: services.pick_order(ph, a), lambda: services.pick_order(ph, b)])
    held = sum(p.quantity for p in Pick.objects.all())
    assert held == 60  # 60 boxes at the center: 40 to one, 20 to the other
