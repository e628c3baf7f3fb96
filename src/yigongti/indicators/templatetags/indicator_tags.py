from __future__ import annotations

from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

register = template.Library()

STATUS_CLASS = {"green": "success", "amber": "warning", "red": "danger"}
STATUS_LABEL = {"green": "达标", "amber": "接近目标", "red": "未达标"}


@register.filter
def figure(value, places: int = 2) -> str:
    """A figure for display: '—' when there is none (a zero denominator is not a zero)."""
    if value is None or value == "":
        return "—"
    d = Decimal(value)
    if d.as_tuple().exponent >= 0 or places == 0:  # counts: no decimals
        return intcomma(int(d))
    return intcomma(f"{d:.{places}f}")


@register.filter
def status_class(status: str) -> str:
    return STATUS_CLASS.get(status, "secondary")


@register.filter
def status_label(status: str) -> str:
    return STATUS_LABEL.get(status, "")
