"""Two dispensers taking the last box at the same moment (two real connections): one dispenses, the other is
told the box is gone — no negative balance, one movement. PostgreSQL only."""

import pytest
from django.db import connection

from tests.cast import as_
from tests.concurrency import race
from tests.prescribing.world import build_rx, rx_data
from yigongti.pharmacy.ledger import OutOfStock
from yigongti.pharmacy.models import Movement, StockBalance
from yigongti.prescribing import services
from yigongti.prescribing.models import Dispensing

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so two connections cannot race "
                    "(run with DATABASE_URL=postgresql://…)")


def test_two_dispensers_racing_for_the_last_box_give_one_dispensing_and_one_out_of_stock(cast):
    w = build_rx(cast, stock=1)
    a = services.create_prescription(as_(cast.village_doctor), rx_data(w))
    b = services.create_prescription(as_(cast.village_doctor), rx_data(w))
    results = race([lambda: services.dispense(as_(cast.village_doctor), a),
                    lambda: services.dispense(as_(cast.village_doctor), b)])
    assert sorted(type(r).__name__ for r in results) == ["Dispensing", "OutOfStock"], results
    assert isinstance(next(r for r in results if not isinstance(r, Dispensing)), OutOfStock)
    assert StockBalance.objects.get(facility=cast.village_clinic, lot=w.lots["氨氯地平"]).quantity == 0
    assert Movement.objects.filter(kind="dispense").count() == 1


def test_one_prescription_dispensed_twice_at_once_is_dispensed_once(cast):
    w = build_rx(cast, stock=5)
    a = services.create_prescription(as_(cast.village_doctor), rx_data(w))
    results = race([lambda: services.dispense(as_(cast.village_doctor), a),
                    lambda: services.dispense(as_(cast.village_doctor), a)])
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Dispensing"], results
    assert StockBalance.objects.get(facility=cast.village_clinic, lot=w.lots["氨氯地平"]).quantity == 4
