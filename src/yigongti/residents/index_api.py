"""The resident index over the API: candidate search, import, review, merge and unmerge."""

import datetime as dt
import os
import tempfile

from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile


from . import importing, merging, queries, reviewing
from .candidates import make_probe, registration_search
from .models import ImportBatch, MergeEvent

router = Router(tags=["居民主索引"])


class ProbeIn(Schema):
    id_number: str = ""
    name: str = ""
    sex: str = Field("", description="男/女、M/F 或 1/2")
    birth_date: str = Field("", description="YYYY-MM-DD 或 YYYYMMDD")
    phone: str = ""
    address: str = ""


class CandidateOut(Schema):
    resident_id: int
    name: str
    sex: str
    birth_date: dt.date
    id_number: str
    village: str
    score: float
    likely_same_person: bool
    reasons_for: list[str]
    reasons_against: list[str]


class CandidatesOut(Schema):
    problems: list[str]
    candidates: list[CandidateOut]


@router.get("/candidates", response=CandidatesOut)
def search_candidates(request, probe: Query[ProbeIn]):
    """建档前检索: who in the index this patient may be, with the reasons."""
    p = make_probe(**probe.dict())
    found = registration_search(request, p)
    return {"problems": p.problems, "candidates": [
        {"resident_id": c.resident.pk, "name": c.resident.name, "sex": c.resident.sex,
         "birth_date": c.resident.birth_date, "id_number": c.resident.masked_id_number,
         "village": c.resident.village.name if c.resident.village else "", "score": round(c.score, 4),
         "likely_same_person": c.linked, "reasons_for": c.reasons_for, "reasons_against": c.reasons_against}
        for c in found]}


class BatchOut(Schema):
    id: int
    filename: str
    source_system: str
    status: str
    summary: dict
    file_problems: list[str]


class RowOut(Schema):
    row_number: int
    record_id: str | None = Field(None, alias="data.record_id")
    action: str
    candidate_id: int | None
    score: float | None
    problems: list[str]


@router.post("/imports", response={201: BatchOut})
def upload_import(request, file: File[UploadedFile], source_system: Form[str] = ""):
    """Upload a CSV/Excel/Parquet list; returns the preview (nothing is changed until commit)."""
    suffix = os.path.splitext(file.name or "")[1].lower()
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        for chunk in file.chunks():
            tmp.write(chunk)
        tmp.flush()
        batch = importing.preview_import(request, request.user, tmp.name, file.name or "upload", source_system)
    return Status(201, batch)


def _batch(request, pk) -> ImportBatch:
    return importing.get_batch_for(request, pk)


@router.get("/imports/{int:pk}", response=BatchOut)
def get_import(request, pk: int):
    return _batch(request, pk)


@router.get("/imports/{int:pk}/rows", response=list[RowOut])
def import_rows(request, pk: int, action: str = "", page: int = 1):
    """Staged rows, 500 a page."""
    return importing.staged_rows(request, _batch(request, pk), action, page, size=500).items


@router.post("/imports/{int:pk}/commit", response=BatchOut)
def commit_import(request, pk: int):
    return importing.commit_import(request, request.user, _batch(request, pk))


@router.post("/imports/{int:pk}/discard", response=BatchOut)
def discard_import(request, pk: int):
    return importing.discard_import(request, request.user, _batch(request, pk))


class ReviewOut(Schema):
    id: int
    person_id: int
    candidate_id: int
    score: float
    status: str
    reasons_for: list[str]
    reasons_against: list[str]


class DecisionIn(Schema):
    same_person: bool
    note: str = ""


@router.get("/reviews", response=list[ReviewOut])
def list_reviews(request, status: str = "open", page: int = 1):
    return reviewing.review_page(request, status, page, size=200).items


@router.post("/reviews/{int:pk}/decision", response=ReviewOut)
def decide(request, pk: int, payload: DecisionIn):
    review = reviewing.get_review_for(request, pk)
    return reviewing.decide_review(request, request.user, review, payload.same_person, payload.note)


class MergeIn(Schema):
    merged_id: int
    reason: str = ""


class MergeOut(Schema):
    id: int
    survivor_id: int
    merged_id: int
    moved: dict
    undone_at: dt.datetime | None


@router.post("/{int:pk}/merge", response=MergeOut)
def merge(request, pk: int, payload: MergeIn):
    """Merge resident ``merged_id`` into resident ``pk``."""
    survivor = queries.get_resident_for(request, pk)
    other = queries.get_resident_for(request, payload.merged_id)
    return merging.merge_residents(request, request.user, survivor, other, payload.reason)


@router.post("/merges/{int:event_id}/undo", response=MergeOut)
def unmerge(request, event_id: int):
    event = get_object_or_404(MergeEvent, pk=event_id)
    queries.get_resident_for(request, event.survivor_id)
    merging.unmerge_residents(request, request.user, event)
    event.refresh_from_db()
    return event
