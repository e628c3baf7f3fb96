"""Phones and masking of personal identifiers (pure functions)."""

from __future__ import annotations

import re

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


class PhoneError(ValueError):
    code = "phone_invalid"

    def __init__(self, message: str = "电话号码格式不正确（手机号11位，固话如0746-1234567）"):
        super().__init__(message)
        self.message = message


def normalise_phone(raw: str) -> str:
    """Mobile numbers to 11 digits (drops +86 and separators); landlines to ``0AAA-NNNNNNN``."""
    text = re.sub(r"[\s()（）]", "", str(raw))
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    digits = text.replace("-", "")
    if MOBILE_RE.match(digits):
        return digits
    if LANDLINE_RE.match(text) and digits.isdigit():
        if "-" in text:
            return text
        area = 3 if digits[:2] in {"10", "20"} or digits[1] == "2" else 4
        return f"{digits[:area]}-{digits[area:]}"
    raise PhoneError()


def mask_id_number(number: str | None) -> str:
    """``431127********123X``: region code and last four kept."""
    if not number:
        return ""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str | None) -> str:
    """``138****5678`` for mobiles; landlines keep area code and last two digits."""
    if not phone:
        return ""
    if len(phone) == 11 and phone.isdigit():
        return phone[:3] + "****" + phone[-4:]
    if "-" in phone:
        area, local = phone.split("-", 1)
        return f"{area}-{'*' * (len(local) - 2)}{local[-2:]}"
    return phone[:2] + "*" * max(len(phone) - 4, 0) + phone[-2:]


def mask_name(name: str) -> str:
    """张*明 — for lists shown to people without a care relationship (e.g. auditors)."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
