"""Scoped, audited reads of pathway cases (``Category.PATHWAY``).

A case is visible to the staff involved in it (``permissions.involved``: the treating facility, the first facility,
the township center above a village clinic that saw the patient first); managers and the bureau see counts on the
dashboards, not patients. Every list and every case read is audited; fetch-and-check is one helper
(``case_for``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.orgs.permissions import Category, can, check_read

from . import events as catalogue
from . import services
from .metrics import Metric
from .metrics import case_metrics as measure
from .models import Case, CaseEvent, CaseStatus, PathwayCenter

RECENT_DAYS = 7
BEFORE_ARRIVAL = {"onset", "injury", "call_120"}  # entered afterwards (or captured), never "now"
LIST_LIMIT = 100


def visible_cases(user) -> QuerySet[Case]:
    """Cases the user is involved in (the system: all)."""
    if user is None:
        return Case.objects.all()
    if not user.is_authenticated or user.facility_id is None:
        return Case.objects.none()
    fid = user.facility_id
    return Case.objects.filter(Q(facility_id=fid) | Q(first_facility_id=fid) | Q(first_facility__parent_id=fid))


def centers_of(user) -> list[PathwayCenter]:
    """The centers and township units the user's facility runs."""
    if user is None or user.facility_id is None:
        return []
    return list(PathwayCenter.objects.filter(facility_id=user.facility_id, active=True).order_by("kind"))


@dataclass
class Row:
    """A case of a list with its live metrics (the worst one first)."""

    case: Case
    metrics: list[Metric]
    missed: int
    running: int

    @property
    def subtype_label(self) -> str:
        return str(catalogue.Subtype(self.case.subtype).label) if self.case.subtype in catalogue.Subtype.values \
            else ""

    @property
    def headline(self) -> Metric | None:
        judged = [m for m in self.metrics if m.minutes is not None and m.target_min is not None]
        if not judged:
            return None
        return sorted(judged, key=lambda m: (m.met is not False, not m.running, -(m.minutes or 0)))[0]


def case_list(actor: Actor, *, kind: str = "", status: str = "open", now: dt.datetime | None = None,
              limit: int = LIST_LIMIT) -> list[Row]:
    """Open cases (``status="open"``) or those of the last week (``"recent"``), newest first, with their metrics."""
    check_read(actor, Category.PATHWAY)
    now = now or timezone.now()
    qs = visible_cases(actor.user).select_related("resident", "facility", "first_facility")
    if kind:
        qs = qs.filter(kind=kind)
    if status == "open":
        qs = qs.filter(status=CaseStatus.OPEN)
    else:
        qs = qs.filter(opened_at__gte=now - dt.timedelta(days=RECENT_DAYS))
    cases = list(qs.prefetch_related("events").order_by("-opened_at")[:limit])
    audit.record(actor, "list", "pathway_case", "", kind=kind, status=status, count=len(cases),
                 ids=[c.pk for c in cases][:50])
    rows = []
    for case in cases:
        ms = services.case_metrics(case, now=now)
        rows.append(Row(case, ms, sum(1 for m in ms if m.met is False), sum(1 for m in ms if m.running)))
    return rows


def case_for(actor: Actor, pk: int, *, audit_read: bool = True) -> Case:
    """A case the actor is involved in (NotFound otherwise), its read audited."""
    check_read(actor, Category.PATHWAY)
    case = (visible_cases(actor.user).select_related("resident", "facility", "first_facility", "call", "ecg_order")
            .filter(pk=pk).first())
    if case is None:
        raise NotFound()
    if audit_read:
        audit.record(actor, "read", "pathway_case", case.pk, resident=case.resident_id)
    return case


def event_for(actor: Actor, pk: int) -> CaseEvent:
    check_read(actor, Category.PATHWAY)
    ev = CaseEvent.objects.select_related("case").filter(pk=pk, case__in=visible_cases(actor.user)).first()
    if ev is None:
        raise NotFound()
    return ev


@dataclass
class Point:
    """A time point of the timeline: its definition, the row in force (None: not yet), the rows it replaced."""

    d: catalogue.EventDef
    event: CaseEvent | None
    history: list[CaseEvent] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.d.code


@dataclass
class Timeline:
    case: Case
    points: list[Point]
    metrics: list[Metric]
    missing_delays: list[Metric]
    delays: dict
    may_record: bool
    may_correct: bool
    may_delay: bool
    may_close: bool
    warned: dict = field(default_factory=dict)  # metric code -> when its team was told it was running late

    @property
    def recorded(self) -> list[Point]:
        done = [(p.event.at, p.d.order, i, p) for i, p in enumerate(self.points) if p.event is not None]
        return [p for *_k, p in sorted(done)]

    @property
    def missing(self) -> list[Point]:
        """Every point not recorded yet (the late-entry form)."""
        return [p for p in self.points if p.event is None]

    @property
    def next(self) -> list[Point]:
        """The buttons: points not recorded yet that happen at the hospital now (not onset or the 120 call)."""
        return [p for p in self.missing if p.code not in BEFORE_ARRIVAL]

    @property
    def upcoming(self) -> str:
        """The code of the next point after the last one recorded (the big button)."""
        last = max((p.d.order for p in self.points if p.event is not None), default=0)
        return next((p.code for p in self.next if p.d.order > last), self.next[0].code if self.next else "")


def timeline(actor: Actor, case: Case, *, now: dt.datetime | None = None) -> Timeline:
    """The case's timeline: every time point of its kind (by subtype and arrival mode), recorded or not, the
    corrections kept, the live metrics, which missed targets still need a reason, and what the actor may do."""
    rows = list(case.events.select_related("recorded_by", "facility").order_by("at", "pk"))
    active = {e.code: e for e in rows if e.active}
    history: dict[str, list[CaseEvent]] = {}
    for e in rows:
        if not e.active:
            history.setdefault(e.code, []).append(e)
    defs = catalogue.catalogue(case.kind, case.subtype, case.arrival_mode)
    known = {d.code for d in defs}
    # a point recorded before the subtype narrowed the catalogue still shows
    defs += [d for d in catalogue.CATALOGUE.get(case.kind, ()) if d.code in active and d.code not in known]
    points = [Point(d, active.get(d.code), history.get(d.code, [])) for d in sorted(defs, key=lambda d: d.order)]
    ms = measure(case.kind, {c: e.at for c, e in active.items()}, subtype=case.subtype,
                              arrival_mode=case.arrival_mode,
                              now=(now or timezone.now()) if case.status == CaseStatus.OPEN else None)
    delays = {d.metric: d for d in case.delays.select_related("by")}
    finished_missed = [m for m in ms if m.met is False and not m.running and m.code not in delays]
    user = actor.user
    open_ = case.status == CaseStatus.OPEN
    return Timeline(case, points, ms, finished_missed, delays,
                    may_record=open_ and (user is None or can(user, "pathways.record_event", case)),
                    may_correct=user is None or can(user, "pathways.correct_event", case),
                    may_delay=user is None or can(user, "pathways.record_delay", case),
                    may_close=open_ and (user is None or can(user, "pathways.close_case", case)),
                    warned={a.metric: a.at for a in case.late_alerts.all()})
