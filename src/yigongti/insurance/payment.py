"""DRG and DIP payment of one case: plain functions over plain data, no Django, every result explained in words.

DRG (按病组付费)
    standard = relative weight × rate, the rate by year, care level and scheme (``DrgRate``). A 基层病组
    (``DrgWeight.grassroots``) is paid at the level-"" rate wherever it is treated (同病同付).

    Outliers, against the DRG's mean total cost (``DrgWeight.avg_cost``) and the rate row's multiples:

    * 高倍率 (cost > high × mean, high = 3 by default): standard + (cost − high × mean) × ``HIGH_OUTLIER_SHARE``
      (0.9). The part of the cost above the threshold is paid at 90 %, the shape of the CHS-DRG 付费技术规范's
      "高倍率病例按项目付费的一定比例补偿" that most pilot cities publish.
    * 低倍率 (cost < low × mean, low = 0.4 by default): paid by its cost (按项目付费), never more than the
      standard.
    * 特病单议 (``Discharge.special_review``): paid by its cost after the expert review, whatever its group
      (ungroupable or not).
    * Ungroupable (0000 / QY), a DRG without a weight or a level and scheme without a rate: no DRG payment;
      the case is flagged (``status``) and settled by item after review.
    * Self-pay stays (scheme "none" or empty) are not paid by the fund.

DIP (按病种分值付费), in the shape of the DIP 技术规范:

    case points = group score × level factor (医疗机构等级系数 of the treating facility's care level, see
    ``insurance.dip``; 1 for a 基层病种 at every level: 同病同付), amount = case points × point value.

    费用偏差病例, against the group's reference cost at the case's level = the group's mean total cost × the
    same level factor (the spec's "同级别定点医疗机构该病种次均费用"):

    * cost < ``DIP_LOW`` (50 %) of the reference: points = cost ÷ reference × group score × factor (that is,
      paid about its cost: a stay far cheaper than its group's mean is not paid the mean);
    * cost > ``DIP_HIGH`` (2 ×) the reference: points = (cost ÷ reference − 2 + 1) × group score × factor;
    * 特病单议 again by cost. ``dip_points`` is the one formula the point value's total points also use.

Money is ``Decimal`` to the cent; the simulation computes the same rules over numpy arrays
(``insurance.simulation``), and its tests check that both agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HIGH_OUTLIER_SHARE = Decimal("0.9")
DEFAULT_HIGH = Decimal(3)
DEFAULT_LOW = Decimal("0.4")
DIP_LOW = Decimal("0.5")
DIP_HIGH = Decimal(2)
POINTS = Decimal("0.0001")
GRASSROOTS_LEVEL = ""  # the rate row of the 基层病组
LEVELS = ("county", "township", "village")
SCHEMES = ("resident", "employee")
LEVEL_NAMES = {"": "基层病组统一费率", "county": "县级", "township": "乡镇级", "village": "村级"}
SCHEME_NAMES = {"resident": "城乡居民医保", "employee": "职工医保"}

# Why a case is (not) paid
PAID = "paid"
SPECIAL_REVIEW = "special_review"
UNGROUPABLE = "ungroupable"
NO_WEIGHT = "no_weight"
NO_RATE = "no_rate"
SELF_PAY = "self_pay"
UNPAID = (UNGROUPABLE, NO_WEIGHT, NO_RATE, SELF_PAY)


@dataclass(frozen=True, slots=True)
class Rate:
    """One rate row: yuan per unit of weight and the outlier multiples."""

    rate: Decimal
    high: Decimal = DEFAULT_HIGH
    low: Decimal = DEFAULT_LOW


@dataclass(frozen=True, slots=True)
class Weight:
    """One DRG's terms: relative weight, mean total cost, and whether it is a 基层病组."""

    weight: Decimal
    avg_cost: Decimal
    grassroots: bool = False


@dataclass(frozen=True, slots=True)
class Payment:
    method: str  # "drg" / "dip"
    group: str
    status: str
    amount: Decimal
    units: Decimal = Decimal(0)  # weight / score
    unit_price: Decimal = Decimal(0)  # rate / point value
    outlier: str = ""  # "" / "high" / "low"
    grassroots: bool = False
    explanation: tuple[str, ...] = field(default_factory=tuple)


