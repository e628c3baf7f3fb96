"""DIP (按病种分值付费): the year's groups from the community's own cases, and the point value.

Groups, in the shape of the DIP 技术规范 (国家医疗保障按病种分值付费技术规范):

* a case's combination is its main diagnosis at the ICD-10 category (3 characters, ``I21``) with its main
  procedure (ICD-9-CM-3, first listed) or "—" when it had none (保守治疗): ``I21|36.0700``, ``I21|—``;
* **core groups** (核心病种): combinations with at least ``threshold`` cases in the year (15 by default);
* **combined groups** (综合病种): the other cases, one group per diagnosis category and treatment —
  ``COMB-I21-P`` (with a procedure: 手术操作) and ``COMB-I21-M`` (without: 保守治疗);
* score (病种分值) = the group's mean total cost ÷ the mean total cost of all cases × 1000.

Level factor (医疗机构等级系数), one per care level and year (``DipLevelFactor``), computed when the groups are
built from the same cases, by indirect standardisation over the groups that are not 基层病种:

    ratio(level)  = Σ total cost of the level's cases ÷ Σ their groups' mean cost (all levels together)
    factor(level) = ratio(level) ÷ ratio(county), capped to [0.5, 1.0]   (the top level is 1)

so a level whose stays cost 60 % of what the same groups cost on average at the county gets 0.6. A level with
fewer than ``FACTOR_MIN_CASES`` such cases takes the default (county 1.0, township 0.6, village 0.5); the
officer may set them (``set_level_factors``; a rebuild keeps what was set). Scaling every factor by one
constant changes nothing that is paid: the point value divides by the same points. A 基层病种 has factor 1 at
every level (同病同付).

Case points (``payment.dip_points``) = score × factor, with the 费用偏差病例 rule (cost below 50 % or above 2 ×
the group's mean cost × the factor).

Point value (点值, yuan per point), one per scheme:

* **estimated** at the start of the year = the year's inpatient budget for DIP ÷ the expected total points, where
  - inpatient budget = Σ budget amount (highest version per community) × (1 − 质量保证金比例) × inpatient share
    (``Budget.rules["inpatient_share"]`` when set, else from the ledger: the members' inpatient fund spend ÷
    all fund spend of the community's insureds, the prior year's, else this year's posted months; else 0.6 —
    the members' share, as the points are the members' cases), then ÷ the fund's share of inpatient total cost
    (prior year's discharges; payment standards, like DRG ones, are in total-cost terms);
  - expected points = the prior year's cases scored on this year's groups, factors and deviation rule
    × (1 + the budget's growth rate), or this year's cases when the prior year has none;
* **settled** at year end = the same inpatient fund (or the actual fund given) ÷ the actual total points of the
  year's cases.

The points are summed over numpy arrays of one lean query per year (``queries.payment.dip_cases``) and the fund
ratio is one aggregate: estimating a county year's point value takes a fraction of a second.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.orgs import permissions

from . import payment
from .models import Budget, DipGroup, DipLevelFactor, DipPointValue, Discharge, LedgerEntry
from .queries import payment as reads

THRESHOLD = 15
FACTOR_MIN_CASES = 30
FACTOR_MIN, FACTOR_MAX = Decimal("0.5"), Decimal("1.0")
TOP_LEVEL = "county"
DEFAULT_FACTORS = {"county": Decimal("1.0000"), "township": Decimal("0.6000"), "village": Decimal("0.5000")}
FOUR = Decimal("0.0001")
NO_PROCEDURE = "—"
DEFAULT_INPATIENT_SHARE = Decimal("0.6")
# 基层病种 (flagged on the groups, for the pages and the indicator): the same conditions as the default 基层病组
GRASSROOTS_CATEGORIES = frozenset({"I10", "I11", "E11", "E14", "J44", "J18", "J20", "J06", "J45", "K29", "A09",
                                   "I63", "M54", "N39"})


@dataclass(frozen=True)
class GroupRow:
    code: str
    name: str
    kind: str  # core / combined
    cases: int
    avg_cost: Decimal
    score: Decimal


def category(diagnosis: str) -> str:
    return diagnosis.strip().upper()[:3]


def combination(diagnosis: str, procedure: str) -> str:
    return f"{category(diagnosis)}|{procedure.strip() or NO_PROCEDURE}"


def combined_code(diagnosis: str, procedure: str) -> str:
    return f"COMB-{category(diagnosis)}-{'P' if procedure.strip() else 'M'}"


def group_code(diagnosis: str, procedure: str, core: set[str] | frozenset[str]) -> str:
    """The DIP group of a case given the year's core combinations ("" without a main diagnosis)."""
    if not category(diagnosis):
        return ""
    key = combination(diagnosis, procedure)
    return key if key in core else combined_code(diagnosis, procedure)


