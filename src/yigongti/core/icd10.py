"""ICD-10 codes as every app writes them: one pattern, one normaliser.

A code is a letter, two digits and an optional subdivision after a dot (``I21``, ``E11.1``, ``S06.001``;
the national clinical edition 国家临床版 extends the subdivision to four characters). The insurance edition
医保版 adds its extension forms, with a lower-case ``x``: ``A86.x00`` (a category without subdivisions),
``Z37.000x001`` and ``G08.x00x001`` (an extension code under a subdivision), 11 characters at most (the
dagger/asterisk combinations of the rule tables, ``A17.000x001+G05.0*``, are not accepted). Input is upper-cased
(the extension's ``x`` kept lower-case), trimmed and full-width characters folded before the match."""

from __future__ import annotations

import re
import unicodedata

ICD10_RE = re.compile(r"^[A-Z]\d{2}(\.([0-9A-Zx]{1,4}|(\d{3}|[Xx]\d{2})[Xx]\d{3}))?$")
_EXTENSION_X = re.compile(r"(?<=\.)X(?=\d)|(?<=\d)X(?=\d{3}$)")


def normalise_icd10(value: str | None) -> str:
    """``" e11.1 "`` → ``"E11.1"``, ``"z37.000X001"`` → ``"Z37.000x001"``; the empty string for nothing. Does
    not validate (see ``is_icd10``)."""
    code = unicodedata.normalize("NFKC", value or "").strip().upper()
    return _EXTENSION_X.sub("x", code) if "X" in code[1:] else code


def is_icd10(code: str) -> bool:
    return bool(ICD10_RE.match(code))
