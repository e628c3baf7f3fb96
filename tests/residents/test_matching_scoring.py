"""Single-record scoring (registration search): what links, what does not, and why, in Chinese."""

import datetime as dt

from yigongti.core.idcard import make_id_number
from yigongti.residents.matching import score_candidates

FATHER_ID = make_id_number("431127", dt.date(1975, 3, 8), 123, "M")


def record(**changes):
    base = {
        "record_id": "Q", "source_system": "县人民医院HIS", "name": "王建华", "sex": "男", "birth_date": "1975-03-08",
        "id_number": FATHER_ID, "phone": "13807461234", "address": "湖南省永州市蓝山县塔峰镇新村村5组12号",
        "household_id": "HH1",
    }
    base.update(changes)
    return base


def best(query, candidate):
    return score_candidates(query, [candidate])[0]


def test_identical_records_link_with_reasons():
    m = best(record(), record(record_id="C"))
    assert m.linked and m.score > 0.99
    assert "身份证号一致" in m.reasons_for and "姓名一致" in m.reasons_for


def test_homophone_names_match_without_an_id():
    m = best(record(id_number=None), record(record_id="C", name="王建化", id_number=None, phone=None))
    assert m.linked
    assert "姓名拼音相同（同音字）" in m.reasons_for


def test_traditional_characters_match_their_simplified_form():
    m = best(record(name="刘德华", id_number=None), record(name="劉德華", id_number=None))
    assert m.linked and "姓名繁简体不同" in m.reasons_for


def test_day_off_and_swapped_month_and_day_still_match():
    off = best(record(id_number=None), record(birth_date="1975-03-09", id_number=None))
    swapped = best(record(id_number=None), record(birth_date="19750803", id_number=None))
    assert off.linked and "出生日期相差一天" in off.reasons_for
    assert swapped.linked and "出生日期月日颠倒" in swapped.reasons_for


def test_single_digit_id_typo_and_transposition_still_match():
    typo = FATHER_ID[:12] + str((int(FATHER_ID[12]) + 3) % 10) + FATHER_ID[13:]
    i = next(k for k in range(6, 16) if FATHER_ID[k] != FATHER_ID[k + 1])
    transposed = FATHER_ID[:i] + FATHER_ID[i + 1] + FATHER_ID[i] + FATHER_ID[i + 2:]
    for wrong in (typo, transposed):
        m = best(record(), record(id_number=wrong, phone=None))
        assert m.linked
        assert "身份证号仅一位不同或相邻两位颠倒" in m.reasons_for


def test_fifteen_and_eighteen_digit_forms_are_the_same_number():
    legacy = FATHER_ID[:6] + FATHER_ID[8:17]
    m = best(record(), record(id_number=legacy, phone=None, household_id=None))
    assert m.linked and "身份证号一致" in m.reasons_for


def test_missing_id_still_matches_on_the_other_fields():
    m = best(record(), record(id_number=None, household_id=None))
    assert m.linked and m.score > 0.9


def test_common_names_weigh_less_than_rare_ones():
    common = best(record(name="王伟", id_number=None, phone=None, household_id=None),
                  record(name="王伟", id_number=None, phone=None, household_id=None))
    rare = best(record(name="覃嘉懿", id_number=None, phone=None, household_id=None),
                record(name="覃嘉懿", id_number=None, phone=None, household_id=None))
    assert rare.weight > common.weight + 2
    assert "常见姓名，同名者多" in common.reasons_against


def test_a_child_carrying_a_parents_id_is_not_the_parent():
    child = record(name="王小明", birth_date="2015-06-01", id_number=FATHER_ID)
    m = best(record(), child)
    assert not m.linked
    assert m.reasons_against


def test_twins_stay_apart():
    twin = {"name": "王子涵", "birth_date": "2016-09-09", "id_number": None, "sex": "男"}
    m = best(record(**twin), record(**{**twin, "name": "王子轩"}))
    assert not m.linked
    assert "关键信息冲突（疑为家人，如双胞胎或借用证号），不自动合并" in m.reasons_against


def test_two_different_valid_ids_are_two_people():
    other = make_id_number("431127", dt.date(1975, 3, 8), 77, "M")
    m = best(record(), record(id_number=other))
    assert not m.linked


def test_candidates_come_back_best_first():
    matches = score_candidates(record(), [record(name="李娜", birth_date="1990-01-01", id_number=None), record()])
    assert [m.index for m in matches] == [1, 0]
    assert score_candidates(record(), []) == []
