"""Year-end settlement (年度清算) of the community's fund budget, and its allocation to the members.

Two pure functions decide every figure, over plain numbers (tested without a database):

``compute_settlement(budget_amount, spend, rules) -> Outcome``, in this order (amounts in yuan, each rounded
half-up to the cent):

1. **Balance** = budget − spend (the fund's payments for the county's insured of the year and scheme,
   wherever the care happened: in the community, at other institutions, outside the county, at pharmacies).
2. **Surplus** (balance > 0, 结余留用): the community retains ``retained_share`` × surplus; the rest returns
   to the fund.
3. **Overspend** (balance < 0): the reasonable part (合理超支) is the overspend up to ``overspend_cap`` ×
   budget; the fund bears ``overspend_share`` of it and the community the rest (合理超支分担). Overspend
   beyond the cap is borne by the community alone (超支不补).
4. **质量保证金**: ``withholding_rate`` × budget was withheld from the monthly pre-allocation. When the year's
   rules give a quality score (``rules["quality_score"]``, 0–100), the returned share is the score ÷ 100, or,
   when the rules give bands (``rules["quality_bands"] = [[90, 1], [80, 0.8], [60, 0.5]]``), the share of the
   highest band whose minimum the score reaches (0 below every band). Without a score the withholding is
   returned in full (nothing was assessed). The part not returned is deducted from the community.
5. **外转扣减**: ``out_of_county_deduction`` × the fund's out-of-county spend is deducted from the community
   (on top of the spend itself, which already counts against the budget): an incentive to keep patients in
   the county. 0 (the default) deducts nothing.
6. **The community's amount** = retained surplus − borne overspend − withholding not returned − out-of-county
   deduction: positive, the community receives it; negative, it bears it. ``fund_amount`` is what the fund
   bears of a reasonable overspend.

Every figure is also written as a line in words (``Outcome.explanation``), which the page and the
statements show as they are.

``allocate(amount, members, method, formula)`` splits the community's amount (a retained surplus, or a
borne overspend as a negative amount) between the members:

- ``workload`` (按工作量): ``formula = {"basis": "workload", "inpatient_factor": 3}`` weighs each member's
  settled outpatient visits + inpatient discharges × the factor (default 3) of the year and scheme;
  ``{"basis": "fund_paid"}`` uses the fund's payments to the member instead;
- ``performance`` (按绩效得分): ``formula = {"scores": {facility_code: score}}`` (every member needs one);
- ``fixed`` (按固定比例): ``formula = {facility_code: share}`` (or ``{"shares": {…}}``), the shares summing to 1
  (members not named get 0).

Amounts are to the cent and sum exactly to the total: each member gets the whole cents of its exact quota and
the cents left over go to the largest remainders (ties by facility code).

``close_year(budget, method, formula, *, actor)`` is the one service that writes a settlement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yigongti.core.errors import InvalidInput

if TYPE_CHECKING:
    from yigongti.core.actor import Actor

    from .models import Budget, YearSettlement

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
ONE = Decimal(1)
DEFAULT_INPATIENT_FACTOR = Decimal(3)
SHARE_TOLERANCE = Decimal("0.000001")
BASIS_PLACES = Decimal("0.000001")  # a score or a share to six places (MemberAllocation.basis)
MAX_SCORE = Decimal(1_000_000)
METHODS = ("workload", "performance", "fixed")
WORKLOAD_BASES = ("workload", "fund_paid")


def money(value: Any) -> Decimal:
    """Yuan, rounded half-up to the cent."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def yuan(value: Decimal) -> str:
    return f"{value:,.2f} 元"


def pct(value: Decimal) -> str:
    """0.85 → "85%", 0.125 → "12.5%"."""
    text = f"{(value * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _dec(value: Any, what: str, code: str = "bad_rules") -> Decimal:
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidInput(code, _("%(what)s不是数字：%(value)s") % {"what": what, "value": value}) from None
    if not d.is_finite():
        raise InvalidInput(code, _("%(what)s不是数字：%(value)s") % {"what": what, "value": value})
    return d


