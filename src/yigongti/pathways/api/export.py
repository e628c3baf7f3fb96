"""/api/v1/pathways/export: the national registries' field mapping (with its gaps) and a center's cases as the
registry's table (JSON), Excel or CSV."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema

from yigongti.core.actor import Actor

from .. import export as ex
from ..queries_dashboards import center_for

router = Router(tags=["上报数据导出"])
TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv; charset=utf-8"}


class FieldOut(Schema):
    section: str
    field: str
    source: str
    gap: bool


class MappingOut(Schema):
    kind: str
    registry: str
    fields: list[FieldOut]
    gaps: int


class TableOut(Schema):
    kind: str
    registry: str
    columns: list[str]
    rows: list[list[str]]

    @staticmethod
    def resolve_columns(obj) -> list[str]:
        return [f"{f.section}/{f.name}" for f in obj.fields]


class ExportQuery(Schema):
    first: str = Field(..., max_length=7, description="起始月份 YYYY-MM")
    last: str = Field("", max_length=7, description="结束月份 YYYY-MM（默认同起始月份，最多12个月）")
    format: str = Field("json", pattern="^(json|xlsx|csv)$", description="json / xlsx / csv")


@router.get("/mapping/{kind}", response=MappingOut)
def get_mapping(request, kind: str):
    """Every registry field of chest_pain or stroke, where its value comes from, and which ones we don't capture."""
    fields = ex.fields_of(kind)
    return {"kind": kind, "registry": ex.REGISTRIES[kind], "gaps": sum(f.gap for f in fields),
            "fields": [{"section": f.section, "field": f.name, "source": f.source, "gap": f.gap} for f in fields]}


@router.get("/{center_id}", response=TableOut)
def export_center(request, center_id: int, params: Query[ExportQuery]):
    """A center's cases opened in [first, last] (audited: the export carries names and ID numbers); ``format=xlsx``
    or ``csv`` returns the file."""
    t = ex.export(Actor.from_request(request), center_for(request.user, center_id), params.first, params.last)
    return t if params.format == "json" else _file(t, params)


def _file(t: ex.Table, params: ExportQuery) -> HttpResponse:
    body = ex.to_xlsx(t) if params.format == "xlsx" else ex.to_csv(t)
    resp = HttpResponse(body, content_type=TYPES[params.format])
    name = ex.filename(t.center, params.first, params.last, params.format)
    resp["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp
