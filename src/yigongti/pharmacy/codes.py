"""The national codes a drug or a box carries, validated as pure functions.

- 医保药品/耗材编码 (国家医疗保障局《医疗保障信息业务编码标准》): Western drugs 23 characters beginning with X
  (e.g. ``XC09AAC036A001010101583``), Chinese patent drugs 20 beginning with Z (``ZA01AAL0123010101234``),
  medical consumables 20 beginning with C (``C0201010010000001234``), 中药饮片 beginning with T.
- 药品追溯码 (《药品追溯码编码要求》NMPA 2022, the 码上放心 codes on every package): 20 digits, the first
  seven the product's 药品标识码 prefix; a box's code is unique nationally.

Functions return ``None`` when the code is valid, or the reason in Chinese when it is not.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

KIND_PATTERNS: dict[str, tuple[str, re.Pattern[str]]] = {
    "western": ("X", re.compile(r"^X[A-Z0-9]{22}$")),
    "patent": ("Z", re.compile(r"^Z[A-Z0-9]{19}$")),
    "consumable": ("C", re.compile(r"^C[A-Z0-9]{19}$")),
    "herbal": ("T", re.compile(r"^T[A-Z0-9]{9,22}$")),
}
TRACE_CODE = re.compile(r"^[0-9]{20}$")


def insurance_code_error(code: str, kind: str) -> str | None:
    """Why ``code`` is not a valid 医保 code of an item of ``kind`` (None when it is)."""
    prefix, pattern = KIND_PATTERNS[kind]
    if not code:
        return _("医保编码不能为空")
    if not code.startswith(prefix):
        return _("医保编码应以 %(prefix)s 开头") % {"prefix": prefix}
    if not pattern.match(code):
        lengths = {"western": 23, "patent": 20, "consumable": 20}
        if kind in lengths:
            return _("医保编码应为 %(n)s 位大写字母和数字") % {"n": lengths[kind]}
        return _("医保编码格式不正确")
    return None


def trace_code_error(code: str) -> str | None:
    """Why ``code`` is not a 20-digit 药品追溯码 (None when it is)."""
    if not TRACE_CODE.match(code or ""):
        return _("追溯码应为 20 位数字")
    return None
