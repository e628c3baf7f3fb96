"""The one ICD-10 pattern: national codes and the 医保版 extension forms (lower-case x)."""

from __future__ import annotations

import pytest

from yigongti.core.icd10 import is_icd10, normalise_icd10


@pytest.mark.parametrize("code", ["I21", "E11.1", "S06.001", "J18.900", "A86.x00", "I10.x0", "Z37.000x001",
                                  "E11.900x001", "G08.x00x001", "I10.x00x002"])
def test_national_and_insurance_edition_codes_are_codes(code):
    assert is_icd10(code)


@pytest.mark.parametrize("code", ["", "XYZ", "I2", "I21.", "I21.00000", "Z37.000x0012", "Z37.0000x001",
                                  "Z37.000y001", "A17.000x001+G05.0*", "37.000x001"])
def test_what_is_not_a_code(code):
    assert not is_icd10(code)


@pytest.mark.parametrize(("raw", "code"), [(" e11.1 ", "E11.1"), ("z37.000X001", "Z37.000x001"),
                                           ("Ｚ３７．０００ｘ００１", "Z37.000x001"), ("g08.X00X001", "G08.x00x001"),
                                           ("a86.X00", "A86.x00"), ("i10.x0", "I10.x0"), (None, "")])
def test_the_normaliser_upper_cases_but_keeps_the_extensions_x_lower_case(raw, code):
    assert normalise_icd10(raw) == code
    assert code == "" or is_icd10(code)
