"""Village doctors' writes: the licence and training records (the township), the doctor's daily check-in at the
clinic (far from the clinic's site: recorded and flagged) and leave requests, the township's decision on them,
the scoring sheet (the managers) and the township's monthly scoring (computed items from the check-ins and the
family-doctor / public-health records, entered items typed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import actor_of
from yigongti.core.carelevel import CareLevel, care_level
from yigongti.core.errors import Conflict, InvalidInput, NotFound, collect
from yigongti.orgs.models import MedicalCommunity, Staff
from yigongti.orgs.permissions import check

from .. import village as rules
from ..attendance import distance_m, is_far
from ..inputs import as_count, as_day, as_month
from ..models import (
    Assessment,
    ClinicCheckIn,
    ItemMethod,
    Leave,
    LeaveKind,
    LeaveStatus,
    ScoringItem,
    ScoringSheet,
    Site,
    Training,
    TrainingRequirement,
    VillageLicence,
)
from ..queries import village as vq
from .attendance import _position


def is_village_doctor(staff: Staff) -> bool:
    return staff.is_active and care_level(staff.work_facility.type) == CareLevel.VILLAGE


def _decimal(value: Any, errors: dict[str, list[str]], fld: str, lo: Decimal, hi: Decimal) -> Decimal | None:
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        errors[fld] = [_("请填写数字")]
        return None
    if not d.is_finite() or not lo <= d <= hi:
        errors[fld] = [_("须在 %(lo)s 到 %(hi)s 之间") % {"lo": lo, "hi": hi}]
        return None
    return d


def _doctor(staff: Staff) -> Staff:
    if not is_village_doctor(staff):
        raise InvalidInput("not_village_doctor", _("只有村卫生室的在岗人员是乡村医生"), field="staff")
    return staff


# ------------------------------------------------------------------------------------------------
# Licence and training (the township)


def set_licence(actor, staff: Staff, data: Mapping[str, Any]) -> VillageLicence:
    """``data`` number, issued_on, valid_until (five years by default)."""
    actor = actor_of(actor)
    _doctor(staff)
    check(actor, "workforce.vd_manage", staff)
    errors: dict[str, list[str]] = {}
    number = str(data.get("number") or "").strip()[:40]
    if not number:
        errors["number"] = [_("请填写执业证书编号")]
    issued = as_day(data.get("issued_on"), errors, "issued_on")
    until = as_day(data.get("valid_until"), errors, "valid_until", required=False)
    if issued and until is None:
        until = rules.licence_valid_until(issued)
    if issued and until and until <= issued:
        errors["valid_until"] = [_("有效期须晚于发证日期")]
    collect(errors, "invalid_licence")
    try:
        with transaction.atomic():
            lic, _created = VillageLicence.objects.update_or_create(
                staff=staff, defaults={"number": number, "issued_on": issued, "valid_until": until})
            audit.record(actor, "update", "vd_licence", lic.pk, staff=staff.pk, valid_until=str(until))
    except IntegrityError:
        raise Conflict("licence_number_used", _("该执业证书编号已登记给其他乡村医生"), field="number") from None
    return lic


def record_training(actor, staff: Staff, data: Mapping[str, Any]) -> Training:
    actor = actor_of(actor)
    _doctor(staff)
    check(actor, "workforce.vd_manage", staff)
    errors: dict[str, list[str]] = {}
    on = as_day(data.get("on"), errors, "on")
    if on and on > timezone.localdate():
        errors["on"] = [_("培训日期不能晚于今天")]
    hours = _decimal(data.get("hours"), errors, "hours", Decimal("0.5"), Decimal(200))
    topic = str(data.get("topic") or "").strip()[:100]
    if not topic:
        errors["topic"] = [_("请填写培训内容")]
    collect(errors, "invalid_training")
    assert on is not None and hours is not None
    with transaction.atomic():
        t = Training.objects.create(staff=staff, on=on, hours=hours, topic=topic, recorded_by=actor.user)
        audit.record(actor, "create", "vd_training", t.pk, staff=staff.pk, hours=str(hours))
    return t


def set_requirement(actor, community: MedicalCommunity, data: Mapping[str, Any]) -> TrainingRequirement:
    actor = actor_of(actor)
    check(actor, "workforce.vd_sheet", ScoringSheet(community=community))
    errors: dict[str, list[str]] = {}
    year = as_count(data.get("year"), errors, "year", 2000, 2100)
    hours = _decimal(data.get("hours"), errors, "hours", Decimal(0), Decimal(500))
    collect(errors, "invalid_requirement")
    with transaction.atomic():
        row, _c = TrainingRequirement.objects.update_or_create(community=community, year=year,
                                                              defaults={"hours": hours})
        audit.record(actor, "update", "vd_training_requirement", row.pk, year=year, hours=str(hours))
    return row


# ------------------------------------------------------------------------------------------------
# Attendance (the doctor) and leave (the doctor asks, the township decides)


def clinic_check_in(actor, data: Mapping[str, Any]) -> ClinicCheckIn:
    """Today's check-in of the acting village doctor at their clinic; ``data`` lon, lat (optional)."""
    actor = actor_of(actor)
    staff = Staff.objects.filter(pk=getattr(actor.user, "staff_id", None) or -1)\
        .select_related("work_facility").first()
    row = ClinicCheckIn(staff=staff, facility=staff.work_facility if staff else None, day=timezone.localdate(),
                        checked_in_at=timezone.now())
    check(actor, "workforce.vd_check_in", row if staff else None)
    if staff is None:
        raise NotFound()
    _doctor(staff)
    pos = _position(data)
    if pos is not None:
        row.lon, row.lat = pos
        site = Site.objects.filter(facility_id=staff.work_facility_id).first()
        if site is not None:
            dist = distance_m(pos[0], pos[1], site.lon, site.lat)
            row.distance_m, row.flagged = round(dist), is_far(dist)
    try:
        with transaction.atomic():
            row.save()
            audit.record(actor, "create", "vd_check_in", row.pk, facility=row.facility_id,
                         distance_m=row.distance_m, flagged=row.flagged)
    except IntegrityError:
        raise Conflict("already_checked_in", _("今天已签到")) from None
    return row


