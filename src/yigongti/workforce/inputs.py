"""Parsing of the forms' and the API's values into typed ones, with the Chinese message of each bad field."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _


def as_pk(value: Any) -> int:
    """A primary key, or 0 (no row has it) when the value is not a number."""
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return 0


def as_day(value: Any, errors: dict[str, list[str]], field: str, required: bool = True) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if value in (None, ""):
        if required:
            errors[field] = [_("请填写日期")]
        return None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = [_("日期格式不正确")]
        return None


def as_month(value: Any, errors: dict[str, list[str]], field: str = "month") -> dt.date | None:
    """``2026-12`` or any date of the month → the month's first day."""
    text = str(value or "").strip()
    if isinstance(value, dt.date):
        return value.replace(day=1)
    try:
        return dt.date.fromisoformat(text[:7] + "-01")
    except ValueError:
        errors[field] = [_("月份格式不正确（例如 2026-12）")]
        return None


def as_count(value: Any, errors: dict[str, list[str]], field: str, lo: int, hi: int) -> int | None:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        errors[field] = [_("请填写整数")]
        return None
    if not lo <= n <= hi:
        errors[field] = [_("须在 %(lo)s 到 %(hi)s 之间") % {"lo": lo, "hi": hi}]
        return None
    return n


def _weekday(value: Any) -> int | None:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if 0 <= n <= 6 else None


def as_weekdays(value: Any) -> set[int]:
    """Weekdays 0 (Monday) … 6 from a list or a comma-separated text; Monday to Friday when empty."""
    if value in (None, "", []):
        return {0, 1, 2, 3, 4}
    items = value if isinstance(value, list | tuple | set) else str(value).split(",")
    out = {n for n in (_weekday(i) for i in items) if n is not None}
    return out or {0, 1, 2, 3, 4}
