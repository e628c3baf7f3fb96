"""A village clinic's order from submission to receipt, through the services, with the ledger checked at each step."""

from __future__ import annotations

import pytest

from tests.cast import as_
from tests.distribution.world import TODAY
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.distribution import queries, services
from yigongti.distribution.models import OrderStatus
from yigongti.pharmacy import ledger
from yigongti.pharmacy.models import Movement, MovementKind, TraceCode, TraceStatus


def _order(w, aml=12, met=5):
    c = w.c
    return services.create_order(as_(c.village_doctor), c.village_clinic,
                                 {w.amlodipine.pk: aml, w.metformin.pk: met}, submit=True)


def _to_dispatched(w, **kw):
    o = _order(w, **kw)
    services.approve_order(as_(w.pharmacist), o)
    services.pick_order(as_(w.pharmacist), o)
    return services.dispatch_order(as_(w.pharmacist), o)


def test_village_doctor_orders_only_items_of_the_village_catalogue(w):
    c = w.c
    with pytest.raises(InvalidInput) as e:
        services.create_order(as_(c.village_doctor), c.village_clinic, {w.ceftriaxone.pk: 3})
    assert "目录" in e.value.message
    o = _order(w)
    assert o.status == OrderStatus.SUBMITTED and o.lines.count() == 2


def test_village_doctor_cannot_order_for_another_clinic(w):
    c = w.c
    with pytest.raises(Forbidden):
        services.create_order(as_(c.village_doctor), c.other_clinic, {w.amlodipine.pk: 1})


def test_only_the_centers_pharmacist_approves(w):
    o = _order(w)
    with pytest.raises(Forbidden):
        services.approve_order(as_(w.township_pharmacist), o)
    with pytest.raises(Forbidden):
        services.approve_order(as_(w.c.village_doctor), o)


def test_approval_may_cut_but_not_raise_quantities(w):
    o = _order(w)
    line = o.lines.get(item=w.amlodipine)
    with pytest.raises(InvalidInput):
        services.approve_order(as_(w.pharmacist), o, {line.pk: 99})
    services.approve_order(as_(w.pharmacist), o, {line.pk: 8})
    line.refresh_from_db()
    assert line.approved == 8 and line.requested == 12


def test_picking_is_first_expiry_first_out_and_takes_trace_codes_without_moving_stock(w):
    o = _order(w)
    services.approve_order(as_(w.pharmacist), o)
    services.pick_order(as_(w.pharmacist), o)
    line = o.lines.get(item=w.amlodipine)
    picks = list(line.picks.order_by("lot__expires_on"))
    assert [(p.lot.number, p.quantity) for p in picks] == [("A2401", 10), ("A2409", 2)]
    assert len(picks[0].trace_codes) == 10
    assert ledger.on_hand(w.center, w.amlodipine) == 60  # nothing moved yet


def test_a_second_pick_does_not_take_what_the_first_holds(w):
    services.pick_order(as_(w.pharmacist), services.approve_order(as_(w.pharmacist), _order(w, aml=55, met=1)))
    o2 = services.approve_order(as_(w.pharmacist), _order(w, aml=10, met=1))
    services.pick_order(as_(w.pharmacist), o2)
    assert o2.lines.get(item=w.amlodipine).picked == 5  # 60 on hand, 55 held by the first


def test_dispatch_moves_stock_out_of_the_center_and_codes_in_transit(w):
    o = _to_dispatched(w)
    assert o.status == OrderStatus.DISPATCHED
    assert ledger.on_hand(w.center, w.amlodipine) == 48
    assert ledger.on_hand(w.c.village_clinic, w.amlodipine) == 0
    assert queries.in_transit(o) == 17
    assert TraceCode.objects.filter(status=TraceStatus.IN_TRANSIT, facility=w.c.village_clinic).count() == 10
    out = Movement.objects.filter(source=f"order:{o.pk}", kind=MovementKind.TRANSFER_OUT)
    assert sum(m.quantity for m in out) == -17 and {m.counterpart_id for m in out} == {w.c.village_clinic.pk}


