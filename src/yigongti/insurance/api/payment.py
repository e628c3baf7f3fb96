"""/api/v1/insurance/payment: DRG weights and rates, the 基层病组 list, pricing the year's cases, DIP groups and
point values, CMI and efficiency indices, and what-if simulations. Aggregates only; the same services as the
pages. Bad input answers problem+json (422) naming each field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor

from .. import dip, efficiency, rulepacks, simulation, weights
from ..queries import payment as q

router = Router(tags=["DRG/DIP支付与模拟"])
Year = Field(ge=2000, le=2100)
Scheme = Field(pattern="^(resident|employee)$", description="resident 城乡居民 / employee 职工")


def _actor(request) -> Actor:
    return Actor.from_request(request)


class WeightOut(Schema):
    drg: str
    name: str
    weight: Decimal
    avg_cost: Decimal
    avg_los: Decimal
    grassroots: bool


class RateIn(Schema):
    level: str = Field("", description="county / township / village，空 = 基层病组统一费率")
    scheme: str
    rate: str | float
    high_outlier: str | float | None = None
    low_outlier: str | float | None = None


class RateOut(Schema):
    level: str
    scheme: str
    rate: Decimal
    high_outlier: Decimal
    low_outlier: Decimal


class RatesIn(Schema):
    rates: list[RateIn] = Field(max_length=20)


class VersionQuery(Schema):
    version: str = Field("", max_length=20, description="分组版本，默认付费版本")
    q: str = Field("", max_length=20, description="病组编码前缀或名称")


class ComputeIn(Schema):
    version: str = Field("", max_length=20)
    min_cases: int = Field(weights.MIN_CASES, ge=1, le=1000)


class GrassrootsIn(Schema):
    version: str = Field("", max_length=20)
    drgs: list[str] | None = Field(None, max_length=700, description="基层病组编码；null = 默认目录")


class DipGroupOut(Schema):
    code: str
    name: str
    kind: str
    cases: int
    avg_cost: Decimal
    score: Decimal
    grassroots: bool


class BuildIn(Schema):
    threshold: int = Field(dip.THRESHOLD, ge=1, le=1000)


class PointValueOut(Schema):
    scheme: str
    estimated: Decimal
    settled: Decimal | None
    total_points: Decimal


class SettleIn(Schema):
    fund: Decimal | None = Field(None, ge=0, lt=10**10, description="实际可用于住院付费的基金（元），默认取预算")


class SimulationIn(Schema):
    year: int = Year
    name: str = Field("", max_length=100)
    parameters: dict[str, Any] = Field(default_factory=dict)
    save: bool = True


class SimulationRow(Schema):
    id: int
    name: str
    year: int
    seconds: float
    created_at: dt.datetime


class SimulationOut(SimulationRow):
    parameters: dict
    results: dict


class RulePackOut(Schema):
    version: str
    directory: str
    checksum: str
    counts: dict[str, int]
    is_payment: bool
    loaded_at: dt.datetime


class PaymentVersionIn(Schema):
    version: str = Field(max_length=40, description="已加载的分组版本，如 CHS-DRG 1.1")


@router.get("/rule-packs", response=list[RulePackOut])
def list_rule_packs(request):
    """The registered CHS-DRG versions, their verified counts and checksum, and which one is paid on."""
    return rulepacks.packs()


@router.post("/rule-packs/register", response=list[RulePackOut])
def register_rule_packs(request):
    """Load and verify every shipped version (counts checked) and record it; the payment version is kept."""
    return rulepacks.register_packs(actor=_actor(request))


@router.put("/rule-packs/payment-version", response=RulePackOut)
def set_payment_version(request, payload: PaymentVersionIn):
    return rulepacks.set_payment_version(payload.version, actor=_actor(request))


@router.get("/weights/{int:year}", response=list[WeightOut])
def list_weights(request, year: int, params: Query[VersionQuery]):
    return list(q.weights_of(_actor(request), year, params.version or q.payment_version(), params.q))


@router.post("/weights/{int:year}/compute")
def compute_weights(request, year: int, payload: ComputeIn):
    """Compute the year's weights from the community's grouped discharges (DRG mean ÷ overall mean)."""
    return weights.compute_weights(year, payload.version or q.payment_version(), actor=_actor(request),
                                   min_cases=payload.min_cases)


@router.put("/grassroots/{int:year}", response=list[str])
def set_grassroots(request, year: int, payload: GrassrootsIn):
    return weights.set_grassroots(year, payload.version or q.payment_version(), payload.drgs, actor=_actor(request))


@router.get("/rates/{int:year}", response=list[RateOut])
def list_rates(request, year: int):
    return q.rates_of(_actor(request), year)


@router.put("/rates/{int:year}", response=list[RateOut])
def set_rates(request, year: int, payload: RatesIn):
    """Set rates per level and scheme (rows given replace the same level and scheme)."""
    return weights.set_rates(year, [r.dict() for r in payload.rates], actor=_actor(request))


@router.post("/price/{int:year}")
def price_cases(request, year: int, payload: ComputeIn):
    """Price every discharge of the year by DRG and DIP (CasePayment)."""
    return weights.price_cases(year, actor=_actor(request), version=payload.version or None)


@router.get("/dip/{int:year}/groups", response=list[DipGroupOut])
def list_dip_groups(request, year: int, kind: str = ""):
    """``kind``: core 核心病种 / combined 综合病种 / empty for both."""
    return list(q.dip_groups_of(_actor(request), year, kind))


@router.post("/dip/{int:year}/groups")
def build_dip_groups(request, year: int, payload: BuildIn):
    return dip.build_groups(year, actor=_actor(request), threshold=payload.threshold)


@router.get("/dip/{int:year}/point-values", response=list[PointValueOut])
def list_point_values(request, year: int):
    return q.point_values_of(_actor(request), year)


@router.post("/dip/{int:year}/point-values/{scheme}/estimate")
def estimate_point_value(request, year: int, scheme: str):
    return dip.estimate_point_value(year, scheme, actor=_actor(request))


@router.post("/dip/{int:year}/point-values/{scheme}/settle")
def settle_point_value(request, year: int, scheme: str, payload: SettleIn):
    return dip.settle_point_value(year, scheme, actor=_actor(request), fund=payload.fund)


class LevelFactorOut(Schema):
    level: str
    factor: Decimal
    source: str = Field(description="computed 按本年病例测算 / default 默认 / set 经办设定")
    cases: int
    raw_ratio: Decimal | None


class LevelFactorsIn(Schema):
    factors: dict[str, str | float] = Field(description="{county|township|village: 等级系数 0.1–2}")


@router.get("/dip/{int:year}/level-factors", response=list[LevelFactorOut])
def list_level_factors(request, year: int):
    """The year's DIP 医疗机构等级系数 (基层病种 always 1: 同病同付)."""
    return q.level_factors_of(_actor(request), year)


