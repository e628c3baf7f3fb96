"""/api/v1/performance: the payroll summary's aggregates by facility and the month's scores — the same queries and
services as the pages. Person-level payroll is not served here (the page shows it to the facility's own admin and
the community's managers, audited)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor

from . import queries, services

router = Router(tags=["薪酬与绩效"])


class FacilityPayOut(Schema):
    facility_id: int
    facility: str
    level: str
    headcount: int
    basic: Decimal
    performance: Decimal
    allowance: Decimal
    other: Decimal
    total: Decimal
    mean: Decimal | None


class LevelOut(Schema):
    level: str
    headcount: int
    mean: Decimal | None


class PayrollSummaryOut(Schema):
    year: int
    n06: Decimal | None = Field(None, description="N06 基层人均收入 ÷ 牵头医院人均收入（账号的统计范围）")
    levels: list[LevelOut]
    facilities: list[FacilityPayOut]


class SummaryQuery(Schema):
    year: int | None = Field(None, ge=2000, le=2100, description="年度；默认最近导入的年度")


class LineOut(Schema):
    key: str
    label: str
    actual: Decimal | None
    target: Decimal
    weight: Decimal
    points: Decimal
    note: str = ""


class ScoreOut(Schema):
    facility_id: int
    facility: str
    department_id: int | None = None
    department: str = ""
    total: Decimal
    headcount: int
    guaranteed: Decimal = Field(..., description="一类保障（元）：本月基本工资")
    performance: Decimal = Field(..., description="二类绩效（元）：按得分 × 人数分配的绩效总额")
    lines: list[LineOut] = []


class RunOut(Schema):
    id: int
    scheme_id: int
    scheme: str
    month: str
    pool: Decimal
    guaranteed: Decimal
    payroll_year: int | None
    scores: list[ScoreOut]


class ScoresQuery(Schema):
    month: str = Field(..., pattern=r"^\d{4}-\d{2}$", description="月份 YYYY-MM")


class ScoreIn(Schema):
    scheme: int
    month: str = Field(..., pattern=r"^\d{4}-\d{2}$")


def _score(s) -> dict:
    return {"facility_id": s.facility_id, "facility": s.facility.name, "department_id": s.department_id,
            "department": s.department.name if s.department_id else "", "total": s.total, "headcount": s.headcount,
            "guaranteed": s.guaranteed, "performance": s.performance, "lines": s.lines}


def _run(run, rows) -> dict:
    return {"id": run.pk, "scheme_id": run.scheme_id, "scheme": run.scheme.name, "month": f"{run.month:%Y-%m}",
            "pool": run.pool, "guaranteed": run.guaranteed, "payroll_year": run.payroll_year,
            "scores": [_score(s) for s in rows]}


@router.get("/payroll/summary", response=PayrollSummaryOut)
def payroll_summary(request, params: Query[SummaryQuery]):
    """Headcount, sums and means by facility (aggregates only, for every reader) and N06."""
    queries.gate(request.user)
    years = queries.payroll_years(request.user)
    year = params.year or (years[0] if years else dt.date.today().year - 1)
    rows = queries.summary_by_facility(request.user, year)
    v = queries.n06_for(request.user, year)
    return {"year": year, "n06": v.value if v is not None else None,
            "levels": [{"level": str(x["level"]), "headcount": x["n"], "mean": x["mean"]}
                       for x in queries.level_means(rows)],
            "facilities": [{"facility_id": r.facility.pk, "facility": r.facility.name, "level": str(r.level),
                            "headcount": r.n, **r.sums, "total": r.total, "mean": r.mean} for r in rows]}


@router.get("/scores", response=list[RunOut])
def month_scores(request, params: Query[ScoresQuery]):
    """The month's runs with each facility's score and share (departments: ``/scores/{id}/facilities/{id}``)."""
    queries.gate(request.user)
    month = services.parse_month(params.month)
    return [_run(r["run"], r["rows"]) for r in queries.month_scores(request.user, month)]


@router.get("/scores/{int:pk}/facilities/{int:facility_id}", response=RunOut)
def facility_scores(request, pk: int, facility_id: int):
    """One facility's score with its lines, then its departments'."""
    queries.gate(request.user)
    run = queries.get_run_for(request.user, pk)
    top, depts = queries.facility_scores(request.user, run, facility_id)
    return _run(run, [top, *depts])


@router.post("/scores", response={201: RunOut})
def score_month(request, payload: ScoreIn):
    """Score a month under a scheme (again: replaces the month's run). 403 unless a manager of its community."""
    queries.gate(request.user)
    scheme = queries.get_scheme_for(request.user, payload.scheme)
    run = services.score_month(Actor.from_request(request), scheme, payload.month)
    rows = list(run.scores.filter(department__isnull=True).select_related("facility").order_by("-total"))
    return Status(201, _run(run, rows))
