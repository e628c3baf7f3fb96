"""Parsing of raw record fields: sex codes, dates, ID numbers, phones, addresses."""

import datetime as dt
import random

import numpy as np
import pyarrow as pa

from yigongti.core.idcard import IdNumberError, make_id_number, parse_id_number
from yigongti.residents.matching.normalize import (
    EPOCH,
    ID_BAD_CHECK,
    ID_BAD_FORMAT,
    ID_MISSING,
    ID_VALID,
    ID_VALID_15,
    NO_DATE,
    parse_addresses,
    parse_dates,
    parse_ids,
    parse_phones,
    parse_sex,
    parse_sex_value,
)


def days(d: dt.date) -> int:
    return (d - EPOCH).days


def test_sex_is_read_from_chinese_letters_and_gb_codes():
    for value, code in (("男", 1), ("女", 2), ("M", 1), ("f", 2), ("1", 1), ("2", 2), ("0", 0), ("9", 0), (None, 0),
                        (1, 1)):
        assert parse_sex_value(value) == code
    assert parse_sex_value("X") == -1


def test_unreadable_sex_is_flagged_and_treated_as_unknown():
    codes, bad = parse_sex(pa.array(["男", "?", None]))
    assert codes.tolist() == [1, 0, 0]
    assert bad.tolist() == [False, True, False]


def test_dates_are_read_from_iso_compact_and_chinese_forms():
    values, bad = parse_dates(pa.array(["1975-03-08", "19750308", "1975/3/8", "1975年3月8日", "1975-03-08 00:00:00",
                                        None]))
    assert values[:5].tolist() == [days(dt.date(1975, 3, 8))] * 5
    assert values[5] == NO_DATE and not bad.any()


def test_date_typed_columns_are_accepted():
    values, bad = parse_dates(pa.array([dt.date(2001, 12, 31), None], pa.date32()))
    assert values[0] == days(dt.date(2001, 12, 31)) and values[1] == NO_DATE and not bad.any()


def test_impossible_dates_are_flagged_not_guessed():
    values, bad = parse_dates(pa.array(["1975-02-30", "2999-01-01", "1780-01-01", "yesterday", "19751308"]))
    assert (values == NO_DATE).all()
    assert bad.all()


def test_vectorised_id_validation_agrees_with_the_core_rules():
    rng = random.Random(5)
    numbers = []
    for _ in range(300):
        birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(30000))
        n = make_id_number(rng.choice(["431127", "432927", "110101"]), birth, rng.randrange(500), rng.choice("MF"))
        if rng.random() < 0.5:  # corrupt one character
            i = rng.randrange(18)
            n = n[:i] + rng.choice("0123456789X") + n[i + 1:]
        numbers.append(n)
    cols = parse_ids(pa.array(numbers))
    for n, status in zip(numbers, cols.status.tolist(), strict=True):
        try:
            parse_id_number(n)
            expected_valid = True
        except IdNumberError:
            expected_valid = False
        assert (status == ID_VALID) == expected_valid, n


def test_fifteen_digit_numbers_are_widened_to_eighteen():
    n18 = make_id_number("432927", dt.date(1962, 4, 5), 17, "M")
    n15 = n18[:6] + n18[8:17]
    cols = parse_ids(pa.array([n15, n18]))
    assert cols.status.tolist() == [ID_VALID_15, ID_VALID]
    assert bytes(cols.digits[0]).decode() == n18 == bytes(cols.digits[1]).decode()
    assert cols.birth_days[0] == days(dt.date(1962, 4, 5)) and cols.sex[0] == 1


def test_invalid_ids_keep_their_digits_for_typo_comparison():
    n = make_id_number("431127", dt.date(1990, 1, 2), 3, "F")
    typo = n[:10] + str((int(n[10]) + 1) % 10) + n[11:]
    cols = parse_ids(pa.array([typo, "12345", None, " 4311 2719 9001 02xx "]))
    assert cols.status[0] == ID_BAD_CHECK and cols.comparable[0]
    assert cols.status[1] == ID_BAD_FORMAT and not cols.comparable[1]
    assert cols.status[2] == ID_MISSING


def test_phones_are_normalised_and_bad_ones_flagged():
    values, bad = parse_phones(pa.array(["138 0746 1234", "+86-13807461234", "0746-8221234", "12345", None]))
    assert values.tolist()[:3] == [13807461234, 13807461234, 7468221234]
    assert values[3] == -1 and bad.tolist() == [False, False, False, True, False]


def test_addresses_reduce_to_township_and_village():
    town, village = parse_addresses(pa.array([
        "湖南省永州市蓝山县塔峰镇新村村5组12号", "塔峰镇新村村", "楠市镇石门村", "蓝山县楠市镇石门村3组",
        "塔峰镇", None,
    ]))
    assert village[0] == village[1] and village[2] == village[3] and village[0] != village[2]
    assert town[0] == town[4] and village[4] == -1 and town[5] == -1
    assert np.all(town[:4] >= 0)
