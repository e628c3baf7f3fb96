"""/api/v1/pathways/dashboards: the compliance figures behind the pages (counts and minutes, no patients)."""

from __future__ import annotations

from ninja import Field, Query, Router, Schema

from .. import queries_dashboards as q

router = Router(tags=["五大中心质控"])


class CenterOut(Schema):
    id: int
    facility_id: int
    facility: str = Field(..., alias="facility.name")
    kind: str
    level: str
    capabilities: list[str]


class ComplianceOut(Schema):
    code: str
    label: str
    target_min: float | None
    n: int
    met: int
    median_min: float | None
    p90_min: float | None
    rate: float | None


class MetricRowOut(Schema):
    code: str
    label: str
    target_min: float | None
    month: ComplianceOut | None
    share: float | None
    trend: list[float | None]
    trend_median: list[float | None]


class DelayOut(Schema):
    metric: str
    metric_label: str
    code: str
    label: str
    n: int


def _counts(rows: list[tuple[str, str, int]]) -> list[dict]:
    return [{"code": c, "label": label, "n": n} for c, label, n in rows]


class CountOut(Schema):
    code: str
    label: str
    n: int


class DashboardOut(Schema):
    center: CenterOut
    month: str
    months: list[str]
    cases: int = Field(..., alias="summary.cases")
    cases_trend: list[int]
    by_subtype: list[CountOut]
    by_arrival: list[CountOut]
    metrics: list[MetricRowOut] = Field(..., alias="rows")
    delays: list[DelayOut] = Field(..., alias="summary.delays")
    missed: int = Field(..., alias="summary.missed")
    missed_without_reason: int = Field(..., alias="summary.missed_without_reason")

    @staticmethod
    def resolve_by_subtype(obj) -> list[dict]:
        return _counts(obj.summary.by_subtype)

    @staticmethod
    def resolve_by_arrival(obj) -> list[dict]:
        return _counts(obj.summary.by_arrival)


class ChainRowOut(Schema):
    label: str
    facility_id: int | None
    cases: int
    transferred: int
    dido: ComplianceOut | None
    headline: ComplianceOut | None
    fmc_to_end: ComplianceOut | None


class ChainOut(Schema):
    kind: str
    month: str
    center: CenterOut
    headline_code: str
    headline_label: str
    dido_code: str
    rows: list[ChainRowOut]


class MonthQuery(Schema):
    month: str = Field("", max_length=7, description="YYYY-MM（默认本月）")


class ChainQuery(MonthQuery):
    kind: str = Field("chest_pain", max_length=12, description="chest_pain / stroke / trauma / maternal / neonatal")
    center: int | None = Field(None, description="县级救治中心ID（默认第一个）")


@router.get("/centers", response=list[CenterOut])
def list_centers(request):
    """The centers and township units whose figures the user may see."""
    return q.visible_centers(request.user)


@router.get("/chain", response=ChainOut)
def get_chain(request, params: Query[ChainQuery]):
    """Township units → the county center: cases, DIDO at the township, the center's headline metric."""
    return q.chain(request.user, params.kind, params.month, params.center)


@router.get("/{center_id}", response=DashboardOut)
def get_dashboard(request, center_id: int, params: Query[MonthQuery]):
    """One center's month: each metric's median and share meeting its target, 12-month trend, delay reasons."""
    return q.center_dashboard(request.user, center_id, params.month)
