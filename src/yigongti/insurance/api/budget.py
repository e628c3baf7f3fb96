"""/api/v1/insurance/budget: the fund budget (versions), the ledger summary and forecast, posting, and the
monthly reconciliation with the agency's statement. Aggregates only; the same services as the pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from yigongti.core.actor import Actor
from yigongti.core.paging import page_dict, page_field, size_field, slice_page
from yigongti.encounters.models import InsuranceScheme

from .. import budget as budgets
from .. import ledger as ledgers
from .. import reconcile as reconciles
from ..budget import BudgetInput
from ..queries import ledger as q

router = Router(tags=["医保基金预算与台账"])
Scheme = Field(InsuranceScheme.RESIDENT.value, pattern="^(resident|employee)$", description="resident 城乡居民 / "
                                                                                             "employee 职工")


class PeriodQuery(Schema):
    community: int | None = Field(None, description="医共体ID；不填则为管辖范围内的第一个")
    year: int = Field(default_factory=lambda: dt.date.today().year, ge=2000, le=2100)
    scheme: str = Scheme


class BudgetQuery(Schema):
    community: int | None = None
    year: int | None = Field(None, ge=2000, le=2100)
    scheme: str | None = Field(None, pattern="^(resident|employee)$")


class BudgetIn(BudgetInput):
    community: int | None = None
    year: int = Field(ge=2000, le=2100)
    scheme: str = Scheme


class BudgetOut(Schema):
    id: int
    year: int
    scheme: str
    version: int
    status: str
    prior_spend: Decimal
    growth_rate: Decimal
    amount: Decimal
    withholding_rate: Decimal
    monthly_prealloc: list[Decimal]
    retained_share: Decimal
    overspend_cap: Decimal
    overspend_share: Decimal
    out_of_county_deduction: Decimal
    rules: dict
    note: str
    created_at: dt.datetime


class ProposalOut(Schema):
    year: int
    scheme: str
    prior_spend: Decimal
    prior_months: list[Decimal]
    growth_rate: Decimal
    growth_basis: str
    amount: Decimal
    prealloc_even: list[Decimal]
    prealloc_seasonal: list[Decimal]


class MonthOut(Schema):
    month: int
    spend: Decimal
    prealloc: Decimal
    posted: bool
    cumulative: Decimal
    projected: bool


class LevelOut(Schema):
    level: str
    fund: Decimal
    cases: int
    share: float


class GroupOut(Schema):
    group: str
    name: str
    fund: Decimal
    cases: int
    share: float


class ForecastOut(Schema):
    year: int
    months_posted: list[int]
    spend_to_date: Decimal
    expected: Decimal
    low: Decimal
    high: Decimal
    basis: str
    past_years: list[int]
    budget: Decimal | None
    runs_out_month: int | None
    runs_out_month_high: int | None
    gap: Decimal | None
    warning: str


class LedgerOut(Schema):
    community: int
    year: int
    scheme: str
    posted: list[int]
    budget: BudgetOut | None
    amount: Decimal | None
    to_date: Decimal
    execution: float | None
    out_of_county: Decimal
    out_of_county_share: float
    months: list[MonthOut]
    levels: list[LevelOut]
    groups: list[GroupOut]
    forecast: ForecastOut


class PostIn(Schema):
    community: int | None = None
    year: int = Field(ge=2000, le=2100)
    month: int | None = Field(None, ge=1, le=12, description="不填则过账全年")


class PostOut(Schema):
    rows: int


class LineOut(Schema):
    row_number: int | None
    kind: str
    settlement_no: str
    agency_amount: Decimal | None
    ledger_amount: Decimal | None
    message: str


class ReconciliationOut(Schema):
    id: int
    year: int
    month: int
    file_name: str
    rows: int
    matched: int
    differences: int
    unmatched: int
    agency_total: Decimal
    ledger_total: Decimal
    counts: dict[str, int]


class LinePage(Schema):
    items: list[LineOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None


def _forecast_out(f) -> dict:
    from ..forecast import warning

    return {**{k: getattr(f, k) for k in ("year", "months_posted", "spend_to_date", "expected", "low", "high",
                                          "basis", "past_years", "budget", "runs_out_month", "runs_out_month_high",
                                          "gap")}, "warning": warning(f)}


def _rec_out(rec) -> dict:
    return {**{k: getattr(rec, k) for k in ("id", "year", "month", "file_name", "rows", "matched", "differences",
                                            "unmatched", "agency_total", "ledger_total")},
            "counts": reconciles.counts_by_kind(rec)}


@router.get("/budgets", response=list[BudgetOut])
def list_budgets(request, params: Query[BudgetQuery]):
    """Every version of the community's budgets (newest first), optionally of one year and scheme."""
    community = q.community_for(request.user, params.community)
    return [q.budget_dict(b) for b in q.budgets_of(community, params.year, params.scheme)]


