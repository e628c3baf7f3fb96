"""Scoped reads of the village doctors: the staff of the village clinics within the user's region scope (a
township its villages, the managers the community's county; a village doctor only themselves), each read
audited; the month's attendance and public-health tasks per doctor, in bulk."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.carelevel import CareLevel, type_q
from yigongti.core.errors import NotFound
from yigongti.core.scoping import facility_scope_q
from yigongti.orgs.models import Role, Staff

from .. import village as rules
from ..models import (
    Assessment,
    ClinicCheckIn,
    Holiday,
    Leave,
    LeaveStatus,
    ScoringSheet,
    Training,
    TrainingRequirement,
)


def doctors_visible_to(user) -> QuerySet[Staff]:
    qs = Staff.objects.filter(type_q(CareLevel.VILLAGE, "work_facility__type"), is_active=True)
    if getattr(user, "role", None) == Role.VILLAGE_DOCTOR:
        return qs.filter(pk=getattr(user, "staff_id", None) or -1)
    return qs.filter(facility_scope_q(user, "work_facility__region__code")).select_related(
        "work_facility__parent", "vd_licence")


def get_doctor_for(actor: Actor, pk) -> Staff:
    s = doctors_visible_to(actor.user).filter(pk=pk).select_related("work_facility__parent").first()
    if s is None:
        raise NotFound()
    audit.record(actor, "view", "vd_doctor", s.pk)
    return s


def holidays_of(month: dt.date) -> dict[dt.date, bool]:
    days = rules.month_days(month)
    return dict(Holiday.objects.filter(day__range=(days[0], days[-1])).values_list("day", "working"))


def month_attendance(staff_ids: list[int], month: dt.date, today: dt.date | None = None) \
        -> dict[int, rules.MonthAttendance]:
    """Each doctor's attendance of the month, up to today for the current month."""
    today = today or timezone.localdate()
    days = rules.month_days(month)
    work = rules.working_days(month, holidays_of(month), until=min(today, days[-1]))
    present: dict[int, set[dt.date]] = defaultdict(set)
    flagged: dict[int, set[dt.date]] = defaultdict(set)
    for sid, day, flag in ClinicCheckIn.objects.filter(staff_id__in=staff_ids, day__range=(days[0], days[-1]))\
            .values_list("staff_id", "day", "flagged"):
        present[sid].add(day)
        if flag:
            flagged[sid].add(day)
    spans: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for sid, start, end in Leave.objects.filter(staff_id__in=staff_ids, status=LeaveStatus.APPROVED,
                                                start__lte=days[-1], end__gte=days[0])\
            .values_list("staff_id", "start", "end"):
        spans[sid].append((start, end))
    return {sid: rules.attendance(work, present[sid], rules.leave_days(spans[sid], month), flagged[sid])
            for sid in staff_ids}


def tasks_done(staff_ids: list[int], month: dt.date) -> dict[int, int]:
    """Public-health tasks of the month by each doctor: the family-doctor services delivered and the public-
    health records (health checks, maternal and child visits, vaccinations) they made."""
    from yigongti.familydoctor.models import ServiceDelivery
    from yigongti.publichealth.models import ChildVisit, HealthCheck, MaternalVisit, VaccineDose

    days = rules.month_days(month)
    out: dict[int, int] = dict.fromkeys(staff_ids, 0)
    sources: list[tuple[Any, str]] = [(ServiceDelivery, "delivered_on"), (HealthCheck, "date"), (MaternalVisit, "date"),
               (ChildVisit, "date"), (VaccineDose, "given_on")]
    for model, date_field in sources:
        rows = (model.objects.filter(by_id__in=staff_ids, **{f"{date_field}__range": (days[0], days[-1])})
                .values_list("by_id").annotate(n=Count("id")).order_by())
        for sid, n in rows:
            out[sid] = out.get(sid, 0) + n
    return out


def training_hours(staff_ids: list[int], year: int) -> dict[int, Decimal]:
    rows = (Training.objects.filter(staff_id__in=staff_ids, on__year=year).values_list("staff_id")
            .annotate(h=Sum("hours")).order_by())
    return dict(rows)


