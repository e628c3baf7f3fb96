"""The scheme's arithmetic without a database: linear to target and capped, lower-is-better, no data, the pool
shared to the cent, N06's ratio."""

from __future__ import annotations

from decimal import Decimal

import pytest

from yigongti.performance import scoring

D = Decimal


def item(**kw) -> scoring.Item:
    base = {"kind": "workload", "measure": "visits", "weight": D(30), "target": D(1000), "direction": "higher",
            "cap": D("1.00")}
    base.update(kw)
    return scoring.Item(**base)


def test_points_are_linear_to_the_target():
    assert scoring.item_points(item(), D(500)).points == D("15.00")
    assert scoring.item_points(item(), D(0)).points == D("0.00")


def test_points_are_capped_at_the_cap_times_the_weight():
    assert scoring.item_points(item(), D(5000)).points == D("30.00")
    assert scoring.item_points(item(cap=D("1.20")), D(5000)).points == D("36.00")
    assert scoring.item_points(item(cap=D("1.20")), D(1100)).points == D("33.00")


def test_lower_is_better_scores_target_over_actual():
    drug = item(kind="indicator", measure="DRUG_RATIO", weight=D(15), target=D(30), direction="lower")
    assert scoring.item_points(drug, D(40)).points == D("11.25")
    assert scoring.item_points(drug, D(20)).points == D("15.00")  # better than target: capped
    assert scoring.item_points(drug, D(0)).points == D("15.00")


def test_no_data_earns_nothing_and_says_so():
    line = scoring.item_points(item(), None)
    assert line.points == 0 and line.actual is None and "无数据" in line.note


def test_a_units_total_adds_its_lines():
    items = [item(), item(kind="satisfaction", measure="satisfaction", weight=D(20), target=D(90))]
    total, lines = scoring.score(items, {"workload:visits": D(800), "satisfaction:satisfaction": D(81)})
    assert total == D("42.00") and [ln.points for ln in lines] == [D("24.00"), D("18.00")]
    assert scoring.full_marks(items) == D(50)


@pytest.mark.parametrize("bad", [{"weight": D(0)}, {"target": D(0)}, {"cap": D("0.5")}, {"cap": D(4)},
                                 {"direction": "sideways"}])
def test_an_item_with_a_bad_weight_target_or_cap_is_refused(bad):
    with pytest.raises(scoring.ScoringError):
        scoring.validate_item(item(**bad))


def test_the_pool_is_shared_by_score_times_headcount_to_the_cent():
    shares = scoring.distribute(D("100000.00"), {"a": (D(90), 10), "b": (D(60), 5), "c": (D(0), 8)})
    assert sum(shares.values()) == D("100000.00")
    assert shares["c"] == 0
    assert shares["a"] == D("75000.00") and shares["b"] == D("25000.00")


def test_the_pool_remainder_cents_go_by_largest_remainder():
    shares = scoring.distribute(D("100.00"), {k: (D(1), 1) for k in "xyz"})
    assert sum(shares.values()) == D("100.00")
    assert sorted(shares.values()) == [D("33.33"), D("33.33"), D("33.34")]


def test_nobody_with_merit_means_nothing_is_distributed():
    assert scoring.distribute(D(500), {"a": (D(0), 3), "b": (D(50), 0)}) == {"a": 0, "b": 0}
    with pytest.raises(scoring.ScoringError):
        scoring.distribute(D(-1), {})


def test_guaranteed_part_and_income_ratio():
    assert scoring.monthly_guaranteed(D("60000")) == D("5000.00")
    assert scoring.income_ratio(D("80000"), D("115000")) == D("0.70")
    assert scoring.income_ratio(None, D(1)) is None and scoring.income_ratio(D(1), None) is None
    assert scoring.mean(D(300), 3) == D("100.00") and scoring.mean(D(0), 0) is None