@router.get("/proposal", response=ProposalOut)
def proposal(request, params: Query[PeriodQuery]):
    """The proposal from the prior year's fund spend (what the budget form starts from)."""
    return budgets.propose_budget(q.community_for(request.user, params.community), params.year, params.scheme)


@router.post("/budgets", response={201: BudgetOut})
def set_budget(request, payload: BudgetIn):
    """Set the year's budget of a scheme: a new version; the earlier versions stay (insurance officer)."""
    community = q.community_for(request.user, payload.community)
    inputs = BudgetInput.model_validate(payload.model_dump(exclude={"community", "year", "scheme"}))
    b = budgets.set_budget(community, payload.year, payload.scheme, inputs, actor=Actor.from_request(request))
    return Status(201, q.budget_dict(b))


@router.get("/ledger", response=LedgerOut)
def ledger_summary(request, params: Query[PeriodQuery]):
    """Budget against spend, months, levels, the 15 costliest groups and the forecast."""
    community = q.community_for(request.user, params.community)
    s = q.ledger_summary(community, params.year, params.scheme)
    return {**s, "community": community.pk, "forecast": _forecast_out(s["forecast"])}


@router.get("/forecast", response=ForecastOut)
def forecast(request, params: Query[PeriodQuery]):
    """The year-end forecast with its range and the month the budget runs out, if it will."""
    community = q.community_for(request.user, params.community)
    return _forecast_out(q.forecast_for(community, params.year, params.scheme))


@router.post("/ledger/post", response=PostOut)
def post(request, payload: PostIn):
    """Post a month (or the whole year) of settlements to the ledger, replacing what it held (insurance officer)."""
    community = q.community_for(request.user, payload.community)
    actor = Actor.from_request(request)
    if payload.month:
        return {"rows": ledgers.post_month(community, payload.year, payload.month, actor=actor)}
    return {"rows": ledgers.post_year(community, payload.year, actor=actor)}


@router.post("/reconciliations", response={201: ReconciliationOut})
def upload_statement(request, year: Form[int], month: Form[int], file: File[UploadedFile],
                     community: Form[int | None] = None):
    """Import the agency's monthly statement (.xlsx or CSV; template at /insurance/reconcile/template.xlsx)."""
    c = q.community_for(request.user, community)
    rec = reconciles.reconcile(c, year, month, file, actor=Actor.from_request(request))
    return Status(201, _rec_out(rec))


@router.get("/reconciliations/{int:pk}", response=ReconciliationOut)
def get_reconciliation(request, pk: int):
    return _rec_out(q.reconciliation_for(request.user, pk))


class LineQuery(Schema):
    kind: str = Field("", description="different / agency_only / ledger_only / unreadable")
    page: int = page_field()
    page_size: int = size_field()


@router.get("/reconciliations/{int:pk}/lines", response=LinePage)
def reconciliation_lines(request, pk: int, params: Query[LineQuery]):
    rec = q.reconciliation_for(request.user, pk)
    return page_dict(slice_page(q.reconciliation_lines(rec, params.kind), params.page, params.page_size))
