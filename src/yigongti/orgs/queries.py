"""Read functions for the registry. Facilities and staff lists are community-wide (the community
is one system); staff identifiers stay masked. Person-level resident data is narrower: core.scoping."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from yigongti.core.errors import NotFound
from yigongti.core.scoping import EVERYTHING, NOTHING, Scope, scope_for

from .models import Facility, MedicalCommunity, Staff


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
        raise NotFound("机构不存在或不在您的管辖范围内") from None


def facility_tree(user) -> list[dict]:
    """County-level facilities, each with its township centers, each with its village clinics."""
    facilities = list(
        facilities_visible_to(user).annotate(
            staff_count=Count("working_staff", filter=Q(working_staff__is_active=True))
        ).order_by("code")
    )
    nodes = {f.pk: {"facility": f, "children": []} for f in facilities}
    roots = []
    for f in facilities:
        parent = nodes.get(f.parent_id)
        (parent["children"] if parent else roots).append(nodes[f.pk])
    return roots


def staff_visible_to(user, facility: Facility | None = None, q: str = "") -> QuerySet[Staff]:
    qs = Staff.objects.select_related("work_facility", "establishment_facility", "department")
    qs = registry_scope(user).filter(qs, "work_facility__region__code")
    if facility is not None:
        qs = qs.filter(work_facility=facility)
    if q:
        qs = qs.filter(Q(name__startswith=q) | Q(certificate_number=q))
    return qs