def _name(code: str) -> str:
    if code.startswith("COMB-"):
        _c, cat, kind = code.split("-")
        return f"{cat} 综合病种（{'手术操作' if kind == 'P' else '保守治疗'}）"
    cat, proc = code.split("|")
    return f"{cat} 保守治疗" if proc == NO_PROCEDURE else f"{cat} + {proc}"


def groups_from_cases(cases: Iterable[tuple[str, str, Decimal]], *,
                      threshold: int = THRESHOLD) -> tuple[list[GroupRow], Decimal]:
    """Pure: ``cases`` are (main diagnosis, main procedure, total cost); returns the groups and the overall
    mean cost."""
    rows = [(d, p, c) for d, p, c in cases if category(d) and c > 0]
    if not rows:
        return [], Decimal(0)
    counts: dict[str, int] = defaultdict(int)
    for d, p, _c in rows:
        counts[combination(d, p)] += 1
    core = {k for k, n in counts.items() if n >= threshold}
    sums: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    for d, p, c in rows:
        s = sums[group_code(d, p, core)]
        s[0] += 1
        s[1] += c
    overall = sum((c for _d, _p, c in rows), Decimal(0)) / len(rows)
    out = [GroupRow(code, _name(code), "core" if code in core else "combined", n, payment.money(total / n),
                    (total / n / overall * 1000).quantize(payment.CENT)) for code, (n, total) in sorted(sums.items())]
    return out, payment.money(overall)


@dataclass(frozen=True)
class LevelFactor:
    level: str
    factor: Decimal
    source: str  # computed / default / set
    cases: int
    raw_ratio: Decimal | None


def level_factors_from_cases(cases: Iterable[tuple[str, str, Decimal]], groups: Mapping[str, tuple[Decimal, bool]],
                             *, min_cases: int = FACTOR_MIN_CASES) -> list[LevelFactor]:
    """Pure: ``cases`` are (care level, DIP group code, total cost), ``groups`` code → (mean cost, 基层病种);
    one factor per level of ``payment.LEVELS`` (see the module)."""
    n: dict[str, int] = defaultdict(int)
    cost: dict[str, Decimal] = defaultdict(Decimal)
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for level, code, c in cases:
        g = groups.get(code)
        if g is None or g[1] or g[0] <= 0 or c <= 0:
            continue
        n[level] += 1
        cost[level] += c
        expected[level] += g[0]
    raw = {lv: cost[lv] / expected[lv] for lv in payment.LEVELS if n[lv] >= min_cases and expected[lv] > 0}
    top = raw.get(TOP_LEVEL) or (max(raw.values()) if raw else None)
    out = []
    for lv in payment.LEVELS:
        if lv in raw and top:
            f = min(max(raw[lv] / top, FACTOR_MIN), FACTOR_MAX).quantize(FOUR)
            out.append(LevelFactor(lv, f, "computed", n[lv], raw[lv].quantize(FOUR)))
        else:
            out.append(LevelFactor(lv, DEFAULT_FACTORS[lv], "default", n[lv], None))
    return out


def level_factors(year: int) -> dict[str, Decimal]:
    """The year's factor per care level (stored, else the defaults)."""
    stored = dict(DipLevelFactor.objects.filter(year=year).values_list("level", "factor"))
    return {lv: stored.get(lv, DEFAULT_FACTORS[lv]) for lv in payment.LEVELS}


def set_level_factors(year: int, factors: Mapping[str, object], *, actor: Actor) -> dict[str, Decimal]:
    """The officer sets some levels' factors (0.1–2); a later rebuild of the groups keeps them."""
    permissions.check(actor, "insurance.set_rates", None)
    errors: dict[str, list[str]] = {}
    clean: dict[str, Decimal] = {}
    for level, value in factors.items():
        if level not in payment.LEVELS:
            errors.setdefault(f"factors.{level}", []).append(_("机构层级应为 county、township 或 village"))
            continue
        try:
            d = Decimal(str(value).strip())
        except ArithmeticError:
            d = Decimal("NaN")
        if not d.is_finite() or not Decimal("0.1") <= d <= Decimal(2):
            errors.setdefault(f"factors.{level}", []).append(_("等级系数应在 0.1 到 2 之间"))
            continue
        clean[level] = d.quantize(FOUR)
    if not clean and not errors:
        errors["factors"] = [_("请至少填写一个等级系数")]
    if errors:
        first = next(iter(errors))
        raise InvalidInput("invalid_factors", errors[first][0], field=first, errors=errors)
    with transaction.atomic():
        for level, f in clean.items():
            DipLevelFactor.objects.update_or_create(year=year, level=level,
                                                    defaults={"factor": f, "source": "set", "raw_ratio": None})
        audit.record(actor, "set_level_factors", "diplevelfactor", str(year), **{k: str(v) for k, v in clean.items()})
    return level_factors(year)


