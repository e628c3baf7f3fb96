"""Merging two persons of the index and undoing it.

A merge re-points every row that refers to the merged person (source records, tags and the rows of
every other app: encounters, referrals …) to the survivor, and writes down exactly which rows it
moved. Unmerge moves those rows back, so the two persons are again exactly what they were."""

from __future__ import annotations

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone

from yigongti.core import audit
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.orgs.models import INDEX_MANAGER_ROLES

from .models import MergeEvent, NonMatch, Resident, ResidentTag

# Rows that describe the merge history itself stay where they are.
NOT_MOVED = {"residents.MergeEvent", "residents.NonMatch", "residents.MatchReview", "residents.ImportRow"}
def can_manage_index(user) -> bool:
    return user.is_superuser or user.role in INDEX_MANAGER_ROLES


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


def merge_residents(actor, user, survivor: Resident, merged: Resident, reason: str = "") -> MergeEvent:
    """并档: ``merged`` becomes part of ``survivor``; returns the event that can undo it."""
    if not can_manage_index(user):
        raise Forbidden("只有医共体管理、机构管理员或卫健局可以合并档案")
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
            pks = list(model.objects.filter(**{field: merged}).values_list("pk", flat=True))
            if pks:
                model.objects.filter(pk__in=pks).update(**{field: survivor})
                moved[f"{model._meta.label}.{field}"] = pks
        merged.merged_into = survivor
        merged.save(update_fields=["merged_into", "updated"])
        event = MergeEvent.objects.create(survivor=survivor, merged=merged, merged_by=user, reason=reason[:200],
                                          moved=moved, dropped_tags=dup_tags)
        audit.record(actor, "merge", "resident", survivor.pk, merged=merged.pk, event=event.pk,
                     moved={k: len(v) for k, v in moved.items()})
    return event


def unmerge_residents(actor, user, event: MergeEvent) -> Resident:
    """拆分: undo a merge exactly; refused while a later merge builds on it."""
    if not can_manage_index(user):
        raise Forbidden("只有医共体管理、机构管理员或卫健局可以拆分档案")
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
        a, b = sorted([survivor.pk, merged.pk])
        NonMatch.objects.get_or_create(person_a_id=a, person_b_id=b, defaults={"decided_by": user})
        audit.record(actor, "unmerge", "resident", survivor.pk, merged=merged.pk, event=event.pk)
    return merged