def requirement(community_id: int | None, year: int) -> Decimal | None:
    return TrainingRequirement.objects.filter(community_id=community_id, year=year)\
        .values_list("hours", flat=True).first()


def sheet_of(community_id: int | None) -> ScoringSheet | None:
    return ScoringSheet.objects.filter(community_id=community_id, active=True).prefetch_related("items")\
        .order_by("-pk").first()


@dataclass
class Ranked:
    assessment: Assessment
    township_rank: int
    county_rank: int


def ranked(month: dt.date, community_id: int | None) -> dict[int, Ranked]:
    """The month's assessments of the community, each with its rank in its township and in the county."""
    rows = list(Assessment.objects.filter(month=month, facility__community_id=community_id)
                .select_related("facility", "staff"))
    county = rules.ranks({a.staff_id: a.total for a in rows})
    by_town: dict[int | None, dict[int, Decimal]] = defaultdict(dict)
    for a in rows:
        by_town[a.facility.parent_id][a.staff_id] = a.total
    town = {sid: r for t in by_town.values() for sid, r in rules.ranks(t).items()}
    return {a.staff_id: Ranked(a, town[a.staff_id], county[a.staff_id]) for a in rows}


@dataclass
class DoctorYear:
    results: list[rules.YearResult] = field(default_factory=list)
    licence: str = "incomplete"


def years_of(staff: Staff, pass_mark: Decimal, year: int) -> DoctorYear:
    """The doctor's yearly results of ``year`` and the year before, and the two-yearly licence assessment."""
    totals: dict[int, list[Decimal]] = defaultdict(list)
    for month, t in Assessment.objects.filter(staff=staff, month__year__in=(year - 1, year))\
            .values_list("month", "total"):
        totals[month.year].append(t)
    results = [rules.yearly(y, totals[y], pass_mark) for y in (year - 1, year)]
    return DoctorYear(results, rules.licence_assessment(results))


def due_for_renewal(user, today: dt.date | None = None) -> list[Staff]:
    today = today or timezone.localdate()
    limit = today + dt.timedelta(days=rules.RENEWAL_WINDOW_DAYS)
    return list(doctors_visible_to(user).filter(Q(vd_licence__valid_until__lte=limit))
                .select_related("work_facility", "vd_licence").order_by("vd_licence__valid_until"))


def pending_leave(user) -> QuerySet[Leave]:
    return Leave.objects.filter(staff__in=doctors_visible_to(user), status=LeaveStatus.PENDING)\
        .select_related("staff__work_facility").order_by("start")


def attendance_rows(actor: Actor, month: dt.date) -> list[dict]:
    doctors = list(doctors_visible_to(actor.user).order_by("work_facility__code", "name")[:2000])
    att = month_attendance([d.pk for d in doctors], month)
    audit.record(actor, "view", "vd_attendance_list", "", month=str(month), n=len(doctors))
    out = []
    for d in doctors:
        a = att[d.pk]
        out.append({"staff_id": d.pk, "name": d.name, "facility_id": d.work_facility_id, "month": month,
                    "working": a.working, "expected": a.expected, "present": a.present, "leave": a.leave,
                    "absent": a.absent, "flagged": a.flagged, "rate": None if a.rate is None else float(a.rate)})
    return out


def assessment_rows(actor: Actor, month: dt.date) -> list[dict]:
    visible = set(doctors_visible_to(actor.user).values_list("pk", flat=True))
    community = actor.user.facility.community_id if getattr(actor.user, "facility_id", None) else None
    rows = Assessment.objects.filter(month=month, staff_id__in=visible).select_related("staff", "facility")
    communities = {community} if community else set(rows.values_list("facility__community_id", flat=True))
    ranks_: dict[int, Ranked] = {}
    for c in communities:
        ranks_.update(ranked(month, c))
    audit.record(actor, "view", "vd_assessment_list", "", month=str(month))
    out = []
    for a in rows:
        r = ranks_.get(a.staff_id)
        out.append({"id": a.pk, "staff_id": a.staff_id, "name": a.staff.name, "facility_id": a.facility_id,
                    "month": a.month, "total": float(a.total), "points": a.points,
                    "township_rank": r.township_rank if r else None, "county_rank": r.county_rank if r else None})
    return out
