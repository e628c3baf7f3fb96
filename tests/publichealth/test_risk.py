"""The five-colour pregnancy risk grade (publichealth.risk, 国卫办妇幼发〔2017〕35号): each colour, the derived
factors (age, BMI, height, haemoglobin), purple alongside the colours, unknown codes."""

import pytest

from yigongti.publichealth import risk


def test_no_factor_is_green():
    a = risk.assess([], age=28, height_cm=160, weight_kg=55, haemoglobin=125)
    assert a.grade == "green" and not a.factors and not a.county_managed


@pytest.mark.parametrize("codes,grade", [
    (["twins"], "yellow"), (["gh"], "yellow"), (["scar_uterus"], "yellow"),
    (["triplets"], "orange"), (["severe_pe"], "orange"), (["endocrine_treated", "twins"], "orange"),
    (["heart_severe"], "red"), (["placenta_accreta", "twins", "rh"], "red"),
    (["syphilis"], "purple"), (["hiv", "twins"], "purple"),
])
def test_the_grade_is_the_highest_colour(codes, grade):
    assert risk.assess(codes, age=28).grade == grade


def test_an_infection_with_an_orange_or_red_factor_keeps_the_colour_and_lists_it():
    a = risk.assess(["hiv", "heart_severe"], age=28)
    assert a.grade == "red" and "hiv" in a.codes and a.county_managed


@pytest.mark.parametrize("kw,code,grade", [
    ({"age": 35}, "age_35", "yellow"), ({"age": 18}, "age_35", "yellow"), ({"age": 40}, "age_40", "orange"),
    ({"age": 28, "height_cm": 145}, "short", "yellow"),
    ({"age": 28, "height_cm": 160, "weight_kg": 66}, "bmi_25", "yellow"),
    ({"age": 28, "height_cm": 160, "weight_kg": 45}, "bmi_25", "yellow"),
    ({"age": 28, "height_cm": 160, "weight_kg": 72}, "bmi_28", "orange"),
    ({"age": 28, "haemoglobin": 100}, "anaemia", "yellow"),
    ({"age": 28, "haemoglobin": 55}, "anaemia_severe", "orange"),
    ({"age": 28, "haemoglobin": 40}, "anaemia_critical", "red"),
])
def test_derived_factors_from_measurements(kw, code, grade):
    a = risk.assess([], **kw)
    assert code in a.codes and a.grade == grade


def test_orange_red_and_purple_are_county_managed():
    assert {g for g in ("green", "yellow", "orange", "red", "purple")
            if risk.Assessment(g).county_managed} == {"orange", "red", "purple"}


def test_unknown_codes_are_reported_and_the_table_has_its_source():
    assert risk.assess(["nope"]).unknown == ["nope"]
    t = risk.table()
    assert "国卫办妇幼发〔2017〕35号" in t.source and len(t.factors) > 50
    assert {g for g, _ in t.by_grade()} == {"yellow", "orange", "red", "purple"}
