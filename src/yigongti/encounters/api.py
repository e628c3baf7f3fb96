from __future__ import annotations

from ninja import Field, File, Query, Router, Schema
from ninja.files import UploadedFile

from yigongti.core import uploads
from yigongti.core.actor import Actor
from yigongti.core.exports import XLSX_TYPE
from yigongti.core.paging import page_dict, page_field, size_field

from . import queries, services
from .schemas import EncounterIn, EncounterOut, EncounterPage, ImportReportOut
from .views import template_response

router = Router(tags=["就诊记录"])


class EncounterQuery(Schema):
    resident: int = Field(..., description="居民ID")
    page: int = page_field()
    page_size: int = size_field()


@router.get("", response=EncounterPage)
def list_encounters(request, params: Query[EncounterQuery]):
    """A resident's encounters at every level (scoped, audited)."""
    _resident, page, _outside = queries.resident_timeline(
        Actor.from_request(request), params.resident, params.page, params.page_size)
    return page_dict(page, count=False)


@router.get("/{int:pk}", response=EncounterOut)
def get_encounter(request, pk: int):
    return queries.get_encounter_for(Actor.from_request(request), pk)


@router.post("", response={201: EncounterOut})
def record_encounter(request, payload: EncounterIn):
    return 201, services.record_encounter(payload.dict(), actor=Actor.from_request(request))


@router.post("/imports/{kind}", response=ImportReportOut)
def import_file(request, kind: str, file: File[UploadedFile | None] = None):
    """Import settlements, population or deaths (CSV in UTF-8 or GBK, .xlsx or Parquet; Chinese headers
    accepted, see the template); returns the per-row error report."""
    file = uploads.required_upload(request, file)
    with uploads.saved_upload(file) as path:
        return services.import_rows(kind, path, file.name or "", actor=Actor.from_request(request)).as_dict()


@router.get("/imports/{kind}/template", response={200: None}, openapi_extra={
    "responses": {"200": {"description": "Excel 模板", "content": {XLSX_TYPE: {}}}}})
def import_template(request, kind: str):
    """The Excel template of an import kind: Chinese headers and an example row."""
    return template_response(kind)
