"""The community's annual fund budget by scheme (总额预算), and the year's rules, as versioned data.

A budget is proposed from the prior year's fund spend of the county's insureds (every settlement wherever the
care happened, 冲销/退费 rows netting out their originals) and a growth rate:

    amount = prior_spend × (1 + growth_rate)

The quality guarantee (质量保证金) is ``withholding_rate × amount``: it is kept back from the monthly
pre-allocation (按月预拨) and paid out at the year-end settlement by the assessment, so the twelve monthly
pre-allocations add up to ``amount − withholding``. They are split evenly (1/12 each) or by the seasonal
pattern of the prior year's monthly spend, or given month by month. The other rules of the year — the share of
a surplus the community retains (结余留用), the cap of a reasonable overspend and the fund's share of it (合理超支
分担), the deduction for out-of-county care (外转扣减) and free-form rules such as the out-of-county reimbursement
rates with and without a filing — are stored with the budget. Setting a budget again writes a new version; the
earlier versions stay, and the highest version is the year's budget.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from django.db import transaction
from django.db.models import Case, IntegerField, Max, Sum, Value, When
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput
from yigongti.core.validation import chinese_message
from yigongti.encounters.models import InsuranceScheme, InsuranceSettlement
from yigongti.orgs import permissions
from yigongti.orgs.models import MedicalCommunity

from .models import Budget, BudgetStatus

CENT = Decimal("0.01")
SCHEMES = (InsuranceScheme.RESIDENT.value, InsuranceScheme.EMPLOYEE.value)
DEFAULT_GROWTH = Decimal("0.05")
DEFAULT_RULES: dict[str, Any] = {"out_of_county_rates": {"filed": "0.60", "unfiled": "0.40"}}


def county_code(community: MedicalCommunity) -> str:
    """The 6-digit county code of the community: its insureds are the settlements' ``residence_county``."""
    return community.region.code[:6]


