"""The performance scheme's arithmetic, as plain functions over plain data (tested without a database).

* ``item_points``: an indicator's points, linear to its target and capped: ``weight × min(actual ÷ target, cap)``
  when higher is better, ``weight × min(target ÷ actual, cap)`` when lower is better (an actual of 0 then earns
  the cap). No actual (no data this month) earns 0 and says so.
* ``score``: a unit's (facility's or department's) total over the scheme's items, with one line per item.
* ``distribute``: the month's performance pool (二类绩效) shared in proportion to score × headcount, in cents, the
  remainder cents given by largest remainder so that the shares add up to the pool exactly.
* ``monthly_guaranteed``: the guaranteed part (一类保障) of a month from a year's basic pay: ÷ 12, in cents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_noop as N_  # marks the Chinese for translation; returns it unchanged

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# the month's workload measures a scheme may name (from the encounters of the facility or department)
WORKLOADS: dict[str, str] = {
    "visits": N_("门急诊人次"),
    "discharges": N_("出院人次"),
    "surgeries": N_("手术人次"),
    "er_visits": N_("急诊人次"),
    "tcm_visits": N_("中医诊疗人次"),
}


class ScoringError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Item:
    kind: str  # workload | indicator | satisfaction
    measure: str
    weight: Decimal
    target: Decimal
    direction: str = "higher"
    cap: Decimal = Decimal("1.00")
    label: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.measure}"


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    actual: Decimal | None
    target: Decimal
    weight: Decimal
    ratio: Decimal | None
    points: Decimal
    note: str = ""

    def as_dict(self) -> dict:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}


def validate_item(item: Item) -> None:
    """The rules of one item: a positive weight, a positive target, a cap of at least 1 (at most 3)."""
    if item.weight <= 0 or item.weight > 1000:
        raise ScoringError("invalid_weight", N_("权重须大于 0、不超过 1000 分"))
    if item.target <= 0:
        raise ScoringError("invalid_target", N_("目标值须大于 0"))
    if item.cap < 1 or item.cap > 3:
        raise ScoringError("invalid_cap", N_("封顶倍数须在 1 到 3 之间（1 表示达到目标即满分）"))
    if item.direction not in ("higher", "lower"):
        raise ScoringError("invalid_direction", N_("方向须为“越高越好”或“越低越好”"))


def item_points(item: Item, actual: Decimal | None) -> Line:
    if actual is None:
        return Line(item.key, item.label, None, item.target, item.weight, None, ZERO, N_("本月无数据，不得分"))
    actual = Decimal(actual)
    if item.direction == "higher":
        ratio = actual / item.target if actual > 0 else Decimal(0)
    else:
        ratio = item.target / actual if actual > 0 else item.cap
    ratio = min(max(ratio, Decimal(0)), item.cap)
    points = (item.weight * ratio).quantize(CENT, ROUND_HALF_UP)
    return Line(item.key, item.label, actual, item.target, item.weight, ratio.quantize(Decimal("0.0001"),
                                                                                        ROUND_HALF_UP), points)


def score(items: Sequence[Item], actuals: Mapping[str, Decimal | None]) -> tuple[Decimal, list[Line]]:
    """The total of a unit and its lines; ``actuals`` by ``Item.key``."""
    lines = [item_points(i, actuals.get(i.key)) for i in items]
    return sum((ln.points for ln in lines), ZERO), lines


def full_marks(items: Sequence[Item]) -> Decimal:
    return sum((i.weight for i in items), ZERO)


def distribute(pool: Decimal, units: Mapping[object, tuple[Decimal, int]]) -> dict[object, Decimal]:
    """Share ``pool`` among ``units`` (key → (score, headcount)) in proportion to score × headcount, in cents,
    adding up to the pool exactly. Units with no weight get 0; if none has any, nobody gets anything (the pool
    stays undistributed rather than being shared by nobody's merit)."""
    if pool < 0:
        raise ScoringError("invalid_pool", N_("绩效总额不能为负数"))
    cents = int((Decimal(pool) / CENT).to_integral_value(ROUND_DOWN))
    weights = {k: max(Decimal(s), Decimal(0)) * max(int(n), 0) for k, (s, n) in units.items()}
    total = sum(weights.values(), Decimal(0))
    if total == 0:
        return dict.fromkeys(units, ZERO)
    exact = {k: Decimal(cents) * w / total for k, w in weights.items()}
    floor = {k: int(v.to_integral_value(ROUND_DOWN)) for k, v in exact.items()}
    left = cents - sum(floor.values())
    order = sorted(exact, key=lambda k: (exact[k] - floor[k], weights[k]), reverse=True)
    for k in order[:left]:
        floor[k] += 1
    return {k: (Decimal(v) * CENT).quantize(CENT) for k, v in floor.items()}


def monthly_guaranteed(yearly_basic: Decimal) -> Decimal:
    """The guaranteed part of one month (一类保障: the establishment's basic pay), from the year's basic pay."""
    return (Decimal(yearly_basic) / 12).quantize(CENT, ROUND_HALF_UP)


def mean(total: Decimal, n: int) -> Decimal | None:
    return None if not n else (Decimal(total) / n).quantize(CENT, ROUND_HALF_UP)


def income_ratio(grassroots_mean: Decimal | None, lead_mean: Decimal | None) -> Decimal | None:
    """N06: grassroots mean income ÷ lead-hospital mean income, to 2 places (None without both means)."""
    if grassroots_mean is None or not lead_mean:
        return None
    return (Decimal(grassroots_mean) / Decimal(lead_mean)).quantize(CENT, ROUND_HALF_UP)
