"""Scoped, audited reads of children 0–6: the children of an area with their due and overdue visits, one child
with the plan of the child schedule.

"0–6" is everyone born less than 7 years ago (0～6岁: to the 7th birthday), not merged. Due / overdue by
``schedules.plan`` (due within the window; overdue from its end until the next visit's window opens; missed
after), computed in SQL for the filters (``due_q``) and in Python for the page's rows (visits prefetched)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.core.paging import Page, slice_page
from yigongti.core.scoping import scope_for
from yigongti.core.validation import today as today_
from yigongti.orgs.permissions import Category, check_read
from yigongti.residents.models import Resident

from .. import schedules
from ..models import ChildVisit
from .immunisation import area_filter

MAX_AGE_DAYS = 7 * 365
DUE_FILTERS = ("", "due", "overdue", "todo")


def children_visible_to(user, on: dt.date) -> QuerySet[Resident]:
    qs = Resident.objects.filter(merged_into__isnull=True, birth_date__gt=on - dt.timedelta(days=MAX_AGE_DAYS),
                                 birth_date__lte=on)
    return qs if user is None else scope_for(user).filter(qs)


@dataclass
class ChildRow:
    child: Resident
    plan: list[schedules.PlanItem]
    visits: list[ChildVisit]

    @property
    def age_days(self) -> int:
        return (today_() - self.child.birth_date).days

    @property
    def age_months(self) -> int:
        return int(self.age_days / (365 / 12))

    @property
    def next_item(self) -> schedules.PlanItem | None:
        return schedules.next_item(self.plan)

    @property
    def overdue(self) -> list[schedules.PlanItem]:
        return schedules.overdue(self.plan)

    @property
    def done_count(self) -> int:
        return sum(1 for p in self.plan if p.status == "done")


def plan_for(child: Resident, on: dt.date, visits: list[ChildVisit]) -> list[schedules.PlanItem]:
    return schedules.plan(schedules.child(), {"birth_days": child.birth_date}, on, {v.kind: v.date for v in visits})


def due_q(on: dt.date, which: str) -> Q:
    """Children with a visit due / overdue / either (``todo``) on ``on``."""
    sched = schedules.child()
    q = Q(pk__in=[])
    for w in sched.visits:
        lo, hi = (w.start, w.end) if which == "due" else (
            (w.end + 1, schedules.overdue_until(sched, w)) if which == "overdue" else
            (w.start, schedules.overdue_until(sched, w)))
        first, last = on - dt.timedelta(days=hi), on - dt.timedelta(days=lo)
        q |= Q(Q(birth_date__range=(first, last)), ~Exists(ChildVisit.objects.filter(child=OuterRef("pk"),
                                                                                       kind=w.code)))
    return q


def list_children(actor: Actor, *, due: str = "", village: str = "", township: str = "", page: int = 1,
                  size: int = 25, on: dt.date | None = None) -> Page:
    """The children 0–6 of the area, youngest first, each with its plan; audited."""
    check_read(actor, Category.PUBLIC_HEALTH)
    on = on or today_()
    qs = area_filter(children_visible_to(actor.user, on), village=village, township=township)
    if due:
        if due not in DUE_FILTERS:
            raise InvalidInput("invalid_due", _("筛选条件无效"), field="due")
        qs = qs.filter(due_q(on, due))
    qs = qs.select_related("village").prefetch_related(
        Prefetch("child_visits", queryset=ChildVisit.objects.order_by("date"))).order_by("-birth_date", "id")
    result = slice_page(qs, page, size)
    result.count = qs.count()
    rows = []
    for c in result.items:
        visits = list(c.child_visits.all())
        rows.append(ChildRow(c, plan_for(c, on, visits), visits))
    result.items = rows
    audit.record(actor, "list", "child", "", due=due, village=village, township=township, page=result.number,
                 ids=[r.child.pk for r in rows])
    return result


def child_record(actor: Actor, child: Resident, *, on: dt.date | None = None) -> ChildRow:
    """One child's visits and plan (the caller fetched the child through ``get_resident_for``); audited."""
    check_read(actor, Category.PUBLIC_HEALTH)
    visits = list(ChildVisit.objects.filter(child=child).select_related("facility", "by").order_by("date"))
    sched = schedules.child()
    for v in visits:
        w = sched.window(v.kind)
        v.label = w.name if w else v.kind  # type: ignore[attr-defined]
        v.timing = w and ("early" if v.age_days < w.start else "late" if v.age_days > w.end else "ok")  # type: ignore[attr-defined]
    audit.record(actor, "view", "child_visit", "", resident=child.pk, count=len(visits))
    return ChildRow(child, plan_for(child, on or today_(), visits), visits)


def counts(user, *, on: dt.date | None = None) -> dict[str, int]:
    on = on or today_()
    qs = children_visible_to(user, on)
    return {"children": qs.count(), "due": qs.filter(due_q(on, "due")).count(),
            "overdue": qs.filter(due_q(on, "overdue")).count()}
