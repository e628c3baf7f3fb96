"""Parsing of the forms' and the API's values into typed ones, each bad field getting its Chinese message in
``errors`` (field → messages, as ``core.errors.collect`` raises them): a form posts strings, the API typed values,
and both arrive here. The services of the apps parse their input with these, so a date, a count or an amount of
money means the same everywhere."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

Errors = dict[str, list[str]]
MONEY_BELOW = Decimal("1e10")  # yuan: 100 亿, beyond any price, asset or budget line of a county


def pk_of(value: Any) -> int:
    """A primary key (of a row or as typed), or 0 — which no row has — when it is not a number."""
    if hasattr(value, "pk"):
        return int(value.pk)
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return 0


def text(data: Mapping[str, Any], key: str, limit: int) -> str:
    value = data.get(key)
    return "" if value is None else str(value).strip()[:limit]


def flag(value: Any) -> bool:
    """A checkbox, a JSON boolean or a spreadsheet's 是/√/1."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "on", "yes", "是", "y", "√")


def day(data: Mapping[str, Any], key: str, errors: Errors, *, required: bool = False,
        default: dt.date | None = None) -> dt.date | None:
    """An ISO date (a datetime's date); ``default`` when empty, which also satisfies ``required``."""
    raw = data.get(key)
    if raw in (None, ""):
        if required and default is None:
            errors[key] = [_("请填写日期")]
        return default
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw).strip()[:10])
    except ValueError:
        errors[key] = [_("日期格式不正确")]
        return None


def integer(data: Mapping[str, Any], key: str, errors: Errors, *, minimum: int = 0, maximum: int | None = None,
            required: bool = False, signed: bool = False) -> int | None:
    """A whole number ≥ ``minimum`` (any sign when ``signed``), at most ``maximum`` in size."""
    raw = data.get(key)
    if raw in (None, ""):
        if required:
            errors[key] = [_("请填写数量")]
        return None
    try:
        n = int(str(raw).strip())
    except (TypeError, ValueError):
        errors[key] = [_("请填写整数")]
        return None
    if not signed and n < minimum:
        errors[key] = [_("不能小于 %(n)s") % {"n": minimum}]
        return None
    if maximum is not None and abs(n) > maximum:
        errors[key] = [_("数量过大")]
        return None
    return n


def money(data: Mapping[str, Any], key: str, errors: Errors, *, required: bool = False,
          below: Decimal = MONEY_BELOW, what: str | None = None) -> Decimal | None:
    """An amount in yuan, 0 ≤ amount < ``below``, to the fen (thousands separators accepted); ``what`` names it
    in the messages (金额 by default, 价格 …)."""
    name = what or pgettext("in a message", "金额")
    raw = data.get(key)
    if raw in (None, ""):
        if required:
            errors[key] = [_("请填写%(what)s") % {"what": name}]
        return None
    try:
        d = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        errors[key] = [_("%(what)s格式不正确") % {"what": name}]
        return None
    if not d.is_finite() or d < 0 or d >= below:
        errors[key] = [_("%(what)s须不小于 0 且小于 %(max)s 元") % {"what": name, "max": f"{below:,.0f}"}]
        return None
    return d.quantize(Decimal("0.01"))