def _cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def month_start(day: dt.date, months: int = 0) -> dt.date:
    """The first day of the month ``months`` after ``day``'s month."""
    n = day.year * 12 + day.month - 1 + months
    return dt.date(n // 12, n % 12 + 1, 1)


def month_index(start: dt.date, months: int, field: str = "settle_date"):
    """The month of ``field`` counted from ``start``'s month (0 … months − 1), for rows already filtered to those
    months: a CASE over the month boundaries, plain comparisons on every backend (``ExtractMonth`` is a Python
    function called for every row on SQLite, most of the cost of a year's aggregate)."""
    if months <= 1:
        return Value(0, output_field=IntegerField())
    return Case(*[When(**{f"{field}__lt": month_start(start, k + 1)}, then=Value(k)) for k in range(months - 1)],
                default=Value(months - 1), output_field=IntegerField())


def spend_by_month(community: MedicalCommunity, first_year: int, years: int, scheme: str) -> list[list[Decimal]]:
    """The fund spend of the county's insureds in each month of ``years`` years from ``first_year`` (by
    settlement date, reversals netted): one aggregate query, grouped by month in SQL."""
    start = dt.date(first_year, 1, 1)
    rows = (InsuranceSettlement.objects
            .filter(residence_county=county_code(community), scheme=scheme,
                    settle_date__gte=start, settle_date__lt=dt.date(first_year + years, 1, 1))
            .annotate(i=month_index(start, 12 * years)).values("i").annotate(fund=Sum("fund_paid")).order_by())
    out = [[Decimal(0)] * 12 for _ in range(years)]
    for r in rows:
        out[r["i"] // 12][r["i"] % 12] = r["fund"] or Decimal(0)
    return out


def monthly_spend(community: MedicalCommunity, year: int, scheme: str) -> list[Decimal]:
    """The fund spend of the county's insureds in each month of a year (by settlement date), reversals netted."""
    return spend_by_month(community, year, 1, scheme)[0]


def split_prealloc(total: Decimal, pattern: list[Decimal] | None = None) -> list[Decimal]:
    """``total`` in twelve monthly amounts: evenly, or in proportion to ``pattern`` (a year's monthly spend).
    The cents left by rounding go to December, so the months add up to ``total`` exactly."""
    weights = pattern if pattern and sum(pattern) > 0 and all(p >= 0 for p in pattern) else [Decimal(1)] * 12
    whole = sum(weights)
    months = [_cents(total * w / whole) for w in weights[:11]]
    months.append(total - sum(months))
    return months


def propose_budget(community: MedicalCommunity, year: int, scheme: str) -> dict[str, Any]:
    """What the budget form starts from: the prior year's spend, its months (the seasonal pattern), the growth
    of the prior year over the year before it (when that year has settlements) and the proposed amount."""
    if not 2002 <= year <= 2100:
        raise InvalidInput("invalid_year", _("年度不正确"), field="year")
    before, prior = spend_by_month(community, year - 2, 2, scheme)
    prior_spend = sum(prior, Decimal(0))
    growth = DEFAULT_GROWTH
    basis = _("默认增长率 5%")
    if sum(before) > 0 and all(m > 0 for m in before) and prior_spend > 0:
        growth = (prior_spend / sum(before) - 1).quantize(Decimal("0.0001"))
        basis = _("按 %(y)s 年比 %(y0)s 年的增长") % {"y": year - 1, "y0": year - 2}
    amount = _cents(prior_spend * (1 + growth))
    return {"year": year, "scheme": scheme, "prior_spend": _cents(prior_spend), "prior_months": prior,
            "growth_rate": growth, "growth_basis": basis, "amount": amount,
            "prealloc_even": split_prealloc(amount), "prealloc_seasonal": split_prealloc(amount, prior)}


def _ratio(lo: str, hi: str, **kw):
    return Field(ge=Decimal(lo), le=Decimal(hi), max_digits=7, decimal_places=4, **kw)


class BudgetInput(BaseModel):
    """What the insurance officer sets (ratios as fractions: 0.05 = 5 %)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    prior_spend: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2,
                                        description="上年基金支出（元）；不填则按上年结算计算")
    growth_rate: Decimal = _ratio("-0.5", "1", description="增长率，0.05 = 5%")
    withholding_rate: Decimal = _ratio("0", "0.2", default=Decimal(0),
                                       description="质量保证金比例（预留，年终考核后拨付）")
    prealloc: Literal["even", "seasonal", "custom"] = Field("even", description="按月预拨：even 平均 / seasonal "
                                                                                "按上年各月 / custom 逐月填写")
    monthly: list[Decimal] | None = Field(None, description="custom 时 12 个月的预拨金额（元）")
    retained_share: Decimal = _ratio("0", "1", description="结余留用比例（结余中医共体留用的份额）")
    overspend_cap: Decimal = _ratio("0", "0.5", description="合理超支上限（占预算的比例）")
    overspend_share: Decimal = _ratio("0", "1", description="合理超支中基金分担的比例")
    out_of_county_deduction: Decimal = _ratio("0", "1", default=Decimal(0),
                                              description="外转扣减比例（县外就医基金支出从医共体预算中扣减的份额）")
    rules: dict[str, Any] = Field(default_factory=lambda: dict(DEFAULT_RULES),
                                  description="其他规则，例如 out_of_county_rates: {filed, unfiled}")
    note: str = Field("", max_length=200)

    @field_validator("monthly")
    @classmethod
    def _twelve(cls, v: list[Decimal] | None) -> list[Decimal] | None:
        if v is not None and (len(v) != 12 or any(x < 0 for x in v)):
            raise ValueError(_("按月预拨需要 12 个不小于 0 的金额"))
        return v

    @field_validator("rules")
    @classmethod
    def _rates(cls, v: dict[str, Any]) -> dict[str, Any]:
        rates = v.get("out_of_county_rates")
        if rates is not None:
            if not isinstance(rates, dict):
                raise ValueError(_("县外报销比例应写成 {filed, unfiled}"))
            for key, value in rates.items():
                try:
                    r = Decimal(str(value))
                except (ArithmeticError, ValueError, TypeError):
                    raise ValueError(_("县外报销比例 %(key)s 不是数字") % {"key": key}) from None
                if not Decimal(0) <= r <= Decimal(1):
                    raise ValueError(_("县外报销比例 %(key)s 应在 0 到 1 之间") % {"key": key})
        return v

    @model_validator(mode="after")
    def _custom_needs_months(self) -> BudgetInput:
        if self.prealloc == "custom" and self.monthly is None:
            raise ValueError(_("选择逐月填写时需要填写 12 个月的预拨金额"))
        return self


FIELD_LABELS = {"prior_spend": "上年基金支出", "growth_rate": "增长率", "withholding_rate": "质量保证金比例",
                "prealloc": "按月预拨", "monthly": "逐月预拨", "retained_share": "结余留用比例",
                "overspend_cap": "合理超支上限", "overspend_share": "合理超支分担比例", "out_of_county_deduction":
                "外转扣减比例", "rules": "其他规则", "note": "说明"}


def parse_input(data: dict[str, Any]) -> BudgetInput:
    """The officer's input, or ``InvalidInput`` naming every bad field in Chinese."""
    try:
        return BudgetInput.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            field = loc[0] if loc else "__all__"
            label = _(FIELD_LABELS[field]) if field in FIELD_LABELS else ""
            msg = chinese_message(dict(err))
            errors.setdefault(field, []).append(f"{label}：{msg}" if label else msg)
        first, msgs = next(iter(errors.items()))
        raise InvalidInput("invalid_budget", msgs[0], field=first, errors=errors) from None


def current_budget(community: MedicalCommunity, year: int, scheme: str) -> Budget | None:
    """The year's budget of a scheme: its highest version."""
    return (Budget.objects.filter(community=community, year=year, scheme=scheme).order_by("-version").first())


def set_budget(community: MedicalCommunity, year: int, scheme: str, inputs: BudgetInput | dict[str, Any], *,
               actor: Actor) -> Budget:
    """Set the year's budget of a scheme: a new version (the earlier ones stay), active at once."""
    permissions.check(actor, "insurance.set_budget", None)
    if scheme not in SCHEMES:
        raise InvalidInput("invalid_scheme", _("险种应为城乡居民医保或职工医保"), field="scheme")
    if not 2000 <= year <= 2100:
        raise InvalidInput("invalid_year", _("年度不正确"), field="year")
    data = inputs if isinstance(inputs, BudgetInput) else parse_input(inputs)
    if year < 2002:  # as propose_budget (the prior years' spend must be reachable)
        raise InvalidInput("invalid_year", _("年度不正确"), field="year")
    # the prior year's months only when they are needed (its spend not given, or the seasonal split)
    prior_months = monthly_spend(community, year - 1, scheme) \
        if data.prior_spend is None or data.prealloc == "seasonal" else []
    prior_spend = data.prior_spend if data.prior_spend is not None else _cents(sum(prior_months, Decimal(0)))
    amount = _cents(prior_spend * (1 + data.growth_rate))
    to_allocate = amount - _cents(amount * data.withholding_rate)
    if data.prealloc == "custom":
        monthly = [_cents(m) for m in data.monthly or []]
        if sum(monthly) != to_allocate:
            raise InvalidInput("prealloc_total", _("逐月预拨合计 %(sum)s 元，应等于预算扣除质量保证金后的 %(total)s 元")
                               % {"sum": sum(monthly), "total": to_allocate}, field="monthly")
    else:
        monthly = split_prealloc(to_allocate, prior_months if data.prealloc == "seasonal" else None)
    with transaction.atomic():
        # the community's row is the lock: two officers saving at once get versions n and n + 1
        MedicalCommunity.objects.select_for_update().filter(pk=community.pk).first()
        latest = (Budget.objects.filter(community=community, year=year, scheme=scheme)
                  .aggregate(v=Max("version"))["v"]) or 0
        closed = Budget.objects.filter(community=community, year=year, scheme=scheme,
                                       status=BudgetStatus.CLOSED).exists()
        if closed:
            raise Conflict("budget_closed", _("该年度预算已清算，不能再修改"))
        rules = dict(data.rules)
        rules["prealloc_method"] = data.prealloc
        budget = Budget.objects.create(
            community=community, year=year, scheme=scheme, version=latest + 1, status=BudgetStatus.ACTIVE,
            prior_spend=prior_spend, growth_rate=data.growth_rate, amount=amount,
            withholding_rate=data.withholding_rate, monthly_prealloc=[str(m) for m in monthly],
            retained_share=data.retained_share, overspend_cap=data.overspend_cap,
            overspend_share=data.overspend_share, out_of_county_deduction=data.out_of_county_deduction,
            rules=rules, note=data.note, created_by=actor.user)
        audit.record(actor, "set_budget", "budget", budget.pk, year=year, scheme=scheme, version=budget.version,
                     amount=str(amount))
    from .ledger import bump_version

    transaction.on_commit(lambda: bump_version(community.pk))
    return budget


def prealloc_of(budget: Budget) -> list[Decimal]:
    """The budget's twelve monthly pre-allocations as Decimals."""
    values = [Decimal(str(v)) for v in (budget.monthly_prealloc or [])]
    return values if len(values) == 12 else split_prealloc(budget.amount)


def withholding_of(budget: Budget) -> Decimal:
    return _cents(budget.amount * budget.withholding_rate)
