"""familydoctor.schedule: the contract year's plan (pure)."""

import datetime as dt
import itertools
from types import SimpleNamespace as S

import pytest

from yigongti.familydoctor.schedule import applies, plan_services, windows

START, END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


def test_four_visits_split_the_year_into_quarters():
    plan = plan_services([S(code="FU", times_per_year=4, tags=[])], set(), START, END)
    assert [(p.seq, p.due_from, p.due_by) for p in plan] == [
        (1, dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
        (2, dt.date(2026, 4, 2), dt.date(2026, 7, 1)),
        (3, dt.date(2026, 7, 2), dt.date(2026, 9, 30)),
        (4, dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
    ]


def test_windows_cover_the_term_without_gaps_or_overlaps():
    for n in (1, 2, 3, 5, 7, 12, 52):
        w = windows(START, END, n)
        assert w[0][0] == START and w[-1][1] == END and len(w) == n
        for (a, b), (c, _d) in itertools.pairwise(w):
            assert a <= b and c == b + dt.timedelta(days=1)


def test_once_a_year_is_the_whole_term_and_zero_plans_nothing():
    plan = plan_services([S(code="HC", times_per_year=1, tags=[]), S(code="X", times_per_year=0, tags=[])],
                         set(), START, END)
    assert [(p.service.code, p.due_from, p.due_by) for p in plan] == [("HC", START, END)]


def test_tagged_services_only_for_residents_with_one_of_the_tags():
    fu = S(code="FU", times_per_year=4, tags=["htn", "t2dm"])
    edu = S(code="EDU", times_per_year=2, tags=[])
    assert {p.service.code for p in plan_services([fu, edu], {"elderly"}, START, END)} == {"EDU"}
    assert {p.service.code for p in plan_services([fu, edu], {"t2dm"}, START, END)} == {"FU", "EDU"}
    assert applies(None, set()) and applies([], {"x"}) and not applies(["htn"], set())


def test_plan_is_ordered_by_due_date_and_short_terms_still_fit():
    plan = plan_services([S(code="A", times_per_year=3, tags=[])], set(), dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    assert len(plan) == 3 and all(dt.date(2026, 3, 1) <= p.due_from <= p.due_by <= dt.date(2026, 3, 2) for p in plan)
    assert [p.due_by for p in plan] == sorted(p.due_by for p in plan)
    with pytest.raises(ValueError):
        windows(END, START, 2)
