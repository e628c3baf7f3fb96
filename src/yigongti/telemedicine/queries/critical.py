"""Reads of critical values, scoped and audited. A clinician sees the values of the facility that ordered (a
township center also its villages' clinics') and every value that was sent to them (an escalation grants the
value to whoever it reached, as a referral grants its receiver the summary); the readers of a center see the
center's values across the community. Managers, the bureau and the city see counts and rates only
(``stats``), never patients."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Facility, Role
from yigongti.orgs.permissions import Category, can_read, check_read, has_role

from .. import critical as rules
from ..models import CenterMember, CriticalEvent, CriticalValue

CLINICAL_ROLES = (Role.DOCTOR, Role.NURSE, Role.VILLAGE_DOCTOR)
COUNT_ROLES = (Role.COMMUNITY_MANAGER, Role.BUREAU, Role.CITY)


def center_ids(user) -> list[int]:
    if user is None or user.pk is None:
        return []
    return list(CenterMember.objects.filter(user_id=user.pk).values_list("center_id", flat=True))


def _facilities(user) -> list[int]:
    """The ordering facilities whose values a clinician sees: their own, and for a township its villages'."""
    if not has_role(user, *CLINICAL_ROLES) or user.facility_id is None:
        return []
    return [user.facility_id, *Facility.objects.filter(parent_id=user.facility_id).values_list("pk", flat=True)]


def visible_to(user, where: Q | None = None) -> QuerySet[CriticalValue]:
    """The critical values this user may open (person-level), among those ``where`` selects.

    One branch per reason (told, at the ordering facility, reading for the center), each filtered by ``where``
    so that it can use its own index, joined by UNION: an OR across them would scan the table."""
    if user is None or not getattr(user, "is_authenticated", False):
        return CriticalValue.objects.none()
    base = CriticalValue.objects.filter(where or Q())
    branches = [base.filter(notified_to_id=user.pk),
                base.filter(pk__in=CriticalEvent.objects.filter(to_id=user.pk).values("critical_id"))]
    if facilities := _facilities(user):
        branches.append(base.filter(facility_id__in=facilities))
    if centers := center_ids(user):
        branches.append(base.filter(order__center_id__in=centers))
    pks = [b.values("pk") for b in branches]
    return CriticalValue.objects.filter(pk__in=pks[0].union(*pks[1:]))


def open_count(user) -> tuple[int, int]:
    """(open, of which unacknowledged) values this user may open: for home panels and badges."""
    qs = visible_to(user, Q(status__in=rules.OPEN))
    row = qs.aggregate(n=Count("id"), unack=Count("id", filter=Q(status__in=rules.UNACKNOWLEDGED)))
    return row["n"], row["unack"]


def may_list(user) -> bool:
    """Whether the user sees patients' critical values at all (clinicians, centers' readers, whoever was told)."""
    return can_read(user, Category.CLINICAL) or bool(center_ids(user)) or has_role(user, Role.FACILITY_ADMIN)


# what a row of the lists shows (``critical/_rows.html``): a resident or an order loaded whole costs ~0.1 ms a row
ROW_FIELDS = ("status", "description", "detected_at", "ack_due_at", "level", "resident__name", "facility__name",
              "finding__stemi")


def _rows(qs: QuerySet[CriticalValue]) -> QuerySet[CriticalValue]:
    return qs.select_related("resident", "facility", "finding").only(*ROW_FIELDS)


def open_for(actor: Actor, limit: int = 50) -> list[CriticalValue]:
    """The user's open values, unacknowledged first, the most overdue first (audited as one list read)."""
    user = actor.user
    qs = _rows(visible_to(user, Q(status__in=rules.OPEN)))
    unack = list(qs.filter(status__in=rules.UNACKNOWLEDGED).order_by("ack_due_at", "id")[:limit])
    rest = list(qs.exclude(status__in=rules.UNACKNOWLEDGED).order_by("-detected_at", "id")[:limit])
    rows = unack + rest
    if rows:
        audit.record(actor, "read", "critical_value", "", list="open", count=len(rows),
                     residents=sorted({r.resident_id for r in rows})[:50])
    return rows


@dataclass
class Filter:
    status: str = ""
    kind: str = ""
    days: int = 30

    @classmethod
    def from_query(cls, data) -> Filter:
        try:
            days = min(max(int(data.get("days", 30) or 30), 1), 366)
        except ValueError:
            days = 30
        status = data.get("status", "")
        kind = data.get("kind", "")
        return cls(status if status in (*rules.OPEN, rules.CLOSED, "open") else "",
                   kind if kind in ("lab", "ecg", "imaging", "pathology") else "", days)


