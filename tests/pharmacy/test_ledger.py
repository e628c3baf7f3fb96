"""The ledger's primitives: first-expiry-first-out across lots, expired lots skipped, never a negative balance,
a stocktake's difference as an adjustment (history kept), transfers in pairs; balances equal the movements' sum."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum

from yigongti.core.errors import InvalidInput
from yigongti.pharmacy import ledger
from yigongti.pharmacy.ledger import OutOfStock
from yigongti.pharmacy.models import Movement, MovementKind, StockBalance

R = MovementKind.RECEIPT


def _stock(ph, facility=None):
    f = facility or ph.c.village_clinic
    with transaction.atomic():
        ledger.post(facility=f, lot=ph.lot_expired, quantity=5, kind=R)
        ledger.post(facility=f, lot=ph.lot_late, quantity=10, kind=R)
        ledger.post(facility=f, lot=ph.lot_soon, quantity=4, kind=R)
    return f


def _qty(f, lot) -> int:
    return StockBalance.objects.get(facility=f, lot=lot).quantity


def _balances_match_ledger(f):
    for b in StockBalance.objects.filter(facility=f):
        total = Movement.objects.filter(facility=f, lot=b.lot).aggregate(n=Sum("quantity"))["n"] or 0
        assert total == b.quantity, b
        last = Movement.objects.filter(facility=f, lot=b.lot).order_by("-pk").first()
        assert last is None or last.balance_after == b.quantity


def test_fefo_takes_the_earliest_unexpired_lot_first_and_skips_expired(ph):
    f = _stock(ph)
    with transaction.atomic():
        taken = ledger.take_fefo(facility=f, item=ph.item, quantity=6, kind=MovementKind.DISPENSE,
                                 source="prescription:1")
    assert [(t.lot.number, t.quantity) for t in taken] == [("A001", 4), ("A002", 2)]
    assert _qty(f, ph.lot_soon) == 0 and _qty(f, ph.lot_late) == 8 and _qty(f, ph.lot_expired) == 5
    assert all(t.movement.quantity < 0 and t.movement.source == "prescription:1" for t in taken)
    assert ledger.on_hand(f, ph.item) == 8  # the expired lot is not usable stock
    _balances_match_ledger(f)


def test_fefo_refuses_when_only_expired_stock_would_cover(ph):
    f = _stock(ph)
    with pytest.raises(OutOfStock) as e, transaction.atomic():
        ledger.take_fefo(facility=f, item=ph.item, quantity=15, kind=MovementKind.DISPENSE)
    assert e.value.status == 409 and "可用 14" in e.value.message
    assert _qty(f, ph.lot_soon) == 4 and _qty(f, ph.lot_late) == 10  # nothing taken
    assert Movement.objects.filter(facility=f, kind=MovementKind.DISPENSE).count() == 0


def test_no_negative_stock_on_a_single_lot(ph):
    f = _stock(ph)
    with pytest.raises(OutOfStock), transaction.atomic():
        ledger.post(facility=f, lot=ph.lot_soon, quantity=-5, kind=MovementKind.ISSUE)
    assert _qty(f, ph.lot_soon) == 4


def test_the_database_refuses_a_negative_balance_even_past_the_ledger(ph):
    f = _stock(ph)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockBalance.objects.filter(facility=f, lot=ph.lot_soon).update(quantity=-1)


def test_wrong_sign_and_zero_are_refused(ph):
    f = ph.c.village_clinic
    with pytest.raises(InvalidInput), transaction.atomic():
        ledger.post(facility=f, lot=ph.lot_late, quantity=-1, kind=R)
    with pytest.raises(InvalidInput), transaction.atomic():
        ledger.post(facility=f, lot=ph.lot_late, quantity=0, kind=MovementKind.ADJUST)


def test_stocktake_count_records_the_difference_and_keeps_history(ph):
    f = _stock(ph)
    before = list(Movement.objects.filter(facility=f).values_list("pk", "quantity", "balance_after"))
    with transaction.atomic():
        m = ledger.count(facility=f, lot=ph.lot_late, counted=7, reason="盘亏")
        same = ledger.count(facility=f, lot=ph.lot_soon, counted=4)
        up = ledger.count(facility=f, lot=ph.lot_soon, counted=6)
    assert m is not None and m.kind == MovementKind.ADJUST and m.quantity == -3 and m.balance_after == 7
    assert same is None
    assert up is not None and up.quantity == 2
    assert _qty(f, ph.lot_late) == 7 and _qty(f, ph.lot_soon) == 6
    # the earlier lines are untouched: a stocktake never rewrites history
    assert list(Movement.objects.filter(pk__in=[b[0] for b in before]).values_list(
        "pk", "quantity", "balance_after")) == before
    _balances_match_ledger(f)
    with pytest.raises(InvalidInput), transaction.atomic():
        ledger.count(facility=f, lot=ph.lot_late, counted=-1)


def test_transfer_moves_lots_in_pairs(ph):
    src = _stock(ph, ph.c.county_hospital)
    dst = ph.c.village_clinic
    with transaction.atomic():
        pairs = ledger.transfer(from_facility=src, to_facility=dst, lots=[(ph.lot_late, 3), (ph.lot_soon, 1)],
                                source="order:9")
    assert len(pairs) == 2
    assert _qty(src, ph.lot_late) == 7 and _qty(dst, ph.lot_late) == 3 and _qty(dst, ph.lot_soon) == 1
    out, into = pairs[0]
    assert out.counterpart == dst and into.counterpart == src and out.quantity == -into.quantity
    with pytest.raises(OutOfStock), transaction.atomic():
        ledger.transfer(from_facility=src, to_facility=dst, lots=[(ph.lot_soon, 1), (ph.lot_late, 99)])
    assert _qty(src, ph.lot_soon) == 3  # the whole transfer rolled back
    _balances_match_ledger(src)
    _balances_match_ledger(dst)
