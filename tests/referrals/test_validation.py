"""The referral's rules as pure functions, tested without a database: what the guideline says (stable management
versus 上转指征), the green channel, the pregnancy risk colours, the 病案首页 outcomes, the appointment slots and
free beds, the reimbursement basis, and the transition table."""

import datetime as dt
import zoneinfo

import pytest

from yigongti.referrals import validation, workflow
from yigongti.referrals.guidelines import STARTER_RULES
from yigongti.referrals.inputs import ReferralInput
from yigongti.referrals.validation import Facts, validate_referral
from yigongti.referrals.workflow import Rule, advise, green_channel, rule_for

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
RULES = [Rule(i, n, a, b, lv, up, down, treat, des)
         for i, (n, a, b, lv, treat, up, down, des) in enumerate(STARTER_RULES)]
UP = Facts(origin_level="township", target_level="county")


def _inp(**over) -> ReferralInput:
    data = {"resident": 1, "direction": "up", "to_facility": 2, "icd10": "I63.9", "reason": "突发肢体无力"}
    data.update(over)
    return ReferralInput.parse(data)


# ---- guideline: stable management versus up-referral criteria ------------------------------------------------

def test_an_up_referral_that_meets_the_rules_own_criteria_needs_no_override():
    warned = advise("J18.9", "up", "township", "county", RULES)
    assert "稳定期宜在乡镇卫生院管理" in warned.warning and "CURB-65" in warned.warning
    met = advise("J18.9", "up", "township", "county", RULES, meets_up=True)
    assert met.warning == "" and met.meets_up and met.rule.name.startswith("肺炎")


def test_meeting_the_criteria_still_warns_when_sent_below_the_level_that_treats_them():
    assert "县级医院及以上" in advise("J18.9", "up", "village", "township", RULES, meets_up=True).warning


def test_diabetic_ketoacidosis_belongs_at_county_level_while_stable_diabetes_stays_at_the_township():
    assert rule_for("E11.1", RULES).level == "county"
    assert advise("E11.1", "up", "township", "county", RULES).warning == ""
    assert advise("E11.9", "up", "township", "county", RULES).warning


def test_cancers_are_followed_at_the_grassroots_between_treatments_and_treated_above_when_staging_is_needed():
    cancer = rule_for("C34.9", RULES)
    assert cancer.level == "township" and cancer.treat_level == "county" and "间歇期" in cancer.down_criteria
    assert advise("C34.9", "down", "county", "township", RULES).warning == ""
    assert advise("C34.9", "up", "township", "county", RULES, meets_up=True).warning == ""


def test_tuberculosis_goes_to_the_designated_hospital():
    advice = advise("A15.0", "up", "township", "county", RULES, meets_up=True)
    assert advice.warning == "" and advice.note == "须转至结核病定点医院"


@pytest.mark.parametrize("code,name", [("O14.1", "妊娠"), ("P07.3", "围生期"), ("F20.0", "精神"), ("I69.3", "后遗症"),
                                       ("G45.9", "短暂性脑缺血"), ("E10.9", "1型糖尿病"), ("J45.9", "哮喘")])
def test_the_starter_rules_cover_the_conditions_clinicians_asked_for(code, name):
    assert name in rule_for(code, RULES).name


def test_a_tia_and_newborn_conditions_go_up_without_an_override():
    assert advise("G45.9", "up", "township", "county", RULES).warning == ""
    assert advise("P59.9", "up", "township", "county", RULES).warning == ""


# ---- pregnancy risk colours -----------------------------------------------------------------------------------

def test_a_yellow_or_higher_pregnancy_meets_the_up_referral_criteria_green_does_not():
    assert advise("O24.4", "up", "township", "county", RULES, pregnancy_risk="yellow").warning == ""
    assert advise("O24.4", "up", "township", "county", RULES, pregnancy_risk="green").warning


def test_an_orange_red_or_purple_pregnancy_may_not_go_below_county_level():
    for colour in ("orange", "red", "purple"):
        errors, _ = validate_referral(_inp(icd10="O14.1", pregnancy_risk=colour),
                                      Facts(origin_level="village", target_level="township"))
        assert "县级及以上" in errors["to_facility"][0]
    errors, _ = validate_referral(_inp(icd10="O14.1", pregnancy_risk="orange"), UP)
    assert errors == {}
    assert "三级医院" in advise("O14.1", "up", "township", "county", RULES, pregnancy_risk="red").note


def test_an_orange_pregnancy_is_not_referred_down_to_a_village():
    assert "县级及以上" in advise("O14.1", "down", "county", "village", RULES, pregnancy_risk="orange").warning


# ---- green channel --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code,flags,green", [
    ("I21.0", {}, True), ("I63.9", {}, True), ("I60.1", {}, True), ("I65.2", {}, False),
    ("R07.4", {}, False), ("R07.4", {"ecg_changes": True}, True),
    ("S06.5", {}, False), ("S06.5", {"major_trauma": True}, True), ("T07", {"major_trauma": True}, True),
    ("J18.9", {"major_trauma": True}, False)])
