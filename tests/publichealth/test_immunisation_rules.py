"""The national immunisation schedule as data (schedules/immunisation_2021.json) and its pure rules
(publichealth.immunisation): every rule — minimum age, minimum interval, dose order, the series' cross intervals,
live vaccines 28 days apart, catch-up limits — and the due/overdue computation."""

import datetime as dt
import json
from pathlib import Path

import pytest
from django.utils import translation

from yigongti.publichealth import immunisation as im

B = dt.date(2025, 1, 10)  # a birth date


def d(days: int) -> dt.date:
    return B + dt.timedelta(days=days)


@pytest.fixture
def s():
    return im.schedule()


def refused(s, history, vaccine, dose, days):
    return im.check_dose(s, history, vaccine, dose, d(days), B)


def test_the_schedule_is_versioned_data_with_source_and_every_programme_vaccine(s):
    raw = json.loads((Path(im.__file__).parent / "schedules" / "immunisation_2021.json").read_text("utf-8"))
    assert raw["edition"] == s.edition == "NIP-2021" and "2021年版" in s.source
    assert set(s.vaccines()) == {"HepB", "BCG", "IPV", "bOPV", "DTaP", "DT", "MMR", "JE-L", "MPSV-A", "MPSV-AC",
                                 "HepA-L"}
    assert [r.dose for r in s.series("HepB")] == [1, 2, 3] and len(s.series("DTaP")) == 4
    for r in s.doses:  # consistent ages: may give ≤ should be done by ≤ caught up until
        assert r.min_age_days <= r.complete_by_days <= r.catch_up_until_days, r
        assert (r.dose == 1) == (r.min_interval_days == 0), r
        assert r.name and r.name_en


def test_a_schedule_loaded_from_other_data_is_used_as_given():
    other = im.load({"edition": "X", "source": "test", "items": [
        {"vaccine": "V", "dose": 1, "name": "V1", "name_en": "V1", "recommended_age_days": 10, "min_age_days": 10,
         "min_interval_days": 0, "catch_up_until_days": 100}]})
    assert im.check_dose(other, [], "V", 1, d(5), B).startswith("最小接种年龄")
    assert im.check_dose(other, [], "V", 1, d(10), B) is None
    assert im.check_dose(other, [], "HepB", 1, d(10), B).startswith("免疫程序（X）中没有")


@pytest.mark.parametrize("vaccine,dose,history,too_early,ok", [
    ("HepB", 2, [("HepB", 1, B)], 29, 30),            # 1 月龄
    ("IPV", 1, [], 59, 60),                           # 2 月龄
    ("DTaP", 1, [], 89, 90),                          # 3 月龄
    ("MMR", 1, [], 239, 240),                         # 8 月龄
    ("MPSV-A", 1, [], 179, 180),                      # 6 月龄
    ("HepA-L", 1, [], 539, 540),                      # 18 月龄
    ("DT", 1, [], 2189, 2190),                        # 6 周岁
])
def test_a_dose_before_its_minimum_age_is_refused_naming_the_rule(s, vaccine, dose, history, too_early, ok):
    msg = refused(s, history, vaccine, dose, too_early)
    assert msg and msg.startswith("最小接种年龄") and s.rule(vaccine, dose).name in msg
    assert refused(s, history, vaccine, dose, ok) is None


@pytest.mark.parametrize("vaccine,dose,prev_day,gap", [
    ("HepB", 2, 10, 28), ("HepB", 3, 150, 60), ("IPV", 2, 70, 28), ("DTaP", 2, 100, 28), ("DTaP", 4, 500, 180),
    ("MMR", 2, 560, 28), ("MPSV-A", 2, 200, 90), ("JE-L", 2, 400, 365),
])
def test_a_dose_before_its_minimum_interval_is_refused(s, vaccine, dose, prev_day, gap):
    history = [(vaccine, n, d(prev_day if n == dose - 1 else 0)) for n in range(1, dose)]
    when, early = prev_day + gap, prev_day + gap - 1
    assert early >= s.rule(vaccine, dose).min_age_days  # only the interval forbids it
    msg = refused(s, history, vaccine, dose, early)
    assert msg and msg.startswith("最小间隔"), msg
    assert refused(s, history, vaccine, dose, when) is None


def test_dose_order_the_previous_dose_must_be_on_record(s):
    msg = refused(s, [], "HepB", 2, 60)
    assert msg.startswith("剂次顺序") and "乙肝疫苗 第1剂" in msg
    assert refused(s, [("DTaP", 1, d(90))], "DTaP", 3, 200).startswith("剂次顺序")


def test_a_dose_given_twice_or_before_birth_or_unknown_is_refused(s):
    assert "已接种过" in refused(s, [("BCG", 1, B)], "BCG", 1, 10)
    assert im.check_dose(s, [], "BCG", 1, B - dt.timedelta(days=1), B) == "接种日期早于出生日期"
    assert "没有" in refused(s, [], "HepB", 4, 400)
    assert "没有" in refused(s, [], "Rabies", 1, 400)