def recent_for(actor: Actor, f: Filter, limit: int = 50) -> list[CriticalValue]:
    """The values the user may open, of the last ``f.days`` days (newest first)."""
    since = timezone.now() - dt.timedelta(days=f.days)
    qs = visible_to(actor.user, Q(detected_at__gte=since))
    if f.status == "open":
        qs = qs.filter(status__in=rules.OPEN)
    elif f.status:
        qs = qs.filter(status=f.status)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    rows = list(_rows(qs).order_by("-detected_at", "-id")[:limit])
    if rows:
        audit.record(actor, "read", "critical_value", "", list="recent", count=len(rows))
    return rows


def get_for(actor: Actor, pk: int) -> CriticalValue:
    """One value with its events, if the user may open it (audited)."""
    user = actor.user
    cv = (CriticalValue.objects.filter(pk=pk)
          .select_related("resident", "facility", "finding", "order__center", "order__item", "result__analyte",
                          "acknowledged_by", "action_by", "closed_by")
          .first())
    if cv is None or (user is not None and not visible_to(user, Q(pk=pk)).exists()):
        raise NotFound(_("危急值不存在或无权访问"))
    told = user is not None and (cv.notified_to_id == user.pk or cv.events.filter(to_id=user.pk).exists())
    if not told:
        check_read(actor, Category.CLINICAL, cv)
    audit.record(actor, "read", "critical_value", pk, resident=cv.resident_id)
    return cv


def events_of(cv: CriticalValue) -> list[CriticalEvent]:
    return list(cv.events.select_related("by", "to").order_by("at", "id"))


# ---- counts (managers, the bureau, the centers) ----------------------------------------------------------


def stats_scope(user, where: Q | None = None) -> tuple[str, QuerySet[CriticalValue]]:
    """(cache key, values) a user's counts cover: the region scope (managers, the bureau, the city), the centers'
    values (their readers), what the user may open (clinicians)."""
    qs = CriticalValue.objects.filter(where or Q())
    if has_role(user, *COUNT_ROLES):
        scope = scope_for(user)
        return f"scope:{','.join(scope.prefixes or ('*',))}", scope.filter(qs)
    if centers := center_ids(user):
        return f"centers:{','.join(map(str, sorted(centers)))}", qs.filter(order__center_id__in=centers)
    return f"user:{getattr(user, 'pk', '')}", visible_to(user, where)


def row_of(detected_at, notified_at, ack_due_at, acknowledged_at, action_at, closed_at, level) -> rules.Row:
    # the first limit counts for timeliness: a value escalated before its acknowledgement was not timely
    first_due = ack_due_at if level == 0 else detected_at
    return rules.Row(detected_at, notified_at, first_due, acknowledged_at, action_at, closed_at, level)


FIELDS = ("detected_at", "notified_at", "ack_due_at", "acknowledged_at", "action_at", "closed_at", "level")


def summary(qs: QuerySet[CriticalValue]) -> rules.Summary:
    return rules.summarise(row_of(*r) for r in qs.values_list(*FIELDS).iterator(chunk_size=5000))


STATS_SECONDS = 30  # the rates may lag by this much; the lists above them never do


def stats(user, days: int = 30) -> dict:
    """The loop's rates over the last ``days`` days, overall and per ordering facility (counts only), cached
    briefly per scope (a page must not re-aggregate a month of values on every load)."""
    since = timezone.now() - dt.timedelta(days=days)
    key, qs = stats_scope(user, Q(detected_at__gte=since))
    cache_key = f"tm:critical_stats:{key}:{days}"
    if (hit := cache.get(cache_key)) is not None:
        return hit
    out = _stats(qs, days)
    cache.set(cache_key, out, STATS_SECONDS)
    return out


def _stats(qs: QuerySet[CriticalValue], days: int) -> dict:
    per: dict[str, list[rules.Row]] = {}
    for name, *times in qs.values_list("facility__name", *FIELDS).iterator(chunk_size=5000):
        per.setdefault(name, []).append(row_of(*times))  # one pass: the overall figures from the same rows
    overall = rules.summarise(r for rows in per.values() for r in rows)
    facilities = sorted(((name, rules.summarise(rows)) for name, rows in per.items()),
                        key=lambda x: (-x[1].total, x[0]))
    by_kind = dict(qs.values_list("kind").annotate(n=Count("id")).order_by())
    return {"days": days, "overall": overall, "facilities": facilities[:30], "by_kind": by_kind,
            "overdue": qs.filter(status__in=rules.UNACKNOWLEDGED, ack_due_at__lte=timezone.now()).count()}
