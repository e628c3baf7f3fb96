"""Resident identity card numbers (身份证号) per GB 11643-1999.

Pure functions, no database: the services, the demo generator and the EMPI all validate with these.
The region code is checked against every code that ever existed in GB/T 2260 (python-stdnum's
historical table), never against the birth year: a person born in 1946 who got a card in 2005
carries the code of that year, and stdnum's own ``cn.ric.validate`` wrongly rejects such numbers.
Residence permits for residents of Hong Kong (810000), Macao (820000) and Taiwan (830000) carry those codes.

Every entry point (the registration form, the API, the index search, the resident list, imports) normalises
with ``normalise_id_text`` first: full-width digits and ``Ｘ`` become ASCII, spaces and hyphens of every width
are dropped, and any other character (a superscript ``²``, an Arabic-Indic digit) is a clear error, never
an exception. Birth years before 1900 are accepted with a warning (``IdNumber.warnings``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from django.utils.translation import gettext as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# 港澳台居民居住证 (GB 11643 numbers issued since 2018): not county codes in GB/T 2260, valid on cards
SPECIAL_REGIONS = frozenset({"810000", "820000", "830000"})
EARLIEST_YEAR = 1850  # nobody alive was born earlier: refused
WARN_BEFORE_YEAR = 1900  # accepted, with a warning to check the number
FULL_WIDTH_ID_CHARS = {chr(ord("０") + i): str(i) for i in range(10)} | {"Ｘ": "X", "ｘ": "X"}
_FULL_WIDTH = str.maketrans(FULL_WIDTH_ID_CHARS)
_SEPARATORS = "-‐‑‒–—―－﹣−_"
_ASCII_ID_CHARS = frozenset("0123456789X")


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
    warnings: tuple[str, ...] = ()  # accepted, but worth a second look (a birth year before 1900)


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=False))
    return CHECK_CHARS[total % 11]


@lru_cache(maxsize=8192)
def region_ever_existed(code6: str) -> bool:
    """True if the 6-digit code has ever been a GB/T 2260 county- or city-level code."""
    from stdnum import numdb

    if code6 in SPECIAL_REGIONS:
        return True
    parts = numdb.get("cn/loc").info(code6)
    props: dict[str, str] = {}
    for _part, p in parts:
        props.update(p)
    if "county" in props:
        return True
    # city-level codes ("431100") were also issued on cards in some places
    return code6.endswith("00") and "province" in props and len(parts) > 1


def normalise_id_text(raw: object) -> str:
    """What was typed, as the index stores it: full-width digits and X to ASCII, upper-case X, spaces and
    hyphens (of any width) removed. Other characters are kept, for ``parse_id_number`` to name."""
    text = "".join(str(raw if raw is not None else "").split()).translate(_FULL_WIDTH)
    return "".join(c for c in text if c not in _SEPARATORS).upper()


def _odd_characters(number: str) -> str:
    return "".join(dict.fromkeys(c for c in number if c not in _ASCII_ID_CHARS))


def parse_id_number(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate and normalise an ID number; 15-digit legacy numbers are converted to 18 digits."""
    number = normalise_id_text(raw)
    if odd := _odd_characters(number):
        raise IdNumberError("id_format", _("身份证号含有无法识别的字符「%(chars)s」，只能是数字和末位的X")
                            % {"chars": odd[:5]})
    converted = False
    if len(number) == 15:
        if "X" in number:
            raise IdNumberError("id_format", _("15位身份证号只能包含数字"))
        first17 = number[:6] + "19" + number[6:]
        number = first17 + check_char(first17)
        converted = True
    if len(number) != 18:
        raise IdNumberError("id_length", _("身份证号应为18位（或15位旧号）"))
    if "X" in number[:17]:
        raise IdNumberError("id_format", _("身份证号前17位须为数字，末位为数字或X"))
    if not region_ever_existed(number[:6]):
        raise IdNumberError("id_region", _("身份证号地区码 %(code)s 不是有效的行政区划代码") % {"code": number[:6]})
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("id_birth_date", _("身份证号中的出生日期不存在")) from None
    today = today or dt.date.today()
    if birth > today or birth.year < EARLIEST_YEAR:
        raise IdNumberError("id_birth_date", _("身份证号中的出生日期不合理"))
    if number[17] != check_char(number[:17]):
        raise IdNumberError("id_check", _("身份证号校验位错误，请核对号码"))
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    warnings: tuple[str, ...] = ()
    if birth.year < WARN_BEFORE_YEAR:
        warnings = (_("身份证号中的出生年份为 %(year)s 年（早于1900年），请核对") % {"year": birth.year},)
    return IdNumber(number, number[:6], birth, sex, converted, warnings)


def is_valid_id_number(raw: str) -> bool:
    try:
        parse_id_number(raw)
    except IdNumberError:
        return False
    return True


def looks_like_id_number(text: str) -> bool:
    """A search string that should be treated as an ID number rather than a name."""
    t = normalise_id_text(text)
    return len(t) >= 6 and all(c in "0123456789" for c in t[:-1]) and t[-1] in _ASCII_ID_CHARS


def make_id_number(region_code: str, birth: dt.date, sequence: int, sex: str) -> str:
    """Build a valid number (the demo and tests use this): ``sequence`` 0–499, parity set by sex."""
    seq = sequence * 2 + (1 if sex == "M" else 0)
    first17 = f"{region_code}{birth:%Y%m%d}{seq % 1000:03d}"
    return first17 + check_char(first17)
