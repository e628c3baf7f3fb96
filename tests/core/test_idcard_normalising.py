"""One normalisation of typed ID numbers for every entry point (issue 9 §3)."""

import datetime as dt

import pyarrow as pa
import pytest

from yigongti.core.idcard import IdNumberError, looks_like_id_number, make_id_number, normalise_id_text, parse_id_number
from yigongti.residents.candidates import make_probe
from yigongti.residents.matching.normalize import ID_VALID, parse_ids

NUMBER = make_id_number("431127", dt.date(1958, 3, 14), 12, "M")


def wide(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() or c == "X" else c for c in text)


@pytest.mark.parametrize("typed", [wide(NUMBER), f"{NUMBER[:6]}-{NUMBER[6:14]}-{NUMBER[14:]}",
                                   f"{NUMBER[:6]}－{NUMBER[6:14]}—{NUMBER[14:]}", f" {NUMBER[:6]}\u3000{NUMBER[6:]} ",
                                   f"{NUMBER[:6]}‐{NUMBER[6:]}"])
def test_full_width_digits_spaces_and_hyphens_of_any_width_normalise_alike(typed):
    assert normalise_id_text(typed) == NUMBER
    assert parse_id_number(typed).number == NUMBER
    assert looks_like_id_number(typed)
    assert make_probe(id_number=typed).id_normalised == NUMBER
    columns = parse_ids(pa.array([typed]))  # the import's vectorised path
    assert columns.status[0] == ID_VALID and bytes(columns.digits[0]).decode() == NUMBER


def test_a_full_width_x_is_the_check_character():
    number = "11010519491231002X"
    assert parse_id_number(number[:17] + "Ｘ").number == number
    assert parse_id_number(number[:17] + "ｘ").number == number


@pytest.mark.parametrize("odd", ["²", "٣", "①", "a", "?"])
def test_other_characters_are_a_clear_error_never_an_exception(odd):
    with pytest.raises(IdNumberError) as e:
        parse_id_number(NUMBER[:8] + odd + NUMBER[9:])
    assert e.value.code == "id_format" and f"「{odd.upper()}」" in e.value.message
    assert "无法识别" in make_probe(id_number=NUMBER[:8] + odd + NUMBER[9:]).problems[0]


@pytest.mark.parametrize("region", ["810000", "820000", "830000"])
def test_hong_kong_macao_and_taiwan_residence_permits_are_valid(region):
    assert parse_id_number(make_id_number(region, dt.date(1990, 5, 1), 7, "F")).region_code == region


def test_a_birth_year_before_1900_is_a_warning_not_a_refusal():
    parsed = parse_id_number(make_id_number("431127", dt.date(1898, 2, 3), 4, "F"))
    assert parsed.birth_date.year == 1898 and "早于1900年" in parsed.warnings[0]
    assert parse_id_number(NUMBER).warnings == ()
    with pytest.raises(IdNumberError):
        parse_id_number(make_id_number("431127", dt.date(1840, 1, 1), 4, "F"))
