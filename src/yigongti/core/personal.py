"""Phones and masking of personal identifiers (pure functions).

What a role without the unmask privilege (``orgs.unmask_personal_data``) sees, and why it cannot be
put back together
----------------------------------------------------------------------------------------------------
A GB 11643 number is 6 digits of region + 8 of birth date + 3 of sequence (odd for men) + 1 check
character (ISO 7064 MOD 11-2 over the other 17). Everything but the sequence is public or computable
for a person whose page one can see: the region is (nearly always) the county of residence, the
birth date and sex are shown beside the number, and the check character follows from the rest. The
old mask (``431127********123X``, region and last four) therefore left no unknown at all: with the
birth date on the same page it rebuilt 995 of 995 numbers.

The rule, enforced here for every page, API and export that shows a masked number:

* **ID number**: only the first two characters (the province, which the address already says) are
  shown: ``43****************``. Nothing of the birth date, the sequence or the check character is
  shown, so even when the birth date, sex, age and village are on the same page the sequence keeps
  500 possibilities (1,000 without sex) and every one of them has a valid check character: at least
  500 equally valid numbers remain for every person. (Keeping the last character as well would leave
  500 / 11 ≈ 45; keeping the last four leaves one.)
* **Birth date, age, sex, village, household address**: shown; they are what care needs and, with
  the mask above, they add nothing about the sequence.
* **Phone**: mobiles keep the 3-digit network prefix and the last four (``138****5678``: 10,000
  possibilities); landlines keep the area code and the last two digits (≥ 100,000). The registration
  search ignores a typed phone for users who may not see phones (otherwise "电话号码相同" would
  confirm a guess: 7,600 guesses recovered a phone in the probe).
* What remains are oracles that answer a guess (a registration search by ID number, the duplicate
  check on 建档): they are rate-limited per user and per client (``core.ratelimit``), audited with a
  keyed digest of the guess (never the guess itself, ``lookup_digest``) and bursts alert the auditors.
  With the default limits (60 lookups per account and 240 per client address in ten minutes) trying the
  500 candidates of one person takes over an hour of continuous guessing, and the auditors are alerted
  after the first 30 lookups.

Users holding the privilege see the full number through an explicit, audited unmask; a resident's own
village doctor sees the phone (audited), never the full ID number.

``tests/residents/test_reconstruction.py`` plays the attacker over every field a non-privileged role
sees and asserts that at least 100 candidates remain for every ID number and phone.
"""

from __future__ import annotations

import hashlib
import hmac
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


ID_VISIBLE_PREFIX = 2  # the province; see the module docstring before changing this


def mask_id_number(number: str | None) -> str:
    """``43****************``: only the province is kept (see the module docstring for why)."""
    if not number:
        return ""
    keep = ID_VISIBLE_PREFIX if len(number) >= 15 else 0
    return number[:keep] + "*" * (len(number) - keep)


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


def lookup_digest(value: str | None) -> str:
    """A keyed digest of a searched identifier, for audit details: an auditor holding the key can tell
    whether a given number was looked up (``lookup_digest(number) == detail["id_digest"]``), nobody
    reading the log can read the number, and without the key a dictionary of all numbers does not help."""
    if not value:
        return ""
    from django.conf import settings

    key = (getattr(settings, "YIGONGTI_LOOKUP_KEY", "") or settings.SECRET_KEY).encode()
    return "h:" + hmac.new(key, b"lookup:" + str(value).encode(), hashlib.sha256).hexdigest()[:24]


def mask_for_log(value: str | None) -> str:
    """An identifier fit for a log line or an audit detail: an ID number or a phone masked, other text
    (a name typed into a search box) kept."""
    text = (value or "").strip()
    if not text:
        return ""
    compact = re.sub(r"[\s-]", "", text)
    if len(compact) >= 6 and compact[:-1].isdigit():
        if len(compact) in (15, 18):
            return mask_id_number(compact.upper())
        if len(compact) == 11:
            return mask_phone(compact)
        return compact[:2] + "*" * (len(compact) - 2)
    return text
