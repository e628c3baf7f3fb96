"""Scoped reads of prescriptions. A prescription is person-level clinical data: it is visible to the
clinicians and pharmacists whose scope (``core.scoping``) holds the resident's home, within their community;
reading one appends an audit event. Managers and the bureau see the indicators, not the prescriptions."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role
from yigongti.pharmacy.models import Item

from .models import CommentClass, CommentSample, Prescription, Status

READERS = (Role.DOCTOR, Role.VILLAGE_DOCTOR, Role.NURSE, Role.PHARMACIST)


def community_of(user) -> int | None:
    return user.facility.community_id if getattr(user, "facility_id", None) else None


def prescriptions_visible_to(user) -> QuerySet[Prescription]:
    if user is None or not has_role(user, *READERS) or community_of(user) is None:
        return Prescription.objects.none()
    qs = Prescription.objects.filter(community_id=community_of(user))
    if has_role(user, Role.PHARMACIST):
        # the community's pharmacists review centrally (县域集中审方): the whole community; a township or village
        # dispensary also sees what it must dispense
        return qs
    return scope_for(user).filter(qs) | qs.filter(facility_id=user.facility_id)


def get_prescription_for(actor: Actor, pk) -> Prescription:
    try:
        p = (prescriptions_visible_to(actor.user).select_related("resident", "facility", "doctor", "encounter")
             .get(pk=int(pk)))
    except (Prescription.DoesNotExist, ValueError, TypeError):
        audit.record(actor, "denied", "prescription", pk)
        raise NotFound(_("处方不存在或不在您的管辖范围内")) from None
    audit.record(actor, "view", "prescription", p.pk, resident=p.resident_id)
    return p


def review_queue(user) -> QuerySet[Prescription]:
    """Waiting for a pharmacist: highest risk first, then the longest wait."""
    return (prescriptions_visible_to(user).filter(status=Status.REVIEW_PENDING)
            .select_related("resident", "facility", "doctor").order_by("-risk", "submitted_at", "pk"))


def dispense_queue(user) -> QuerySet[Prescription]:
    """Dispensable prescriptions of the user's own facility (or the e-prescriptions to dispense there)."""
    here = Q(facility_id=user.facility_id)
    if has_role(user, Role.PHARMACIST):  # the county pharmacy and the TCM center dispense the e-prescriptions
        here |= Q(source="ihospital")
    return (prescriptions_visible_to(user).filter(status__in=[Status.SUBMITTED, Status.APPROVED]).filter(here)
            .select_related("resident", "facility").order_by("submitted_at", "pk"))


def recent(user, limit: int = 50) -> QuerySet[Prescription]:
    return prescriptions_visible_to(user).select_related("resident", "facility").order_by("-prescribed_at")[:limit]


def catalogue_for(facility, q: str = "", limit: int = 30) -> QuerySet[Item]:
    """Items a facility may prescribe: its community's active catalogue at or below its care level."""
    from yigongti.core.carelevel import LEVEL_RANK

    levels = [lv for lv, rank in LEVEL_RANK.items() if rank <= LEVEL_RANK[facility.care_level]]
    qs = Item.objects.filter(community_id=facility.community_id, is_active=True, min_level__in=levels)
    q = q.strip().lower()
    if q:
        qs = qs.filter(search__contains=q)
    return qs.order_by("generic_name", "strength")[:limit]


def samples_for(user, month: dt.date) -> QuerySet[CommentSample]:
    cid = community_of(user)
    if cid is None or not has_role(user, Role.PHARMACIST):
        return CommentSample.objects.none()
    return (CommentSample.objects.filter(community_id=cid, month=month.replace(day=1))
            .select_related("facility", "doctor", "prescription", "prescription__resident",
                            "prescription__doctor_staff")
            .order_by("classification", "facility__name", "pk"))


def comment_counts(community_id: int, month: dt.date, by: str = "doctor") -> list[dict]:
    """Per doctor (or facility): sampled, reviewed, and the three irrational classes."""
    field = "prescription__doctor_staff__name" if by == "doctor" else "facility__name"
    key = "prescription__doctor_staff_id" if by == "doctor" else "facility_id"
    rows = (CommentSample.objects.filter(community_id=community_id, month=month.replace(day=1))
            .values(key, field).annotate(
                sampled=Count("pk"), reviewed=Count("pk", filter=~Q(classification="")),
                nonstandard=Count("pk", filter=Q(classification=CommentClass.NONSTANDARD)),
                inappropriate=Count("pk", filter=Q(classification=CommentClass.INAPPROPRIATE)),
                excessive=Count("pk", filter=Q(classification=CommentClass.EXCESSIVE)))
            .order_by(field))
    out = []
    for r in rows:
        irr = r["nonstandard"] + r["inappropriate"] + r["excessive"]
        out.append({**r, "name": r[field] or "—", "irrational": irr,
                    "rate": round(100 * irr / r["reviewed"], 1) if r["reviewed"] else None})
    return out
