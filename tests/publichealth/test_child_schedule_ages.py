"""Each visit of 0～6岁儿童健康管理服务规范 (第三版) opens at the age the 规范 gives it: the newborn home visit, 满月
(28 days), 3, 6, 8, 12, 18, 24, 30, 36 months, then once a year at 4, 5 and 6; and the plan reads them so."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from yigongti.publichealth import schedules as s

MONTH = 365 / 12


@pytest.mark.parametrize("code,months", [("month_3", 3), ("month_6", 6), ("month_8", 8), ("month_12", 12),
                                         ("month_18", 18), ("month_24", 24), ("month_30", 30), ("month_36", 36)])
def test_infant_and_toddler_checks_open_at_their_month(code, months):
    w = s.child().window(code)
    assert w.start == int(months * MONTH + 0.5)  # a month = 365/12 days, rounded half up
    assert w.end > w.start


@pytest.mark.parametrize("code,years", [("year_4", 4), ("year_5", 5), ("year_6", 6)])
def test_preschool_checks_once_a_year_from_the_birthday(code, years):
    assert s.child().window(code).start == years * 365


def test_newborn_visit_from_birth_and_the_full_month_at_28_days():
    c = s.child()
    assert c.window("newborn").start == 0 and c.window("newborn").end >= 7  # 出院后1周内
    assert c.window("month_1").start == 28  # 满28天后


def test_windows_do_not_overlap_so_each_visit_has_one_item():
    visits = s.child().visits
    for a, b in itertools.pairwise(visits):
        assert a.end < b.start, (a.code, b.code)


def test_a_child_born_today_is_due_the_newborn_visit_and_each_check_in_turn():
    birth = dt.date(2026, 1, 1)
    for code, day in (("newborn", 0), ("month_1", 28), ("month_6", 183), ("month_36", 1095), ("year_6", 2190)):
        plan = {p.window.code: p for p in s.plan(s.child(), {"birth_days": birth}, birth + dt.timedelta(days=day),
                                                 {})}
        assert plan[code].status == "due", code