# ---- the rules --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """The year's settlement rules (ratios as fractions: 0.85 = 85 %)."""

    retained_share: Decimal
    overspend_cap: Decimal
    overspend_share: Decimal
    withholding_rate: Decimal = Decimal(0)
    out_of_county_deduction: Decimal = Decimal(0)
    quality_score: Decimal | None = None
    quality_bands: tuple[tuple[Decimal, Decimal], ...] = ()

    @classmethod
    def of_budget(cls, budget: Budget) -> Rules:
        return cls.build(budget.retained_share, budget.overspend_cap, budget.overspend_share,
                         budget.withholding_rate, budget.out_of_county_deduction, budget.rules or {})

    @classmethod
    def build(cls, retained_share, overspend_cap, overspend_share, withholding_rate=0, out_of_county_deduction=0,
              extra: Mapping[str, Any] | None = None) -> Rules:
        """The rules from the budget's ratios and its rules JSON, checked (InvalidInput in Chinese)."""
        extra = extra or {}
        if not isinstance(extra, Mapping):
            raise InvalidInput("bad_rules", _("年度规则应为 JSON 对象"))
        ratios = {}
        for name, value, label in (
                ("retained_share", retained_share, _("结余留用比例")),
                ("overspend_cap", overspend_cap, _("合理超支上限")),
                ("overspend_share", overspend_share, _("合理超支分担比例（基金）")),
                ("withholding_rate", withholding_rate, _("质量保证金比例")),
                ("out_of_county_deduction", out_of_county_deduction, _("外转扣减比例"))):
            d = _dec(value if value is not None else 0, label)
            if not ZERO <= d <= ONE:
                raise InvalidInput("bad_rules", _("%(what)s应在 0 到 1 之间（现为 %(value)s）")
                                   % {"what": label, "value": d}, field=name)
            ratios[name] = d
        score = None
        if extra.get("quality_score") not in (None, ""):
            score = _dec(extra["quality_score"], _("质量考核得分"))
            if not ZERO <= score <= 100:
                raise InvalidInput("bad_rules", _("质量考核得分应在 0 到 100 之间（现为 %(value)s）")
                                   % {"value": score}, field="quality_score")
        bands: list[tuple[Decimal, Decimal]] = []
        raw_bands = extra.get("quality_bands") or []
        if not isinstance(raw_bands, list):
            raise InvalidInput("bad_rules", _("质量考核返还档次应为 [[最低得分, 返还比例], …]"), field="quality_bands")
        for band in raw_bands:
            if not isinstance(band, (list, tuple)) or len(band) != 2:
                raise InvalidInput("bad_rules", _("质量考核返还档次应为 [[最低得分, 返还比例], …]"),
                                   field="quality_bands")
            low, share = _dec(band[0], _("档次最低得分")), _dec(band[1], _("档次返还比例"))
            if not ZERO <= share <= ONE:
                raise InvalidInput("bad_rules", _("档次返还比例应在 0 到 1 之间（现为 %(value)s）") % {"value": share},
                                   field="quality_bands")
            bands.append((low, share))
        bands.sort(key=lambda b: b[0], reverse=True)
        return cls(quality_score=score, quality_bands=tuple(bands), **ratios)

    def quality_return_share(self) -> Decimal | None:
        """The share of the withholding returned, or None when there is no score (returned in full)."""
        if self.quality_score is None:
            return None
        if self.quality_bands:
            return next((share for low, share in self.quality_bands if self.quality_score >= low), Decimal(0))
        return self.quality_score / 100

    def as_dict(self) -> dict[str, Any]:
        return {"retained_share": str(self.retained_share), "overspend_cap": str(self.overspend_cap),
                "overspend_share": str(self.overspend_share), "withholding_rate": str(self.withholding_rate),
                "out_of_county_deduction": str(self.out_of_county_deduction),
                "quality_score": None if self.quality_score is None else str(self.quality_score),
                "quality_bands": [[str(a), str(b)] for a, b in self.quality_bands]}

    def lines(self) -> list[str]:
        """The rules in words (for the statements)."""
        out = [_("结余留用：医共体留用结余的 %(p)s，其余返还基金") % {"p": pct(self.retained_share)},
               _("合理超支：不超过预算的 %(cap)s，基金分担 %(fund)s，医共体承担 %(own)s")
               % {"cap": pct(self.overspend_cap), "fund": pct(self.overspend_share),
                  "own": pct(ONE - self.overspend_share)},
               _("超过合理超支上限的部分由医共体全额承担（超支不补）"),
               _("质量保证金：预算的 %(p)s") % {"p": pct(self.withholding_rate)}]
        if self.quality_score is not None:
            out.append(_("质量考核得分：%(s)s 分") % {"s": f"{self.quality_score:f}"})
        if self.quality_bands:
            out.append(_("返还档次：") + "；".join(_("≥%(low)s 分返还 %(p)s") % {"low": f"{low:f}", "p": pct(share)}
                                                for low, share in self.quality_bands))
        out.append(_("外转扣减：县外就医基金支出的 %(p)s") % {"p": pct(self.out_of_county_deduction)})
        return out


