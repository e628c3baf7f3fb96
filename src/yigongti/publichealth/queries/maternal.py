"""Scoped, audited reads of maternal care: the pregnancies of an area (with what is due or overdue), one pregnancy
with its visit plan.

Scope: the woman's area (``core.scoping`` on ``resident__area_code``) — and a county-managed pregnancy (orange and
above) is also visible to the managing hospital's staff. Category ``PUBLIC_HEALTH``. Due / overdue follow
``schedules.plan``: a visit is *due* within its window, *overdue* from its end until the next visit's window
opens (the last one: 30 days), *missed* after; antenatal visits stop counting once the pregnancy is delivered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput, NotFound
from yigongti.core.paging import Page, slice_page
from yigongti.core.scoping import scope_for
from yigongti.core.validation import today as today_
from yigongti.orgs.permissions import Category, check_read

from .. import schedules
from ..models import MaternalVisit, Pregnancy, PregnancyStatus, RiskGrade
from .immunisation import area_filter

DUE_FILTERS = ("", "due", "overdue", "todo")


def pregnancies_visible_to(user) -> QuerySet[Pregnancy]:
    qs = Pregnancy.objects.all()
    if user is None:
        return qs
    q = scope_for(user).q("resident__area_code")
    if user.facility_id is not None:
        q |= Q(managing_facility_id=user.facility_id)
    return qs.filter(q)


@dataclass
class PregnancyRow:
    pregnancy: Pregnancy
    plan: list[schedules.PlanItem]

    @property
    def next_item(self) -> schedules.PlanItem | None:
        return schedules.next_item(self.plan)

    @property
    def overdue(self) -> list[schedules.PlanItem]:
        return schedules.overdue(self.plan)

    @property
    def late(self) -> list[schedules.PlanItem]:
        return [p for p in self.plan if p.status == "done" and p.timing != "ok"]

    @property
    def gest_week(self) -> int | None:
        p = self.pregnancy
        if p.status != PregnancyStatus.ONGOING:
            return None
        return (today_() - p.lmp).days // 7


def plan_for(pregnancy: Pregnancy, on: dt.date, visits=None) -> list[schedules.PlanItem]:
    rows = visits if visits is not None else list(pregnancy.visits.all())
    done = {v.kind: v.date for v in rows}
    anchors = {"lmp_days": pregnancy.lmp, "delivery_days": pregnancy.delivered_on}
    items = schedules.plan(schedules.maternal(), anchors, on, done)
    if pregnancy.status != PregnancyStatus.ONGOING:  # delivered: antenatal visits not done are missed
        items = [schedules.PlanItem(i.window, "missed", i.due_from, i.due_by)
                 if i.window.basis == "lmp_days" and i.status in ("due", "overdue", "upcoming") else i for i in items]
    if pregnancy.status == PregnancyStatus.CLOSED:
        items = [schedules.PlanItem(i.window, "missed", i.due_from, i.due_by)
                 if i.status in ("due", "overdue", "upcoming", "waiting") else i for i in items]
    return items


def _not_done(kind: str):
    return ~Exists(MaternalVisit.objects.filter(pregnancy=OuterRef("pk"), kind=kind))


def due_q(on: dt.date, which: str) -> Q:
    """Pregnancies with a visit due (``due``), overdue (``overdue``) or either (``todo``) on ``on`` (SQL)."""
    sched = schedules.maternal()
    q = Q(pk__in=[])
    for w in sched.visits:
        lo, hi = (w.start, w.end) if which == "due" else (
            (w.end + 1, schedules.overdue_until(sched, w)) if which == "overdue" else
            (w.start, schedules.overdue_until(sched, w)))
        first, last = on - dt.timedelta(days=hi), on - dt.timedelta(days=lo)
        if w.basis == "lmp_days":
            q |= Q(Q(status=PregnancyStatus.ONGOING, lmp__range=(first, last)), _not_done(w.code))
        else:
            q |= Q(Q(status=PregnancyStatus.POSTPARTUM, delivered_on__range=(first, last)), _not_done(w.code))
    return q


def list_pregnancies(actor: Actor, *, status: str = "", grade: str = "", due: str = "", village: str = "",
                     township: str = "", page: int = 1, size: int = 25, on: dt.date | None = None) -> Page:
    """The pregnancies of the area (open ones by default: ``status=all`` for every one), each with its plan."""
    check_read(actor, Category.PUBLIC_HEALTH)
    on = on or today_()
    qs = pregnancies_visible_to(actor.user)
    qs = area_filter(qs, village=village, township=township, field="resident__area_code")
    if status == "all":
        pass
    elif status:
        if status not in PregnancyStatus.values:
            raise InvalidInput("invalid_status", _("状态无效"), field="status")
        qs = qs.filter(status=status)
    else:
        qs = qs.exclude(status=PregnancyStatus.CLOSED)
    if grade:
        if grade == "county":
            qs = qs.filter(risk_grade__in=["orange", "red", "purple"])
        elif grade not in RiskGrade.values:
            raise InvalidInput("invalid_grade", _("风险等级无效"), field="grade")
        else:
            qs = qs.filter(risk_grade=grade)
    if due:
        if due not in DUE_FILTERS:
            raise InvalidInput("invalid_due", _("筛选条件无效"), field="due")
        qs = qs.filter(due_q(on, due))
    qs = qs.select_related("resident__village", "managing_facility").prefetch_related(
        Prefetch("visits", queryset=MaternalVisit.objects.order_by("date"))).order_by("lmp", "id")
    result = slice_page(qs, page, size)
    result.count = qs.count()
    result.items = [PregnancyRow(p, plan_for(p, on, list(p.visits.all()))) for p in result.items]
    audit.record(actor, "list", "pregnancy", "", status=status, grade=grade, due=due, village=village,
                 township=township, page=result.number, ids=[r.pregnancy.pk for r in result.items])
    return result


def get_pregnancy(actor: Actor, pk, *, on: dt.date | None = None) -> PregnancyRow:
    check_read(actor, Category.PUBLIC_HEALTH)
    p = pregnancies_visible_to(actor.user).select_related(
        "resident__village", "facility", "managing_facility").filter(pk=pk).first() if str(pk).isdigit() else None
    if p is None:
        audit.record(actor, "denied", "pregnancy", pk)
        raise NotFound()
    audit.record(actor, "view", "pregnancy", p.pk, resident=p.resident_id)
    visits = list(p.visits.select_related("facility", "by").order_by("date"))
    return PregnancyRow(p, plan_for(p, on or today_(), visits))


def visits_of(row: PregnancyRow) -> list[MaternalVisit]:
    """The pregnancy's visits, each with ``label`` (the schedule item's name)."""
    sched = schedules.maternal()
    rows = list(row.pregnancy.visits.select_related("facility", "by").order_by("date"))
    for v in rows:
        w = sched.window(v.kind)
        v.label = w.name if w else v.kind  # type: ignore[attr-defined]
    return rows


def resident_pregnancies(actor: Actor, resident, limit: int = 5) -> list[Pregnancy]:
    """A resident's pregnancies, newest first (the caller made sure the resident is in scope); audited."""
    check_read(actor, Category.PUBLIC_HEALTH)
    rows = list(Pregnancy.objects.filter(resident=resident).order_by("-lmp")[:limit])
    if rows:
        audit.record(actor, "view", "pregnancy", "", resident=resident.pk, count=len(rows))
    return rows


def counts(user, *, on: dt.date | None = None) -> dict[str, int]:
    """Aggregates of the user's area: open pregnancies, county-managed, due, overdue."""
    on = on or today_()
    qs = pregnancies_visible_to(user).exclude(status=PregnancyStatus.CLOSED)
    return {"open": qs.count(), "county": qs.filter(risk_grade__in=["orange", "red", "purple"]).count(),
            "due": qs.filter(due_q(on, "due")).count(), "overdue": qs.filter(due_q(on, "overdue")).count()}
