"""The talent pool's reads: the member facilities the user sees (the managers their community's, the bureau
and the city their region's, a facility admin their own and those directly under it), each facility's staffing
against its posts by category (on its establishment, working there, seconded out and in), the pool's people
who work away from their establishment (岗编分离), and the assignments."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.core.scoping import facility_scope_q
from yigongti.orgs.models import Facility, Profession, Role, Staff

from ..models import Assignment, EstablishmentPost


def facilities_visible_to(user) -> QuerySet[Facility]:
    role = getattr(user, "role", None)
    if role == Role.COMMUNITY_MANAGER and user.facility_id and user.facility.community_id:
        return Facility.objects.filter(community_id=user.facility.community_id, is_active=True)
    if role in (Role.BUREAU, Role.CITY):
        return Facility.objects.filter(facility_scope_q(user), community__isnull=False, is_active=True)
    if role == Role.FACILITY_ADMIN and user.facility_id:
        return Facility.objects.filter(Q(pk=user.facility_id) | Q(parent_id=user.facility_id), is_active=True)
    return Facility.objects.none()


@dataclass
class Line:
    facility: Facility
    category: str
    posts: int | None
    establishment: int  # on the facility's establishment
    working: int  # working there
    out: int  # on its establishment, working elsewhere
    came: int  # working there, on another's establishment

    @property
    def label(self) -> str:
        return str(Profession(self.category).label) if self.category in Profession.values else self.category

    @property
    def vacant(self) -> int | None:
        return None if self.posts is None else self.posts - self.establishment


def staffing(user, facility_id: int | None = None) -> list[Line]:
    facs = facilities_visible_to(user).order_by("code")
    if facility_id:
        facs = facs.filter(pk=facility_id)
    facilities = {f.pk: f for f in facs.select_related("region")[:500]}
    ids = list(facilities)
    counts: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    active = Staff.objects.filter(is_active=True)
    for fid, cat, n in active.filter(establishment_facility_id__in=ids).values_list(
            "establishment_facility_id", "profession").annotate(n=Count("id")).order_by():
        counts[fid, cat][0] = n
    for fid, cat, n in active.filter(work_facility_id__in=ids).values_list(
            "work_facility_id", "profession").annotate(n=Count("id")).order_by():
        counts[fid, cat][1] = n
    away = active.exclude(work_facility_id=F("establishment_facility_id"))
    for fid, cat, n in away.filter(establishment_facility_id__in=ids).values_list(
            "establishment_facility_id", "profession").annotate(n=Count("id")).order_by():
        counts[fid, cat][2] = n
    for fid, cat, n in away.filter(work_facility_id__in=ids).values_list(
            "work_facility_id", "profession").annotate(n=Count("id")).order_by():
        counts[fid, cat][3] = n
    posts = {(p.facility_id, p.category): p.posts for p in EstablishmentPost.objects.filter(facility_id__in=ids)}
    keys = sorted(set(counts) | set(posts), key=lambda k: (facilities[k[0]].code, k[1]))
    return [Line(facilities[f], c, posts.get((f, c)), *counts[f, c]) for f, c in keys]


def pool(actor: Actor, limit: int = 500) -> list[Staff]:
    """The people working away from their establishment facility (岗编分离), in the user's facilities."""
    ids = facilities_visible_to(actor.user).values_list("pk", flat=True)
    rows = list(Staff.objects.filter(Q(establishment_facility_id__in=ids) | Q(work_facility_id__in=ids),
                                     is_active=True).exclude(work_facility_id=F("establishment_facility_id"))
                .select_related("establishment_facility", "work_facility").order_by("establishment_facility__code",
                                                                                     "name")[:limit])
    audit.record(actor, "view", "wf_pool", "", n=len(rows))
    return rows


def assignments_visible_to(user) -> QuerySet[Assignment]:
    ids = facilities_visible_to(user).values_list("pk", flat=True)
    return Assignment.objects.filter(Q(from_facility_id__in=ids) | Q(to_facility_id__in=ids))\
        .select_related("staff", "from_facility", "to_facility")


def get_assignment_for(user, pk) -> Assignment:
    a = assignments_visible_to(user).filter(pk=pk).first()
    if a is None:
        raise NotFound()
    return a


def staff_choices(user) -> QuerySet[Staff]:
    ids = facilities_visible_to(user).values_list("pk", flat=True)
    return Staff.objects.filter(establishment_facility_id__in=ids, is_active=True).order_by("name")