@dataclass(frozen=True)
class Spend:
    """The fund's payments of the year and scheme: in total, and the part outside the county."""

    total: Decimal
    out_of_county: Decimal = Decimal(0)


@dataclass(frozen=True)
class Outcome:
    budget: Decimal
    spend: Decimal
    out_of_county_spend: Decimal
    balance: Decimal  # + surplus, − overspend
    surplus: Decimal
    retained: Decimal
    surplus_to_fund: Decimal
    overspend: Decimal
    overspend_cap_amount: Decimal
    reasonable_overspend: Decimal
    excess_overspend: Decimal
    fund_shared: Decimal  # the fund's share of the reasonable overspend
    community_shared: Decimal  # the community's share of the reasonable overspend
    withheld: Decimal
    quality_share: Decimal | None
    withholding_returned: Decimal
    withholding_kept: Decimal
    out_of_county_deducted: Decimal
    community_amount: Decimal  # + received by the community, − borne by it
    fund_amount: Decimal  # borne by the fund
    explanation: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items() if k != "explanation"}


def compute_settlement(budget_amount: Any, spend: Spend | Decimal | int | str, rules: Rules) -> Outcome:
    """Surplus or overspend of the year by the rules, and what the community retains or bears (see the module
    docstring for the order). Pure; InvalidInput (Chinese) for an impossible budget or spend."""
    budget = money(_dec(budget_amount, _("年度预算总额"), "bad_budget"))
    if not isinstance(spend, Spend):
        spend = Spend(_dec(spend, _("年度基金支出"), "bad_spend"))
    total, outside = money(_dec(spend.total, _("年度基金支出"), "bad_spend")), \
        money(_dec(spend.out_of_county, _("县外就医基金支出"), "bad_spend"))
    if budget <= 0:
        raise InvalidInput("bad_budget", _("年度预算总额应大于 0"), field="amount")
    if total < 0 or outside < 0:
        raise InvalidInput("bad_spend", _("年度基金支出不能为负"))
    if outside > total:
        raise InvalidInput("bad_spend", _("县外就医基金支出不能大于基金总支出"))

    lines = [_("年度预算总额 %(b)s；年度基金支出 %(s)s（其中县外就医 %(o)s，占 %(p)s）")
             % {"b": yuan(budget), "s": yuan(total), "o": yuan(outside),
                "p": pct(outside / total) if total else "0%"}]
    balance = budget - total
    surplus = retained = to_fund = overspend = cap = reasonable = excess = fund_shared = own_shared = ZERO
    if balance > 0:
        surplus = balance
        retained = money(surplus * rules.retained_share)
        to_fund = surplus - retained
        lines.append(_("结余 %(s)s（预算 − 支出，结余率 %(r)s）") % {"s": yuan(surplus), "r": pct(surplus / budget)})
        lines.append(_("结余留用：医共体留用 %(s)s × %(p)s = %(k)s，返还基金 %(f)s")
                     % {"s": yuan(surplus), "p": pct(rules.retained_share), "k": yuan(retained), "f": yuan(to_fund)})
    elif balance < 0:
        overspend = -balance
        cap = money(budget * rules.overspend_cap)
        reasonable = min(overspend, cap)
        excess = overspend - reasonable
        fund_shared = money(reasonable * rules.overspend_share)
        own_shared = reasonable - fund_shared
        lines.append(_("超支 %(o)s（支出 − 预算，超支率 %(r)s）")
                     % {"o": yuan(overspend), "r": pct(overspend / budget)})
        lines.append(_("合理超支上限：预算 × %(p)s = %(c)s；合理超支 %(r)s")
                     % {"p": pct(rules.overspend_cap), "c": yuan(cap), "r": yuan(reasonable)})
        lines.append(_("合理超支分担：基金承担 %(r)s × %(p)s = %(f)s，医共体承担 %(m)s")
                     % {"r": yuan(reasonable), "p": pct(rules.overspend_share), "f": yuan(fund_shared),
                        "m": yuan(own_shared)})
        if excess:
            lines.append(_("超出合理超支上限 %(e)s，由医共体全额承担（超支不补）") % {"e": yuan(excess)})
    else:
        lines.append(_("支出与预算持平，无结余、无超支"))

    withheld = money(budget * rules.withholding_rate)
    share = rules.quality_return_share()
    returned = withheld if share is None else money(withheld * share)
    kept = withheld - returned
    if withheld:
        if share is None:
            lines.append(_("质量保证金：预算 × %(p)s = %(w)s；未给出质量考核得分，全额返还")
                         % {"p": pct(rules.withholding_rate), "w": yuan(withheld)})
        else:
            lines.append(_("质量保证金：预算 × %(p)s = %(w)s；质量考核得分 %(s)s 分，返还 %(q)s = %(r)s，"
                           "扣减 %(k)s（从医共体清算额中扣除）")
                         % {"p": pct(rules.withholding_rate), "w": yuan(withheld), "s": f"{rules.quality_score:f}",
                            "q": pct(share), "r": yuan(returned), "k": yuan(kept)})
    else:
        lines.append(_("质量保证金：未预留"))
    deducted = money(outside * rules.out_of_county_deduction)
    if deducted:
        lines.append(_("外转扣减：县外就医基金支出 %(o)s × %(p)s = %(d)s（从医共体清算额中扣除）")
                     % {"o": yuan(outside), "p": pct(rules.out_of_county_deduction), "d": yuan(deducted)})
    else:
        lines.append(_("外转扣减：无"))
    community = retained - own_shared - excess - kept - deducted
    parts = [yuan(retained)] if surplus else [f"− {yuan(own_shared)}"] if overspend else [yuan(ZERO)]
    parts += [f"− {yuan(v)}" for v in (excess, kept, deducted) if v]
    formula = " ".join(parts) + " = " if len(parts) > 1 else ""
    if community >= 0:
        lines.append(_("医共体清算额 = %(parts)s%(c)s（医共体获得）") % {"parts": formula, "c": yuan(community)})
    else:
        lines.append(_("医共体清算额 = %(parts)s−%(c)s（医共体承担）") % {"parts": formula, "c": yuan(-community)})
    if fund_shared:
        lines.append(_("基金承担合理超支 %(f)s") % {"f": yuan(fund_shared)})
    return Outcome(budget, total, outside, balance, surplus, retained, to_fund, overspend, cap, reasonable, excess,
                   fund_shared, own_shared, withheld, share, returned, kept, deducted, community, fund_shared, lines)


