"""Plausibility of vital signs, as one pure function shared by the chronic follow-ups, the health checks and the
maternal visits (``vital_problems``).

Two bands per measure: outside the *possible* range the value is a typing error and is refused with the field
named (BP 300/20, glucose 80 mmol/L); outside the *likely* range it is accepted once the user confirms it
(BP 200/120: then the urgent path starts). The ranges are for adults (the 35+ managed, 65+ checks, pregnant
women); they are deliberately wide: the point is to catch a slipped digit, not to judge the patient."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

# field: (possible low, possible high, likely low, likely high, unit)
RANGES: dict[str, tuple[Decimal, Decimal, Decimal, Decimal, str]] = {
    "sbp": (Decimal(60), Decimal(280), Decimal(80), Decimal(199), "mmHg"),
    "dbp": (Decimal(30), Decimal(160), Decimal(45), Decimal(119), "mmHg"),
    "heart_rate": (Decimal(20), Decimal(250), Decimal(40), Decimal(150), gettext_noop("次/分")),
    "fbg": (Decimal("1.0"), Decimal("50.0"), Decimal("2.5"), Decimal("33.3"), "mmol/L"),
    "weight_kg": (Decimal(20), Decimal(300), Decimal(35), Decimal(150), "kg"),
    "height_cm": (Decimal(100), Decimal(250), Decimal(135), Decimal(200), "cm"),
    "hba1c": (Decimal("3.0"), Decimal("20.0"), Decimal("4.0"), Decimal("14.0"), "%"),
}
INTEGER_FIELDS = {"sbp", "dbp", "heart_rate"}
MIN_PULSE_PRESSURE = 10  # SBP − DBP below this is unlikely; SBP ≤ DBP is impossible


def number(value: Any) -> Decimal | None:
    """A form or JSON value as a Decimal (``None`` when blank); raises ``ValueError`` when not a number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(value) from None
    if not d.is_finite():
        raise ValueError(value)
    return d


def vital_problems(values: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(errors, warnings) by field for the keys sbp, dbp, heart_rate, fbg, weight_kg, height_cm, hba1c present in
    ``values`` (other keys are ignored; blank values are not checked). Errors: not a number, or impossible.
    Warnings: possible but unlikely, to be confirmed by the user."""
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    parsed: dict[str, Decimal] = {}
    for key, (lo, hi, likely_lo, likely_hi, unit) in RANGES.items():
        if key not in values:
            continue
        try:
            d = number(values[key])
        except ValueError:
            errors[key] = _("应为数字")
            continue
        if d is None:
            continue
        if key in INTEGER_FIELDS and d != d.to_integral_value():
            errors[key] = _("应为整数")
            continue
        if d < lo or d > hi:
            errors[key] = _("%(value)s %(unit)s 不可能，请核对（应在 %(lo)s–%(hi)s 之间）") % {
                "value": d, "unit": _(unit), "lo": lo, "hi": hi}
            continue
        parsed[key] = d
        if d < likely_lo or d > likely_hi:
            warnings[key] = _("%(value)s %(unit)s 非常少见，请确认读数") % {"value": d, "unit": _(unit)}
    sbp, dbp = parsed.get("sbp"), parsed.get("dbp")
    if sbp is not None and dbp is not None:
        if sbp <= dbp:
            errors["dbp"] = _("舒张压应低于收缩压")
            warnings.pop("dbp", None)
        elif sbp - dbp < MIN_PULSE_PRESSURE and "dbp" not in warnings:
            warnings["dbp"] = _("脉压差小于 %(n)s mmHg，请确认读数") % {"n": MIN_PULSE_PRESSURE}
    return errors, warnings
