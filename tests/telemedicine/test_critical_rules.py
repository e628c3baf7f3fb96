"""The pure rules of the critical-value loop (telemedicine/critical.py): no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from yigongti.telemedicine import critical as c

DAY = dt.date(2026, 6, 1)
ADULT = c.Patient(age_days=60 * 365, sex="M")
NEONATE = c.Patient(age_days=5, sex="F")
CHILD = c.Patient(age_days=6 * 365, sex="F")

K = c.Rule(1, "K", "mmol/L", D("2.8"), D("6.2"), effective_from=dt.date(2026, 1, 1))
GLU = c.Rule(2, "GLU", "mmol/L", D("2.8"), D("22.2"), effective_from=dt.date(2026, 1, 1))
GLU_NEONATE = c.Rule(3, "GLU", "mmol/L", D("2.2"), D("14.0"), population="neonate", effective_from=dt.date(2026, 1, 1))


def test_population_by_age_in_days():
    assert c.population_of(0) == "neonate"
    assert c.population_of(28) == "neonate"
    assert c.population_of(29) == "child"
    assert c.population_of(17 * 365) == "child"
    assert c.population_of(18 * 365 + 5) == "adult"
    assert c.population_of(None) == "adult"


def test_low_and_high_limits_are_strict():
    assert c.judge(D("2.7"), "mmol/L", K).flag == "LL"
    assert c.judge(D("2.8"), "mmol/L", K) is None
    assert c.judge(D("6.2"), "mmol/L", K) is None
    assert c.judge(D("6.5"), "mmol/L", K).flag == "HH"


def test_a_neonate_gets_the_neonatal_rule_and_an_adult_the_general_one():
    rules = [GLU, GLU_NEONATE]
    assert c.choose_rule(rules, NEONATE, DAY) == GLU_NEONATE
    assert c.choose_rule(rules, ADULT, DAY) == GLU
    assert c.evaluate(D("2.5"), "", "mmol/L", rules, NEONATE, DAY) is None  # 2.5 is above the neonatal 2.2
    assert c.evaluate(D("2.5"), "", "mmol/L", rules, ADULT, DAY).flag == "LL"


def test_sex_and_patient_group_narrow_a_rule():
    hgb_f = c.Rule(4, "HGB", "g/L", D("60"), None, sex="F")
    hgb = c.Rule(5, "HGB", "g/L", D("50"), None)
    assert c.choose_rule([hgb, hgb_f], CHILD, DAY) == hgb_f
    assert c.choose_rule([hgb, hgb_f], ADULT, DAY) == hgb
    inr = c.Rule(6, "INR", "", None, D("5.0"), patient_group="抗凝治疗")
    assert c.choose_rule([inr], ADULT, DAY) is None
    anticoagulated = c.Patient(60 * 365, "M", frozenset({"抗凝治疗"}))
    assert c.evaluate(D("5.6"), "", "", [inr], anticoagulated, DAY).flag == "HH"


def test_a_facility_override_beats_the_community_default_only_there():
    override = c.Rule(7, "K", "mmol/L", D("3.0"), D("6.0"), facility_id=42, effective_from=dt.date(2026, 1, 1))
    assert c.choose_rule([K, override], ADULT, DAY, facilities=[42]) == override
    assert c.choose_rule([K, override], ADULT, DAY, facilities=[41]) == K
    # a village clinic (41) inherits its township's (42) override; its own beats the township's
    own = c.Rule(8, "K", "mmol/L", D("2.9"), D("6.1"), facility_id=41)
    assert c.choose_rule([K, override], ADULT, DAY, facilities=[41, 42]) == override
    assert c.choose_rule([K, override, own], ADULT, DAY, facilities=[41, 42]) == own


def test_effective_dates():
    old = c.Rule(9, "K", "mmol/L", D("2.5"), D("6.5"), effective_from=dt.date(2025, 1, 1),
                 effective_to=dt.date(2025, 12, 31))
    assert c.choose_rule([old, K], ADULT, dt.date(2025, 6, 1)) == old
    assert c.choose_rule([old, K], ADULT, DAY) == K
    assert c.choose_rule([K], ADULT, dt.date(2025, 6, 1)) is None


def test_first_only_rule_stays_silent_after_the_first_critical():
    wbc = c.Rule(10, "WBC", "10^9/L", D("0.5"), None, first_only=True)
    assert c.evaluate(D("0.3"), "", "10^9/L", [wbc], ADULT, DAY, had_critical_before=False).flag == "LL"
    assert c.evaluate(D("0.3"), "", "10^9/L", [wbc], ADULT, DAY, had_critical_before=True) is None


def test_a_rule_in_another_unit_converts_and_an_unknown_unit_never_alarms():
    glu_mg = c.Rule(11, "GLU", "mg/dL", D("50"), D("400"))
    factors = {"mg/dL": 0.0555}
    assert c.judge(D("2.5"), "mmol/L", glu_mg, factors).flag == "LL"  # 50 mg/dL = 2.775 mmol/L
    assert c.judge(D("3.0"), "mmol/L", glu_mg, factors) is None
    assert c.judge(D("0.1"), "mmol/L", glu_mg, {}) is None


def test_qualitative_positive():
    trop = c.Rule(12, "CTNI", "", None, None)
    assert c.evaluate(None, "阳性", "", [trop], ADULT, DAY).flag == "HH"
    assert c.evaluate(None, "阴性", "", [trop], ADULT, DAY) is None


def test_description_names_the_value_and_the_limit():
    v = c.judge(D("2.5000"), "mmol/L", K)
    assert c.describe("钾", D("2.5000"), "", "mmol/L", v) == "钾 2.5 mmol/L（危急低值 <2.8）"


def test_read_back_must_repeat_the_number():
    assert c.read_back_problem("李建国 血钾 2.50", D("2.5")) == ""
    assert c.read_back_problem("血钾 2.8", D("2.5")) == "mismatch"
    assert c.read_back_problem("", D("2.5")) == "missing"
    assert c.read_back_problem("急性下壁心梗", None) == ""


def test_the_ladder_reaches_120_only_for_a_patient_at_home():
    assert c.next_step(0, at_home=True).who == "director"
    assert c.next_step(1, at_home=True).who == "county_duty"
    assert c.next_step(2, at_home=True).who == "alert_120"
    assert c.next_step(2, at_home=False) is None
    assert c.next_step(3, at_home=True) is None


def test_ack_limit_is_shorter_for_emergency_orders():
    t = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
    assert c.ack_due(t, "routine", 10, 5) == t + dt.timedelta(minutes=10)
    assert c.ack_due(t, "emergency", 10, 5) == t + dt.timedelta(minutes=5)


def test_moves_of_the_loop():
    assert c.allowed("acknowledge", c.NOTIFIED) and c.allowed("acknowledge", c.ESCALATED)
    assert not c.allowed("acknowledge", c.ACKNOWLEDGED)
    assert not c.allowed("close", c.ACKNOWLEDGED)
    assert c.allowed("close", c.ACTIONED)


def test_summary_rates_and_medians():
    t = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
    m = dt.timedelta(minutes=1)
    rows = [
        c.Row(t, t, t + 10 * m, t + 4 * m, t + 20 * m, t + 30 * m),
        c.Row(t, t, t + 10 * m, t + 16 * m, t + 40 * m, None, level=1),
        c.Row(t, t, t + 10 * m),
        c.Row(t, None),
    ]
    s = c.summarise(rows)
    assert (s.total, s.notified, s.acknowledged, s.timely, s.closed, s.escalated) == (4, 3, 2, 1, 1, 1)
    assert s.rates["notified"] == 75.0 and s.rates["timely"] == 33.3 and s.rates["closed"] == 25.0
    assert s.median_ack_minutes == 10.0 and s.median_action_minutes == 30.0
