"""Every dose of 国家免疫规划疫苗儿童免疫程序及说明（2021年版）against a table typed from the document itself (not
from the JSON), and the rules engine applied to every dose: refused one day before its minimum age or interval,
accepted on the day; overdue from its timely-completion age; refused from its catch-up limit.

Ages in days as the schedule file counts them: 1 month = 30 days, 1 year = 365 days (so 24月龄 and "12个月" as
an interval are whole years: 730 and 365 days)."""

from __future__ import annotations

import datetime as dt

import pytest

from yigongti.publichealth import immunisation as im

M, Y = 30, 365
B = dt.date(2024, 3, 1)

# vaccine, dose: (minimum age = the table's age, minimum interval from the previous dose of the vaccine,
#                 complete by (及时接种: "建议在…前完成"), no catch-up from)
NIP_2021 = {
    ("HepB", 1): (0, 0, 1, 18 * Y),            # 出生时; 出生后24小时内
    ("HepB", 2): (1 * M, 28, 12 * M, 18 * Y),  # 1月龄; 第1、2剂间隔≥28天
    ("HepB", 3): (6 * M, 60, 12 * M, 18 * Y),  # 6月龄; 第2、3剂间隔≥60天; 12月龄内完成
    ("BCG", 1): (0, 0, 3 * M, 4 * Y),          # 出生时; <3月龄完成; ≥4岁不予补种
    ("IPV", 1): (2 * M, 0, 12 * M, 18 * Y),
    ("IPV", 2): (3 * M, 28, 12 * M, 18 * Y),   # 脊灰各剂次间隔≥28天
    ("bOPV", 1): (4 * M, 0, 12 * M, 18 * Y),   # 脊灰第3剂 <12月龄
    ("bOPV", 2): (4 * Y, 28, 5 * Y, 18 * Y),   # 脊灰第4剂 <5周岁
    ("DTaP", 1): (3 * M, 0, 12 * M, 6 * Y),    # 百白破补种至 <6周岁
    ("DTaP", 2): (4 * M, 28, 12 * M, 6 * Y),
    ("DTaP", 3): (5 * M, 28, 12 * M, 6 * Y),   # 第3剂 <12月龄
    ("DTaP", 4): (18 * M, 6 * M, 24 * M, 6 * Y),  # 第3、4剂间隔≥6个月; <24月龄
    ("DT", 1): (6 * Y, 0, 7 * Y, 12 * Y),      # 6周岁; <7周岁; 儿童用白破补种至 <12周岁
    ("MMR", 1): (8 * M, 0, 12 * M, 18 * Y),    # 8月龄; <12月龄
    ("MMR", 2): (18 * M, 28, 24 * M, 18 * Y),  # 18月龄; <24月龄
    ("JE-L", 1): (8 * M, 0, 12 * M, 18 * Y),
    ("JE-L", 2): (2 * Y, 1 * Y, 3 * Y, 18 * Y),  # 2周岁; 补种两剂间隔≥12个月（= 1年）; <3周岁
    ("MPSV-A", 1): (6 * M, 0, 18 * M, 2 * Y),     # ≥24月龄（= 2周岁）不再补种A群，改用A群C群
    ("MPSV-A", 2): (9 * M, 3 * M, 18 * M, 2 * Y),  # 两剂间隔≥3个月; <18月龄
    ("MPSV-AC", 1): (3 * Y, 0, 4 * Y, 18 * Y),    # 3周岁; 与A群第2剂间隔≥12个月; <4周岁
    ("MPSV-AC", 2): (6 * Y, 3 * Y, 7 * Y, 18 * Y),  # 6周岁; 两剂间隔≥3年; <7周岁
    ("HepA-L", 1): (18 * M, 0, 24 * M, 18 * Y),   # 18月龄; <24月龄
}


def at(days: int) -> dt.date:
    return B + dt.timedelta(days=days)


@pytest.fixture(scope="module")
def s():
    return im.schedule()


def test_the_file_has_exactly_the_doses_of_the_2021_programme(s):
    assert {(r.vaccine, r.dose) for r in s.doses} == set(NIP_2021)


@pytest.mark.parametrize("key", sorted(NIP_2021))
def test_each_dose_matches_the_2021_document(s, key):
    rule = s.rule(*key)
    min_age, interval, complete_by, until = NIP_2021[key]
    assert (rule.min_age_days, rule.min_interval_days, rule.complete_by_days, rule.catch_up_until_days) == (
        min_age, interval, complete_by, until)
    assert rule.recommended_age_days == min_age  # 程序表所列接种时间即最小接种年龄


