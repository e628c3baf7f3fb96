"""Read functions for the registry. Facilities and staff lists are community-wide (the community
is one system); staff identifiers stay masked. Person-level resident data is narrower: core.scoping."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.core.exports import EXPORT_LIMIT
from yigongti.core.scoping import EVERYTHING, NOTHING, Scope, scope_for

from .models import Facility, MedicalCommunity, Region, RegionLevel, Staff
from .permissions import Category, check_read


def registry_scope(user) -> Scope:
    """The counties whose registry the user may browse."""
    if not getattr(user, "is_authenticated", False):
        return NOTHING
    if user.role == "city" or user.is_superuser:
        return Scope((user.region.prefix,)) if user.region_id else EVERYTHING
    if user.facility_id:
        return Scope((user.facility.region.code[:6],))
    if user.region_id:
        return Scope((user.region.code[:6],))
    people = scope_for(user)
    return Scope(tuple({p[:6] for p in people.prefixes})) if people.prefixes else people


def facilities_visible_to(user) -> QuerySet[Facility]:
    qs = Facility.objects.select_related("region", "community", "parent")
    return registry_scope(user).filter(qs, "region__code")


def communities_visible_to(user) -> QuerySet[MedicalCommunity]:
    return registry_scope(user).filter(MedicalCommunity.objects.select_related("region", "lead_facility"),
                                       "region__code")


def get_facility_for(user, pk: int) -> Facility:
    try:
        return facilities_visible_to(user).get(pk=pk)
    except (Facility.DoesNotExist, ValueError):
        raise NotFound(_("机构不存在或不在您的管辖范围内")) from None


def facility_tree(user) -> list[dict]:
    """County-level facilities, each with its township centers, each with its village clinics."""
    facilities = list(
        facilities_visible_to(user).annotate(
            staff_count=Count("working_staff", filter=Q(working_staff__is_active=True))
        ).order_by("code")
    )
    nodes: dict[int, dict[str, Any]] = {f.pk: {"facility": f, "children": []} for f in facilities}
    roots: list[dict[str, Any]] = []
    for f in facilities:
        parent = nodes.get(f.parent_id) if f.parent_id is not None else None
        (parent["children"] if parent else roots).append(nodes[f.pk])
    return roots


def staff_visible_to(user, facility: Facility | None = None, q: str = "", township: str = "",
                     facility_id: str = "") -> QuerySet[Staff]:
    """Staff of the registry the user may browse, by name or certificate number, the work facility's township
    (12-digit code) or the work facility (an id)."""
    qs = Staff.objects.select_related("work_facility", "establishment_facility", "department")
    qs = registry_scope(user).filter(qs, "work_facility__region__code")
    if facility is not None:
        qs = qs.filter(work_facility=facility)
    if q:
        qs = qs.filter(Q(name__startswith=q) | Q(certificate_number=q))
    if township:
        qs = qs.filter(work_facility__region__code__startswith=township[:9]) if len(township) == 12 else qs.none()
    if facility_id:
        qs = qs.filter(work_facility_id=int(facility_id)) if facility_id.isdigit() else qs.none()
    return qs


def staff_filter_choices(user) -> dict:
    """Townships and facilities of the staff list's filter; a facility name found twice is qualified by its
    township ("小洞村卫生室（城关镇）")."""
    scope = registry_scope(user)
    towns = scope.filter(Region.objects.filter(level=RegionLevel.TOWNSHIP), "code").order_by("code")
    facilities = list(facilities_visible_to(user).select_related("region__parent").order_by("code"))
    names = Counter(f.name for f in facilities)

    def town_of(f: Facility) -> str:
        region = f.region
        parent = region.parent if region.level == RegionLevel.VILLAGE else None
        return parent.name if parent is not None else region.name

    return {"townships": list(towns.values_list("code", "name")),
            "facilities": [(str(f.pk), f"{f.name}（{town_of(f)}）" if names[f.name] > 1 else f.name)
                           for f in facilities]}


def export_staff(actor: Actor, q: str = "", township: str = "", facility_id: str = "") -> list[Staff]:
    """The staff list as filtered, for an Excel export: the page's scoped query, at most ``EXPORT_LIMIT`` rows,
    audited with every id. Staff names are personal data: a role that reads no one's cannot export them."""
    check_read(actor, Category.DEMOGRAPHICS)
    rows = list(staff_visible_to(actor.user, q=q, township=township, facility_id=facility_id)
                .order_by("work_facility__code", "id")[:EXPORT_LIMIT])
    audit.record(actor, "export", "staff", "", query={k: v for k, v in
                 {"q": q, "township": township, "facility": facility_id}.items() if v},
                 count=len(rows), ids=[s.pk for s in rows], format="xlsx")
    return rows