# ---- allocation to the members ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A member facility and its figures of the year and scheme (settled visits, discharges, fund payments)."""

    facility_id: int
    code: str
    name: str = ""
    outpatient: int = 0
    inpatient: int = 0
    fund_paid: Decimal = Decimal(0)

    def as_dict(self) -> dict[str, Any]:
        return {"outpatient": self.outpatient, "inpatient": self.inpatient, "fund_paid": str(self.fund_paid)}


class Allocation(NamedTuple):
    facility_id: int
    basis: Decimal
    share: Decimal  # of the total, 6 places (for showing; the amounts are exact)
    amount: Decimal


def _bad(message: str, fld: str = "formula") -> InvalidInput:
    return InvalidInput("bad_formula", message, field=fld)


def _code_map(raw: Any, members: Sequence[Member], what: str) -> dict[str, Decimal]:
    if not isinstance(raw, Mapping):
        raise _bad(_("%(what)s应为 {机构编码: 数值} 的对象") % {"what": what})
    codes = {m.code for m in members}
    unknown = sorted(str(k) for k in raw if str(k) not in codes)
    if unknown:
        raise _bad(_("不是本医共体成员单位的机构编码：%(codes)s") % {"codes": "、".join(unknown)})
    out = {}
    for k, v in raw.items():
        d = _dec(v, _("%(code)s 的%(what)s") % {"code": k, "what": what}, "bad_formula")
        if d < 0:
            raise _bad(_("%(code)s 的%(what)s不能为负") % {"code": k, "what": what})
        if d > MAX_SCORE:
            raise _bad(_("%(code)s 的%(what)s过大（不超过 %(max)s）") % {"code": k, "what": what, "max": MAX_SCORE})
        out[str(k)] = d.quantize(BASIS_PLACES, rounding=ROUND_HALF_UP)
    return out


