"""Two dispensers take the last box at the same moment (two real connections): one succeeds, the other gets
OutOfStock; the balance ends at 0 with one movement. PostgreSQL only (SQLite serialises every writer)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from tests.concurrency import race
from yigongti.pharmacy import ledger
from yigongti.pharmacy.ledger import OutOfStock
from yigongti.pharmacy.models import Movement, MovementKind, StockBalance

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so two connections cannot race "
                    "(run with DATABASE_URL=postgresql://…)")


def _dispense(f, item, n, tag):
    def run():
        with transaction.atomic():
            return ledger.take_fefo(facility=f, item=item, quantity=n, kind=MovementKind.DISPENSE,
                                    source=f"prescription:{tag}")
    return run


def test_two_dispensers_take_the_last_box_one_wins(ph):
    f = ph.c.village_clinic
    with transaction.atomic():
        ledger.post(facility=f, lot=ph.lot_late, quantity=1, kind=MovementKind.RECEIPT)
    for _round in range(3):
        results = race([_dispense(f, ph.item, 1, "a"), _dispense(f, ph.item, 1, "b")])
        kinds = sorted(type(r).__name__ for r in results)
        assert kinds == ["OutOfStock", "list"], results
        assert isinstance(next(r for r in results if not isinstance(r, list)), OutOfStock)
        assert StockBalance.objects.get(facility=f, lot=ph.lot_late).quantity == 0
        with transaction.atomic():
            ledger.post(facility=f, lot=ph.lot_late, quantity=1, kind=MovementKind.RECEIPT)
    assert Movement.objects.filter(facility=f, kind=MovementKind.DISPENSE).count() == 3


def test_two_dispensers_racing_across_lots_never_oversell(ph):
    f = ph.c.village_clinic
    with transaction.atomic():
        ledger.post(facility=f, lot=ph.lot_soon, quantity=2, kind=MovementKind.RECEIPT)
        ledger.post(facility=f, lot=ph.lot_late, quantity=1, kind=MovementKind.RECEIPT)
    results = race([_dispense(f, ph.item, 2, "a"), _dispense(f, ph.item, 2, "b")])
    assert sorted(type(r).__name__ for r in results) == ["OutOfStock", "list"], results
    assert sum(StockBalance.objects.filter(facility=f).values_list("quantity", flat=True)) == 1
