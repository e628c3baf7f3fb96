"""Postings (下沉) and the townships' requests. A posting's days on site are booked under a lock on the expert's
staff row, so that two postings of the same expert on the same day at different places cannot both pass (the
second waits for the first's transaction, then sees its days and is refused)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import actor_of
from yigongti.core.carelevel import GRASSROOTS_LEVELS, CareLevel, care_level
from yigongti.core.errors import Conflict, NotFound, collect
from yigongti.orgs.models import Facility, Staff
from yigongti.orgs.permissions import check

from ..inputs import as_count, as_day, as_month, as_pk, as_weekdays
from ..models import Availability, Posting, PostingDay, PostingKind, PostingStatus, Request

EXPERT_LEVELS = (CareLevel.COUNTY, CareLevel.CITY)
MAX_SPAN_DAYS = 366


def is_expert(staff: Staff) -> bool:
    """Staff of the county or city hospitals (by where they work or hold their post)."""
    return care_level(staff.work_facility.type) in EXPERT_LEVELS or \
        care_level(staff.establishment_facility.type) in EXPERT_LEVELS


def is_host(facility: Facility) -> bool:
    return facility.is_active and care_level(facility.type).value in GRASSROOTS_LEVELS


def book_days(staff: Staff, host: Facility, days: Iterable[dt.date], *, exclude_posting: int | None = None) -> None:
    """Refuse days on which the expert is already posted elsewhere. Call inside the transaction, after
    ``lock_staff``."""
    clash = (PostingDay.objects.filter(staff=staff, day__in=list(days), posting__status=PostingStatus.ACTIVE)
             .exclude(host=host).select_related("host").order_by("day"))
    if exclude_posting is not None:
        clash = clash.exclude(posting_id=exclude_posting)
    first = clash.first()
    if first is not None:
        raise Conflict("double_booked", _("%(name)s 在 %(day)s 已派驻%(host)s，同一天不能派往两处") % {
            "name": staff.name, "day": first.day.isoformat(), "host": first.host.name}, field="staff")


def lock_staff(staff_ids: Iterable[int]) -> None:
    list(Staff.objects.select_for_update().filter(pk__in=sorted(set(staff_ids))).values_list("pk", flat=True))


def _posting_input(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    staff = Staff.objects.filter(pk=as_pk(data.get("staff")), is_active=True)\
        .select_related("work_facility", "establishment_facility").first()
    if staff is None:
        errors["staff"] = [_("请选择在岗的专家")]
    elif not is_expert(staff):
        errors["staff"] = [_("下沉专家须是县级或市级医院的人员")]
    host = Facility.objects.filter(pk=as_pk(data.get("host"))).select_related("parent").first()
    if host is None or not is_host(host):
        errors["host"] = [_("请选择乡镇卫生院或村卫生室")]
    kind = str(data.get("kind") or "")
    if kind not in PostingKind.values:
        errors["kind"] = [_("请选择下沉形式")]
    start = as_day(data.get("start"), errors, "start")
    end = as_day(data.get("end"), errors, "end")
    days: list[dt.date] = []
    if start and end:
        if end < start:
            errors["end"] = [_("结束日期不能早于开始日期")]
        elif (end - start).days >= MAX_SPAN_DAYS:
            errors["end"] = [_("一次派驻最长一年，请分段安排")]
        else:
            weekdays = as_weekdays(data.get("weekdays"))
            days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)
                    if (start + dt.timedelta(days=i)).weekday() in weekdays]
            if not days:
                errors["weekdays"] = [_("所选日期内没有在岗日")]
    collect(errors, "invalid_posting")
    return {"staff": staff, "host": host, "kind": kind, "start": start, "end": end, "days": days,
            "note": str(data.get("note") or "")[:200]}


def create_posting(actor, data: Mapping[str, Any], *, rota=None, request: Request | None = None) -> Posting:
    """Post an expert: ``data`` staff, host, kind, start, end, weekdays (default Monday–Friday; or ``days``, a list
    of dates, for a rota's posting), note. Refused with ``double_booked`` when a day is already booked elsewhere."""
    actor = actor_of(actor)
    v = _posting_input(data)
    if data.get("days"):
        v["days"] = sorted(set(data["days"]))
    posting = Posting(staff=v["staff"], host=v["host"], kind=v["kind"], start=v["start"], end=v["end"],
                      note=v["note"], rota=rota, request=request, created_by=actor.user)
    check(actor, "workforce.plan", posting)
    with transaction.atomic():
        lock_staff([posting.staff_id])
        book_days(posting.staff, posting.host, v["days"])
        posting.save()
        PostingDay.objects.bulk_create([PostingDay(posting=posting, staff_id=posting.staff_id, host=posting.host,
                                                   day=d) for d in v["days"]])
        audit.record(actor, "create", "wf_posting", posting.pk, staff=posting.staff_id, host=posting.host_id,
                     kind=posting.kind, days=len(v["days"]))
    return posting


def cancel_posting(actor, posting: Posting) -> Posting:
    """Cancel a posting; its days already checked in stay as they were (the ledger keeps confirmed days)."""
    actor = actor_of(actor)
    check(actor, "workforce.plan", posting)
    with transaction.atomic():
        p = Posting.objects.select_for_update().filter(pk=posting.pk).first()
        if p is None:
            raise NotFound()
        if p.status == PostingStatus.CANCELLED:
            raise Conflict("already_cancelled", _("该派驻已取消"))
        p.status = PostingStatus.CANCELLED
        p.save(update_fields=["status"])
        audit.record(actor, "update", "wf_posting", p.pk, status=p.status)
    return p


def file_request(actor, data: Mapping[str, Any]) -> Request:
    """A township's need: host, month, kind, specialty, days (a month), note."""
    actor = actor_of(actor)
    errors: dict[str, list[str]] = {}
    host = Facility.objects.filter(pk=as_pk(data.get("host"))).first()
    if host is None or not is_host(host):
        errors["host"] = [_("请选择乡镇卫生院或村卫生室")]
    month = as_month(data.get("month"), errors)
    kind = str(data.get("kind") or PostingKind.CLINIC)
    if kind not in PostingKind.values:
        errors["kind"] = [_("请选择下沉形式")]
    days = as_count(data.get("days"), errors, "days", 1, 31)
    collect(errors, "invalid_request")
    assert month is not None and days is not None
    req = Request(host=host, month=month, kind=kind, specialty=str(data.get("specialty") or "").strip()[:50],
                  days=days, note=str(data.get("note") or "")[:200], created_by=actor.user)
    check(actor, "workforce.request", req)
    with transaction.atomic():
        req.save()
        audit.record(actor, "create", "wf_request", req.pk, host=req.host_id, month=str(month), days=days)
    return req


def set_availability(actor, staff: Staff, data: Mapping[str, Any]) -> Availability:
    """An expert's month: cap_days, unavailable (ISO dates)."""
    actor = actor_of(actor)
    errors: dict[str, list[str]] = {}
    month = as_month(data.get("month"), errors)
    cap = as_count(data.get("cap_days"), errors, "cap_days", 0, 31)
    raw = data.get("unavailable") or []
    items = raw if isinstance(raw, list) else [s for s in str(raw).replace("，", ",").split(",") if s.strip()]
    dates = sorted({d.isoformat() for d in (as_day(i, errors, "unavailable") for i in items) if d})
    collect(errors, "invalid_availability")
    check(actor, "workforce.plan", staff.work_facility)
    with transaction.atomic():
        row, _created = Availability.objects.update_or_create(staff=staff, month=month,
                                                             defaults={"cap_days": cap, "unavailable": dates})
        audit.record(actor, "update", "wf_availability", row.pk, staff=staff.pk, month=str(month), cap=cap)
    return row