def normalise_formula(method: str, formula: Any, members: Sequence[Member]) -> dict[str, Any]:
    """The formula checked and written out in full (defaults filled in), as stored with the settlement."""
    formula = formula if formula not in (None, "") else {}
    if method not in METHODS:
        raise InvalidInput("bad_method", _("分配方式应为按工作量、按绩效得分或按固定比例"), field="method")
    if not isinstance(formula, Mapping):
        raise _bad(_("分配参数应为 JSON 对象"))
    if method == "workload":
        extra = sorted(set(formula) - {"basis", "inpatient_factor"})
        if extra:
            raise _bad(_("按工作量分配的参数只有 basis 和 inpatient_factor（多出：%(k)s）") % {"k": "、".join(extra)})
        basis = formula.get("basis") or "workload"
        if basis not in WORKLOAD_BASES:
            raise _bad(_("工作量基数应为 workload（门诊人次 + 住院人次 × 系数）或 fund_paid（基金支付额）"))
        factor = _dec(formula.get("inpatient_factor", DEFAULT_INPATIENT_FACTOR), _("住院人次折算系数"), "bad_formula")
        if not 0 <= factor <= 1000:
            raise _bad(_("住院人次折算系数应在 0 到 1000 之间"))
        factor = factor.quantize(BASIS_PLACES, rounding=ROUND_HALF_UP).normalize()
        return {"basis": basis, "inpatient_factor": f"{factor:f}"} if basis == "workload" else {"basis": basis}
    if method == "performance":
        raw = formula.get("scores", formula)
        scores = _code_map(raw, members, _("绩效得分"))
        missing = [m.name or m.code for m in members if m.code not in scores]
        if missing:
            raise _bad(_("以下成员单位没有绩效得分：%(names)s") % {"names": "、".join(missing)})
        return {"scores": {k: str(v) for k, v in scores.items()}}
    raw = formula.get("shares", formula)
    shares = _code_map(raw, members, _("固定比例"))
    total = sum(shares.values(), Decimal(0))
    if abs(total - ONE) > SHARE_TOLERANCE:
        raise _bad(_("固定比例之和应为 1（100%%），现为 %(t)s（%(p)s）") % {"t": f"{total:f}", "p": pct(total)})
    if any(v > ONE for v in shares.values()):
        raise _bad(_("固定比例不能大于 1"))
    return {"shares": {k: str(v) for k, v in shares.items()}}


def allocation_basis(members: Sequence[Member], method: str, formula: Any) -> dict[int, Decimal]:
    """Each member's basis under the (checked) formula."""
    f = normalise_formula(method, formula, members)
    if method == "workload":
        if f["basis"] == "fund_paid":
            return {m.facility_id: Decimal(m.fund_paid) for m in members}
        factor = Decimal(f["inpatient_factor"])
        return {m.facility_id: Decimal(m.outpatient) + Decimal(m.inpatient) * factor for m in members}
    table = f["scores"] if method == "performance" else f["shares"]
    return {m.facility_id: Decimal(table.get(m.code, "0")) for m in members}