@router.put("/dip/{int:year}/level-factors", response=list[LevelFactorOut])
def set_level_factors(request, year: int, payload: LevelFactorsIn):
    dip.set_level_factors(year, payload.factors, actor=_actor(request))
    return q.level_factors_of(_actor(request), year)


@router.get("/efficiency/{int:year}")
def get_efficiency(request, year: int, params: Query[VersionQuery]):
    """CMI, cost and time efficiency indices per facility and department; the 基层病组 share at grassroots."""
    return efficiency.efficiency_of(_actor(request), year, params.version or None)


@router.post("/simulations", response={201: SimulationOut, 200: dict})
def run_simulation(request, payload: SimulationIn):
    """Run a what-if (see ``insurance.simulation`` for the parameters); saved unless ``save`` is false."""
    results = simulation.run_simulation(payload.year, payload.parameters, actor=_actor(request), save=payload.save,
                                        name=payload.name)
    return Status(201, q.get_simulation_for(_actor(request), results["id"])) if payload.save else results


@router.get("/simulations", response=list[SimulationRow])
def list_simulations(request, year: int | None = None):
    return list(q.simulations_of(_actor(request), year)[:100])


@router.get("/simulations/{int:pk}", response=SimulationOut)
def get_simulation(request, pk: int):
    return q.get_simulation_for(_actor(request), pk)
