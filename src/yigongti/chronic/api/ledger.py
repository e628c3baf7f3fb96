"""/api/v1/chronic/ledger: the village ledger (one page of rows with the counts) and its Excel export."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema

from yigongti.core import exports
from yigongti.core.actor import Actor
from yigongti.core.paging import page_field

from .. import ledger_export
from ..queries import ledger as lq

router = Router(tags=["两病患者管理台账"])


class LedgerQuery(Schema):
    village: str = Field("", max_length=12, description="村（12位区划代码；默认为本人负责的第一个村）")
    condition: str = Field("", pattern="^(|htn|t2dm)$", description="htn 高血压 / t2dm 2型糖尿病 / 空：全部")
    status: str = Field("all", pattern="^(all|overdue|due|uncontrolled|never)$",
                        description="all / overdue 逾期 / due 7天内应随访 / uncontrolled 控制不满意 / never 未随访")
    q: str = Field("", max_length=20, description="姓名前缀")
    page: int = page_field()
    page_size: int = Field(lq.PAGE_SIZE, ge=1, le=500)


class LedgerRowOut(Schema):
    enrolment_id: int
    resident_id: int
    name: str
    sex: str
    age: int
    phone: str = Field(description="脱敏")
    condition: str
    diagnosed_on: dt.date | None
    enrolled_on: dt.date
    visits_this_year: int = Field(description="本年面对面随访次数")
    last_visit_on: dt.date | None
    last_bp: str
    last_fbg: str
    control: str
    uncontrolled_streak: int
    next_due: dt.date | None
    state: str = Field(description="overdue / due / never / ok")
    days: int | None = Field(description="逾期天数（正数）或距下次随访天数（负数）")


class SummaryOut(Schema):
    patients: int
    htn: int
    t2dm: int
    overdue: int
    due: int
    uncontrolled: int
    never: int


class LedgerOut(Schema):
    village: str
    village_name: str
    today: dt.date
    summary: SummaryOut
    items: list[LedgerRowOut]
    page: int
    page_size: int
    has_next: bool


@router.get("", response=LedgerOut)
def get_ledger(request, params: Query[LedgerQuery]):
    """One page of a village's 两病患者管理台账 (scoped to the reader's area, audited), most urgent first."""
    actor = Actor.from_request(request)
    village = lq.default_village(actor, params.village) or lq.village_for(actor, params.village)
    lg = lq.ledger_for(actor, village, lq.LedgerFilter.from_query(params.dict()), page=params.page,
                      size=params.page_size)
    return {"village": village.code, "village_name": village.name, "today": lg.today, "summary": lg.summary,
            "items": lg.page.items, "page": lg.page.number, "page_size": lg.page.size, "has_next": lg.page.has_next}


class ExportQuery(Schema):
    village: str = Field(..., min_length=12, max_length=12, description="村（12位区划代码）")
    year: str = Field("", max_length=4, description="年度（默认今年）")


@router.get("/export", response={200: None})
def export_ledger(request, params: Query[ExportQuery]):
    """The village's ledger as Excel in the columns of the 《村卫生所两病患者管理台账》 (audited)."""
    actor = Actor.from_request(request)
    village = lq.village_for(actor, params.village)
    year = ledger_export.parse_year(params.year)
    resp = HttpResponse(ledger_export.export_xlsx(actor, village, year=year), content_type=exports.XLSX_TYPE)
    resp["Content-Disposition"] = exports.content_disposition(ledger_export.filename(village, year))
    return resp
