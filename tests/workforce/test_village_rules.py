"""The village doctors' rules without the database: licence window, working days, attendance rate, item points,
the weighted total, ranking, the yearly result and the two-yearly licence assessment."""

import datetime as dt
from decimal import Decimal as D

import pytest

from yigongti.workforce import village as r

SHEET = [r.Item("att", "出勤", "attendance", D(30)), r.Item("ph", "公卫任务", "public_health", D(30), target=40),
         r.Item("sat", "满意度", "entered", D(20)), r.Item("drug", "药品管理", "entered", D(10), weight=D(2))]


def test_licence_runs_five_years_and_is_due_in_its_last_ninety_days():
    assert r.licence_valid_until(dt.date(2022, 3, 1)) == dt.date(2027, 2, 28)
    assert r.licence_valid_until(dt.date(2024, 2, 29)) == dt.date(2029, 2, 27)
    today = dt.date(2026, 12, 4)
    assert r.licence_state(None, today) == "missing"
    assert r.licence_state(dt.date(2026, 12, 3), today) == "expired"
    assert r.licence_state(dt.date(2027, 3, 4), today) == "due"
    assert r.licence_state(dt.date(2027, 3, 5), today) == "valid"


def test_working_days_drop_holidays_and_add_weekend_working_days():
    month = dt.date(2026, 10, 1)
    hol = {dt.date(2026, 10, d): False for d in range(1, 8)} | {dt.date(2026, 10, 10): True}
    work = r.working_days(month, hol)
    assert dt.date(2026, 10, 1) not in work and dt.date(2026, 10, 10) in work
    assert len(work) == 22 - 5 + 1
    assert r.working_days(month, hol, until=dt.date(2026, 10, 9)) == [dt.date(2026, 10, 8), dt.date(2026, 10, 9)]


def test_attendance_rate_excludes_approved_leave_and_counts_flags():
    work = [dt.date(2026, 11, d) for d in (2, 3, 4, 5, 6)]
    a = r.attendance(work, present=[work[0], work[1], dt.date(2026, 11, 7)], leave=[work[2], work[3]],
                     flagged=[work[1]])
    assert (a.working, a.present, a.leave, a.absent, a.flagged, a.extra) == (5, 2, 2, 1, 1, 1)
    assert a.expected == 3 and a.rate == D("66.7")
    assert r.attendance([], [], []).rate is None
    spans = [(dt.date(2026, 10, 30), dt.date(2026, 11, 2))]
    assert r.leave_days(spans, dt.date(2026, 11, 1)) == {dt.date(2026, 11, 1), dt.date(2026, 11, 2)}


def test_item_points_by_method_and_the_bounds_of_typed_points():
    m = r.Measures(attendance_rate=D(90), tasks_done=50)
    assert r.item_points(SHEET[0], m) == (D("27.0"), "90%")
    assert r.item_points(SHEET[1], m) == (D("30.0"), "50/40")
    assert r.item_points(SHEET[1], r.Measures(tasks_done=10))[0] == D("7.5")
    assert r.item_points(SHEET[2], m, D(18)) == (D("18.0"), "")
    assert r.item_points(SHEET[2], m) == (None, "")
    with pytest.raises(r.BadPoints):
        r.item_points(SHEET[2], m, D(21))
    assert r.item_points(SHEET[0], r.Measures())[0] is None


def test_total_is_weighted_on_a_hundred():
    pts = {"att": D(27), "ph": D(30), "sat": D(18), "drug": D(5)}
    # (27 + 30 + 18 + 5×2) ÷ (30 + 30 + 20 + 10×2) × 100
    assert r.total(SHEET, pts) == D("85.0")
    assert r.total(SHEET, {}) == D(0)
    assert r.total([], {}) == D(0)


def test_ranks_share_a_place_on_ties():
    assert r.ranks({1: D(90), 2: D(80), 3: D(90), 4: D(70)}) == {1: 1, 3: 1, 2: 3, 4: 4}


def test_yearly_result_and_the_two_yearly_licence_assessment():
    y1 = r.yearly(2025, [D(70), D(60), D(65)], D(60))
    assert y1.months == 3 and y1.mean == D("65.0") and y1.passed
    y2 = r.yearly(2026, [D(50), D(60)], D(60))
    assert y2.passed is False
    none = r.yearly(2026, [], D(60))
    assert none.passed is None
    assert r.licence_assessment([y1, r.yearly(2026, [D(80)], D(60))]) == "pass"
    assert r.licence_assessment([y1, y2]) == "fail"
    assert r.licence_assessment([y1, none]) == "incomplete"
