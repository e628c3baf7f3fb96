"""Recording a health check (健康体检表): the annual check of the 65+ and of the managed chronic patients, and other
checks. The only writer of ``HealthCheck``.

The actor must hold ``publichealth.health_check`` for the resident (a clinician or public-health worker of the
resident's area). Vital signs go through the same checks as the chronic follow-ups (``chronic.validation.
vital_problems``): impossible values are refused with the field named; unlikely ones need ``confirm_unlikely``
(the form asks once more). A check dated in the future or before the birth is refused. BMI is computed from
height and weight. A second submission of the same resident, day and purpose returns the check already saved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput, collect
from yigongti.core.validation import today as today_
from yigongti.orgs.models import Facility
from yigongti.orgs.permissions import check
from yigongti.residents.models import Resident

from ..models import CheckPurpose, HealthCheck
from ._after import record_delivery, refresh_due
from .immunisation import parse_date

VITALS = ("sbp", "dbp", "heart_rate", "fbg", "weight_kg", "height_cm")
INTEGERS = ("sbp", "dbp", "heart_rate", "self_care_score")
DECIMALS = {  # field: digits after the point
    "height_cm": 1, "weight_kg": 1, "waist_cm": 1, "fbg": 1, "total_cholesterol": 2, "triglycerides": 2,
    "ldl": 2, "creatinine": 1, "alt": 1,
}
RANGES = {  # plausible ranges of the lab values the chronic validation does not cover: outside → refused
    "waist_cm": (30, 250), "total_cholesterol": (0.5, 30), "triglycerides": (0.1, 60), "ldl": (0.1, 20),
    "creatinine": (5, 3000), "alt": (0, 5000), "self_care_score": (0, 100),
}
TEXTS = {"findings": 2000, "advice": 300, "tcm_constitution": 20}

# Used only while chronic.validation (H3) is not importable: the same kind of limits.
_FALLBACK_IMPOSSIBLE = {"sbp": (50, 280), "dbp": (30, 160), "heart_rate": (20, 250), "fbg": (1.0, 50),
                        "weight_kg": (1, 300), "height_cm": (30, 250), "hba1c": (3, 20)}
_FALLBACK_UNLIKELY = {"sbp": (80, 199), "dbp": (40, 119), "heart_rate": (40, 150), "fbg": (2.5, 25),
                      "weight_kg": (25, 180), "height_cm": (120, 210), "hba1c": (4, 14)}


def _fallback_problems(values: dict) -> tuple[dict[str, str], dict[str, str]]:
    errors, warnings = {}, {}
    for k, v in values.items():
        if v is None or k not in _FALLBACK_IMPOSSIBLE:
            continue
        lo, hi = _FALLBACK_IMPOSSIBLE[k]
        if not lo <= float(v) <= hi:
            errors[k] = _("数值不可能：%(v)s（应在 %(lo)s–%(hi)s 之间）") % {"v": v, "lo": lo, "hi": hi}
            continue
        lo, hi = _FALLBACK_UNLIKELY[k]
        if not lo <= float(v) <= hi:
            warnings[k] = _("数值少见：%(v)s，请确认") % {"v": v}
    if values.get("sbp") is not None and values.get("dbp") is not None and values["sbp"] <= values["dbp"]:
        errors["dbp"] = _("舒张压应低于收缩压")
    return errors, warnings


def vital_problems(values: dict) -> tuple[dict[str, str], dict[str, str]]:
    try:
        from yigongti.chronic.validation import vital_problems as chronic_vital_problems
    except ImportError:
        return _fallback_problems(values)
    return chronic_vital_problems(values)


def _number(raw: Any, field: str, places: int | None, errors: dict[str, list[str]]):
    text = str(raw).strip() if raw is not None else ""
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors[field] = [_("请输入数字")]
        return None
    if not value.is_finite():
        errors[field] = [_("请输入数字")]
        return None
    if places is None:
        if value != value.to_integral_value() or value < 0 or value > 32767:
            errors[field] = [_("请输入整数")]
            return None
        return int(value)
    if value < 0 or value >= 10 ** (4 if places == 1 else 2):
        errors[field] = [_("数值超出范围")]
        return None
    return value.quantize(Decimal(1).scaleb(-places))


def _facility(actor: Actor, data: Mapping) -> Facility:
    user = actor.user
    if user is not None and user.facility_id is not None:
        return user.facility
    pk = data.get("facility")
    facility = Facility.objects.filter(pk=int(str(pk))).first() if str(pk or "").isdigit() else None
    if facility is None:
        raise InvalidInput("no_facility", _("请指定体检机构"), field="facility")
    return facility


def clean(data: Mapping, resident: Resident, *, on: dt.date) -> tuple[dict[str, Any], dict[str, str]]:
    """The check's fields from a form or the API, and the warnings (unlikely values) needing a confirmation.
    Raises InvalidInput naming every bad field."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    date = parse_date(data.get("date"), errors, "date", _("体检日期"))
    if date is not None:
        if date > on:
            errors["date"] = [_("体检日期不能晚于今天")]
        elif date < resident.birth_date:
            errors["date"] = [_("体检日期早于出生日期")]
    out["date"] = date
    purpose = str(data.get("purpose") or "").strip()
    if purpose not in CheckPurpose.values:
        errors["purpose"] = [_("请选择体检类别")]
    out["purpose"] = purpose
    for name in INTEGERS:
        out[name] = _number(data.get(name), name, None, errors)
    for name, places in DECIMALS.items():
        out[name] = _number(data.get(name), name, places, errors)
    for name, (lo, hi) in RANGES.items():
        v = out.get(name)
        if v is not None and name not in errors and not lo <= float(v) <= hi:
            errors[name] = [_("数值不可能：%(v)s（应在 %(lo)s–%(hi)s 之间）") % {"v": v, "lo": lo, "hi": hi}]
    vitals = {k: out[k] for k in VITALS if out.get(k) is not None and k not in errors}
    impossible, warnings = vital_problems(vitals)
    for k, msg in impossible.items():
        errors.setdefault(k, []).append(str(msg))
    cognition = str(data.get("cognition_screen") or "").strip()
    if cognition not in ("", "normal", "positive"):
        errors["cognition_screen"] = [_("认知功能粗筛结果无效")]
    out["cognition_screen"] = cognition
    for name, limit in TEXTS.items():
        text = str(data.get(name) or "").strip()
        if len(text) > limit:
            errors[name] = [_("不超过 %(n)s 个字") % {"n": limit}]
        out[name] = text
    for name in ("ecg_done", "ultrasound_done"):
        out[name] = str(data.get(name) or "").lower() in ("1", "true", "on", "yes")
    collect(errors)
    if out["height_cm"] and out["weight_kg"]:
        m = out["height_cm"] / Decimal(100)
        out["bmi"] = (out["weight_kg"] / (m * m)).quantize(Decimal("0.1"))
    return out, {k: str(v) for k, v in warnings.items()}


