"""Resident identity card numbers (身份证号) per GB 11643-1999.

Pure functions, no database: the services, the demo generator and the EMPI all validate with these.
The region code is checked against every code that ever existed in GB/T 2260 (python-stdnum's
historical table), never against the birth year: a person born in 1946 who got a card in 2005
carries the code of that year, and stdnum's own ``cn.ric.validate`` wrongly rejects such numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


class IdNumberError(ValueError):
    """An invalid ID number; ``code`` is stable for the API, ``message`` is shown to users."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IdNumber:
    number: str  # normalised 18 characters
    region_code: str
    birth_date: dt.date
    sex: str  # "M" or "F" (GB/T 2261.1: 1 male, 2 female)
    converted_from_15: bool = False


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS))
    return CHECK_CHARS[total % 11]


@lru_cache(maxsize=8192)
def region_ever_existed(code6: str) -> bool:
    """True if the 6-digit code has ever been a GB/T 2260 county- or city-level code."""
    from stdnum import numdb

    parts = numdb.get("cn/loc").info(code6)
    props: dict[str, str] = {}
    for _part, p in parts:
        props.update(p)
    if "county" in props:
        return True
    # city-level codes ("431100") were also issued on cards in some places
    return code6.endswith("00") and "province" in props and len(parts) > 1


def _clean(raw: str) -> str:
    return "".join(str(raw).split()).upper().replace("x", "X")


def parse_id_number(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate and normalise an ID number; 15-digit legacy numbers are converted to 18 digits."""
    number = _clean(raw)
    converted = False
    if len(number) == 15:
        if not number.isdigit():
            raise IdNumberError("id_format", "15位身份证号只能包含数字")
        first17 = number[:6] + "19" + number[6:]
        number = first17 + check_char(first17)
        converted = True
    if len(number) != 18:
        raise IdNumberError("id_length", "身份证号应为18位（或15位旧号）")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdNumberError("id_format", "身份证号前17位须为数字，末位为数字或X")
    if not region_ever_existed(number[:6]):
        raise IdNumberError("id_region", f"身份证号地区码 {number[:6]} 不是有效的行政区划代码")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("id_birth_date", "身份证号中的出生日期不存在") from None
    today = today or dt.date.today()
    if birth > today or birth.year < 1880:
        raise IdNumberError("id_birth_date", "身份证号中的出生日期不合理")
    if number[17] != check_char(number[:17]):
        raise IdNumberError("id_check", "身份证号校验位错误，请核对号码")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdNumber(number, number[:6], birth, sex, converted)


def is_valid_id_number(raw: str) -> bool:
    try:
        parse_id_number(raw)
    except IdNumberError:
        return False
    return True


def looks_like_id_number(text: str) -> bool:
    """A search string that should be treated as an ID number rather than a name."""
    t = _clean(text)
    return len(t) >= 6 and t[:-1].isdigit() and (t[-1].isdigit() or t[-1] == "X")


def make_id_number(region_code: str, birth: dt.date, sequence: int, sex: str) -> str:
    """Build a valid number (the demo and tests use this): ``sequence`` 0–499, parity set by sex."""
    seq = sequence * 2 + (1 if sex == "M" else 0)
    first17 = f"{region_code}{birth:%Y%m%d}{seq % 1000:03d}"
    return first17 + check_char(first17)