def request_leave(actor, data: Mapping[str, Any]) -> Leave:
    """The acting village doctor's leave: kind, start, end, reason. Overlapping an open or approved one: refused."""
    actor = actor_of(actor)
    staff = Staff.objects.filter(pk=getattr(actor.user, "staff_id", None) or -1)\
        .select_related("work_facility").first()
    errors: dict[str, list[str]] = {}
    kind = str(data.get("kind") or "")
    if kind not in LeaveKind.values:
        errors["kind"] = [_("请选择请假类别")]
    start = as_day(data.get("start"), errors, "start")
    end = as_day(data.get("end"), errors, "end")
    if start and end:
        if end < start:
            errors["end"] = [_("结束日期不能早于开始日期")]
        elif (end - start).days > 90:
            errors["end"] = [_("一次请假最长 90 天")]
    leave = Leave(staff=staff, kind=kind, reason=str(data.get("reason") or "")[:200])
    check(actor, "workforce.vd_leave", leave if staff else None)
    if staff is None:
        raise NotFound()
    _doctor(staff)
    collect(errors, "invalid_leave")
    assert start is not None and end is not None
    leave.start, leave.end = start, end
    with transaction.atomic():
        list(Staff.objects.select_for_update().filter(pk=staff.pk).values_list("pk", flat=True))
        if Leave.objects.filter(staff=staff, status__in=(LeaveStatus.PENDING, LeaveStatus.APPROVED),
                                start__lte=end, end__gte=start).exists():
            raise Conflict("leave_overlaps", _("与已有的请假时间重叠"), field="start")
        leave.save()
        audit.record(actor, "create", "vd_leave", leave.pk, kind=kind, start=str(start), end=str(end))
    return leave


def decide_leave(actor, leave: Leave, approve: bool) -> Leave:
    actor = actor_of(actor)
    check(actor, "workforce.vd_decide", leave)
    with transaction.atomic():
        row = Leave.objects.select_for_update().filter(pk=leave.pk).first()
        if row is None:
            raise NotFound()
        if row.status != LeaveStatus.PENDING:
            raise Conflict("leave_decided", _("该请假已审批"))
        row.status = LeaveStatus.APPROVED if approve else LeaveStatus.REJECTED
        row.decided_by, row.decided_at = actor.user, timezone.now()
        row.save(update_fields=["status", "decided_by", "decided_at"])
        audit.record(actor, "update", "vd_leave", row.pk, status=row.status)
    return row


# ------------------------------------------------------------------------------------------------
# The scoring sheet (the managers) and the month's scoring (the township)


def create_sheet(actor, community: MedicalCommunity, data: Mapping[str, Any]) -> ScoringSheet:
    actor = actor_of(actor)
    sheet = ScoringSheet(community=community, name=str(data.get("name") or "").strip()[:60])
    check(actor, "workforce.vd_sheet", sheet)
    errors: dict[str, list[str]] = {}
    if not sheet.name:
        errors["name"] = [_("请填写考核表名称")]
    pm = _decimal(data.get("pass_mark", 60), errors, "pass_mark", Decimal(0), Decimal(100))
    collect(errors, "invalid_sheet")
    with transaction.atomic():
        ScoringSheet.objects.filter(community=community, active=True).update(active=False)
        sheet.pass_mark = pm  # type: ignore[assignment]
        sheet.save()
        audit.record(actor, "create", "vd_sheet", sheet.pk, name=sheet.name)
    return sheet