def build_groups(year: int, *, actor: Actor, threshold: int = THRESHOLD) -> dict:
    """Build (replace) the year's DIP groups from its discharges."""
    permissions.check(actor, "insurance.set_rates", None)
    if not 1 <= threshold <= 1000:
        raise InvalidInput("invalid_threshold", _("核心病种例数阈值应在 1 到 1000 之间"), field="threshold")
    cases = reads.load_year(year, reads.payment_version(), codes=True)
    groups, overall = groups_from_cases(zip(cases.diagnosis, cases.procedure, cases.cost, strict=True),
                                        threshold=threshold)
    if not groups:
        raise InvalidInput("no_cases", _("%(year)s 年没有带主要诊断和费用的出院病例，无法生成病种") % {"year": year})
    with transaction.atomic():
        DipGroup.objects.filter(year=year).delete()
        DipGroup.objects.bulk_create([
            DipGroup(year=year, code=g.code, name=g.name, kind=g.kind, cases=g.cases, avg_cost=g.avg_cost,
                     score=g.score, grassroots=g.code.split("|")[0].removeprefix("COMB-")[:3] in GRASSROOTS_CATEGORIES)
            for g in groups], batch_size=1000)
        core_codes = {g.code for g in groups if g.kind == "core"}
        means = {g.code: (g.avg_cost, g.code.split("|")[0].removeprefix("COMB-")[:3] in GRASSROOTS_CATEGORIES)
                 for g in groups}
        factors = level_factors_from_cases(
            ((cases.level[i], group_code(cases.diagnosis[i], cases.procedure[i], core_codes), cases.cost[i])
             for i in range(len(cases))), means)
        kept = set(DipLevelFactor.objects.filter(year=year, source="set").values_list("level", flat=True))
        DipLevelFactor.objects.filter(year=year).exclude(level__in=kept).delete()
        DipLevelFactor.objects.bulk_create([
            DipLevelFactor(year=year, level=f.level, factor=f.factor, source=f.source, cases=f.cases,
                           raw_ratio=f.raw_ratio) for f in factors if f.level not in kept])
        audit.record(actor, "build_dip_groups", "dipgroup", str(year), groups=len(groups), threshold=threshold,
                     factors={f.level: str(f.factor) for f in factors if f.level not in kept})
    core = [g for g in groups if g.kind == "core"]
    return {"year": year, "groups": len(groups), "core": len(core), "combined": len(groups) - len(core),
            "core_cases": sum(g.cases for g in core), "cases": sum(g.cases for g in groups),
            "overall_mean_cost": str(overall), "threshold": threshold,
            "level_factors": {lv: str(f) for lv, f in level_factors(year).items()}}


def points_array(score: np.ndarray, factor: np.ndarray, cost: np.ndarray, avg: np.ndarray) -> np.ndarray:
    """``payment.dip_points`` over arrays (NaN score: no group → 0 points)."""
    base = np.where(np.isnan(score), 0.0, score) * factor
    ref = avg * factor
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(ref > 0, cost / np.where(ref > 0, ref, 1.0), 1.0)
    low, high = r < float(payment.DIP_LOW), r > float(payment.DIP_HIGH)
    pts = np.where(low, r * base, np.where(high, (r - float(payment.DIP_HIGH) + 1) * base, base))
    return np.round(pts, 4)


def case_points(year: int, groups_year: int, *, ids: Iterable[int] | None = None) -> tuple[reads.DipCases,
                                                                                          np.ndarray, list[str]]:
    """The year's cases (all, or ``ids``) scored on the groups and level factors of ``groups_year``: the cases,
    their points and their group codes ("" none)."""
    groups = {g.code: g for g in DipGroup.objects.filter(year=groups_year)}
    core = {c for c, g in groups.items() if g.kind == "core"}
    factors = level_factors(groups_year)
    c = reads.dip_cases(year, ids=ids)
    codes = [group_code(d, p, core) for d, p in zip(c.diagnosis, c.procedure, strict=True)]
    found = [groups.get(code) for code in codes]
    score = np.fromiter((float(g.score) if g else np.nan for g in found), np.float64, len(found))
    avg = np.fromiter((float(g.avg_cost) if g else 0.0 for g in found), np.float64, len(found))
    factor = np.fromiter((1.0 if (g is None or g.grassroots) else float(factors.get(lv, 1)) for g, lv
                          in zip(found, c.level, strict=True)), np.float64, len(found))
    return c, points_array(score, factor, c.cost, avg), [code if g else "" for code, g in zip(codes, found,
                                                                                             strict=True)]