def test_receipt_line_by_line_moves_stock_into_the_village_and_closes_the_order(w):
    o = _to_dispatched(w)
    doc = as_(w.c.village_doctor)
    aml, met = o.lines.get(item=w.amlodipine), o.lines.get(item=w.metformin)
    services.receive_line(doc, aml, received=12)
    o.refresh_from_db()
    assert o.status == OrderStatus.DISPATCHED
    assert ledger.on_hand(w.c.village_clinic, w.amlodipine) == 12
    assert TraceCode.objects.filter(status=TraceStatus.IN_STOCK, facility=w.c.village_clinic).count() == 10
    services.receive_line(doc, met, received=5)
    o.refresh_from_db()
    assert o.status == OrderStatus.RECEIVED and o.received_at is not None


def test_a_delivery_confirmed_twice_counts_once(w):
    o = _to_dispatched(w)
    aml = o.lines.get(item=w.amlodipine)
    first = services.receive_line(as_(w.c.village_doctor), aml, received=12)
    again = services.receive_line(as_(w.c.village_doctor), aml, received=12)
    assert first.pk == again.pk
    assert ledger.on_hand(w.c.village_clinic, w.amlodipine) == 12
    assert Movement.objects.filter(source=f"order:{o.pk}", kind=MovementKind.TRANSFER_IN,
                                   item=w.amlodipine).count() == 2  # the two lots, once each


def test_discrepancies_are_recorded_and_the_order_is_partly_received(w):
    o = _to_dispatched(w)
    doc = as_(w.c.village_doctor)
    aml, met = o.lines.get(item=w.amlodipine), o.lines.get(item=w.metformin)
    r = services.receive_line(doc, aml, received=9, damaged=2, note="外箱破损")
    assert (r.received, r.damaged, r.short) == (9, 2, 1)
    services.receive_line(doc, met, received=5, wrong_lot="M9999")
    o.refresh_from_db()
    assert o.status == OrderStatus.PARTLY_RECEIVED
    assert ledger.on_hand(w.c.village_clinic, w.amlodipine) == 9
    assert TraceCode.objects.filter(status=TraceStatus.WRITTEN_OFF).count() == 1  # 10 codes: 9 in, 1 damaged


def test_a_receipt_over_the_delivered_quantity_is_refused(w):
    o = _to_dispatched(w)
    with pytest.raises(InvalidInput) as e:
        services.receive_line(as_(w.c.village_doctor), o.lines.get(item=w.metformin), received=6)
    assert "超过" in e.value.message


def test_an_expired_lot_is_refused_at_receipt(w):
    o = _to_dispatched(w)
    later = TODAY.replace(year=TODAY.year + 2)
    with pytest.raises(InvalidInput) as e:
        services.receive_line(as_(w.c.village_doctor), o.lines.get(item=w.amlodipine), received=12, today=later)
    assert "过期" in e.value.message


def test_another_village_cannot_receive(w):
    o = _to_dispatched(w)
    with pytest.raises(Forbidden):
        services.receive_line(as_(w.c.other_village_doctor), o.lines.first(), received=1)


def test_a_submitted_order_cannot_be_submitted_again_and_reject_needs_a_reason(w):
    o = _order(w)
    with pytest.raises(Conflict):
        services.submit_order(as_(w.c.village_doctor), o)
    with pytest.raises(InvalidInput):
        services.reject_order(as_(w.pharmacist), o, "")
    o = services.reject_order(as_(w.pharmacist), o, "本月已配送")
    assert o.status == OrderStatus.REJECTED


def test_order_form_suggests_from_chronic_patients_and_consumption(w):
    rows = {r["item"].pk: r for r in queries.order_form_rows(w.c.village_clinic)}
    assert w.ceftriaxone.pk not in rows  # county level
    assert rows[w.amlodipine.pk]["suggested"] == 0  # no use, no limit


def test_the_pharmacist_may_choose_the_lots_instead_of_fefo(w):
    o = services.approve_order(as_(w.pharmacist), _order(w, aml=12, met=1))
    line = o.lines.get(item=w.amlodipine)
    with pytest.raises(InvalidInput):
        services.pick_order(as_(w.pharmacist), o, chosen={line.pk: [(w.late.pk, 13)]})  # over the approved 12
    services.pick_order(as_(w.pharmacist), o, chosen={line.pk: [(w.late.pk, 12)]})
    assert [(p.lot.number, p.quantity) for p in line.picks.all()] == [("A2409", 12)]
