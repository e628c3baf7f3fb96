"""Scoped reads of referrals. A referral is visible to the staff of the facility that sent it, of the
facility that receives it, and to the members of the community's referral center; managers and the
bureau see counts (``indicators.py``, ``outflow.py``), not patients.

The receiving side may read the patient's shared record through an active referral even where the
patient lies outside its normal scope; every such read is audited as ``via_referral``."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from yigongti.core import audit
from yigongti.core.errors import NotFound
from yigongti.core.paging import Page, slice_page
from yigongti.core.scoping import scope_for
from yigongti.encounters.models import Encounter

from . import workflow
from .models import FollowUp, FollowUpStatus, GuidelineRule, Referral, Status
from .services import center_ids_of

RELATED = ("resident", "from_facility", "to_facility", "to_department", "referred_by", "answered_by")


def _user_of(who):
    return getattr(who, "user", who)


def referrals_visible_to(user) -> QuerySet[Referral]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Referral.objects.none()
    q = Q(pk__in=[])
    if user.facility_id:
        q |= Q(from_facility_id=user.facility_id) | Q(to_facility_id=user.facility_id)
    centers = center_ids_of(user)
    if centers:
        q |= Q(center_id__in=centers)
    return Referral.objects.filter(q)


def get_referral_for(who, pk) -> Referral:
    """One referral the user may see, with its patient; the read is audited (and counts as a read of the
    patient's record through the referral when the patient lies outside the user's own scope)."""
    user = _user_of(who)
    try:
        r = referrals_visible_to(user).select_related(
            *RELATED, "to_doctor", "center", "source_referral", "guideline_rule", "resident__village__parent").get(pk=int(pk))
    except (Referral.DoesNotExist, ValueError, TypeError):
        audit.record(who, "denied", "referral", pk)
        raise NotFound("转诊单不存在或无权访问") from None
    audit.record(who, "view", "referral", r.pk, resident=r.resident_id)
    if not scope_for(user).contains(r.area_code):
        audit.record(who, "view", "resident", r.resident_id, via_referral=r.pk)
    return r


def shared_record(who, r: Referral, limit: int = 20) -> list[Encounter] | None:
    """The patient's recent encounters at every level, live, for the parties of an active referral (None when
    the referral no longer grants it and the patient is outside the user's scope). Audited."""
    user = _user_of(who)
    own = scope_for(user).contains(r.area_code)
    if not own and r.status not in workflow.ACTIVE:
        return None
    since = timezone.localdate() - dt.timedelta(days=365)
    rows = list(Encounter.objects.filter(resident_id=r.resident_id, admit_date__gte=since)
                .select_related("facility", "department").order_by("-admit_date", "-id")[:limit])
    audit.record(who, "list", "encounter", "", resident=r.resident_id, ids=[e.pk for e in rows],
                 **({} if own else {"via_referral": r.pk}))
    return rows


def center_queue(who, tab: str = "pending", page: int = 1, size: int = 25) -> Page:
    """The referral center's queue: unanswered referrals of the whole community, green channel first, then
    the longest waiting; other tabs show what was answered today, the overdue and all."""
    user = _user_of(who)
    qs = Referral.objects.filter(center_id__in=center_ids_of(user)).select_related(*RELATED)
    if tab == "pending":
        qs = qs.filter(status=Status.SUBMITTED).order_by("priority", "submitted_at")
    elif tab == "overdue":
        qs = qs.filter(status=Status.SUBMITTED, escalated_at__isnull=False).order_by("priority", "submitted_at")
    elif tab == "today":
        start = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time()))
        qs = qs.filter(answered_at__gte=start).order_by("-answered_at")
    else:
        qs = qs.exclude(status=Status.DRAFT).order_by("-submitted_at")
    result = slice_page(qs, page, size)
    audit.record(who, "list", "referral", "", tab=tab, ids=[r.pk for r in result.items])
    return result


def queue_counts(user) -> dict[str, int]:
    qs = Referral.objects.filter(center_id__in=center_ids_of(user), status=Status.SUBMITTED)
    return {"pending": qs.count(), "overdue": qs.filter(escalated_at__isnull=False).count(),
            "green": qs.filter(urgency="green").count()}


def my_referrals(who, box: str = "todo", page: int = 1, size: int = 25) -> Page:
    """A facility's referrals: ``todo`` (to receive, check in, follow up), ``in`` (received), ``out`` (sent)."""
    user = _user_of(who)
    fid = user.facility_id
    qs = Referral.objects.select_related(*RELATED)
    if not fid:
        qs = qs.none()
    elif box == "out":
        qs = qs.filter(from_facility_id=fid).order_by("-id")
    elif box == "in":
        qs = qs.filter(to_facility_id=fid).exclude(status=Status.DRAFT).order_by("-submitted_at")
    else:
        qs = qs.filter(
            Q(to_facility_id=fid, status__in=[Status.ACCEPTED, Status.REDIRECTED, Status.ARRIVED])
            | Q(to_facility_id=fid, status=Status.SUBMITTED, center__isnull=True)
            | Q(from_facility_id=fid, status=Status.DRAFT)).order_by("priority", "submitted_at")
    result = slice_page(qs, page, size)
    audit.record(who, "list", "referral", "", box=box, ids=[r.pk for r in result.items])
    return result


def due_follow_ups(user, within_days: int = 7) -> QuerySet[FollowUp]:
    """Planned follow-ups of down-referred patients at the user's facility due within a week (or overdue)."""
    if not user.facility_id:
        return FollowUp.objects.none()
    return (FollowUp.objects.filter(referral__to_facility_id=user.facility_id, status=FollowUpStatus.PLANNED,
                                    referral__status__in=[Status.SUBMITTED, Status.ACCEPTED, Status.ARRIVED],
                                    due_date__lte=timezone.localdate() + dt.timedelta(days=within_days))
            .select_related("referral__resident").order_by("due_date"))


def guideline_rules() -> QuerySet[GuidelineRule]:
    return GuidelineRule.objects.order_by("icd10_from")
