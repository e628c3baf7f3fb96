"""One test per branch of the 规范's 分类干预 (国家基本公共卫生服务规范 第三版, rules_data/standard_2017.json)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from yigongti.chronic import rules
from yigongti.chronic.models import Condition, Control, Decision

DAY = dt.date(2026, 6, 15)
HTN, DM = Condition.HYPERTENSION, Condition.DIABETES


def decide(age=60, previous=0, **reading):
    reading.setdefault("condition", HTN)
    return rules.classify_and_decide(reading, age=age, previous_uncontrolled=previous, visit_date=DAY)


def test_the_rules_name_their_edition_and_source():
    s = rules.standard()
    assert "第三版" in s.edition and "国卫基层发〔2017〕13号" in s.source
    assert s.enrol_min_age == 35


def test_controlled_blood_pressure_means_the_next_routine_visit_in_a_quarter():
    o = decide(sbp=132, dbp=84)
    assert (o.control, o.decision, o.refer, o.urgent) == (Control.CONTROLLED, Decision.ROUTINE, False, False)
    assert o.next_visit_on == DAY + dt.timedelta(days=90)
    assert o.reasons == ["controlled"]


def test_140_over_90_is_not_controlled_under_65():
    assert decide(age=64, sbp=140, dbp=80).control == Control.UNCONTROLLED
    assert decide(age=64, sbp=130, dbp=90).control == Control.UNCONTROLLED


def test_at_65_and_over_the_target_is_below_150_over_90():
    o = decide(age=65, sbp=145, dbp=85)
    assert o.decision == Decision.ROUTINE and o.control == Control.CONTROLLED
    o = decide(age=70, sbp=150, dbp=85)
    assert o.decision == Decision.ADJUST and "bp_uncontrolled_elderly" in o.reasons
    assert decide(age=70, sbp=140, dbp=90).control == Control.UNCONTROLLED  # the diastolic target stays 90


def test_first_uncontrolled_visit_adjusts_and_reviews_within_two_weeks():
    o = decide(sbp=156, dbp=96, previous=0)
    assert (o.control, o.decision, o.refer) == (Control.UNCONTROLLED, Decision.ADJUST, False)
    assert o.next_visit_on == DAY + dt.timedelta(days=14)
    assert "first_uncontrolled" in o.reasons


def test_an_adverse_reaction_with_controlled_readings_adjusts_within_two_weeks():
    o = decide(sbp=128, dbp=80, adverse_reaction=True)
    assert (o.control, o.decision) == (Control.ADVERSE, Decision.ADJUST)
    assert o.next_visit_on == DAY + dt.timedelta(days=14)


def test_second_uncontrolled_visit_in_a_row_refers_up_with_a_visit_two_weeks_later():
    o = decide(sbp=158, dbp=92, previous=1)
    assert (o.decision, o.refer, o.urgent) == (Decision.REFER, True, False)
    assert "second_uncontrolled" in o.reasons
    assert o.next_visit_on == DAY + dt.timedelta(days=14)


def test_an_adverse_reaction_again_after_an_uncontrolled_visit_refers():
    assert decide(sbp=120, dbp=78, adverse_reaction=True, previous=1).decision == Decision.REFER


def test_a_new_or_worse_complication_refers_even_when_controlled():
    o = decide(sbp=126, dbp=80, new_complication=True)
    assert (o.control, o.decision, o.refer) == (Control.COMPLICATION, Decision.REFER, True)
    assert "new_complication" in o.reasons and o.next_visit_on == DAY + dt.timedelta(days=14)


def test_streak_counts_uncontrolled_and_adverse_visits_and_resets_when_controlled():
    assert rules.next_streak(0, decide(sbp=150, dbp=95)) == 1
    assert rules.next_streak(1, decide(sbp=150, dbp=95, previous=1)) == 2
    assert rules.next_streak(0, decide(sbp=120, dbp=70, adverse_reaction=True)) == 1
    assert rules.next_streak(2, decide(sbp=120, dbp=70)) == 0


@pytest.mark.parametrize("reading,reason", [
    ({"sbp": 180, "dbp": 100}, "bp_urgent"),
    ({"sbp": 170, "dbp": 110}, "bp_urgent"),
    ({"condition": DM, "fbg": Decimal("16.7"), "sbp": 130, "dbp": 80}, "fbg_high_urgent"),
    ({"condition": DM, "fbg": Decimal("3.9"), "sbp": 130, "dbp": 80}, "fbg_low_urgent"),
    ({"sbp": 130, "dbp": 80, "heart_rate": 101}, "heart_rate_urgent"),
    ({"sbp": 142, "dbp": 88, "pregnant": True}, "pregnancy_bp_urgent"),
    ({"condition": DM, "fbg": Decimal("6.5"), "pregnant": True}, "pregnancy_fbg_urgent"),
    ({"sbp": 130, "dbp": 80, "danger_signs": ["consciousness"]}, "danger_sign"),
    ({"sbp": 130, "dbp": 80, "danger_signs": ["chest_pain"]}, "danger_sign"),
    ({"sbp": 130, "dbp": 80, "danger_signs": ["severe_headache"]}, "danger_sign"),
    ({"condition": DM, "fbg": Decimal("9.0"), "danger_signs": ["acetone_breath"]}, "danger_sign"),
    ({"condition": DM, "fbg": Decimal("9.0"), "danger_signs": ["fever_39"]}, "danger_sign"),
])
def test_each_urgent_criterion_means_urgent_referral_now(reading, reason):
    o = decide(**reading)
    assert (o.decision, o.refer, o.urgent) == (Decision.URGENT, True, True)
    assert reason in o.reasons
    assert o.next_visit_on == DAY + dt.timedelta(days=14)


def test_just_below_the_urgent_thresholds_is_not_urgent():
    assert decide(sbp=179, dbp=109, heart_rate=100).decision == Decision.ADJUST
    assert decide(condition=DM, fbg=Decimal("16.6")).decision == Decision.ADJUST
    assert decide(condition=DM, fbg=Decimal("4.0")).decision == Decision.ROUTINE
    assert decide(sbp=138, dbp=88, pregnant=True).decision == Decision.ROUTINE


def test_an_unknown_danger_sign_code_is_not_a_criterion():
    assert decide(sbp=130, dbp=80, danger_signs=["not_a_sign"]).decision == Decision.ROUTINE


def test_diabetes_is_controlled_below_7_fasting_glucose():
    assert decide(condition=DM, fbg=Decimal("6.9")).decision == Decision.ROUTINE
    o = decide(condition=DM, fbg=Decimal("7.0"))
    assert (o.control, o.decision) == (Control.UNCONTROLLED, Decision.ADJUST) and "fbg_uncontrolled" in o.reasons


def test_a_diabetic_with_high_blood_pressure_is_judged_on_glucose_but_urgent_on_any_reading():
    assert decide(condition=DM, fbg=Decimal("6.0"), sbp=150, dbp=95).decision == Decision.ROUTINE
    assert decide(condition=DM, fbg=Decimal("6.0"), sbp=185, dbp=95).decision == Decision.URGENT


def test_urgent_takes_precedence_over_refer():
    assert decide(sbp=190, dbp=100, previous=3, new_complication=True).decision == Decision.URGENT


def test_a_new_edition_is_a_data_change(tmp_path):
    raw = json.loads(rules.DATA.read_text(encoding="utf-8"))
    raw["bp"]["target"] = {"sbp_below": 130, "dbp_below": 80}
    raw["routine_interval_days"] = 60
    edition = rules.parse_standard(raw)
    o = rules.classify_and_decide({"sbp": 132, "dbp": 78}, age=50, previous_uncontrolled=0, visit_date=DAY,
                                  rules=edition)
    assert o.decision == Decision.ADJUST
    o = rules.classify_and_decide({"sbp": 120, "dbp": 70}, age=50, previous_uncontrolled=0, visit_date=DAY,
                                  rules=edition)
    assert o.next_visit_on == DAY + dt.timedelta(days=60)


def test_at_target_is_the_control_rate_numerator():
    assert rules.at_target(HTN, age=60, sbp=138, dbp=88, fbg=None)
    assert not rules.at_target(HTN, age=60, sbp=None, dbp=None, fbg=None)
    assert rules.at_target(HTN, age=66, sbp=148, dbp=88, fbg=None)
    assert rules.at_target(DM, age=60, sbp=None, dbp=None, fbg=6.9)
    assert not rules.at_target(DM, age=60, sbp=None, dbp=None, fbg=7.0)


def test_every_reason_code_has_a_label_and_signs_are_listed_per_condition():
    for sbp, dbp in ((120, 70), (150, 95), (190, 120)):
        for code in decide(sbp=sbp, dbp=dbp, previous=1).reasons:
            assert code in rules.REASONS
    codes = {s["code"] for s in rules.standard().signs_for(DM)}
    assert "acetone_breath" in codes and "severe_headache" not in codes
