"""Scoped, audited reads of the due and overdue work (``DueItem``, rebuilt by ``familydoctor.due``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.core.scoping import scope_for
from yigongti.familydoctor.models import DueItem, DueKind
from yigongti.orgs.models import Region, RegionLevel
from yigongti.orgs.permissions import Category, check_read

MAX_LIMIT = 2000


def _kinds(kinds: Iterable[str] | str | None) -> list[str]:
    if kinds is None or kinds == "":
        return []
    values = [k for k in (kinds.split(",") if isinstance(kinds, str) else kinds) if k]
    bad = [k for k in values if k not in DueKind.values]
    if bad:
        raise InvalidInput("invalid_kind", _("未知的待办类别：%(kind)s") % {"kind": ", ".join(bad)}, field="kind")
    return values


def _village(village) -> tuple[str, int | None] | None:
    """The village asked for as ``(code, id)`` (a Region, its 12-digit code or its id); the id is None for a code
    no village has (then only the area code filters)."""
    if village is None or village == "":
        return None
    if isinstance(village, Region):
        return village.code, (village.pk if village.level == RegionLevel.VILLAGE else None)
    text = str(village).strip()
    if text.isdigit() and len(text) == 12:
        return text, Region.objects.filter(code=text, level=RegionLevel.VILLAGE).values_list("pk", flat=True).first()
    if text.isdigit():
        row = Region.objects.filter(pk=int(text)).values_list("code", "level").first()
        if row:
            return row[0], (int(text) if row[1] == RegionLevel.VILLAGE else None)
    raise InvalidInput("invalid_village", _("村代码无效：%(v)s") % {"v": text[:20]}, field="village")


def due_visible_to(user) -> QuerySet[DueItem]:
    return scope_for(user).filter(DueItem.objects.all(), "area_code")


def _filtered(actor: Actor, *, on: dt.date, kinds=None, village=None, overdue_only=False, team=None):
    check_read(actor, Category.PUBLIC_HEALTH)
    wanted = _kinds(kinds)
    place = _village(village)
    code = place[0] if place else None
    if place and place[1] is not None:
        # One village: the scope decides on the village's code once, then the rows are read by the village's id
        # alone — the (village, kind, due_by) index gives a kind's most urgent first without a sort (an item's
        # village and area code are its resident's, and a resident's area code is a copy of their village's).
        # With the area code filter as well PostgreSQL multiplied the two (equal) selectivities, expected one
        # row and read every item of the village.
        inside = actor.user is None or scope_for(actor.user).contains(code)
        qs = DueItem.objects.filter(village_id=place[1]) if inside else DueItem.objects.none()
    else:
        qs = due_visible_to(actor.user) if actor.user is not None else DueItem.objects.all()
        if code:
            qs = qs.filter(area_code=code)
    if wanted:
        qs = qs.filter(kind__in=wanted)
    if team:
        qs = qs.filter(team_id=int(team))
    if overdue_only:
        qs = qs.filter(due_by__lt=on)
    return qs, wanted, code


def for_user(actor: Actor, *, on: dt.date, kinds=None, village=None, overdue_only: bool = False,
             limit: int | None = None, team=None) -> list[DueItem]:
    """The due and overdue items the actor may see, most urgent first (the resident and village loaded)."""
    qs, wanted, code = _filtered(actor, on=on, kinds=kinds, village=village, overdue_only=overdue_only, team=team)
    n = min(int(limit), MAX_LIMIT) if limit else MAX_LIMIT
    rows = list(qs.select_related("resident", "village").order_by("due_by", "id")[:n])
    audit.record(actor, "list", "due_item", "", kinds=wanted, village=code or "", overdue_only=overdue_only,
                 on=on.isoformat(), count=len(rows))
    return rows


def counts_for_user(actor: Actor, *, on: dt.date, village=None, team=None) -> dict[str, dict[str, int]]:
    """Per kind: how many are due (within the horizon) and how many overdue. Aggregates only (not audited as a
    person-level read, but still needs the category)."""
    qs, _w, _c = _filtered(actor, on=on, village=village, team=team)
    out: dict[str, dict[str, int]] = {k: {"due": 0, "overdue": 0} for k in DueKind.values}
    for row in qs.values("kind").annotate(n=Count("id"), late=Count("id", filter=Q(due_by__lt=on))):
        out[row["kind"]] = {"due": row["n"], "overdue": row["late"]}
    return out


def is_overdue(item: DueItem, on: dt.date) -> bool:
    return item.due_by < on


def item_label(it: DueItem, zh: bool) -> str:
    """The stored label (Chinese) or, on an English page, the English name the schedules give the item's ref."""
    if zh:
        return it.label
    kind, english = DueKind(it.kind), ""
    try:
        if kind == DueKind.CHRONIC_FOLLOW_UP:
            from yigongti.chronic.models import Condition

            english = _("%(condition)s随访") % {"condition": Condition(it.ref).label}
        elif kind in (DueKind.MATERNAL_VISIT, DueKind.CHILD_VISIT):
            from yigongti.publichealth import schedules

            plan = schedules.maternal() if kind == DueKind.MATERNAL_VISIT else schedules.child()
            window = plan.window(it.ref)
            english = window.label_en if window else ""
        elif kind == DueKind.VACCINE:
            from yigongti.publichealth import immunisation

            vaccine, _sep, dose = it.ref.rpartition("-")
            rule = immunisation.schedule().rule(vaccine, int(dose))
            english = rule.name_en if rule else ""
        elif kind == DueKind.PACKAGE_SERVICE:
            english = it.label  # the package service's own name (data)
        elif kind == DueKind.ANNUAL_CHECK:
            english = str(kind.label)
    except ValueError:  # a ref the schedules do not know: the kind and the ref
        english = ""
    return english or f"{kind.label} {it.ref}"
