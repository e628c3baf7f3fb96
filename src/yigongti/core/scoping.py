"""Who may see which person-level data: the one function that decides it.

A user's scope is a set of region-code prefixes over the 12-digit statistical codes
(county 6 digits, township 9, village 12). Person-level rows carry the 12-digit code of
where the person lives (``area_code``), so a scope is a prefix filter that an index serves.

- village clinic staff: their village;
- township health center staff: their township and its villages;
- county-level facilities of a community, and community managers: the whole community's county;
- the county health bureau: its county; the city: its city (or everything without a region);
- auditors read the audit log, not records: empty scope.

This module reads the user's role, facility and region by attribute so that the kernel does not
import the organisation app.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from .carelevel import CareLevel, care_level

NO_RECORD_ROLES = {"auditor"}


@dataclass(frozen=True)
class Scope:
    prefixes: tuple[str, ...] | None  # None: unrestricted

    @property
    def unrestricted(self) -> bool:
        return self.prefixes is None

    @property
    def empty(self) -> bool:
        return self.prefixes == ()

    def contains(self, code: str | None) -> bool:
        if self.prefixes is None:
            return True
        if not code:
            return False
        return any(code.startswith(p) for p in self.prefixes)

    def q(self, field: str = "area_code") -> Q:
        if self.prefixes is None:
            return Q()
        if not self.prefixes:
            return Q(pk__in=[])
        q = Q()
        for prefix in self.prefixes:
            q |= Q(**{f"{field}__startswith": prefix}) if len(prefix) < 12 else Q(**{field: prefix})
        return q

    def filter(self, qs: QuerySet, field: str = "area_code") -> QuerySet:
        return qs if self.prefixes is None else qs.filter(self.q(field))


EVERYTHING = Scope(None)
NOTHING = Scope(())


def _region_prefix(region) -> str:
    return region.prefix if region is not None else ""


def facility_prefix(facility) -> str:
    """The region prefix a facility serves by its care level (core.carelevel): a village-level facility its
    village, a township-level one its township, a county-level one its community's county."""
    code = facility.region.code
    level = care_level(facility.type)
    if level == CareLevel.VILLAGE:
        return code
    if level == CareLevel.TOWNSHIP:
        return code[:9]
    if facility.community_id is not None:
        return facility.community.region.prefix
    return code[:6]


def scope_for(user) -> Scope:
    """The region scope of a user's access to person-level data."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    cached = getattr(user, "_yigongti_scope", None)
    if cached is not None:
        return cached
    scope = _compute_scope(user)
    user._yigongti_scope = scope
    return scope


def _compute_scope(user) -> Scope:
    role = user.role
    if role in NO_RECORD_ROLES:
        return NOTHING
    if role == "city":
        return Scope((_region_prefix(user.region),)) if user.region_id else EVERYTHING
    if role == "bureau":
        return Scope((_region_prefix(user.region),)) if user.region_id else NOTHING
    if role == "community_manager":
        if user.facility_id and user.facility.community_id:
            return Scope((user.facility.community.region.prefix,))
        return Scope((_region_prefix(user.region),)) if user.region_id else NOTHING
    if user.facility_id:
        return Scope((facility_prefix(user.facility),))
    if user.region_id:  # e.g. insurance officers of the county
        return Scope((_region_prefix(user.region),))
    if user.is_superuser:
        return EVERYTHING
    return NOTHING


def facility_scope_q(user, field: str = "region__code") -> Q:
    """Facilities whose data the user may see (their region lies within the user's scope)."""
    return scope_for(user).q(field)
