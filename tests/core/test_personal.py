import pytest

from yigongti.core.personal import PhoneError, mask_id_number, mask_name, mask_phone, normalise_phone


def test_id_numbers_are_masked_keeping_only_the_province():
    assert mask_id_number("41162519800101123X") == "41****************"
    assert mask_id_number("411625800101123") == "41*************"
    assert mask_id_number("") == ""


def test_mobiles_are_masked_as_138_stars_5678():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0746-7221234") == "0746-*****34"


def test_phones_are_normalised():
    assert normalise_phone("+86 138 1234 5678") == "13812345678"
    assert normalise_phone("138-1234-5678") == "13812345678"
    assert normalise_phone("07467221234") == "0746-7221234"
    assert normalise_phone("010-12345678") == "010-12345678"


@pytest.mark.parametrize("bad", ["12345", "23812345678", "phone", "1381234567"])
def test_invalid_phones_are_refused(bad):
    with pytest.raises(PhoneError):
        normalise_phone(bad)


def test_names_can_be_masked_for_lists():
    assert mask_name("李建国") == "李*国"
    assert mask_name("张伟") == "张*"