def total_points(year: int, scheme: str, groups_year: int) -> tuple[Decimal, int]:
    """The points of the year's cases of one scheme, scored on the groups (and level factors) of
    ``groups_year``."""
    c, pts, codes = case_points(year, groups_year)
    mask = (c.scheme == scheme) & np.array([bool(x) for x in codes], np.bool_)
    return Decimal(f"{float(pts[mask].sum()):.2f}"), int(mask.sum())


def _budgets(year: int, scheme: str) -> list[Budget]:
    latest: dict[int, Budget] = {}
    for b in Budget.objects.filter(year=year, scheme=scheme).select_related("community__region").order_by("version"):
        latest[b.community_id] = b
    return list(latest.values())


def ledger_inpatient_share(community_id: int, scheme: str, years: Iterable[int]) -> tuple[Decimal, int, int] | None:
    """The share of the community's members' inpatient fund spend in all fund spend of its insureds, from the
    ledger (one aggregate per year tried, first with data wins): (share, year, months posted)."""
    for y in years:
        s = LedgerEntry.objects.filter(community_id=community_id, scheme=scheme, year=y).aggregate(
            whole=Sum("fund_paid"), months=Count("month", distinct=True),
            inpatient=Sum("fund_paid", filter=Q(settlement_type="inpatient", facility__isnull=False)))
        whole, inpatient = s["whole"] or Decimal(0), s["inpatient"] or Decimal(0)
        if whole > 0 and inpatient > 0:
            return (inpatient / whole).quantize(FOUR), y, int(s["months"] or 0)
    return None


def inpatient_share(budget: Budget, years: Iterable[int], lines: list[str]) -> Decimal:
    """The inpatient share of a budget: the budget's rule ``inpatient_share`` when set, else the ledger's
    share of the first of ``years`` posted (``ledger_inpatient_share``), else ``DEFAULT_INPATIENT_SHARE``;
    the basis said in ``lines``."""
    rule = (budget.rules or {}).get("inpatient_share")
    if rule not in (None, ""):
        lines.append(f"{budget.community.name}：住院占比取预算规则 {Decimal(str(rule)):.2%}")
        return Decimal(str(rule))
    found = ledger_inpatient_share(budget.community_id, budget.scheme, years)
    if found is not None:
        share, y, months = found
        lines.append(f"{budget.community.name}：住院占比取台账 {y} 年（已过账 {months} 个月）"
                     f"成员单位住院基金支出占全部基金支出的比例 {share:.2%}")
        return share
    lines.append(f"{budget.community.name}：台账无数据，住院占比取默认 {DEFAULT_INPATIENT_SHARE:.0%}")
    return DEFAULT_INPATIENT_SHARE


def inpatient_fund(year: int, scheme: str, lines: list[str]) -> tuple[Decimal, Decimal]:
    """The year's inpatient budget for DIP (fund terms) and its growth rate, with the reasoning in ``lines``."""
    budgets = _budgets(year, scheme)
    if not budgets:
        raise InvalidInput("no_budget", _("%(year)s 年%(scheme)s没有基金预算，请先设定预算")
                           % {"year": year, "scheme": payment.SCHEME_NAMES.get(scheme, scheme)})
    fund = Decimal(0)
    for b in budgets:
        share = inpatient_share(b, (year - 1, year), lines)
        part = b.amount * (1 - b.withholding_rate) * share
        lines.append(f"{b.community.name} 预算 v{b.version} {b.amount:,.2f}元 × (1 − 质量保证金 "
                     f"{b.withholding_rate:.2%}) × 住院占比 {share:.2%} = {payment.money(part):,.2f}元")
        fund += part
    growth = budgets[0].growth_rate
    return payment.money(fund), growth


