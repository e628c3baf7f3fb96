import datetime as dt

import pytest

from yigongti.core.idcard import IdNumberError, check_char, looks_like_id_number, make_id_number, parse_id_number

# 11010519491231002X is the standard's own worked example: weights·digits sum = 167, 167 mod 11 = 2 → "X".
STANDARD_EXAMPLE = "11010519491231002X"


def test_the_standards_worked_example_is_valid():
    parsed = parse_id_number(STANDARD_EXAMPLE)
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.sex == "F"  # sequence 002 is even
    assert parsed.region_code == "110105"


def test_check_character_follows_iso_7064_mod_11_2():
    assert check_char("11010519491231002") == "X"
    assert check_char("43112719580314025") == make_id_number("431127", dt.date(1958, 3, 14), 12, "M")[-1]


def test_lowercase_x_and_spaces_are_normalised():
    assert parse_id_number(" 110105 19491231 002x ").number == STANDARD_EXAMPLE


def test_a_wrong_check_character_is_rejected_with_a_clear_message():
    with pytest.raises(IdNumberError) as e:
        parse_id_number("110105194912310021")
    assert e.value.code == "id_check"
    assert "校验位" in e.value.message


def test_an_impossible_birth_date_is_rejected():
    first17 = "43112719990230001"  # 30 February
    with pytest.raises(IdNumberError) as e:
        parse_id_number(first17 + check_char(first17))
    assert e.value.code == "id_birth_date"


def test_a_birth_date_in_the_future_is_rejected():
    first17 = "43112720990101001"
    with pytest.raises(IdNumberError) as e:
        parse_id_number(first17 + check_char(first17), today=dt.date(2026, 11, 25))
    assert e.value.code == "id_birth_date"


def test_an_unknown_region_code_is_rejected():
    first17 = "99999919800101001"
    with pytest.raises(IdNumberError) as e:
        parse_id_number(first17 + check_char(first17))
    assert e.value.code == "id_region"


def test_a_15_digit_legacy_number_is_converted_to_18_digits():
    parsed = parse_id_number("431127580314025")
    assert parsed.converted_from_15
    assert parsed.number == "43112719580314025" + check_char("43112719580314025")
    assert parsed.birth_date == dt.date(1958, 3, 14)
    assert parsed.sex == "M"


def test_region_codes_are_accepted_whenever_they_existed_not_by_birth_year():
    # 郸城县 is 411625 since 2000 and was 412726 before: a 1946-born resident who got a second-generation
    # card in 2005 carries 411625, and an old card may still carry 412726; both are valid.
    assert parse_id_number(make_id_number("411625", dt.date(1946, 5, 1), 3, "M")).birth_date.year == 1946
    assert parse_id_number(make_id_number("412726", dt.date(2001, 5, 1), 3, "F")).sex == "F"
    # 蓝山县's pre-1995 code 432927
    assert parse_id_number(make_id_number("432927", dt.date(1950, 1, 1), 0, "F"))


@pytest.mark.parametrize("raw,code", [("12345", "id_length"), ("43112719800101001A", "id_format"),
                                      ("4311271980010100X1", "id_format")])
def test_malformed_numbers_name_the_problem(raw, code):
    with pytest.raises(IdNumberError) as e:
        parse_id_number(raw)
    assert e.value.code == code


def test_sex_parity_and_search_detection():
    assert parse_id_number(make_id_number("431127", dt.date(2000, 1, 1), 5, "M")).sex == "M"
    assert looks_like_id_number("431127")
    assert looks_like_id_number(STANDARD_EXAMPLE)
    assert not looks_like_id_number("李建国")
