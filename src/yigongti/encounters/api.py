from __future__ import annotations

from django.conf import settings
from ninja import Field, File, Query, Router, Schema
from ninja.files import UploadedFile

from . import queries, services
from .schemas import EncounterIn, EncounterOut, EncounterPage, ImportReportOut

router = Router(tags=["就诊记录"])


class EncounterQuery(Schema):
    resident: int = Field(..., description="居民ID")
    page: int = Field(1, ge=1)
    page_size: int = Field(settings.YIGONGTI_PAGE_SIZE, ge=1, le=settings.YIGONGTI_MAX_PAGE_SIZE)


@router.get("", response=EncounterPage)
def list_encounters(request, params: Query[EncounterQuery]):
    """A resident's encounters at every level (scoped, audited)."""
    _resident, page, _outside = queries.resident_timeline(request, params.resident, params.page, params.page_size)
    return {"items": page.items, "page": page.number, "page_size": page.size, "has_next": page.has_next,
            "count": None}


@router.get("/{int:pk}", response=EncounterOut)
def get_encounter(request, pk: int):
    return queries.get_encounter_for(request, pk)


@router.post("", response={201: EncounterOut})
def record_encounter(request, payload: EncounterIn):
    return 201, services.record_encounter(request, request.user, payload.dict())


@router.post("/imports/{kind}", response=ImportReportOut)
def import_file(request, kind: str, file: File[UploadedFile]):
    """Import settlements, population or deaths (CSV, .xlsx or Parquet); returns the per-row error report."""
    return services.import_rows(request, request.user, kind, file, file.name).as_dict()
