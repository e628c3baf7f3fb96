"""Scoped, audited reads of encounters and settlements (person-level data).

An encounter is visible to a user whose scope holds the patient's home area *or* the facility where
it happened, so a township center sees the visits of its villagers at the county hospital and the
county hospital sees patients from another county it treated. Encounters carry diagnoses: reading them
needs the clinical category (``orgs.permissions.READS``), settlements the settlement category."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.core.paging import Page, slice_page
from yigongti.core.scoping import scope_for
from yigongti.orgs.permissions import Category, can_read, check_read
from yigongti.residents.queries import get_resident_for

from .models import Encounter, InsuranceSettlement


def encounters_visible_to(user) -> QuerySet[Encounter]:
    scope = scope_for(user)
    qs = Encounter.objects.all()
    if scope.unrestricted:
        return qs
    if scope.empty:
        return qs.none()
    return qs.filter(scope.q("area_code") | scope.q("facility__region__code"))


def settlements_visible_to(user) -> QuerySet[InsuranceSettlement]:
    return scope_for(user).filter(InsuranceSettlement.objects.all(), "area_code")


def get_encounter_for(actor: Actor, pk) -> Encounter:
    check_read(actor, Category.CLINICAL)
    user = actor.user
    try:
        enc = (encounters_visible_to(user)
               .select_related("facility", "department", "doctor", "resident", "referred_from__facility")
               .get(pk=int(pk)))
    except (Encounter.DoesNotExist, ValueError, TypeError):
        audit.record(actor, "denied", "encounter", pk)
        raise NotFound(_("就诊记录不存在或不在您的管辖范围内")) from None
    audit.record(actor, "view", "encounter", enc.pk, resident=enc.resident_id)
    return enc


def resident_timeline(actor: Actor, resident_pk, page: int = 1, size: int = 50) -> tuple[object, Page, list]:
    """A resident's encounters at every level of the community, newest first, with the settlements
    of care outside the county (for roles that may read settlements); the resident must be in scope
    (audited by get_resident_for). Clinical roles only."""
    check_read(actor, Category.CLINICAL)
    resident = get_resident_for(actor, resident_pk)
    user = actor.user
    qs = (encounters_visible_to(user).filter(resident=resident)
          .select_related("facility", "department", "doctor").prefetch_related("diagnoses", "procedures")
          .order_by("-admit_date", "-id"))
    result = slice_page(qs, page, size)
    outside = []
    if user is None or can_read(user, Category.SETTLEMENT):
        outside = list(settlements_visible_to(user).filter(resident=resident).exclude(
            facility_county=resident.area_code[:6]).order_by("-settle_date")[:50])
    audit.record(actor, "list", "encounter", "", resident=resident.pk, ids=[e.pk for e in result.items],
                 settlements=[s.pk for s in outside])
    return resident, result, outside


def list_encounters(actor: Actor, qs: QuerySet[Encounter], page: int = 1, size: int = 50, **detail) -> Page:
    """One page of an already scoped queryset, with the ids shown recorded in the audit log."""
    check_read(actor, Category.CLINICAL)
    result = slice_page(qs.select_related("facility", "resident").order_by("-admit_date", "-id"), page, size)
    audit.record(actor, "list", "encounter", "", ids=[e.pk for e in result.items], **detail)
    return result


def in_scope_q(user) -> Q:
    scope = scope_for(user)
    if scope.unrestricted:
        return Q()
    if scope.empty:
        return Q(pk__in=[])
    return scope.q("area_code") | scope.q("facility__region__code")
