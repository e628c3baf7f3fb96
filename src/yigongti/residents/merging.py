"""Merging two persons of the index and undoing it.

A merge re-points every row that refers to the merged person (source records, tags and the rows of
every other app: encounters, referrals …) to the survivor, and writes down exactly which rows it
moved. Unmerge moves those rows back, so the two persons are again exactly what they were."""

from __future__ import annotations

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput
from yigongti.orgs.permissions import check

from . import permissions  # noqa: F401  (declares the residents.* verbs)
from .models import LinkHow, MatchReview, MergeEvent, NonMatch, Resident, ResidentTag, ReviewStatus, SourceRecord

# Rows that describe the merge history itself stay where they are.
NOT_MOVED = {"residents.MergeEvent", "residents.NonMatch", "residents.MatchReview", "residents.ImportRow"}


def _references() -> list[tuple[type[models.Model], str]]:
    """Every (model, field name) with a foreign key to Resident, except the merge history."""
    refs = []
    for model in apps.get_models():
        label = model._meta.label
        if label in NOT_MOVED:
            continue
        for f in model._meta.get_fields():
            if isinstance(f, models.ForeignKey) and f.related_model is Resident and not (
                    model is Resident and f.name == "merged_into"):
                refs.append((model, f.name))
    return refs


def merge_residents(survivor: Resident, merged: Resident, reason: str = "", *, actor: Actor) -> MergeEvent:
    """并档: ``merged`` becomes part of ``survivor``; returns the event that can undo it."""
    check(actor, "residents.merge", survivor)
    user = actor.user
    if survivor.pk == merged.pk:
        raise InvalidInput("same_person", "不能把档案与自身合并")
    with transaction.atomic():
        a, b = sorted([survivor.pk, merged.pk])
        locked = {r.pk: r for r in Resident.objects.select_for_update().filter(pk__in=[a, b])}
        survivor, merged = locked[survivor.pk], locked[merged.pk]
        for r in (survivor, merged):
            if r.merged_into_id:
                raise Conflict("already_merged", f"档案 {r.pk} 已并入档案 {r.merged_into_id}，不能再合并")
        moved: dict[str, list] = {}
        have = set(ResidentTag.objects.filter(resident=survivor).values_list("tag", flat=True))
        dup_tags = list(ResidentTag.objects.filter(resident=merged, tag__in=have).values_list("tag", flat=True))
        ResidentTag.objects.filter(resident=merged, tag__in=dup_tags).delete()
        for model, field in _references():
            pks = list(model._default_manager.filter(**{field: merged}).values_list("pk", flat=True))
            if pks:
                model._default_manager.filter(pk__in=pks).update(**{field: survivor})
                moved[f"{model._meta.label}.{field}"] = pks
        merged.merged_into = survivor
        merged.save(update_fields=["merged_into", "updated"])
        event = MergeEvent.objects.create(survivor=survivor, merged=merged, merged_by=user, reason=reason[:200],
                                          moved=moved, dropped_tags=dup_tags)
        audit.record(actor, "merge", "resident", survivor.pk, merged=merged.pk, event=event.pk,
                     moved={k: len(v) for k, v in moved.items()})
    return event


def review_of(event: MergeEvent) -> MatchReview | None:
    """The review whose "same person" decision made this merge (it merged the review's provisional person
    into its candidate), if a review made it."""
    return (MatchReview.objects.filter(person_id=event.merged_id, candidate_id=event.survivor_id,
                                       status=ReviewStatus.LINKED).order_by("-decided_at", "-pk").first())


def merge_of(review: MatchReview) -> MergeEvent | None:
    """The merge a linked review made (the one an undo button on the review undoes)."""
    if review.status != ReviewStatus.LINKED:
        return None
    return (MergeEvent.objects.filter(survivor_id=review.candidate_id, merged_id=review.person_id,
                                      undone_at__isnull=True).order_by("-at", "-pk").first())


def _reopen_review(review: MatchReview, event: MergeEvent, actor: Actor) -> None:
    """Back in the queue: the "same person" decision is undone, and the review says by whom and when."""
    review = MatchReview.objects.select_for_update().get(pk=review.pk)
    was = review.decided_by.username if review.decided_by else "?"
    when = timezone.localtime(review.decided_at).strftime("%Y-%m-%d %H:%M") if review.decided_at else ""
    undone_by = actor.user.username if actor.user else "系统"
    review.note = (f"原审核（{was} {when}）确认同一人并合并，已由 {undone_by} 撤销合并，待重新审核"
                   + (f"；原说明：{review.note}" if review.note else ""))[:200]
    review.status, review.decided_by, review.decided_at = ReviewStatus.OPEN, None, None
    review.save(update_fields=["status", "decided_by", "decided_at", "note"])
    SourceRecord.objects.filter(pk=review.record_id, how=LinkHow.REVIEWED).update(how=LinkHow.CREATED)
    audit.record(actor, "update", "match_review", review.pk, decision="reopened", undone_merge=event.pk,
                 persons=[review.person_id, review.candidate_id])


def unmerge_residents(event: MergeEvent, *, actor: Actor) -> Resident:
    """拆分: undo a merge exactly; refused while a later merge builds on it.

    A merge that a review decided puts that review back in the queue (its decision marked as undone) for
    someone to decide again; any other merge is remembered as a non-match, so the pair is not proposed
    again."""
    check(actor, "residents.unmerge", event)
    user = actor.user
    with transaction.atomic():
        event = MergeEvent.objects.select_for_update().get(pk=event.pk)
        if event.undone_at:
            raise Conflict("already_undone", "这次合并已经撤销过")
        survivor = Resident.objects.select_for_update().get(pk=event.survivor_id)
        merged = Resident.objects.select_for_update().get(pk=event.merged_id)
        if survivor.merged_into_id:
            raise Conflict("later_merge", f"保留档案已并入档案 {survivor.merged_into_id}，请先撤销那次合并")
        for key, pks in event.moved.items():
            label, field = key.rsplit(".", 1)
            model = apps.get_model(label)
            model.objects.filter(pk__in=pks, **{field: survivor}).update(**{field: merged})
        ResidentTag.objects.bulk_create([ResidentTag(resident=merged, tag=t) for t in event.dropped_tags],
                                        ignore_conflicts=True)
        merged.merged_into = None
        merged.save(update_fields=["merged_into", "updated"])
        event.undone_at, event.undone_by = timezone.now(), user
        event.save(update_fields=["undone_at", "undone_by"])
        review = review_of(event)
        if review is None:
            a, b = sorted([survivor.pk, merged.pk])
            NonMatch.objects.get_or_create(person_a_id=a, person_b_id=b, defaults={"decided_by": user})
        audit.record(actor, "unmerge", "resident", survivor.pk, merged=merged.pk, event=event.pk,
                     review=review.pk if review else None)
        if review is not None:
            _reopen_review(review, event, actor)
    return merged