def _fund_ratio(year: int, scheme: str, lines: list[str]) -> Decimal:
    """The fund's share of inpatient total cost, from the prior year's discharges (else this year's, else 1)."""
    for y in (year - 1, year):
        first, last = reads.year_range(y)
        sums = Discharge.objects.filter(discharge_date__range=(first, last), facility__community__isnull=False,
                                        scheme=scheme).aggregate(cost=Sum("total_cost"), fund=Sum("fund_paid"))
        cost, fund = sums["cost"] or Decimal(0), sums["fund"] or Decimal(0)
        if cost > 0 and fund > 0:
            ratio = (fund / cost).quantize(Decimal("0.0001"))
            lines.append(f"{y} 年出院病例基金支付占医疗总费用 {ratio:.2%}：可分配总费用 = 住院基金 ÷ {ratio:.4f}")
            return ratio
    lines.append("无基金支付比例数据：按基金口径计算点值")
    return Decimal(1)


def _save_point(year: int, scheme: str, **fields) -> DipPointValue:
    obj, _created = DipPointValue.objects.update_or_create(year=year, scheme=scheme, defaults=fields)
    return obj


def _check_scheme(scheme: str) -> None:
    if scheme not in payment.SCHEMES:
        raise InvalidInput("invalid_scheme", _("险种应为 resident（城乡居民）或 employee（职工）"), field="scheme")


def estimate_point_value(year: int, scheme: str, *, actor: Actor) -> dict:
    """The year's estimated point value: inpatient budget ÷ expected total points (see the module)."""
    permissions.check(actor, "insurance.set_rates", None)
    _check_scheme(scheme)
    if not DipGroup.objects.filter(year=year).exists():
        raise InvalidInput("no_groups", _("%(year)s 年还没有DIP病种，请先生成病种") % {"year": year})
    lines: list[str] = []
    fund, growth = inpatient_fund(year, scheme, lines)
    ratio = _fund_ratio(year, scheme, lines)
    points, n = total_points(year - 1, scheme, year)
    if n:
        expected = (points * (1 + growth)).quantize(payment.CENT)
        lines.append(f"预计总分值 = 上年 {n} 例按本年病种计分 {points:,.2f} × (1 + 增长率 {growth:.2%}) "
                     f"= {expected:,.2f}")
    else:
        points, n = total_points(year, scheme, year)
        expected = points
        lines.append(f"上年无病例：预计总分值取本年已出院 {n} 例的分值 {expected:,.2f}")
    if expected <= 0:
        raise InvalidInput("no_points", _("没有可计分的病例，无法估算点值"))
    value = (fund / ratio / expected).quantize(Decimal("0.0001"))
    lines.append(f"预估点值 = {fund:,.2f} ÷ {ratio:.4f} ÷ {expected:,.2f} = {value:.4f} 元/分")
    with transaction.atomic():
        pv = _save_point(year, scheme, estimated=value, total_points=expected)
        audit.record(actor, "estimate_point_value", "dippointvalue", pv.pk, year=year, scheme=scheme, value=str(value))
    return {"year": year, "scheme": scheme, "estimated": str(value), "expected_points": str(expected),
            "fund": str(fund), "explanation": lines}


def settle_point_value(year: int, scheme: str, *, actor: Actor, fund: Decimal | None = None) -> dict:
    """The year-end point value: the inpatient fund (``fund``, default the budget's inpatient part) ÷ the actual
    total points of the year's cases."""
    permissions.check(actor, "insurance.set_rates", None)
    _check_scheme(scheme)
    if not DipGroup.objects.filter(year=year).exists():
        raise InvalidInput("no_groups", _("%(year)s 年还没有DIP病种，请先生成病种") % {"year": year})
    lines: list[str] = []
    if fund is None:
        fund, _growth = inpatient_fund(year, scheme, lines)
    else:
        lines.append(f"实际可用于住院付费的基金 {fund:,.2f}元")
    ratio = _fund_ratio(year, scheme, lines)
    points, n = total_points(year, scheme, year)
    if points <= 0:
        raise InvalidInput("no_points", _("没有可计分的病例，无法清算点值"))
    value = (fund / ratio / points).quantize(Decimal("0.0001"))
    lines.append(f"实际总分值 {n} 例共 {points:,.2f}；"
                 f"清算点值 = {fund:,.2f} ÷ {ratio:.4f} ÷ {points:,.2f} = {value:.4f} 元/分")
    existing = DipPointValue.objects.filter(year=year, scheme=scheme).first()
    with transaction.atomic():
        pv = _save_point(year, scheme, settled=value, total_points=points,
                         estimated=existing.estimated if existing else value)
        audit.record(actor, "settle_point_value", "dippointvalue", pv.pk, year=year, scheme=scheme, value=str(value))
    return {"year": year, "scheme": scheme, "settled": str(value), "total_points": str(points), "fund": str(fund),
            "explanation": lines}

