"""The rule engine on plain data: every rule kind of the shipped pack, without a database."""

from __future__ import annotations

from yigongti.prescribing import engine, rulepack
from yigongti.prescribing.engine import LineFacts, RxFacts

T = engine.compile_rules(rulepack.shipped_rows())


def L(seq, generic, atc, dose, unit="mg", freq="qd", days=5, antibiotic="", strength=""):
    return LineFacts(seq, seq, generic, atc, antibiotic, strength, "片", dose, unit, freq, "po", days)


def rx(*lines, **kw):
    base = {"kind": "normal", "age_months": 40 * 12}
    base.update(kw)
    return RxFacts(lines=tuple(lines), **base)


def codes(r):
    return {f.rule for f in engine.evaluate(r, T).findings}


def test_the_shipped_pack_compiles_every_rule():
    assert T.size == len(rulepack.shipped()["rules"])


def test_a_plain_prescription_has_no_finding():
    r = engine.evaluate(rx(L(1, "氨氯地平", "C08CA01", 5)), T)
    assert r.findings == () and r.risk == 0


def test_an_adult_dose_over_the_daily_maximum_is_found():
    assert "dose.amlodipine" in codes(rx(L(1, "氨氯地平", "C08CA01", 10, freq="bid")))


def test_a_dose_in_tablets_counts_by_the_strength():
    # 3 × 250mg capsules tid = 2250 mg/day: within 4 g; 6 capsules qid = 6 g/day: over
    assert codes(rx(L(1, "阿莫西林", "J01CA04", 3, "粒", "tid", strength="250mg"))) == set()
    assert "dose.amoxicillin.adult" in codes(rx(L(1, "阿莫西林", "J01CA04", 6, "粒", "qid", strength="250mg")))


def test_a_child_dose_is_judged_per_kilogram_and_needs_the_weight():
    child = {"kind": "pediatric", "age_months": 5 * 12}
    ok = engine.evaluate(rx(L(1, "阿莫西林", "J01CA04", 250, freq="tid"), weight_kg=18, **child), T)
    assert ok.findings == ()
    over = engine.evaluate(rx(L(1, "阿莫西林", "J01CA04", 750, freq="tid"), weight_kg=18, **child), T)
    assert [f.rule for f in over.findings] == ["dose.amoxicillin.child"] and "mg/kg" in over.findings[0].message
    noweight = engine.evaluate(rx(L(1, "阿莫西林", "J01CA04", 250, freq="tid"), **child), T)
    assert "未记录体重" in noweight.findings[0].message


def test_days_supply_seven_outpatient_three_emergency_unless_a_reason_twelve_weeks_chronic():
    assert "days.limit" in codes(rx(L(1, "氨氯地平", "C08CA01", 5, days=8)))
    assert codes(rx(L(1, "氨氯地平", "C08CA01", 5, days=4), kind="emergency")) == {"days.limit"}
    with_reason = engine.evaluate(rx(L(1, "氨氯地平", "C08CA01", 5, days=14), days_reason="行动不便"), T)
    assert with_reason.risk == engine.INFO
    assert codes(rx(L(1, "氨氯地平", "C08CA01", 5, days=84), kind="chronic")) == set()
    over = engine.evaluate(rx(L(1, "氨氯地平", "C08CA01", 5, days=90), kind="chronic", days_reason="x"), T)
    assert over.risk == engine.HIGH


def test_two_drugs_of_one_atc_level_four_class_are_duplicate_therapy():
    assert "duplicate.atc4" in codes(rx(L(1, "氨氯地平", "C08CA01", 5), L(2, "硝苯地平", "C08CA05", 10)))


def test_interactions_are_found_either_way_round_once():
    r = engine.evaluate(rx(L(1, "布洛芬", "M01AE01", 200), L(2, "华法林", "B01AA03", 2.5)), T)
    assert [f.rule for f in r.findings] == ["ddi.warfarin.nsaid"]
    assert r.risk == engine.HIGH


def test_contraindications_by_pregnancy_diagnosis_chronic_condition_and_age():
    assert "ci.acei.pregnancy" in codes(rx(L(1, "依那普利", "C09AA02", 10), pregnant=True, sex="F"))
    assert "ci.nsaid.ulcer" in codes(rx(L(1, "布洛芬", "M01AE01", 200), diagnoses=("K25.3",)))
    assert "ci.metformin.ckd" in codes(rx(L(1, "二甲双胍", "A10BA02", 500), conditions=("N18.5",)))
    assert "ci.quinolone.pregnancy" in codes(rx(L(1, "左氧氟沙星", "J01MA12", 500), age_months=15 * 12))


def test_antibiotic_grading_by_the_facility_level():
    special = L(1, "美罗培南", "J01DH02", 500, antibiotic="special")
    restricted = L(1, "头孢曲松", "J01DD04", 1000, antibiotic="restricted")
    assert "antibiotic.grading" in codes(rx(restricted, care_level="village"))
    assert "antibiotic.grading" not in codes(rx(restricted, care_level="township"))
    assert "antibiotic.grading" in codes(rx(special, care_level="township"))
    assert codes(rx(special, care_level="county")) == {"antibiotic.special"}


def test_a_bad_rule_is_refused_with_a_chinese_reason():
    import pytest

    with pytest.raises(engine.RuleError) as e:
        engine.compile_rule({"code": "x", "kind": "dose", "params": {"match": "阿莫西林", "day_max": 1}})
    assert "generic:" in e.value.message
    with pytest.raises(engine.RuleError):
        engine.compile_rule({"code": "x", "kind": "dose", "params": {"match": "generic:a", "day_max": "many"}})


def test_the_sample_is_one_per_mille_and_at_least_a_hundred():
    from yigongti.prescribing import sampling

    assert sampling.sample_size(50) == 50
    assert sampling.sample_size(5000) == 100
    assert sampling.sample_size(250_000) == 250
    a = sampling.draw({1: list(range(1000)), 2: list(range(1000, 1030))}, seed=7)
    assert len(a[1]) == 100 and len(a[2]) == 30
    assert a == sampling.draw({1: list(range(1000)), 2: list(range(1000, 1030))}, seed=7)
