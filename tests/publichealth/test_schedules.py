"""The maternal and child schedules as data (publichealth.schedules): the 规范's windows, the loader's checks and
the plan's statuses (due / overdue / missed / upcoming / done with timing)."""

import datetime as dt

import pytest

from yigongti.publichealth import schedules as s


def test_the_maternal_schedule_follows_the_third_edition():
    m = s.maternal()
    assert m.edition == "BPHS-3-2017-maternal" and "国卫基层发〔2017〕13号" in m.source
    w = {v.code: (v.basis, v.start, v.end) for v in m.visits}
    assert w["first"] == ("lmp_days", 0, 12 * 7 + 6)  # before 13 weeks
    assert w["antenatal_2"] == ("lmp_days", 16 * 7, 20 * 7 + 6)
    assert w["antenatal_3"] == ("lmp_days", 21 * 7, 24 * 7 + 6)
    assert w["antenatal_4"] == ("lmp_days", 28 * 7, 36 * 7 + 6)
    assert w["antenatal_5"] == ("lmp_days", 37 * 7, 40 * 7 + 6)
    assert w["postpartum"] == ("delivery_days", 3, 7)
    assert w["postpartum_42"][:2] == ("delivery_days", 42)


def test_the_child_schedule_has_every_visit_of_the_third_edition():
    c = s.child()
    assert c.codes == ["newborn", "month_1", "month_3", "month_6", "month_8", "month_12", "month_18", "month_24",
                       "month_30", "month_36", "year_4", "year_5", "year_6"]
    assert all(v.basis == "birth_days" for v in c.visits)
    assert (c.window("month_1").start, c.window("month_1").end) == (28, 30)
    assert c.window("month_12").start == 365 and c.window("year_6").start == 6 * 365
    starts = [v.start for v in c.visits]
    assert starts == sorted(starts)


@pytest.mark.parametrize("bad", [
    {"edition": "x", "source": "y", "items": [{"code": "a", "label": "a", "basis": "weeks", "start": 0, "end": 1}]},
    {"edition": "x", "source": "y", "items": [{"code": "a", "label": "a", "basis": "birth_days", "start": 5,
                                               "end": 1}]},
    {"edition": "x", "items": []},
])
def test_a_malformed_schedule_fails_loudly(bad):
    with pytest.raises(ValueError):
        s.parse(bad)


def test_the_plan_says_done_due_overdue_missed_and_upcoming():
    birth = dt.date(2026, 1, 1)
    on = birth + dt.timedelta(days=100)  # month_3 window 91..120
    plan = {p.window.code: p for p in s.plan(s.child(), {"birth_days": birth}, on,
                                             {"newborn": birth + dt.timedelta(days=15)})}
    assert plan["newborn"].status == "done" and plan["newborn"].timing == "late"  # 超窗
    assert plan["month_1"].status == "missed"  # month_3 has opened
    assert plan["month_3"].status == "due"
    assert plan["month_6"].status == "upcoming" and plan["month_6"].due_from == birth + dt.timedelta(days=183)
    later = {p.window.code: p for p in s.plan(s.child(), {"birth_days": birth}, birth + dt.timedelta(days=130), {})}
    assert later["month_3"].status == "overdue"


def test_postpartum_visits_wait_for_the_delivery():
    lmp = dt.date(2026, 1, 1)
    plan = {p.window.code: p for p in s.plan(s.maternal(), {"lmp_days": lmp, "delivery_days": None},
                                             lmp + dt.timedelta(days=60), {})}
    assert plan["first"].status == "due" and plan["postpartum"].status == "waiting"
