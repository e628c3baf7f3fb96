"""The pure parts: suggested quantities, the routing solver against its baseline, the transition table."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from yigongti.distribution import routing, workflow
from yigongti.distribution.suggest import Need, chronic_boxes, suggested


def test_chronic_patients_need_units_per_day_times_thirty_over_the_pack_size():
    assert chronic_boxes(Decimal("3"), 28, 30) == 4  # 90 tablets, 28 a box
    assert suggested(Need(1, chronic_units_per_day=Decimal("3"), pack_size=28)) == 4


def test_consumption_of_the_last_months_sets_the_month_and_stock_on_hand_is_subtracted():
    assert suggested(Need(1, used=30, used_days=90, on_hand=2)) == 8  # 10 a month, 2 left


def test_the_suggestion_stops_at_the_maximum_and_never_goes_below_zero():
    assert suggested(Need(1, used=300, used_days=90, maximum=40, on_hand=10)) == 30
    assert suggested(Need(1, used=3, used_days=90, on_hand=50)) == 0


def test_a_minimum_is_kept_even_without_use():
    assert suggested(Need(1, minimum=5, on_hand=2)) == 3


def _grid(n: int, seed: int = 3):
    rng = random.Random(seed)
    pts = [(0.0, 0.0)] + [(rng.uniform(-50, 50), rng.uniform(-50, 50)) for _ in range(n)]
    return [[((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5 * 60 for b in pts] for a in pts]


def test_nearest_neighbour_visits_every_village_once_within_the_stop_limit():
    plan = routing.nearest_neighbour(_grid(25), max_stops=8)
    seen = [v for r in plan.routes for v in r]
    assert sorted(seen) == list(range(1, 26)) and all(len(r) <= 8 for r in plan.routes)


def test_or_tools_routes_are_no_longer_than_the_nearest_neighbour_baseline():
    cost = _grid(40)
    base = routing.nearest_neighbour(cost, max_stops=10)
    plan = routing.solve(cost, max_stops=10, time_limit_s=1)
    assert sorted(v for r in plan.routes for v in r) == list(range(1, 41))
    assert all(len(r) <= 10 for r in plan.routes)
    assert plan.cost <= base.cost


def test_capacity_splits_the_load():
    cost = _grid(6)
    demands = [0, 5, 5, 5, 5, 5, 5]
    plan = routing.solve(cost, max_stops=10, demands=demands, capacity=10, time_limit_s=1)
    assert all(sum(demands[v] for v in r) <= 10 for r in plan.routes)


@pytest.mark.parametrize(("status", "action", "target"), [
    ("draft", "submit", "submitted"), ("submitted", "approve", "approved"), ("approved", "pick", "picked"),
    ("picked", "dispatch", "dispatched"), ("dispatched", "receive", "received"),
    ("dispatched", "receive_partly", "partly_received"), ("submitted", "reject", "rejected")])
def test_the_allowed_moves(status, action, target):
    assert workflow.check_move(status, action) == target


def test_a_dispatched_order_cannot_be_cancelled_and_a_received_one_is_not_received_again():
    with pytest.raises(workflow.MoveNotAllowed):
        workflow.check_move("dispatched", "cancel")
    with pytest.raises(workflow.MoveNotAllowed) as e:
        workflow.check_move("received", "receive")
    assert e.value.code == "already_done"
