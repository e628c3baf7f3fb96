from __future__ import annotations

from yigongti.chronic.validation import vital_problems


def test_impossible_blood_pressure_is_refused_with_the_field_named():
    errors, _ = vital_problems({"sbp": 300, "dbp": 20})
    assert set(errors) == {"sbp", "dbp"}


def test_impossible_glucose_is_refused():
    errors, warnings = vital_problems({"fbg": "80"})
    assert "fbg" in errors and not warnings


def test_unlikely_blood_pressure_is_a_warning_to_confirm():
    errors, warnings = vital_problems({"sbp": 200, "dbp": 120})
    assert not errors and set(warnings) == {"sbp", "dbp"}


def test_ordinary_values_pass_and_blanks_are_not_checked():
    assert vital_problems({"sbp": "135", "dbp": "85", "heart_rate": 72, "fbg": "6.4", "weight_kg": "68.5",
                           "height_cm": "168", "hba1c": "6.8"}) == ({}, {})
    assert vital_problems({"sbp": "", "dbp": None, "fbg": "  "}) == ({}, {})


def test_text_and_fractions_where_integers_belong_are_errors():
    errors, _ = vital_problems({"sbp": "abc", "heart_rate": "72.5", "weight_kg": "NaN"})
    assert set(errors) == {"sbp", "heart_rate", "weight_kg"}


def test_diastolic_at_or_above_systolic_is_impossible_and_a_narrow_gap_is_unlikely():
    errors, _ = vital_problems({"sbp": 90, "dbp": 95})
    assert "dbp" in errors
    errors, warnings = vital_problems({"sbp": 100, "dbp": 95})
    assert not errors and "dbp" in warnings


def test_each_measure_has_its_bands():
    errors, warnings = vital_problems({"heart_rate": 260, "weight_kg": 10, "height_cm": 300, "hba1c": 25})
    assert set(errors) == {"heart_rate", "weight_kg", "height_cm", "hba1c"}
    errors, warnings = vital_problems({"heart_rate": 35, "weight_kg": 160, "height_cm": 130, "hba1c": 15,
                                       "fbg": "2.0"})
    assert not errors and set(warnings) == {"heart_rate", "weight_kg", "height_cm", "hba1c", "fbg"}


def test_unknown_keys_are_ignored():
    assert vital_problems({"temperature": 45, "sbp": 120, "dbp": 80}) == ({}, {})