def money(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def _yuan(x: Decimal) -> str:
    return f"{money(x):,.2f}元"


def rate_key(level: str, scheme: str) -> tuple[str, str]:
    return (level, scheme)


def drg_payment(*, drg: str, grouped: bool, cost: Decimal, level: str, scheme: str,
                weight: Weight | None, rates: Mapping[tuple[str, str], Rate], special_review: bool = False,
                high_share: Decimal = HIGH_OUTLIER_SHARE) -> Payment:
    """What one discharge is paid by DRG. ``level`` is the treating facility's care level (county / township /
    village), ``rates`` maps (level, scheme) to the year's rate rows, ("", scheme) being the 基层病组 rate."""
    cost = money(cost)
    if scheme not in SCHEMES:
        return Payment("drg", drg or "0000", SELF_PAY, Decimal(0),
                       explanation=("自费病例（未参保），不由医保基金按DRG支付",))
    if special_review:  # whatever its group: the review decides, and it is paid by its cost
        units = weight.weight if (grouped and drg and weight is not None) else Decimal(0)
        return Payment("drg", drg if grouped and drg else "0000", SPECIAL_REVIEW, cost, units,
                       grassroots=bool(weight and weight.grassroots),
                       explanation=(f"病组 {drg or '0000'}：特病单议病例，经专家评议后按实际费用 {_yuan(cost)} 支付",))
    if not grouped or not drg:
        return Payment("drg", "0000", UNGROUPABLE, Decimal(0),
                       explanation=("病例无法入组（0000/QY），不按DRG付费；已标记，经审核后按项目结算",))
    if weight is None:
        return Payment("drg", drg, NO_WEIGHT, Decimal(0),
                       explanation=(f"病组 {drg} 本年度没有相对权重，不按DRG付费；已标记，请先测算权重",))
    lines = [f"病组 {drg}，相对权重 {weight.weight:.4f}，病组例均费用 {_yuan(weight.avg_cost)}"]
    level_used = GRASSROOTS_LEVEL if weight.grassroots else level
    if weight.grassroots:
        lines.append(f"{drg} 属于基层病组：在{LEVEL_NAMES.get(level, level)}机构治疗"
                     "也按基层病组统一费率支付（同病同付）")
    rate = rates.get(rate_key(level_used, scheme))
    if rate is None:
        lines.append(f"{SCHEME_NAMES[scheme]}在“{LEVEL_NAMES.get(level_used, level_used)}”没有设定费率，"
                     "不按DRG付费；已标记")
        return Payment("drg", drg, NO_RATE, Decimal(0), weight.weight, Decimal(0), "", weight.grassroots,
                       tuple(lines))
    standard = money(weight.weight * rate.rate)
    lines.append(f"费率（{LEVEL_NAMES.get(level_used, level_used)}，{SCHEME_NAMES[scheme]}）{_yuan(rate.rate)}/权重；"
                 f"支付标准 = {weight.weight:.4f} × {rate.rate:,.2f} = {_yuan(standard)}")
    w, r, g = weight.weight, rate.rate, weight.grassroots
    high_line, low_line = money(rate.high * weight.avg_cost), money(rate.low * weight.avg_cost)
    if weight.avg_cost > 0 and cost > high_line:
        extra = money((cost - high_line) * high_share)
        lines.append(f"实际费用 {_yuan(cost)} 高于高倍率界值 {rate.high} × 例均费用 = {_yuan(high_line)}，为高倍率病例")
        lines.append(f"支付 = 支付标准 + (实际费用 − 界值) × {high_share:.0%} = {_yuan(standard)} + {_yuan(extra)} "
                     f"= {_yuan(standard + extra)}")
        return Payment("drg", drg, PAID, standard + extra, w, r, "high", g, tuple(lines))
    if cost < low_line:
        amount = min(cost, standard)
        lines.append(f"实际费用 {_yuan(cost)} 低于低倍率界值 {rate.low} × 例均费用 = {_yuan(low_line)}，为低倍率病例，"
                     f"按实际费用支付（不超过支付标准）：{_yuan(amount)}")
        return Payment("drg", drg, PAID, amount, w, r, "low", g, tuple(lines))
    lines.append(f"实际费用 {_yuan(cost)} 在正常倍率范围内，按支付标准 {_yuan(standard)} 支付")
    return Payment("drg", drg, PAID, standard, w, r, "", g, tuple(lines))


def dip_points(*, score: Decimal, factor: Decimal = Decimal(1), cost: Decimal,
               avg_cost: Decimal | None = None) -> tuple[Decimal, str, list[str]]:
    """A case's DIP points: score × level factor, adjusted for a 费用偏差病例 (see the module); returns the
    points, the outlier kind ("" / "low" / "high") and the reasoning."""
    base = score * factor
    lines = [f"病种分值 {score:.2f} × 等级系数 {factor:.4f} = {base:.4f} 分"] if factor != 1 else []
    reference = (avg_cost or Decimal(0)) * factor
    if reference > 0 and cost < DIP_LOW * reference:
        points = (cost / reference * base).quantize(POINTS, rounding=ROUND_HALF_UP)
        lines.append(f"实际费用 {_yuan(cost)} 低于本级别病种次均费用 {_yuan(reference)} 的 {DIP_LOW:.0%}，为费用偏差"
                     f"（低）病例：病例分值 = {_yuan(cost)} ÷ {_yuan(reference)} × {base:.4f} = {points:.4f} 分")
        return points, "low", lines
    if reference > 0 and cost > DIP_HIGH * reference:
        points = ((cost / reference - DIP_HIGH + 1) * base).quantize(POINTS, rounding=ROUND_HALF_UP)
        lines.append(f"实际费用 {_yuan(cost)} 高于本级别病种次均费用 {_yuan(reference)} 的 {DIP_HIGH} 倍，为费用偏差"
                     f"（高）病例：病例分值 = ({_yuan(cost)} ÷ {_yuan(reference)} − {DIP_HIGH} + 1) × {base:.4f} "
                     f"= {points:.4f} 分")
        return points, "high", lines
    return base.quantize(POINTS, rounding=ROUND_HALF_UP), "", lines


def dip_payment(*, group: str, score: Decimal | None, point_value: Decimal | None, cost: Decimal, scheme: str,
                special_review: bool = False, settled: bool = False, factor: Decimal = Decimal(1),
                avg_cost: Decimal | None = None, grassroots: bool = False, level: str = "") -> Payment:
    """What one discharge is paid by DIP: its case points (group score × the level factor of ``level``, 1 for a
    基层病种, adjusted for a 费用偏差病例 against ``avg_cost`` × factor) × the year's point value (the settled one
    when the year is closed, else the estimate)."""
    cost = money(cost)
    if scheme not in SCHEMES:
        return Payment("dip", group or "—", SELF_PAY, Decimal(0), explanation=("自费病例（未参保），不由医保基金支付",))
    if special_review:
        return Payment("dip", group or "—", SPECIAL_REVIEW, cost, score or Decimal(0), point_value or Decimal(0),
                       grassroots=grassroots,
                       explanation=(f"病种 {group or '—'}：特病单议病例，经专家评议后按实际费用 {_yuan(cost)} 支付",))
    if not group or score is None:
        return Payment("dip", group or "—", UNGROUPABLE, Decimal(0),
                       explanation=("病例没有DIP病种（缺主要诊断或本年度尚未生成病种目录），已标记",))
    if grassroots:
        factor = Decimal(1)
    lines = [f"病种 {group}，分值 {score:.2f}"]
    if grassroots:
        where = LEVEL_NAMES.get(level, level or "各级")
        lines.append(f"{group} 属于基层病种：在{where}机构治疗等级系数均为 1（同病同付）")
    elif level:
        lines.append(f"{LEVEL_NAMES.get(level, level)}医疗机构等级系数 {factor:.4f}")
    points, outlier, more = dip_points(score=score, factor=factor, cost=cost, avg_cost=avg_cost)
    lines += more
    if point_value is None:
        lines.append(f"{SCHEME_NAMES[scheme]}本年度尚无点值，已标记")
        return Payment("dip", group, NO_RATE, Decimal(0), points, Decimal(0), outlier, grassroots, tuple(lines))
    amount = money(points * point_value)
    which = "清算点值" if settled else "预估点值"
    lines.append(f"{which} {point_value:.4f} 元/分；支付 = {points:.4f} × {point_value:.4f} = {_yuan(amount)}")
    return Payment("dip", group, PAID, amount, points, point_value, outlier, grassroots, tuple(lines))
