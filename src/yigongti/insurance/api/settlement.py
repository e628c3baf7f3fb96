"""/api/v1/insurance/settlement: the year-end settlement — a preview with today's figures, the close (the
insurance officer's), the closed settlements with their allocation per member, and the statements."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.core.exports import XLSX_TYPE, content_disposition
from yigongti.orgs.permissions import check

from .. import settlement as service
from .. import statements
from ..queries import settlement as queries

router = Router(tags=["医保年度清算"])
SCHEME = "^(resident|employee)$"


def _last_year() -> int:
    return dt.date.today().year - 1


class YearQuery(Schema):
    community: int | None = Field(None, description="医共体ID；不填则为管辖范围内的第一个")
    year: int = Field(default_factory=_last_year, ge=2000, le=2100, description="年度，默认上一年")
    scheme: str = Field("resident", pattern=SCHEME, description="resident 城乡居民 / employee 职工")


class ListQuery(Schema):
    year: int | None = Field(None, ge=2000, le=2100)
    scheme: str | None = Field(None, pattern=SCHEME)


class MemberOut(Schema):
    facility_id: int
    code: str
    name: str
    outpatient: int
    inpatient: int
    fund_paid: Decimal


class PreviewOut(Schema):
    budget_id: int
    community: int
    year: int
    scheme: str
    version: int
    status: str
    source: str = Field(description="ledger 基金台账 / settlements 医保结算明细")
    figures: dict[str, Any] = Field(description="各项金额（元，字符串）")
    explanation: list[str]
    rules: list[str]
    members: list[MemberOut]
    settlement_id: int | None = Field(None, description="已清算时为清算记录ID")


class CloseIn(Schema):
    community: int | None = None
    year: int = Field(ge=2000, le=2100)
    scheme: str = Field(pattern=SCHEME)
    method: Literal["workload", "performance", "fixed"]
    formula: dict[str, Any] = Field(default_factory=dict, description=(
        "workload: {basis: workload|fund_paid, inpatient_factor}; performance: {scores: {机构编码: 得分}}; "
        "fixed: {shares: {机构编码: 比例}}（比例合计为 1）"))
    force: bool = Field(False, description="提前清算本年度（年度尚未结束时）")


class AllocationOut(Schema):
    facility_id: int
    code: str
    name: str
    basis: Decimal
    share: Decimal
    amount: Decimal
    figures: dict[str, Any]


class SettlementBrief(Schema):
    id: int
    budget_id: int
    community: int
    year: int
    scheme: str
    spend: Decimal
    balance: Decimal
    community_amount: Decimal
    fund_amount: Decimal
    method: str
    closed_at: dt.datetime


class SettlementOut(SettlementBrief):
    formula: dict[str, Any]
    figures: dict[str, Any]
    explanation: list[str]
    allocations: list[AllocationOut]


def _brief(s) -> dict:
    b = s.budget
    return {"id": s.pk, "budget_id": b.pk, "community": b.community_id, "year": b.year, "scheme": b.scheme,
            "spend": s.spend, "balance": s.balance, "community_amount": s.community_amount,
            "fund_amount": s.fund_amount, "method": s.method, "closed_at": s.closed_at}


def _full(s) -> dict:
    allocations = [{"facility_id": a.facility_id, "code": a.facility.code, "name": a.facility.name, "basis": a.basis,
                    "share": a.share, "amount": a.amount, "figures": a.figures or {}}
                   for a in queries.allocations_of(s)]
    return {**_brief(s), "formula": s.formula or {}, "figures": s.figures or {}, "explanation": s.explanation or [],
            "allocations": allocations}


def _file(name: str, data: bytes, content_type: str) -> HttpResponse:
    resp = HttpResponse(data, content_type=content_type)
    resp["Content-Disposition"] = content_disposition(name)
    return resp


@router.get("/preview", response=PreviewOut)
def preview(request, params: Query[YearQuery]):
    """What closing the year would give with today's figures (nothing is written)."""
    community = queries.community_for(Actor.from_request(request), params.community)
    budget = queries.budget_of(community, params.year, params.scheme)
    if budget is None:
        raise NotFound(_("该年度该险种尚未设定基金预算"), code="no_budget")
    pv = queries.preview(budget)
    done = queries.settlement_of(budget)
    return {"budget_id": budget.pk, "community": community.pk, "year": budget.year, "scheme": budget.scheme,
            "version": budget.version, "status": budget.status, "source": pv.figures.source,
            "figures": pv.outcome.as_dict(), "explanation": pv.explanation, "rules": pv.rules.lines(),
            "members": [{"facility_id": m.facility_id, "code": m.code, "name": m.name, "outpatient": m.outpatient,
                         "inpatient": m.inpatient, "fund_paid": m.fund_paid} for m in pv.figures.members],
            "settlement_id": done.pk if done else None}


@router.post("/close", response={201: SettlementOut})
def close(request, payload: CloseIn):
    """Close the year (insurance officer only). 409 `already_closed` when it is closed already; 422
    `bad_formula` / `year_not_over` with the reason in Chinese."""
    actor = Actor.from_request(request)
    check(actor, "insurance.close_year")  # refused and audited before anything is read
    community = queries.community_for(actor, payload.community)
    budget = queries.budget_of(community, payload.year, payload.scheme)
    if budget is None:
        raise NotFound(_("该年度该险种尚未设定基金预算"), code="no_budget")
    s = service.close_year(budget, payload.method, payload.formula, actor=actor, force=payload.force)
    return Status(201, _full(queries.get_settlement_for(actor, s.pk)))


@router.get("", response=list[SettlementBrief])
def list_settlements(request, params: Query[ListQuery]):
    """The closed years the user may see, newest first."""
    actor = Actor.from_request(request)
    queries.check_reader(actor)
    return [_brief(s) for s in queries.closed_settlements(actor, params.year, params.scheme or "")]


@router.get("/{int:pk}", response=SettlementOut)
def get_settlement(request, pk: int):
    return _full(queries.get_settlement_for(Actor.from_request(request), pk))


@router.get("/{int:pk}/statement/{int:facility_id}.xlsx")
def statement_xlsx(request, pk: int, facility_id: int):
    """The member's statement (对账/清算单) as Excel."""
    name, data = statements.statement_file(Actor.from_request(request), pk, facility_id, "xlsx")
    return _file(name, data, XLSX_TYPE)


@router.get("/{int:pk}/statement/{int:facility_id}.pdf")
def statement_pdf(request, pk: int, facility_id: int):
    """The member's statement as PDF."""
    name, data = statements.statement_file(Actor.from_request(request), pk, facility_id, "pdf")
    return _file(name, data, "application/pdf")


@router.get("/{int:pk}/summary.xlsx")
def summary_xlsx(request, pk: int):
    """The community's settlement summary workbook (totals, rules, explanation, every member's allocation)."""
    name, data = statements.summary_file(Actor.from_request(request), pk)
    return _file(name, data, XLSX_TYPE)
