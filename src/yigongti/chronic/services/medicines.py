"""A managed patient's regular medicines (长期用药): add one, stop one. The monthly delivery list per village
(``queries.medicines.delivery_for``) is drawn from them, so the daily amount (``units_per_day``, in the drug's
smallest unit: 片, 粒, 支 …) is what matters most and is checked.

Only a doctor or village doctor of the patient's area (``chronic.medicines``) writes; a medicine is never deleted
(stopping sets ``until``), so the delivery lists of past months stay as they were."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput, collect
from yigongti.orgs.permissions import check

from ..models import Enrolment, EnrolmentStatus, RegularMedicine

# How many times a day each usual frequency means (the form fills 每日用量 from it; the doctor may change it).
FREQUENCIES: dict[str, Decimal] = {"qd": Decimal(1), "bid": Decimal(2), "tid": Decimal(3), "qid": Decimal(4),
                                   "qn": Decimal(1), "qod": Decimal("0.5"), "qw": Decimal("0.14")}
MAX_UNITS_PER_DAY = Decimal("20")

# The essential medicines (国家基本药物目录 2018) most village clinics dispense for the two conditions: the page
# offers them as suggestions (name, strength, usual dose, frequency, unit); any other name may be typed.
COMMON_DRUGS: list[tuple[str, str, str, str, str]] = [
    ("氨氯地平片", "5mg×28片", "5mg", "qd", "片"),
    ("硝苯地平缓释片", "20mg×30片", "20mg", "bid", "片"),
    ("卡托普利片", "25mg×100片", "25mg", "tid", "片"),
    ("依那普利片", "10mg×16片", "10mg", "qd", "片"),
    ("缬沙坦胶囊", "80mg×28粒", "80mg", "qd", "粒"),
    ("厄贝沙坦片", "150mg×28片", "150mg", "qd", "片"),
    ("氢氯噻嗪片", "25mg×100片", "25mg", "qd", "片"),
    ("吲达帕胺片", "2.5mg×30片", "2.5mg", "qd", "片"),
    ("美托洛尔片", "25mg×20片", "25mg", "bid", "片"),
    ("二甲双胍片", "0.5g×48片", "0.5g", "tid", "片"),
    ("格列美脲片", "2mg×30片", "2mg", "qd", "片"),
    ("格列齐特缓释片", "30mg×30片", "30mg", "qd", "片"),
    ("阿卡波糖片", "50mg×30片", "50mg", "tid", "片"),
    ("瑞格列奈片", "1mg×30片", "1mg", "tid", "片"),
]
COMMON = {d[0]: d for d in COMMON_DRUGS}


def _text(data: Mapping[str, Any], key: str, limit: int) -> str:
    return str(data.get(key) or "").strip()[:limit]


def _date(value: Any, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors.setdefault(field, []).append(_("日期格式应为 YYYY-MM-DD"))
        return None


def _units(data: Mapping[str, Any], frequency: str, errors: dict[str, list[str]]) -> Decimal:
    raw = data.get("units_per_day")
    if raw in (None, ""):
        return FREQUENCIES.get(frequency, Decimal(1))
    try:
        units = Decimal(str(raw)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors.setdefault("units_per_day", []).append(_("每日用量应为数字"))
        return Decimal(0)
    if not (Decimal(0) < units <= MAX_UNITS_PER_DAY):
        errors.setdefault("units_per_day", []).append(
            _("每日用量应大于0且不超过%(n)s") % {"n": MAX_UNITS_PER_DAY})
    return units


def validate(data: Mapping[str, Any], enrolment: Enrolment, today: dt.date) -> dict[str, Any]:
    """The medicine's fields, cleaned; every bad field named at once (``InvalidInput``)."""
    errors: dict[str, list[str]] = {}
    name, dose, frequency = _text(data, "name", 60), _text(data, "dose", 20), _text(data, "frequency", 20)
    strength, unit = _text(data, "strength", 30), _text(data, "unit", 8)
    known = COMMON.get(name)
    if known is not None:  # a listed drug: what was left blank takes its usual strength, dose, frequency, unit
        strength, dose, frequency, unit = (strength or known[1], dose or known[2], frequency or known[3],
                                           unit or known[4])
    if not name:
        errors["name"] = [_("请填写药品名称")]
    if not dose:
        errors["dose"] = [_("请填写每次用量")]
    if not frequency:
        errors["frequency"] = [_("请填写用法（如 qd、bid）")]
    units = _units(data, frequency, errors)
    since = _date(data.get("since"), "since", errors) or today
    if since > today + dt.timedelta(days=31):
        errors.setdefault("since", []).append(_("开始日期不能晚于一个月之后"))
    if since < enrolment.enrolled_on - dt.timedelta(days=365 * 50):
        errors.setdefault("since", []).append(_("开始日期不合理"))
    until = _date(data.get("until"), "until", errors)
    if until is not None and until < since:
        errors.setdefault("until", []).append(_("停用日期不能早于开始日期"))
    collect(errors)
    return {"name": name, "dose": dose, "frequency": frequency, "units_per_day": units, "since": since,
            "until": until, "strength": strength, "unit": unit or "片",
            "drug_code": _text(data, "drug_code", 23)}


def add_medicine(actor: Actor, enrolment: Enrolment, data: Mapping[str, Any]) -> RegularMedicine:
    """Record a regular medicine of a managed patient. The same drug (name and strength) already in use is
    refused (a double submit, or a change of dose: stop the old one first)."""
    check(actor, "chronic.medicines", enrolment)
    if enrolment.status != EnrolmentStatus.MANAGED:
        raise InvalidInput("enrolment_ended", _("该患者已结案，不能再添加长期用药"), field="enrolment")
    today = timezone.localdate()
    fields = validate(data, enrolment, today)
    with transaction.atomic():
        Enrolment.objects.select_for_update().filter(pk=enrolment.pk).first()  # one writer per patient's list
        dup = RegularMedicine.objects.filter(enrolment=enrolment, name=fields["name"], strength=fields["strength"],
                                             until__isnull=True).first()
        if dup is not None:
            raise Conflict("medicine_in_use", _("“%(name)s”已在长期用药中；调整剂量请先停用原记录") %
                           {"name": fields["name"]}, field="name")
        staff = getattr(actor.user, "staff", None) if actor.user is not None else None
        med = RegularMedicine.objects.create(enrolment=enrolment, prescribed_by=staff, **fields)
        audit.record(actor, "create", "regular_medicine", med.pk, enrolment=enrolment.pk, name=med.name)
    return med


def stop_medicine(actor: Actor, medicine: RegularMedicine, *, on: dt.date | str | None = None) -> RegularMedicine:
    """Stop a regular medicine on a day (today by default; not before it started, not in the future)."""
    check(actor, "chronic.medicines", medicine.enrolment)
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    day = _date(on, "until", errors) or today
    collect(errors)
    with transaction.atomic():
        med = RegularMedicine.objects.select_for_update().get(pk=medicine.pk)
        if med.until is not None and med.until <= today:
            return med  # already stopped: a repeated click changes nothing
        if day < med.since:
            raise InvalidInput("until_before_since", _("停用日期不能早于开始日期"), field="until")
        if day > today:
            raise InvalidInput("until_in_future", _("停用日期不能晚于今天"), field="until")
        med.until = day
        med.save(update_fields=["until"])
        audit.record(actor, "update", "regular_medicine", med.pk, enrolment=med.enrolment_id, until=day)
    return med