def split_exactly(total: Decimal, weights: Sequence[Decimal], keys: Sequence[Any] | None = None) -> list[Decimal]:
    """``total`` (yuan) split in proportion to ``weights``, to the cent, summing exactly to ``total``
    (largest remainder; ties go to the smaller key, by default the position)."""
    cents = int(money(total) / CENT)
    sign, cents = (-1 if cents < 0 else 1), abs(cents)
    whole = sum((Fraction(w) for w in weights), Fraction(0))
    if whole <= 0:
        if cents:
            raise _bad(_("分配基数合计为 0，无法分配"))
        return [ZERO for _w in weights]
    quotas = [Fraction(cents) * Fraction(w) / whole for w in weights]
    floors = [q.numerator // q.denominator for q in quotas]
    left = cents - sum(floors)
    order_keys = list(keys) if keys is not None else list(range(len(weights)))
    ranked = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - floors[i]), order_keys[i]))
    for i in ranked[:left]:
        floors[i] += 1
    return [(Decimal(sign * c) * CENT).quantize(CENT) for c in floors]


def allocate(amount: Any, members: Sequence[Member], method: str, formula: Any) -> list[Allocation]:
    """The community's amount split between the members by the formula (see the module docstring): one
    ``Allocation(facility_id, basis, share, amount)`` per member, in the members' order; the amounts sum
    exactly to ``amount``."""
    if not members:
        raise _bad(_("医共体没有成员单位，无法分配"))
    total = money(_dec(amount, _("分配金额"), "bad_amount"))
    basis = allocation_basis(members, method, formula)
    weights = [basis[m.facility_id] for m in members]
    whole = sum(weights, Decimal(0))
    if whole <= 0 and total:
        raise _bad(_("分配基数合计为 0，无法分配（%(why)s）") % {"why": _BASIS_ZERO.get(method, "")})
    amounts = split_exactly(total, weights, [m.code for m in members])
    return [Allocation(m.facility_id, w, (w / whole).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
                       if whole > 0 else Decimal(0), a) for m, w, a in zip(members, weights, amounts, strict=True)]


_BASIS_ZERO = {"workload": gettext_lazy("成员单位本年度没有结算工作量"), "performance": gettext_lazy("绩效得分都为 0"),
               "fixed": gettext_lazy("固定比例都为 0")}


def describe_formula(method: str, formula: Mapping[str, Any], names: Mapping[str, str] | None = None) -> str:
    """The (normalised) formula in words."""
    names = names or {}
    if method == "workload":
        if formula.get("basis") == "fund_paid":
            return _("按工作量：各成员单位本年度统筹基金支付额占比")
        return _("按工作量：门诊结算人次 + 住院结算人次 × %(f)s（折算工作量）占比") % {
            "f": formula.get("inpatient_factor", DEFAULT_INPATIENT_FACTOR)}
    if method == "performance":
        scores = "；".join(f"{names.get(k, k)} {v}" for k, v in formula.get("scores", {}).items())
        return _("按绩效得分占比：%(s)s") % {"s": scores}
    shares = "；".join(f"{names.get(k, k)} {pct(Decimal(v))}" for k, v in formula.get("shares", {}).items())
    return _("按固定比例：%(s)s") % {"s": shares}


def formula_from_form(method: str, data: Mapping[str, Any], members: Iterable[Member]) -> dict[str, Any]:
    """The formula from the page's close form: ``basis``/``inpatient_factor`` for workload, ``score_<id>`` per
    member for performance, ``share_<id>`` (percent) per member for fixed shares (blank = 0)."""
    if method == "workload":
        out: dict[str, Any] = {"basis": data.get("basis") or "workload"}
        if out["basis"] == "workload":
            out["inpatient_factor"] = (data.get("inpatient_factor") or "").strip() or str(DEFAULT_INPATIENT_FACTOR)
        return out
    if method == "performance":
        return {"scores": {m.code: (data.get(f"score_{m.facility_id}") or "").strip()
                           for m in members if (data.get(f"score_{m.facility_id}") or "").strip()}}
    if method == "fixed":
        shares = {}
        for m in members:
            text = (data.get(f"share_{m.facility_id}") or "").strip().rstrip("%")
            if text:
                shares[m.code] = str(_dec(text, _("%(name)s 的比例") % {"name": m.name or m.code}, "bad_formula")
                                     / 100)
        return {"shares": shares}
    return {}


