"""ICD-10 codes as every app writes them: one pattern, one normaliser.

A code is a letter, two digits and an optional subdivision after a dot (``I21``, ``E11.1``, ``S06.001``;
the national clinical edition 国家临床版 extends the subdivision to four characters). Input is upper-cased,
trimmed and full-width characters folded before the match."""

from __future__ import annotations

import re
import unicodedata

ICD10_RE = re.compile(r"^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?$")


def normalise_icd10(value: str | None) -> str:
    """``" e11.1 "`` → ``"E11.1"``; the empty string for nothing. Does not validate (see ``is_icd10``)."""
    return unicodedata.normalize("NFKC", value or "").strip().upper()


def is_icd10(code: str) -> bool:
    return bool(ICD10_RE.match(code))