def test_the_green_channel_diagnoses(code, flags, green):
    assert bool(green_channel(code, **flags)) is green


def test_a_green_channel_diagnosis_defaults_to_green_and_needs_a_reason_to_go_routine():
    errors, checked = validate_referral(_inp(icd10="I21.0"), UP)
    assert errors == {} and checked.urgency == "green" and "心肌梗死" in checked.green_reason
    errors, _ = validate_referral(_inp(icd10="I21.0", urgency="routine"), UP)
    assert "默认走绿色通道" in errors["routine_reason"][0]
    errors, checked = validate_referral(_inp(icd10="I21.0", urgency="routine", routine_reason="陈旧性心梗复查"), UP)
    assert errors == {} and checked.urgency == "routine"
    assert validate_referral(_inp(icd10="J18.9"), UP)[1].urgency == "routine"


# ---- destination, insurance and plan ---------------------------------------------------------------------------

def test_a_referral_outside_the_county_checks_the_insurance_codes():
    out = Facts(origin_level="township", target_level="city", outside_county=True)
    inp = {"to_facility": None, "to_external": "永州市中心医院", "to_level": "city"}
    assert validate_referral(_inp(**inp, insurance_target_code="H431124000"), out)[0]["insurance_target_code"]
    assert validate_referral(_inp(**inp, insurance_filing_no="ZW2026001"), out)[0]["insurance_target_code"]
    assert validate_referral(_inp(**inp, insurance_filing_no="ZW2026001", insurance_target_code="H43112400001"),
                             out)[0] == {}


def test_the_reimbursement_basis_depends_on_the_filing():
    assert "县域内" in workflow.reimbursement_basis(False, "")
    assert "已办理" in workflow.reimbursement_basis(True, "ZW1")
    assert "降低" in workflow.reimbursement_basis(True, "")


def test_an_up_referral_goes_higher_and_a_down_referral_lower_with_a_plan():
    errors, _ = validate_referral(_inp(), Facts(origin_level="township", target_level="village"))
    assert errors["to_facility"] == ["上转的接收机构须高于本机构层级"]
    errors, _ = validate_referral(_inp(direction="down"), Facts(origin_level="county", target_level="village"))
    assert set(errors) == {"follow_up_dates", "rehab_plan"}


def test_form_strings_are_parsed_once_into_the_typed_input():
    inp = ReferralInput.parse({"resident": "7", "icd10": " i63.9 ", "reason": "x", "to_facility": "",
                               "follow_up_dates": ["2026-12-08", ""], "meets_up_criteria": True})
    assert (inp.resident, inp.icd10, inp.to_facility, inp.follow_up_dates) == (7, "I63.9", None, [dt.date(2026, 12, 8)])
    with pytest.raises(Exception) as e:
        ReferralInput.parse({"resident": "abc", "icd10": "I10", "reason": "x"})
    assert e.value.errors == {"resident": ["请选择患者"]}


# ---- outcomes --------------------------------------------------------------------------------------------------

def test_outcomes_follow_the_discharge_codes_of_the_case_front_page():
    assert validation.completion("3", "improved") == ("3", "improved", {})
    assert validation.completion("5", "") == ("5", "died", {})
    assert validation.completion("down", "") == ("3", "improved", {})  # the code of before, read as 离院方式 3
    assert validation.completion("", "")[2] == {"outcome": ["请选择离院方式"]}
    assert "死亡" in validation.completion("1", "died")[2]["treatment_result"][0]


# ---- slots and beds --------------------------------------------------------------------------------------------

def test_a_department_offers_half_its_slots_in_the_morning_and_half_in_the_afternoon():
    day = dt.date(2026, 12, 2)
    slots = workflow.day_slots(day, 4, 30, TZ)
    assert [s.strftime("%H:%M") for s in slots] == ["08:30", "09:00", "14:30", "15:00"]
    now = dt.datetime(2026, 12, 2, 9, 0, tzinfo=TZ)
    assert workflow.free_slots([day], 4, 30, {slots[2]}, now, TZ) == [slots[3]]


def test_free_beds_are_the_beds_minus_the_admitted_and_the_held():
    assert workflow.free_beds(5, 2, {"1床"}) == ["2床", "3床"]
    assert workflow.free_beds(3, 3, set()) == []


# ---- the transition table --------------------------------------------------------------------------------------

def test_a_no_show_is_its_own_end_state_after_acceptance():
    assert workflow.check_move("accepted", "no_show") == "no_show"
    assert workflow.check_move("redirected", "no_show") == "no_show"
    with pytest.raises(workflow.MoveNotAllowed):
        workflow.check_move("arrived", "no_show")
    assert "no_show" in workflow.CLOSED and "no_show" in workflow.MOVES and "expire" not in workflow.MOVES


def test_every_move_a_person_makes_names_its_permission_and_moves_that_need_a_reason_say_so():
    for action in workflow.MOVES:
        assert workflow.TRANSITIONS[action].verb.startswith("referrals.")
    assert workflow.missing_reason("decline", " ") == "请填写拒绝理由"
    assert workflow.missing_reason("arrive", "") == ""