def record_check(actor: Actor, resident: Resident, data: Mapping, *, confirm_unlikely: bool = False,
                 on: dt.date | None = None) -> HealthCheck:
    """Save a health check. Unlikely vital signs raise InvalidInput ``unlikely_values`` (every such field named)
    unless ``confirm_unlikely``."""
    check(actor, "publichealth.health_check", resident)
    fields, warnings = clean(data, resident, on=on or today_())
    if warnings and not confirm_unlikely:
        raise InvalidInput("unlikely_values", _("以下数值少见，请核实后勾选“确认数值无误”再保存"),
                           errors={k: [v] for k, v in warnings.items()})
    facility = _facility(actor, data)
    user = actor.user
    by = user.staff if user is not None else None
    with transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=resident.pk)
        same = HealthCheck.objects.filter(resident=locked, date=fields["date"], purpose=fields["purpose"]).first()
        if same is not None:
            return same  # the same check sent twice
        row = HealthCheck.objects.create(resident=locked, facility=facility, by=by, recorded_by=user, **fields)
        audit.record(actor, "create", "health_check", row.pk, resident=locked.pk, date=row.date.isoformat(),
                     purpose=row.purpose, confirmed=sorted(warnings) if warnings else [])
        from yigongti.familydoctor.models import DeliverySource, ServiceKind

        record_delivery(resident=locked, kind=ServiceKind.HEALTH_CHECK, on=row.date, by=by, facility=facility,
                        source=DeliverySource.HEALTH_CHECK, source_id=str(row.pk),
                        note=str(CheckPurpose(row.purpose).label))
        refresh_due(locked.pk)
    return row
