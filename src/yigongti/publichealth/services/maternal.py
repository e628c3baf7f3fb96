"""Maternal care (孕产妇健康管理): registering a pregnancy (建册, with the first antenatal visit), grading its
five-colour risk, recording the antenatal and postpartum visits, and the delivery. The only writer of
``Pregnancy`` and ``MaternalVisit``.

- ``register_pregnancy`` (verb ``publichealth.register_pregnancy``): the LMP, the registration day (not in the
  future, not before the LMP, at most 42 weeks after it), gravidity/parity; EDD = LMP + 280 days unless given.
  The registration is the 第1次产前检查: a ``first`` visit is written the same day with the measurements given.
  One open pregnancy per woman (DB constraint → Conflict).
- ``grade_risk`` (verb ``publichealth.grade_risk``, a doctor): factors of ``risk.py`` + measurements → grade;
  orange and above (and purple) → ``managing_facility`` = the community's lead (county) hospital, whose doctors
  get a notification of kind ``maternal_risk``. Back to yellow/green → the registering facility again.
- ``record_visit`` (verb ``publichealth.maternal_visit``): a visit of the maternal schedule (``schedules.py``);
  dated before the registration (or, postpartum, before the delivery) or in the future → refused; outside its
  window → saved and flagged (``window_status`` says 超窗); BP through ``chronic.validation.vital_problems``
  (impossible refused, unlikely needs ``confirm_unlikely``). The same visit sent twice returns the first.
- ``record_delivery`` (verb ``publichealth.maternal_visit``): the outcome; a live birth or stillbirth opens the
  postpartum visits, a miscarriage or a move closes the pregnancy; the 42-day check closes it too.

After each write: the family-doctor delivery (``record_from_source``, kind MATERNAL) and the resident's due
items (``refresh_resident``), both tolerated missing (``_after``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput, collect
from yigongti.core.validation import today as today_
from yigongti.orgs.models import Facility, Role, User
from yigongti.orgs.permissions import check
from yigongti.residents.models import Resident, Sex

from .. import risk, schedules
from ..models import MaternalVisit, Pregnancy, PregnancyOutcome, PregnancyStatus, RiskGrade
from ._after import record_delivery as record_fd_delivery
from ._after import refresh_due
from .checks import _number, vital_problems
from .immunisation import parse_date

GESTATION_DAYS = 280
MAX_REGISTER_DAYS = 42 * 7
NOTIFY_KIND = "maternal_risk"
ANTENATAL = ("first", "antenatal_2", "antenatal_3", "antenatal_4", "antenatal_5")
POSTPARTUM = ("postpartum", "postpartum_42")
TEXTS = {"findings": 300, "advice": 300}


def _facility(actor: Actor, data: Mapping) -> Facility:
    user = actor.user
    if user is not None and user.facility_id is not None:
        return user.facility
    pk = data.get("facility")
    facility = Facility.objects.filter(pk=int(str(pk))).first() if str(pk or "").isdigit() else None
    if facility is None:
        raise InvalidInput("no_facility", _("请指定服务机构"), field="facility")
    return facility


def _staff(actor: Actor):
    return getattr(actor.user, "staff", None) if actor.user is not None else None


def _small_int(data: Mapping, name: str, lo: int, hi: int, default: int, errors: dict[str, list[str]]) -> int:
    raw = str(data.get(name) if data.get(name) is not None else "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        errors[name] = [_("请输入 %(lo)s–%(hi)s 之间的整数") % {"lo": lo, "hi": hi}]
        return default
    return int(raw)


def gestation(lmp: dt.date, on: dt.date) -> tuple[int, int]:
    """(weeks, days) of gestation on a day."""
    days = (on - lmp).days
    return days // 7, days % 7


def window_status(pregnancy: Pregnancy, kind: str, date: dt.date) -> str:
    """"ok" when the visit falls in its window, "early" / "late" (超窗) otherwise, "" for an unknown kind."""
    window = schedules.maternal().window(kind)
    if window is None:
        return ""
    anchor = pregnancy.lmp if window.basis == "lmp_days" else pregnancy.delivered_on
    if anchor is None:
        return ""
    offset = (date - anchor).days
    return "early" if offset < window.start else "late" if offset > window.end else "ok"


def _measurements(data: Mapping, errors: dict[str, list[str]]) -> tuple[dict[str, Any], dict[str, str]]:
    out: dict[str, Any] = {
        "sbp": _number(data.get("sbp"), "sbp", None, errors),
        "dbp": _number(data.get("dbp"), "dbp", None, errors),
        "weight_kg": _number(data.get("weight_kg"), "weight_kg", 1, errors),
        "fundal_height_cm": _number(data.get("fundal_height_cm"), "fundal_height_cm", 1, errors),
        "fetal_heart_rate": _number(data.get("fetal_heart_rate"), "fetal_heart_rate", None, errors),
        "haemoglobin": _number(data.get("haemoglobin"), "haemoglobin", None, errors),
    }
    for name, (lo, hi) in {"fundal_height_cm": (5, 50), "fetal_heart_rate": (60, 220),
                           "haemoglobin": (20, 220)}.items():
        v = out[name]
        if v is not None and name not in errors and not lo <= float(v) <= hi:
            errors[name] = [_("数值不可能：%(v)s（应在 %(lo)s–%(hi)s 之间）") % {"v": v, "lo": lo, "hi": hi}]
    vitals = {k: out[k] for k in ("sbp", "dbp", "weight_kg") if out[k] is not None and k not in errors}
    impossible, warnings = vital_problems(vitals)
    for k, msg in impossible.items():
        errors.setdefault(k, []).append(str(msg))
    if (out["sbp"] is None) != (out["dbp"] is None) and "sbp" not in errors and "dbp" not in errors:
        errors["dbp" if out["dbp"] is None else "sbp"] = [_("收缩压和舒张压应同时填写")]
    for name, limit in TEXTS.items():
        text = str(data.get(name) or "").strip()
        if len(text) > limit:
            errors[name] = [_("不超过 %(n)s 个字") % {"n": limit}]
        out[name] = text
    out["referred"] = str(data.get("referred") or "").lower() in ("1", "true", "on", "yes")
    return out, {k: str(v) for k, v in warnings.items()}


def _after(row: MaternalVisit, pregnancy: Pregnancy, by) -> None:
    from yigongti.familydoctor.models import DeliverySource, ServiceKind

    window = schedules.maternal().window(row.kind)
    record_fd_delivery(resident=pregnancy.resident, kind=ServiceKind.MATERNAL, on=row.date, by=by,
                       facility=row.facility, source=DeliverySource.MATERNAL, source_id=f"visit-{row.pk}",
                       note=window.label if window else row.kind)
    refresh_due(pregnancy.resident_id)


def register_pregnancy(actor: Actor, resident: Resident, data: Mapping, *, confirm_unlikely: bool = False,
                       on: dt.date | None = None) -> Pregnancy:
    """建册: the pregnancy and its first antenatal visit. Raises InvalidInput naming every bad field."""
    check(actor, "publichealth.register_pregnancy", resident)
    today = on or today_()
    errors: dict[str, list[str]] = {}
    if resident.sex != Sex.FEMALE:
        errors["resident"] = [_("只能为女性居民建立孕产妇保健手册")]
    lmp = parse_date(data.get("lmp"), errors, "lmp", _("末次月经"))
    registered_on = parse_date(data.get("registered_on") or today, errors, "registered_on", _("建册日期"))
    edd = None
    if data.get("edd"):
        edd = parse_date(data.get("edd"), errors, "edd", _("预产期"))
    if lmp is not None:
        if lmp > today:
            errors["lmp"] = [_("末次月经不能晚于今天")]
        elif (lmp - resident.birth_date).days < 10 * 365:
            errors["lmp"] = [_("末次月经与出生日期不符")]
    if registered_on is not None:
        if registered_on > today:
            errors["registered_on"] = [_("建册日期不能晚于今天")]
        elif lmp is not None and "lmp" not in errors:
            if registered_on < lmp:
                errors["registered_on"] = [_("建册日期早于末次月经")]
            elif (registered_on - lmp).days > MAX_REGISTER_DAYS:
                errors["registered_on"] = [_("建册日期距末次月经超过42周")]
    if edd is not None and lmp is not None and not 200 <= (edd - lmp).days <= 310:
        errors["edd"] = [_("预产期与末次月经不符")]
    gravidity = _small_int(data, "gravidity", 1, 20, 1, errors)
    parity = _small_int(data, "parity", 0, 15, 0, errors)
    if "gravidity" not in errors and "parity" not in errors and parity >= gravidity:
        errors["parity"] = [_("产次应小于孕次")]
    fields, warnings = _measurements(data, errors)
    collect(errors)
    assert lmp is not None and registered_on is not None
    if warnings and not confirm_unlikely:
        raise InvalidInput("unlikely_values", _("以下数值少见，请核实后勾选“确认数值无误”再保存"),
                           errors={k: [v] for k, v in warnings.items()})
    facility = _facility(actor, data)
    by = _staff(actor)
    edition = schedules.maternal().edition
    try:
        with transaction.atomic():
            locked = Resident.objects.select_for_update().get(pk=resident.pk)
            same = Pregnancy.objects.filter(resident=locked, lmp=lmp).exclude(status=PregnancyStatus.CLOSED).first()
            if same is not None:
                return same  # the same registration sent twice
            pregnancy = Pregnancy.objects.create(
                resident=locked, lmp=lmp, edd=edd or lmp + dt.timedelta(days=GESTATION_DAYS),
                registered_on=registered_on, registered_week=(registered_on - lmp).days // 7, gravidity=gravidity,
                parity=parity, facility=facility, managing_facility=facility, schedule_edition=edition,
                recorded_by=actor.user)
            visit = MaternalVisit.objects.create(
                pregnancy=pregnancy, kind="first", date=registered_on, gest_week=pregnancy.registered_week,
                facility=facility, by=by, recorded_by=actor.user, **fields)
            audit.record(actor, "create", "pregnancy", pregnancy.pk, resident=locked.pk, lmp=lmp.isoformat(),
                         week=pregnancy.registered_week, confirmed=sorted(warnings))
            _after(visit, pregnancy, by)
    except IntegrityError:
        raise Conflict("open_pregnancy", _("该居民已有一份未结案的孕产妇保健手册")) from None
    pregnancy.resident = resident
    return pregnancy


def _managing_for(grade: str, pregnancy: Pregnancy) -> Facility:
    if grade in risk.COUNTY_GRADES:
        community = pregnancy.facility.community
        lead = community.lead_facility if community is not None else None
        if lead is not None:
            return lead
    return pregnancy.facility


def _doctors_of(facility: Facility) -> list[User]:
    return list(User.objects.filter(facility=facility, role=Role.DOCTOR, is_active=True)[:50])


def grade_risk(actor: Actor, pregnancy: Pregnancy, data: Mapping, *, on: dt.date | None = None) -> Pregnancy:
    """Grade (or re-grade) the pregnancy's risk. ``data``: ``factors`` (codes of the risk table, a list or a
    comma-separated string), optional ``height_cm``/``weight_kg``/``haemoglobin`` (else the latest visit's),
    ``assessed_on`` (default today)."""
    check(actor, "publichealth.grade_risk", pregnancy)
    today = on or today_()
    errors: dict[str, list[str]] = {}
    raw = data.get("factors") or []
    codes: Iterable[str] = raw.split(",") if isinstance(raw, str) else raw
    codes = [str(c).strip() for c in codes if str(c).strip()]
    assessed_on = parse_date(data.get("assessed_on") or today, errors, "assessed_on", _("风险评估日期"))
    if assessed_on is not None and (assessed_on > today or assessed_on < pregnancy.registered_on):
        errors["assessed_on"] = [_("评估日期应在建册日期与今天之间")]
    height = _number(data.get("height_cm"), "height_cm", 1, errors)
    weight = _number(data.get("weight_kg"), "weight_kg", 1, errors)
    hb = _number(data.get("haemoglobin"), "haemoglobin", None, errors)
    if height is not None and "height_cm" not in errors and not 100 <= height <= 220:
        errors["height_cm"] = [_("数值不可能：%(v)s（应在 %(lo)s–%(hi)s 之间）") % {"v": height, "lo": 100, "hi": 220}]
    if hb is not None and "haemoglobin" not in errors and not 20 <= hb <= 220:
        errors["haemoglobin"] = [_("数值不可能：%(v)s（应在 %(lo)s–%(hi)s 之间）") % {"v": hb, "lo": 20, "hi": 220}]
    latest = pregnancy.visits.order_by("-date", "-id").first()
    if latest is not None:
        weight = weight if weight is not None else latest.weight_kg
        hb = hb if hb is not None else latest.haemoglobin
    age = (pregnancy.lmp - pregnancy.resident.birth_date).days // 365
    result = risk.assess(codes, age=age, height_cm=height, weight_kg=weight, haemoglobin=hb)
    if result.unknown:
        errors["factors"] = [_("未知的风险因素：%(c)s") % {"c": _("、").join(result.unknown)}]
    collect(errors)
    with transaction.atomic():
        locked = Pregnancy.objects.select_for_update(of=("self",)).select_related(
            "facility__community", "resident").get(pk=pregnancy.pk)
        before = locked.risk_grade, locked.managing_facility_id
        locked.risk_grade = result.grade
        locked.risk_factors = result.codes
        locked.risk_assessed_on = assessed_on
        locked.managing_facility = _managing_for(result.grade, locked)
        locked.save(update_fields=["risk_grade", "risk_factors", "risk_assessed_on", "managing_facility"])
        audit.record(actor, "grade", "pregnancy", locked.pk, resident=locked.resident_id, grade=result.grade,
                     factors=result.codes, edition=result.edition, before=before[0])
        if result.county_managed and (before[0] != result.grade or before[1] != locked.managing_facility_id):
            from django.urls import reverse

            from yigongti.core.notify import notify

            notify(_doctors_of(locked.managing_facility), NOTIFY_KIND,
                   _("妊娠风险%(g)s：%(name)s 转由本院管理") % {"g": RiskGrade(result.grade).label,
                                                              "name": locked.resident.name},
                   body="、".join(f.label for f in result.factors),
                   url=reverse("publichealth:pregnancy", args=[locked.pk]), urgent=result.grade == "red",
                   public_title=_("有一名较高风险孕产妇转由本院管理"))
        refresh_due(locked.resident_id)
    return locked


def record_visit(actor: Actor, pregnancy: Pregnancy, data: Mapping, *, confirm_unlikely: bool = False,
                 on: dt.date | None = None) -> MaternalVisit:
    """An antenatal or postpartum visit. Out-of-window visits are saved (``window_status`` flags them)."""
    check(actor, "publichealth.maternal_visit", pregnancy)
    today = on or today_()
    errors: dict[str, list[str]] = {}
    kind = str(data.get("kind") or "").strip()
    if schedules.maternal().window(kind) is None:
        errors["kind"] = [_("请选择服务项目")]
    date = parse_date(data.get("date"), errors, "date", _("服务日期"))
    if pregnancy.status == PregnancyStatus.CLOSED:
        errors["__all__"] = [_("该孕产妇保健手册已结案")]
    if date is not None:
        if date > today:
            errors["date"] = [_("服务日期不能晚于今天")]
        elif date < pregnancy.registered_on:
            errors["date"] = [_("服务日期早于建册日期")]
        elif kind in POSTPARTUM:
            if pregnancy.delivered_on is None:
                errors["kind"] = [_("请先登记分娩信息")]
            elif date < pregnancy.delivered_on:
                errors["date"] = [_("产后访视日期早于分娩日期")]
        elif kind in ANTENATAL and pregnancy.delivered_on is not None and date > pregnancy.delivered_on:
            errors["date"] = [_("产前随访日期晚于分娩日期")]
    fields, warnings = _measurements(data, errors)
    collect(errors)
    assert date is not None
    if warnings and not confirm_unlikely:
        raise InvalidInput("unlikely_values", _("以下数值少见，请核实后勾选“确认数值无误”再保存"),
                           errors={k: [v] for k, v in warnings.items()})
    facility = _facility(actor, data)
    by = _staff(actor)
    with transaction.atomic():
        locked = Pregnancy.objects.select_for_update(of=("self",)).select_related("resident").get(pk=pregnancy.pk)
        same = MaternalVisit.objects.filter(pregnancy=locked, kind=kind).first()
        if same is not None:
            if same.date == date:
                return same  # the same visit sent twice
            raise Conflict("visit_exists", _("该服务项目已于 %(d)s 登记") % {"d": same.date.isoformat()})
        gest = (date - locked.lmp).days // 7 if kind in ANTENATAL else None
        row = MaternalVisit.objects.create(pregnancy=locked, kind=kind, date=date, gest_week=gest, facility=facility,
                                           by=by, recorded_by=actor.user, **fields)
        status = window_status(locked, kind, date)
        audit.record(actor, "create", "maternal_visit", row.pk, pregnancy=locked.pk, resident=locked.resident_id,
                     kind=kind, date=date.isoformat(), window=status, confirmed=sorted(warnings))
        if kind == "postpartum_42":
            locked.status = PregnancyStatus.CLOSED
            locked.save(update_fields=["status"])
        _after(row, locked, by)
    row.window = status  # type: ignore[attr-defined]
    return row


def record_delivery(actor: Actor, pregnancy: Pregnancy, data: Mapping, *, on: dt.date | None = None) -> Pregnancy:
    """The end of the pregnancy: date, outcome, where. Live birth / stillbirth → postpartum follow-up; miscarriage
    or moved → closed."""
    check(actor, "publichealth.maternal_visit", pregnancy)
    today = on or today_()
    errors: dict[str, list[str]] = {}
    delivered_on = parse_date(data.get("delivered_on"), errors, "delivered_on", _("分娩/终止日期"))
    outcome = str(data.get("outcome") or "").strip()
    if outcome not in PregnancyOutcome.values:
        errors["outcome"] = [_("请选择妊娠结局")]
    if delivered_on is not None and (delivered_on > today or delivered_on < pregnancy.lmp):
        errors["delivered_on"] = [_("分娩日期应在末次月经与今天之间")]
    place = str(data.get("delivery_facility") or "").strip()
    if len(place) > 100:
        errors["delivery_facility"] = [_("不超过 %(n)s 个字") % {"n": 100}]
    if pregnancy.status != PregnancyStatus.ONGOING:
        errors["__all__"] = [_("已登记过分娩信息")]
    collect(errors)
    with transaction.atomic():
        locked = Pregnancy.objects.select_for_update().get(pk=pregnancy.pk)
        if locked.status != PregnancyStatus.ONGOING:
            raise Conflict("already_delivered", _("已登记过分娩信息"))
        locked.delivered_on, locked.outcome, locked.delivery_facility = delivered_on, outcome, place
        locked.status = (PregnancyStatus.POSTPARTUM if outcome in (PregnancyOutcome.LIVE_BIRTH,
                                                                   PregnancyOutcome.STILLBIRTH)
                         else PregnancyStatus.CLOSED)
        locked.save(update_fields=["delivered_on", "outcome", "delivery_facility", "status"])
        audit.record(actor, "deliver", "pregnancy", locked.pk, resident=locked.resident_id, outcome=outcome,
                     date=delivered_on.isoformat() if delivered_on else "")
        refresh_due(locked.resident_id)
    return locked