def test_the_series_cross_intervals_bopv_after_ipv_and_menac_after_mena(s):
    ipv = [("IPV", 1, d(60)), ("IPV", 2, d(110))]
    assert refused(s, ipv, "bOPV", 1, 130).startswith("最小间隔")  # 20 days after IPV 2
    assert refused(s, ipv, "bOPV", 1, 138) is None
    mena = [("MPSV-A", 1, d(180)), ("MPSV-A", 2, d(800))]  # MenA 2 late, at 800 days
    msg = refused(s, mena, "MPSV-AC", 1, 1100)
    assert msg.startswith("最小间隔") and "A群流脑多糖疫苗 第2剂" in msg
    assert refused(s, mena, "MPSV-AC", 1, 1165) is None
    assert refused(s, [], "MPSV-AC", 1, 1100) is None  # no MenA on record: the cross interval does not apply


def test_live_injected_vaccines_not_given_the_same_day_are_28_days_apart(s):
    mmr = [("MMR", 1, d(240))]
    msg = refused(s, mmr, "JE-L", 1, 250)
    assert msg.startswith("注射类减毒活疫苗") and "麻腮风疫苗 第1剂" in msg
    assert refused(s, mmr, "JE-L", 1, 240) is None  # the same day
    assert refused(s, mmr, "JE-L", 1, 268) is None
    assert refused(s, mmr, "DTaP", 1, 250) is None  # not a live vaccine


@pytest.mark.parametrize("vaccine,dose,history,last_ok,too_old", [
    ("BCG", 1, [], 1459, 1460),            # ≥ 4 岁不予补种
    ("DTaP", 1, [], 2189, 2190),           # DTaP 补到 < 6 岁（之后白破）
    ("MPSV-A", 1, [], 729, 730),           # ≥ 24 月龄改种 A群C群
    ("HepB", 1, [], 6569, 6570),           # < 18 周岁
])
def test_catch_up_until_its_age_limit_then_refused(s, vaccine, dose, history, last_ok, too_old):
    assert refused(s, history, vaccine, dose, last_ok) is None
    msg = refused(s, history, vaccine, dose, too_old)
    assert msg and msg.startswith("补种年龄") and s.rule(vaccine, dose).name in msg


def test_a_dose_after_its_timely_age_is_a_catch_up(s):
    bcg = s.rule("BCG", 1)
    assert not im.is_catch_up(bcg, d(89), B) and im.is_catch_up(bcg, d(90), B)
    assert im.is_catch_up(s.rule("HepB", 1), d(1), B) and not im.is_catch_up(s.rule("HepB", 1), B, B)


def test_due_at_birth_then_at_two_months(s):
    newborn = {r.rule.code: r for r in im.due_doses([], B, B)}
    assert set(newborn) == {"HepB-1", "BCG-1"}
    assert newborn["HepB-1"].due_by == B and not newborn["HepB-1"].overdue
    given = [("HepB", 1, B), ("BCG", 1, B)]
    at2m = {r.rule.code: r for r in im.due_doses(given, B, d(61))}
    assert set(at2m) == {"HepB-2", "IPV-1"}
    assert at2m["HepB-2"].due_from == d(30) and at2m["IPV-1"].due_from == d(60)


def test_overdue_past_the_timely_age_and_dates_follow_the_intervals(s):
    late = {r.rule.code: r for r in im.due_doses([], B, d(5))}
    assert late["HepB-1"].overdue and not late["BCG-1"].overdue
    h = [("HepB", 1, B), ("HepB", 2, d(40))]
    nxt = {r.rule.code: r for r in im.next_doses(h, B, d(41))}
    assert nxt["HepB-3"].due_from == d(180)  # the minimum age wins over 40 + 60 days
    h = [("HepB", 1, B), ("HepB", 2, d(150))]
    nxt = {r.rule.code: r for r in im.next_doses(h, B, d(151))}
    assert nxt["HepB-3"].due_from == d(210)  # the interval wins
    assert nxt["HepB-3"].due_by == d(359)  # 乙肝第3剂 <12 月龄完成


def test_vaccines_past_catch_up_are_no_longer_due_and_their_successors_are(s):
    six = {r.rule.vaccine for r in im.due_doses([], B, d(2200))}
    assert "BCG" not in six and "DTaP" not in six and "MPSV-A" not in six
    assert {"DT", "HepB", "MMR", "MPSV-AC"} <= six


def test_horizon_lists_doses_coming_soon(s):
    given = [("HepB", 1, B), ("BCG", 1, B)]
    assert "IPV-1" not in {r.rule.code for r in im.due_doses(given, B, d(40))}
    assert "IPV-1" in {r.rule.code for r in im.due_doses(given, B, d(40), horizon_days=30)}


def test_history_may_be_rows_with_attributes(s):
    class Row:
        vaccine, dose, given_on = "HepB", 1, B

    assert im.check_dose(s, [Row()], "HepB", 2, d(30), B) is None


def test_messages_in_english_name_the_dose_in_english(s):
    with translation.override("en"):
        msg = refused(s, [("HepB", 1, B)], "HepB", 2, 10)
    assert "Hepatitis B, dose 2" in msg