def test_the_cross_series_intervals_and_the_live_vaccine_rule(s):
    assert (s.rule("bOPV", 1).after.vaccine, s.rule("bOPV", 1).after.dose,
            s.rule("bOPV", 1).after.min_interval_days) == ("IPV", 2, 28)
    assert (s.rule("MPSV-AC", 1).after.vaccine, s.rule("MPSV-AC", 1).after.dose,
            s.rule("MPSV-AC", 1).after.min_interval_days) == ("MPSV-A", 2, 365)
    assert s.live_vaccines == {"MMR", "JE-L", "HepA-L"} and s.live_interval_days == 28


def _history_for(s, vaccine: str, dose: int, last_on: int) -> list[tuple[str, int, dt.date]]:
    """The earlier doses of the vaccine, each at its minimum age, the one just before at ``last_on``."""
    hist = [(vaccine, n, at(s.rule(vaccine, n).min_age_days)) for n in range(1, dose - 1)]
    if dose > 1:
        hist.append((vaccine, dose - 1, at(last_on)))
    return hist


def _prerequisites(vaccine: str) -> list[tuple[str, int, dt.date]]:
    if vaccine == "bOPV":  # after IPV 2 (≥ 28 days): IPV 2 given at 3 months
        return [("IPV", 1, at(2 * M)), ("IPV", 2, at(3 * M))]
    return []


@pytest.mark.parametrize("key", sorted(k for k in NIP_2021 if NIP_2021[k][0] > 0))
def test_every_dose_is_refused_the_day_before_its_minimum_age_and_accepted_on_it(s, key):
    vaccine, dose = key
    min_age = NIP_2021[key][0]
    prev_on = s.rule(vaccine, dose - 1).min_age_days if dose > 1 else 0
    hist = _history_for(s, vaccine, dose, prev_on) + _prerequisites(vaccine)
    # with the previous dose at its own minimum age the interval is met by the minimum age (checked below)
    ok = min_age if dose == 1 else max(min_age, prev_on + NIP_2021[key][1])
    if ok == min_age:
        field, msg = im.dose_problem(s, hist, vaccine, dose, at(min_age - 1), B)
        assert field == "given_on" and msg.startswith("最小接种年龄"), msg
    assert im.dose_problem(s, hist, vaccine, dose, at(ok), B) is None


@pytest.mark.parametrize("key", sorted(k for k in NIP_2021 if NIP_2021[k][1] > 0))
def test_every_later_dose_is_refused_the_day_before_its_minimum_interval(s, key):
    vaccine, dose = key
    min_age, interval = NIP_2021[key][:2]
    prev_on = min_age + 40  # the previous dose late, so the interval (not the age) decides
    hist = _history_for(s, vaccine, dose, prev_on) + _prerequisites(vaccine)
    field, msg = im.dose_problem(s, hist, vaccine, dose, at(prev_on + interval - 1), B)
    assert field == "given_on" and msg.startswith("最小间隔"), msg
    assert im.dose_problem(s, hist, vaccine, dose, at(prev_on + interval), B) is None


@pytest.mark.parametrize("key", sorted(k for k in NIP_2021 if k[1] == 1 and NIP_2021[k][3] < 18 * Y))
def test_vaccine_specific_catch_up_limits(s, key):
    vaccine, dose = key
    until = NIP_2021[key][3]
    assert im.check_dose(s, [], vaccine, dose, at(until - 1), B) is None
    assert im.check_dose(s, [], vaccine, dose, at(until), B).startswith("补种年龄")


@pytest.mark.parametrize("key", sorted(k for k in NIP_2021 if k[1] == 1))
def test_a_first_dose_is_due_from_its_age_and_overdue_from_its_timely_completion_age(s, key):
    vaccine, _dose = key
    min_age, _i, complete_by, until = NIP_2021[key]
    history = _prerequisites(vaccine)
    on = at(max(min_age, 4 * M + 1) if vaccine == "bOPV" else min_age)
    due = {d.rule.code: d for d in im.due_doses(history, B, on)}
    code = f"{vaccine}-1"
    assert code in due and not due[code].overdue
    assert due[code].due_by == at(max(complete_by - 1, min_age))
    if complete_by < until:
        late = {d.rule.code: d for d in im.due_doses(history, B, at(complete_by))}
        assert late[code].overdue
        assert im.is_catch_up(s.rule(vaccine, 1), at(complete_by), B)
    gone = {d.rule.code for d in im.due_doses(history, B, at(until))}
    assert code not in gone  # past the catch-up age: no longer listed


def test_the_due_list_moves_bopv_after_a_late_ipv_2(s):
    late_ipv = [("IPV", 1, at(2 * M)), ("IPV", 2, at(5 * M))]
    due = {d.rule.code: d for d in im.due_doses(late_ipv, B, at(5 * M + 30))}
    assert due["bOPV-1"].due_from == at(5 * M + 28)  # not from 4 months: 28 days after IPV 2
    early = {d.rule.code for d in im.due_doses(late_ipv, B, at(5 * M + 27))}
    assert "bOPV-1" not in early
