"""Children 0–6 (0～6岁儿童健康管理): recording a visit of the child schedule (newborn home visit, 满月, 3 … 36
months, 4–6 years). The only writer of ``ChildVisit``.

Verb ``publichealth.child_visit`` for the child. A visit dated before the birth or in the future is refused; a
child older than the schedule (7 years) is refused; a visit outside its window is saved and flagged
(``window_status`` → early / late, 超窗). Measurements have plausible ranges (refused outside). One visit per
schedule item: the same visit sent twice returns the first; another date for a done item is a Conflict. After the
write: the family-doctor delivery (kind CHILD) and the child's due items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput, collect
from yigongti.core.validation import today as today_
from yigongti.orgs.models import Facility
from yigongti.orgs.permissions import check
from yigongti.residents.models import Resident

from .. import schedules
from ..models import ChildVisit
from ._after import record_delivery, refresh_due
from .checks import _number
from .immunisation import parse_date

MAX_AGE_DAYS = 7 * 365  # 0～6岁: to the 7th birthday
RANGES = {"weight_kg": (0.5, 60), "length_cm": (30, 150), "head_cm": (20, 65), "haemoglobin": (30, 220)}
FEEDING = ("", "breast", "mixed", "formula")


def child_age_days(child: Resident, on: dt.date) -> int:
    return (on - child.birth_date).days


def window_status(child: Resident, kind: str, date: dt.date) -> str:
    """"ok" in the window, "early" / "late" (超窗) outside, "" for an unknown kind."""
    window = schedules.child().window(kind)
    if window is None:
        return ""
    offset = (date - child.birth_date).days
    return "early" if offset < window.start else "late" if offset > window.end else "ok"


def suggested_kind(child: Resident, on: dt.date, done: set[str]) -> str:
    """The schedule item a visit on ``on`` most likely is: the first not done whose window has opened by then
    (or the next one)."""
    age = child_age_days(child, on)
    opened = [w for w in schedules.child().visits if w.code not in done and w.start <= age]
    if opened:
        return opened[-1].code if opened[-1].end >= age else opened[0].code
    rest = [w for w in schedules.child().visits if w.code not in done]
    return rest[0].code if rest else ""


def _facility(actor: Actor, data: Mapping) -> Facility:
    user = actor.user
    if user is not None and user.facility_id is not None:
        return user.facility
    pk = data.get("facility")
    facility = Facility.objects.filter(pk=int(str(pk))).first() if str(pk or "").isdigit() else None
    if facility is None:
        raise InvalidInput("no_facility", _("请指定服务机构"), field="facility")
    return facility


def clean(child: Resident, data: Mapping, *, on: dt.date) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    kind = str(data.get("kind") or "").strip()
    if schedules.child().window(kind) is None:
        errors["kind"] = [_("请选择服务项目")]
    date = parse_date(data.get("date"), errors, "date", _("服务日期"))
    if date is not None:
        if date > on:
            errors["date"] = [_("服务日期不能晚于今天")]
        elif date < child.birth_date:
            errors["date"] = [_("服务日期早于出生日期")]
        elif child_age_days(child, date) >= MAX_AGE_DAYS:
            errors["date"] = [_("儿童健康管理服务对象为0～6岁儿童")]
    out: dict[str, Any] = {"kind": kind, "date": date}
    out["weight_kg"] = _number(data.get("weight_kg"), "weight_kg", 2, errors)
    out["length_cm"] = _number(data.get("length_cm"), "length_cm", 1, errors)
    out["head_cm"] = _number(data.get("head_cm"), "head_cm", 1, errors)
    out["haemoglobin"] = _number(data.get("haemoglobin"), "haemoglobin", None, errors)
    for name, (lo, hi) in RANGES.items():
        v = out[name]
        if v is not None and name not in errors and not lo <= float(v) <= hi:
            errors[name] = [_("数值不可能：%(v)s（应在 %(lo)s–%(hi)s 之间）") % {"v": v, "lo": lo, "hi": hi}]
    dev = str(data.get("development_ok") if data.get("development_ok") is not None else "").strip().lower()
    out["development_ok"] = True if dev in ("1", "true", "yes", "on") else False if dev in ("0", "false", "no") \
        else None
    feeding = str(data.get("feeding") or "").strip()
    if feeding not in FEEDING:
        errors["feeding"] = [_("喂养方式无效")]
    out["feeding"] = feeding
    for name in ("findings", "advice"):
        text = str(data.get(name) or "").strip()
        if len(text) > 300:
            errors[name] = [_("不超过 %(n)s 个字") % {"n": 300}]
        out[name] = text
    collect(errors)
    return out


def record_child_visit(actor: Actor, child: Resident, data: Mapping, *, on: dt.date | None = None) -> ChildVisit:
    """Save a child health visit; the row carries ``window`` ("ok" / "early" / "late") for the caller."""
    check(actor, "publichealth.child_visit", child)
    fields = clean(child, data, on=on or today_())
    facility = _facility(actor, data)
    user = actor.user
    by = getattr(user, "staff", None) if user is not None else None
    with transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=child.pk)
        same = ChildVisit.objects.filter(child=locked, kind=fields["kind"]).first()
        if same is not None:
            if same.date == fields["date"]:
                same.window = window_status(locked, same.kind, same.date)  # type: ignore[attr-defined]
                return same
            raise Conflict("visit_exists", _("该服务项目已于 %(d)s 登记") % {"d": same.date.isoformat()})
        row = ChildVisit.objects.create(child=locked, age_days=child_age_days(locked, fields["date"]),
                                        facility=facility, by=by, recorded_by=user,
                                        schedule_edition=schedules.child().edition, **fields)
        status = window_status(locked, row.kind, row.date)
        audit.record(actor, "create", "child_visit", row.pk, resident=locked.pk, kind=row.kind,
                     date=row.date.isoformat(), window=status)
        from yigongti.familydoctor.models import DeliverySource, ServiceKind

        window = schedules.child().window(row.kind)
        record_delivery(resident=locked, kind=ServiceKind.CHILD, on=row.date, by=by, facility=facility,
                        source=DeliverySource.CHILD, source_id=f"child-{row.pk}",
                        note=window.label if window else row.kind)
        refresh_due(locked.pk)
    row.window = status  # type: ignore[attr-defined]
    return row