# ---- the service ------------------------------------------------------------------------------------------------


def year_is_over(year: int, today: dt.date) -> bool:
    return today.year > year


def close_year(budget: Budget | int, method: str, formula: Any, *, actor: Actor, force: bool = False
               ) -> YearSettlement:
    """Close the budget's year into a settlement: the figures by the rules, the allocation to the members,
    the budget marked closed — in one transaction that locks the year's budget rows, so that of two closes at
    once exactly one succeeds (the other, like any close of a closed year, is a Conflict ``already_closed``).

    The year must be over; ``force`` closes the current year early (never a future one). Spend and the
    members' figures come from the posted ledger when every month of the year is posted, else directly from
    the settlements (the explanation says which)."""
    from django.db import transaction

    from yigongti.core import audit
    from yigongti.core.errors import Conflict, NotFound
    from yigongti.core.validation import today
    from yigongti.orgs.permissions import check

    from .models import Budget, BudgetStatus, MemberAllocation, YearSettlement
    from .queries import settlement as queries

    found = budget if isinstance(budget, Budget) else Budget.objects.filter(pk=budget).first()
    if found is None:
        raise NotFound()
    budget = found
    check(actor, "insurance.close_year", budget)
    t = today()
    if budget.year > t.year or (budget.year == t.year and not force):
        raise InvalidInput("year_not_over", _("%(y)s 年度尚未结束，不能清算") % {"y": budget.year}
                           + ("" if budget.year > t.year else _("（确需提前清算请勾选“提前清算”）")), field="year")
    with transaction.atomic():
        versions = list(Budget.objects.select_for_update().filter(
            community_id=budget.community_id, year=budget.year, scheme=budget.scheme).order_by("version"))
        done = YearSettlement.objects.filter(budget__in=versions).select_related("budget", "closed_by").first()
        if done is not None or any(v.status == BudgetStatus.CLOSED for v in versions):
            when = done.closed_at.strftime("%Y-%m-%d %H:%M") if done else ""
            who = (done.closed_by.display_name or done.closed_by.username) if done and done.closed_by else ""
            raise Conflict("already_closed", _("%(y)s 年度%(s)s已清算%(detail)s，不能重复清算")
                           % {"y": budget.year, "s": budget.get_scheme_display(),
                              "detail": f"（{who} {when}）" if when else ""})
        current = versions[-1]
        if current.pk != budget.pk:
            raise Conflict("superseded", _("该预算已有新版本 v%(v)s，请对最新版本清算") % {"v": current.version})
        figures = queries.year_figures(current.community, current.year, current.scheme)
        outcome = compute_settlement(current.amount, figures.spend, Rules.of_budget(current))
        norm = normalise_formula(method, formula, figures.members)
        shares = allocate(outcome.community_amount, figures.members, method, norm)
        settlement = YearSettlement.objects.create(
            budget=current, spend=outcome.spend, balance=outcome.balance, community_amount=outcome.community_amount,
            fund_amount=outcome.fund_amount, method=method, formula=norm,
            explanation=[*figures.notes, *outcome.explanation],
            figures={**outcome.as_dict(), "rules": Rules.of_budget(current).as_dict(), "source": figures.source,
                     "forced": bool(force and current.year == t.year)},
            closed_by=actor.user)
        by_id = {m.facility_id: m for m in figures.members}
        MemberAllocation.objects.bulk_create([
            MemberAllocation(settlement=settlement, facility_id=a.facility_id, basis=a.basis, share=a.share,
                             amount=a.amount, figures=by_id[a.facility_id].as_dict()) for a in shares])
        Budget.objects.filter(pk=current.pk).update(status=BudgetStatus.CLOSED)
        audit.record(actor, "create", "year_settlement", settlement.pk, budget=current.pk, year=current.year,
                     scheme=current.scheme, method=method, community_amount=str(outcome.community_amount),
                     source=figures.source)
    return settlement
