"""Chinese name handling of the EMPI matcher: pinyin, dialect folding, look-alikes, traditional forms."""

import numpy as np
import pyarrow as pa

from yigongti.residents.matching.compare import compare_names, prepare
from yigongti.residents.matching.names import fold_syllable, folded_key, is_garbled, pinyin_key, simplify


def name_level(a: str, b: str) -> int:
    cols = ("record_id", "source_system", "name", "sex", "birth_date", "id_number", "phone", "address", "household_id")
    values = {"record_id": ["1", "2"], "name": [a, b]}
    table = pa.table({c: pa.array(values.get(c, [None, None]), pa.string()) for c in cols})
    f = prepare(table)
    return int(compare_names(f, np.array([0]), np.array([1]))[0])


def test_homophones_share_a_pinyin_key():
    assert pinyin_key("王伟") == pinyin_key("汪玮") == "wang wei"
    assert name_level("王建华", "王建化") == 1


def test_surnames_with_special_readings_use_them():
    assert pinyin_key("曾小明").startswith("zeng")
    assert pinyin_key("单田芳").startswith("shan")


def test_dialect_confusions_fold_together():
    for a, b in (("liu", "niu"), ("zhang", "zang"), ("chen", "cen"), ("shi", "si"), ("lin", "ling"), ("hu", "fu")):
        assert fold_syllable(a) == fold_syllable(b)
    assert folded_key("刘兰") == folded_key("牛蓝")
    assert name_level("张林", "臧凌") == 2


def test_similar_looking_characters_are_a_weaker_level_than_homophones():
    assert name_level("王未来", "王末来") == 3


def test_traditional_and_simplified_forms_are_the_same_name():
    assert simplify("劉德華") == "刘德华"
    assert name_level("劉德華", "刘德华") == 0


def test_swapped_characters_are_recognised():
    assert name_level("王建华", "王华建") == 4


def test_a_dropped_character_is_recognised():
    assert name_level("李秀英", "李英") == 5
    assert name_level("欧阳建华", "欧阳华") == 5


def test_an_unrelated_character_is_not_similar():
    assert name_level("王子涵", "王子轩") == 6
    assert name_level("王伟", "王强") == 7
    assert name_level("王伟", "李娜") == 8


def test_garbled_names_are_detected():
    for bad in ("锟斤拷", "å¼ ä¸‰", "???", "", "  ", "张\ufffd"):
        assert is_garbled(bad)
    for good in ("张三", "阿依古丽·买买提", "Maria"):
        assert not is_garbled(good)
