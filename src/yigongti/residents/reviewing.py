"""The review queue of uncertain pairs: a person decides, the index remembers."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, NotFound
from yigongti.core.paging import slice_page
from yigongti.core.scoping import scope_for
from yigongti.orgs.permissions import can, check

from .merging import merge_of, merge_residents
from .models import LinkHow, MatchReview, MergeEvent, NonMatch, ReviewStatus, SourceRecord


def reviews_visible_to(user) -> QuerySet[MatchReview]:
    if not can(user, "residents.review"):
        return MatchReview.objects.none()
    return scope_for(user).filter(MatchReview.objects.select_related("person", "candidate", "record"), "area_code")


def filtered_reviews(user, status: str = ReviewStatus.OPEN, township: str = "", village: str = "") -> QuerySet:
    """The user's queue of one status, narrowed to a township or a village (12-digit codes, of the candidate's
    area, as the resident list filters); a malformed code matches nothing."""
    qs = reviews_visible_to(user).filter(status=status)
    if village:
        qs = qs.filter(area_code=village) if len(village) == 12 and village.isdigit() else qs.none()
    if township:
        qs = qs.filter(area_code__startswith=township[:9]) if len(township) == 12 and township.isdigit() \
            else qs.none()
    return qs


def review_page(actor: Actor, status: str = ReviewStatus.OPEN, page: int = 1, size: int = 50, *,
                township: str = "", village: str = ""):
    """One page of the queue; both persons of every pair shown are audited as read."""
    result = slice_page(filtered_reviews(actor.user, status, township, village), page, size)
    persons = sorted({p for r in result.items for p in (r.person_id, r.candidate_id)})
    audit.record(actor, "list", "match_review", "", status=status, township=township, village=village,
                 ids=[r.pk for r in result.items], persons=persons)
    return result


def get_review_for(actor: Actor, pk) -> MatchReview:
    try:
        review = reviews_visible_to(actor.user).select_related("person__village__parent", "candidate__village__parent",
                                                          "person__household", "candidate__household").get(pk=pk)
    except (MatchReview.DoesNotExist, ValueError):
        raise NotFound("待审核记录不存在或不在您的管辖范围内") from None
    audit.record(actor, "view", "match_review", review.pk, persons=[review.person_id, review.candidate_id])
    # what the page offers and tells: the merge a "same person" decision made (to undo it), and earlier
    # merges of this pair that were undone (why a decided pair is back in the queue)
    review.merge_event = merge_of(review)  # type: ignore[attr-defined]
    review.undone_merges = list(  # type: ignore[attr-defined]
        MergeEvent.objects.filter(survivor_id=review.candidate_id, merged_id=review.person_id, undone_at__isnull=False)
        .select_related("undone_by", "merged_by"))
    return review


def decide_review(review: MatchReview, same_person: bool, note: str = "", *, actor: Actor) -> MatchReview:
    """Link (merge the provisional person into the candidate) or keep apart for good."""
    check(actor, "residents.review", review)
    user = actor.user
    with transaction.atomic():
        review = MatchReview.objects.select_for_update().get(pk=review.pk)
        if review.status != ReviewStatus.OPEN:
            who = review.decided_by.username if review.decided_by else "?"
            raise Conflict("already_decided", f"该记录已由 {who} 审核（{review.get_status_display()}）")
        if same_person:
            merge_residents(review.candidate, review.person, reason=f"审核确认：{note}"[:200], actor=actor)
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
