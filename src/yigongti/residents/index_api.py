"""The resident index over the API: candidate search, import, review, merge and unmerge."""

import datetime as dt
import json

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from yigongti.core import uploads
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.core.exports import XLSX_TYPE, content_disposition
from yigongti.orgs.permissions import check

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


class NameProbeIn(Schema):
    """What a URL may carry: no ID number, no phone."""

    name: str = ""
    sex: str = Field("", description="男/女、M/F 或 1/2")
    birth_date: str = Field("", description="YYYY-MM-DD 或 YYYYMMDD")
    address: str = ""
    id_number: str = Field("", description="不接受：请用 POST，身份证号放在请求体中")
    phone: str = Field("", description="不接受：请用 POST，电话放在请求体中")


def _candidates(request, probe: ProbeIn | NameProbeIn) -> dict:
    p = make_probe(**probe.dict())
    found = registration_search(p, actor=Actor.from_request(request))
    return {"problems": p.problems, "candidates": [
        {"resident_id": c.resident.pk, "name": c.resident.name, "sex": c.resident.sex,
         "birth_date": c.resident.birth_date, "id_number": c.resident.masked_id_number,
         "village": c.resident.village.name if c.resident.village else "", "score": round(c.score, 4),
         "likely_same_person": c.linked, "reasons_for": c.reasons_for, "reasons_against": c.reasons_against}
        for c in found]}


@router.post("/candidates", response=CandidatesOut)
def search_candidates(request, probe: ProbeIn):
    """建档前检索: who in the index this patient may be, with the reasons. Rate-limited per account and per
    client, audited (the probe's identifiers as a keyed digest); a phone is matched only for users who may
    see phones."""
    return _candidates(request, probe)


@router.get("/candidates", response=CandidatesOut)
def search_candidates_by_name(request, probe: Query[NameProbeIn]):
    """The same search by name, sex, birth date and address only: ID numbers and phones are refused in a URL
    (they would land in access logs); POST them in the body."""
    if probe.id_number or probe.phone:
        raise InvalidInput("identifier_in_url", "身份证号和电话不能放在网址中，请用 POST /api/v1/residents/candidates "
                           "在请求体中提交", field="id_number" if probe.id_number else "phone")
    return _candidates(request, probe)


class BatchOut(Schema):
    id: int
    filename: str
    source_system: str
    status: str
    summary: dict
    summary_text: str
    failure: str
    file_problems: list[str]

    @staticmethod
    def resolve_summary_text(obj) -> str:
        return importing.describe_batch(obj)


class RowOut(Schema):
    row_number: int
    record_id: str | None = Field(None, alias="data.record_id")
    action: str
    candidate_id: int | None
    score: float | None
    problems: list[str]


@router.post("/imports", response={201: BatchOut})
def upload_import(request, file: File[UploadedFile | None] = None, source_system: Form[str] = "",
                  mapping: Form[str] = ""):
    """Upload a CSV/Excel/Parquet list; returns the preview (nothing is changed until commit).

    Headers may be English or Chinese (姓名, 性别, 出生日期, 身份证号 …). When they are not recognised the
    answer is 422 ``columns_unknown`` with the file's headers in ``errors.headers``: send the file again
    with ``mapping``, a JSON object from our column to the file's (``{"name": "客户名称"}``)."""
    try:
        chosen = json.loads(mapping) if mapping else None
    except ValueError:
        chosen = None
    if chosen is not None and not (isinstance(chosen, dict) and all(isinstance(v, str) for v in chosen.values())):
        raise InvalidInput("invalid_mapping", "mapping 应为 JSON 对象，如 {\"name\": \"客户名称\"}", field="mapping")
    file = uploads.required_upload(request, file)
    with uploads.saved_upload(file) as path:
        batch = importing.preview_import(path, file.name or "upload", source_system,
                                         actor=Actor.from_request(request), mapping=chosen)
    return Status(201, batch)


@router.get("/imports/template", response={200: None}, openapi_extra={
    "responses": {"200": {"description": "Excel 模板", "content": {XLSX_TYPE: {}}}}})
def import_template(request):
    """The Excel template of a resident list: Chinese headers, one example row, text-formatted columns."""
    check(Actor.from_request(request), "residents.import")
    resp = HttpResponse(importing.template_xlsx(), content_type=XLSX_TYPE)
    resp["Content-Disposition"] = content_disposition("居民名单导入模板.xlsx")
    return resp


def _batch(request, pk) -> ImportBatch:
    return importing.get_batch_for(Actor.from_request(request), pk)


@router.get("/imports/{int:pk}", response=BatchOut)
def get_import(request, pk: int):
    return _batch(request, pk)


@router.get("/imports/{int:pk}/rows", response=list[RowOut])
def import_rows(request, pk: int, action: str = "", page: int = 1):
    """Staged rows, 500 a page."""
    return importing.staged_rows(Actor.from_request(request), _batch(request, pk), action, page, size=500).items


@router.post("/imports/{int:pk}/commit", response=BatchOut)
def commit_import(request, pk: int):
    return importing.commit_import(_batch(request, pk), actor=Actor.from_request(request))


@router.post("/imports/{int:pk}/discard", response=BatchOut)
def discard_import(request, pk: int):
    return importing.discard_import(_batch(request, pk), actor=Actor.from_request(request))


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
    return reviewing.review_page(Actor.from_request(request), status, page, size=200).items


@router.post("/reviews/{int:pk}/decision", response=ReviewOut)
def decide(request, pk: int, payload: DecisionIn):
    review = reviewing.get_review_for(Actor.from_request(request), pk)
    return reviewing.decide_review(review, payload.same_person, payload.note, actor=Actor.from_request(request))


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
    survivor = queries.get_resident_for(Actor.from_request(request), pk)
    other = queries.get_resident_for(Actor.from_request(request), payload.merged_id)
    return merging.merge_residents(survivor, other, payload.reason, actor=Actor.from_request(request))


@router.post("/merges/{int:event_id}/undo", response=MergeOut)
def unmerge(request, event_id: int):
    event = get_object_or_404(MergeEvent, pk=event_id)
    queries.get_resident_for(Actor.from_request(request), event.survivor_id)
    merging.unmerge_residents(event, actor=Actor.from_request(request))
    event.refresh_from_db()
    return event
