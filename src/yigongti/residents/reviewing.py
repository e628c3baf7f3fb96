"""The review queue of uncertain pairs: a person decides, the index remembers."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from yigongti.core import audit
from yigongti.core.errors import Conflict, NotFound
from yigongti.core.paging import slice_page
from yigongti.core.scoping import scope_for

from .merging import can_manage_index, merge_residents
from .models import LinkHow, MatchReview, NonMatch, ReviewStatus, SourceRecord


def reviews_visible_to(user) -> QuerySet[MatchReview]:
    if not can_manage_index(user):
        return MatchReview.objects.none()
    return scope_for(user).filter(MatchReview.objects.select_related("person", "candidate", "record"), "area_code")


def review_page(who, status: str = ReviewStatus.OPEN, page: int = 1, size: int = 50):
    """One page of the queue; both persons of every pair shown are audited as read."""
    user = getattr(who, "user", who)
    result = slice_page(reviews_visible_to(user).filter(status=status), page, size)
    persons = sorted({p for r in result.items for p in (r.person_id, r.candidate_id)})
    audit.record(who, "list", "match_review", "", status=status, ids=[r.pk for r in result.items], persons=persons)
    return result


def get_review_for(who, pk) -> MatchReview:
    user = getattr(who, "user", who)
    try:
        review = reviews_visible_to(user).select_related("person__village__parent", "candidate__village__parent",
                                                          "person__household", "candidate__household").get(pk=pk)
    except (MatchReview.DoesNotExist, ValueError):
        raise NotFound("待审核记录不存在或不在您的管辖范围内") from None
    audit.record(who, "view", "match_review", review.pk, persons=[review.person_id, review.candidate_id])
    return review


def decide_review(actor, user, review: MatchReview, same_person: bool, note: str = "") -> MatchReview:
    """Link (merge the provisional person into the candidate) or keep apart for good."""
    with transaction.atomic():
        review = MatchReview.objects.select_for_update().get(pk=review.pk)
        if review.status != ReviewStatus.OPEN:
            who = review.decided_by.username if review.decided_by else "?"
            raise Conflict("already_decided", f"该记录已由 {who} 审核（{review.get_status_display()}）")
        if same_person:
            merge_residents(actor, user, review.candidate, review.person, reason=f"审核确认：{note}"[:200])
            SourceRecord.objects.filter(pk=review.record_id).update(how=LinkHow.REVIEWED)
            review.status = ReviewStatus.LINKED
        else:
            a, b = sorted([review.person_id, review.candidate_id])
            NonMatch.objects.get_or_create(person_a_id=a, person_b_id=b, defaults={"decided_by": user})
            review.status = ReviewStatus.SEPARATED
        review.decided_by, review.decided_at, review.note = user, timezone.now(), note[:200]
        review.save(update_fields=["status", "decided_by", "decided_at", "note"])
        audit.record(actor, "update", "match_review", review.pk, decision=review.status,
                     persons=[review.person_id, review.candidate_id])
    return review