def add_item(actor, sheet: ScoringSheet, data: Mapping[str, Any]) -> ScoringItem:
    actor = actor_of(actor)
    check(actor, "workforce.vd_sheet", sheet)
    errors: dict[str, list[str]] = {}
    code = str(data.get("code") or "").strip().lower()[:20]
    if not code or not code.replace("_", "").isalnum() or not code.isascii():
        errors["code"] = [_("代码须为字母、数字或下划线")]
    name = str(data.get("name") or "").strip()[:60]
    if not name:
        errors["name"] = [_("请填写考核项目")]
    method = str(data.get("method") or ItemMethod.ENTERED)
    if method not in ItemMethod.values:
        errors["method"] = [_("请选择计分方式")]
    max_points = _decimal(data.get("max_points"), errors, "max_points", Decimal("0.5"), Decimal(100))
    weight = _decimal(data.get("weight") or 1, errors, "weight", Decimal("0.1"), Decimal(10))
    target = None
    if method == ItemMethod.PUBLIC_HEALTH:
        target = as_count(data.get("target"), errors, "target", 1, 10000)
    collect(errors, "invalid_item")
    assert max_points is not None and weight is not None
    try:
        with transaction.atomic():
            item = ScoringItem.objects.create(sheet=sheet, code=code, name=name, method=method,
                                              max_points=max_points, weight=weight, target=target,
                                              order=sheet.items.count() + 1)
            audit.record(actor, "create", "vd_item", item.pk, sheet=sheet.pk, code=code)
    except IntegrityError:
        raise Conflict("item_code_used", _("考核表中已有该代码的项目"), field="code") from None
    return item


def rule_items(sheet: ScoringSheet) -> list[rules.Item]:
    return [rules.Item(i.code, i.name, i.method, i.max_points, i.weight, i.target) for i in sheet.items.all()]


def measures(staff_ids: list[int], month: dt.date) -> dict[int, rules.Measures]:
    att = vq.month_attendance(staff_ids, month)
    tasks = vq.tasks_done(staff_ids, month)
    return {s: rules.Measures(att[s].rate, tasks.get(s, 0)) for s in staff_ids}


def preview(sheet: ScoringSheet, m: rules.Measures, entered: Mapping[str, Any]) \
        -> tuple[dict[str, dict[str, str]], Decimal, dict[str, list[str]]]:
    """Each item's points (computed or typed), the total, and the bad typed values."""
    items = rule_items(sheet)
    errors: dict[str, list[str]] = {}
    points: dict[str, Decimal | None] = {}
    out: dict[str, dict[str, str]] = {}
    for item in items:
        raw = entered.get(item.code)
        typed = None
        if item.method == ItemMethod.ENTERED and raw not in (None, ""):
            typed = _decimal(raw, errors, item.code, Decimal(0), item.max_points)
        try:
            p, basis = rules.item_points(item, m, typed)
        except rules.BadPoints:
            p, basis = None, ""
        if item.method == ItemMethod.ENTERED and p is None and item.code not in errors:
            errors[item.code] = [_("请填写 %(name)s 得分（0–%(max)s）") % {"name": item.name, "max": item.max_points}]
        points[item.code] = p
        out[item.code] = {"points": "" if p is None else str(p), "basis": basis}
    return out, rules.total(items, points), errors


def score_month(actor, staff: Staff, month: Any, entered: Mapping[str, Any]) -> Assessment:
    """The township scores the doctor's month on the community's active sheet: computed items from the records,
    ``entered`` the typed points of the others (each within 0..its max)."""
    actor = actor_of(actor)
    _doctor(staff)
    errors: dict[str, list[str]] = {}
    m = as_month(month, errors)
    collect(errors, "invalid_month")
    assert m is not None
    if m > timezone.localdate():
        raise InvalidInput("future_month", _("不能为将来的月份评分"), field="month")
    sheet = vq.sheet_of(staff.work_facility.community_id)
    if sheet is None:
        raise InvalidInput("no_sheet", _("医共体尚未制定乡村医生考核表"))
    row = Assessment(staff=staff, facility=staff.work_facility, sheet=sheet, month=m)
    check(actor, "workforce.vd_assess", row)
    pts, total, errors = preview(sheet, measures([staff.pk], m)[staff.pk], entered)
    collect(errors, "invalid_assessment")
    with transaction.atomic():
        a, _c = Assessment.objects.update_or_create(
            staff=staff, month=m, defaults={"facility": staff.work_facility, "sheet": sheet, "points": pts,
                                            "total": total, "scored_by": actor.user})
        audit.record(actor, "update", "vd_assessment", a.pk, staff=staff.pk, month=str(m), total=str(total))
    return a
