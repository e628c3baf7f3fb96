"""What if: re-run the year's DRG payments under changed rates, weights, 基层病组 list or out-of-county deduction,
and show the effect on each member facility's income and on the fund.

The rules are those of ``insurance.payment`` (special review by cost, ungroupable / no weight / no rate / self-pay
unpaid, 基层病组 at the level-"" rate, high outliers standard + 90 % of the cost above the threshold, low outliers
by cost up to the standard), computed over numpy arrays of every discharge of the year at once: the baseline and
the scenario are two passes of the same vectorised function, so a county year (~70,000 discharges) re-runs in
well under a second once loaded.

Parameters (a JSON object; every key optional):

* ``version``: the CHS-DRG version (default the payment version);
* ``rates``: [{level, scheme, rate}] rates replacing the year's (level "" = the 基层病组 rate);
* ``rate_pct``: a % change of every rate (a number), or per level / "level/scheme" ({"county": -5, "": 3,
  "township/employee": 2});
* ``weight_pct``: {DRG code or "MDC:F" or "ADRG:FV2": % change of the weight};
* ``grassroots``: the 基层病组 list replacing the year's; ``grassroots_add`` / ``grassroots_remove``: changes;
* ``out_of_county_deduction``: the share of out-of-county fund spend deducted from the budget (0–1).

The fund effect: Σ DRG payments (and their fund part, by the year's fund share of inpatient cost) against the
INPATIENT part of the year's budgets (highest version per community and scheme):

    inpatient available = (budget − out-of-county deduction) × inpatient share

the inpatient share being the budget's rule ``inpatient_share`` when set, else the ledger's share of the
members' inpatient fund spend in all fund spend of the community's insureds over the year's posted months,
else the prior year's, else 0.6 (``dip.inpatient_share``); ``fund.basis`` says which, per budget. The whole
budget's figures stay alongside.

The out-of-county deduction's change (scenario − baseline, yuan) comes off the members too: it is spread over
them in proportion to each member's share of the baseline DRG payments (the income it is taken from; a
member without inpatient cases bears none), so the per-member table shows ``deduction_change`` and the net
effect ``net_difference`` = income difference − its part of the deduction change."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.db.models import FloatField, Sum
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.carelevel import care_level
from yigongti.core.errors import InvalidInput, collect
from yigongti.encounters.models import InsuranceSettlement
from yigongti.orgs import permissions

from . import payment
from .models import Budget, CaseGroup, Discharge, DrgRate, DrgWeight, GroupStatus, Simulation
from .queries import payment as reads

LEVEL_INDEX = {"": 0, "county": 1, "township": 2, "village": 3}
SCHEME_INDEX = {"resident": 0, "employee": 1}
PCT_LIMIT = 90.0  # a change of more than ±90 % is a typo, not a scenario
KNOWN_KEYS = {"version", "rates", "rate_pct", "weight_pct", "grassroots", "grassroots_add", "grassroots_remove",
              "out_of_county_deduction"}


@dataclass
class Cases:
    """The year's discharges as arrays (one position per discharge)."""

    facility: np.ndarray  # index into ``facilities``
    level: np.ndarray  # LEVEL_INDEX of the treating facility (1..3)
    scheme: np.ndarray  # SCHEME_INDEX, -1 self-pay
    drg: np.ndarray  # index into ``drgs``, -1 ungroupable or without a weight
    cost: np.ndarray
    fund: np.ndarray
    special: np.ndarray
    facilities: list[int]
    drgs: list[str]

    def __len__(self) -> int:
        return len(self.cost)


@dataclass
class Terms:
    """The payment terms of one run: per DRG (aligned with ``Cases.drgs``) and per (level, scheme)."""

    weight: np.ndarray
    avg_cost: np.ndarray
    grassroots: np.ndarray
    rate: np.ndarray  # (4, 2), NaN where no rate is set
    high: np.ndarray
    low: np.ndarray
    high_share: float = float(payment.HIGH_OUTLIER_SHARE)

    def copy(self) -> Terms:
        return Terms(self.weight.copy(), self.avg_cost.copy(), self.grassroots.copy(), self.rate.copy(),
                     self.high.copy(), self.low.copy(), self.high_share)


def pay(c: Cases, t: Terms) -> np.ndarray:
    """The DRG payment of every case (yuan, float), by the rules of ``payment.drg_payment``."""
    insured = c.scheme >= 0
    has_drg = c.drg >= 0
    d = np.where(has_drg, c.drg, 0)
    lvl = np.where(t.grassroots[d], 0, c.level)
    sc = np.where(insured, c.scheme, 0)
    rate = t.rate[lvl, sc]
    avg = t.avg_cost[d]
    standard = np.round(t.weight[d] * rate, 2)
    hi, lo = t.high[lvl, sc] * avg, t.low[lvl, sc] * avg
    amount = np.where((avg > 0) & (c.cost > hi), standard + (c.cost - hi) * t.high_share,
                      np.where(c.cost < lo, np.minimum(c.cost, standard), standard))
    paid = insured & has_drg & ~np.isnan(rate)
    amount = np.where(paid, amount, 0.0)
    return np.where(insured & c.special, c.cost, amount)


def terms_from(weights: list[tuple[str, float, float, bool]],
               rates: list[tuple[str, str, float, float, float]]) -> Terms:
    """``weights``: (drg, weight, avg_cost, grassroots); ``rates``: (level, scheme, rate, high, low)."""
    t = Terms(np.array([w[1] for w in weights], np.float64), np.array([w[2] for w in weights], np.float64),
              np.array([w[3] for w in weights], np.bool_), np.full((4, 2), np.nan), np.full((4, 2), 3.0),
              np.full((4, 2), 0.4))
    if not weights:  # keep indexing valid for a year with every case ungroupable
        t.weight, t.avg_cost, t.grassroots = np.zeros(1), np.zeros(1), np.zeros(1, np.bool_)
    for level, scheme, rate, high, low in rates:
        i, j = LEVEL_INDEX[level], SCHEME_INDEX[scheme]
        t.rate[i, j], t.high[i, j], t.low[i, j] = rate, high, low
    return t


# ---- the parameters --------------------------------------------------------------------------------------


def _pct(value: Any, field: str, errors: dict[str, list[str]]) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        errors.setdefault(field, []).append(_("变化幅度应为百分数，例如 -5 表示下调 5%"))
        return 0.0
    if not np.isfinite(x) or abs(x) > PCT_LIMIT:
        errors.setdefault(field, []).append(_("变化幅度应在 -90% 到 +90% 之间"))
        return 0.0
    return x


def apply_parameters(params: Mapping[str, Any], base: Terms, drgs: list[str],
                     mdc_of: Mapping[str, str], adrg_of: Mapping[str, str]) -> tuple[Terms, list[str]]:
    """The scenario's terms from the baseline's and the changes (pure; one InvalidInput naming every bad
    field), with the changes described in words."""
    errors: dict[str, list[str]] = {}
    t, lines = base.copy(), []
    unknown = set(params) - KNOWN_KEYS
    if unknown:
        errors["parameters"] = [_("未知的参数：%(keys)s") % {"keys": "、".join(sorted(unknown))}]
    rows = params.get("rates") or []
    if not isinstance(rows, list):
        errors["rates"] = [_("费率应为列表")]
        rows = []
    for i, r in enumerate(rows):
        level, scheme = str((r or {}).get("level", "")), str((r or {}).get("scheme", ""))
        if level not in LEVEL_INDEX or scheme not in SCHEME_INDEX:
            errors.setdefault(f"rates.{i}", []).append(_("层级或险种不正确"))
            continue
        try:
            rate = float(r.get("rate"))
        except (TypeError, ValueError):
            rate = float("nan")
        if not 100 <= rate <= 1_000_000:
            errors.setdefault(f"rates.{i}.rate", []).append(_("费率应在 100 到 1,000,000 元/权重之间"))
            continue
        t.rate[LEVEL_INDEX[level], SCHEME_INDEX[scheme]] = rate
        lines.append(f"费率（{payment.LEVEL_NAMES[level]}，{payment.SCHEME_NAMES[scheme]}）改为 {rate:,.2f} 元/权重")
    pct = params.get("rate_pct")
    if isinstance(pct, Mapping):
        for key, value in pct.items():
            level, _sep, scheme = str(key).partition("/")
            x = _pct(value, f"rate_pct.{key}", errors)
            if level not in LEVEL_INDEX or (scheme and scheme not in SCHEME_INDEX):
                errors.setdefault(f"rate_pct.{key}", []).append(_("层级或险种不正确"))
                continue
            cols = [SCHEME_INDEX[scheme]] if scheme else [0, 1]
            t.rate[LEVEL_INDEX[level], cols] *= 1 + x / 100
            lines.append(f"费率（{payment.LEVEL_NAMES[level]}{'，' + payment.SCHEME_NAMES[scheme] if scheme else ''}）"
                         f"变化 {x:+.1f}%")
    elif pct not in (None, "", 0):
        x = _pct(pct, "rate_pct", errors)
        t.rate *= 1 + x / 100
        lines.append(f"全部费率变化 {x:+.1f}%")
    wp = params.get("weight_pct") or {}
    if not isinstance(wp, Mapping):
        errors["weight_pct"] = [_("权重变化应为 {病组: 百分数}")]
        wp = {}
    drg_arr = np.array(drgs, dtype=object)
    for key, value in wp.items():
        x = _pct(value, f"weight_pct.{key}", errors)
        k = str(key).strip().upper()
        if k.startswith("MDC:"):
            letter = k[4:].removeprefix("MDC")
            mask = np.array([mdc_of.get(d, d[:1]).removeprefix("MDC") == letter for d in drgs], np.bool_)
        elif k.startswith("ADRG:"):
            mask = np.array([adrg_of.get(d, d[:3]) == k[5:] for d in drgs], np.bool_)
        else:
            mask = drg_arr == k if drgs else np.zeros(0, np.bool_)
        if not mask.any():
            errors.setdefault(f"weight_pct.{key}", []).append(_("没有这个病组或MDC的权重"))
            continue
        t.weight[: len(drgs)][mask] *= 1 + x / 100
        lines.append(f"{k} 的权重变化 {x:+.1f}%（{int(mask.sum())} 个病组）")
    index = {d: i for i, d in enumerate(drgs)}
    for key in ("grassroots", "grassroots_add", "grassroots_remove"):
        codes = params.get(key)
        if codes is None:
            continue
        if not isinstance(codes, list):
            errors[key] = [_("应为病组编码列表")]
            continue
        codes = [str(x).strip().upper() for x in codes if str(x).strip()]
        bad = [x for x in codes if x not in index]
        if bad:
            errors[key] = [_("这些病组本年度没有权重：%(codes)s") % {"codes": "、".join(bad[:20])}]
            continue
        sel = [index[x] for x in codes]
        if key == "grassroots":
            t.grassroots[:] = False
            t.grassroots[sel] = True
            lines.append(f"基层病组目录改为 {len(sel)} 个病组")
        else:
            t.grassroots[sel] = key == "grassroots_add"
            lines.append(f"基层病组{'增加' if key == 'grassroots_add' else '减少'}：{'、'.join(codes)}")
    collect(errors, "invalid_parameters")
    return t, lines


def _deduction(params: Mapping[str, Any]) -> float | None:
    value = params.get("out_of_county_deduction")
    if value in (None, ""):
        return None
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        x = -1.0
    if not 0 <= x <= 1:
        raise InvalidInput("invalid_parameters", _("外转扣减比例应在 0 到 1 之间"), field="out_of_county_deduction")
    return x


# ---- the run ---------------------------------------------------------------------------------------------


def load(year: int, version: str, facilities) -> tuple[Cases, Terms, dict[str, str], dict[str, str]]:
    """The year's cases and the stored terms (weights, rates) as arrays."""
    wrows = list(DrgWeight.objects.filter(year=year, version=version).order_by("drg")
                 .values_list("drg", "weight", "avg_cost", "grassroots"))
    weights = [(d, float(w), float(a), g) for d, w, a, g in wrows]
    rates = [(r.level, r.scheme, float(r.rate), float(r.high_outlier), float(r.low_outlier))
             for r in DrgRate.objects.filter(year=year) if r.level in LEVEL_INDEX and r.scheme in SCHEME_INDEX]
    cases, mdc_of, adrg_of = year_arrays(year, version, facilities, [w[0] for w in weights])
    return cases, terms_from(weights, rates), mdc_of, adrg_of


def year_arrays(year: int, version: str, facilities, drgs: list[str]) -> tuple[Cases, dict[str, str], dict[str, str]]:
    """The year's discharges straight into arrays: two lean queries (money cast to float in SQL, no Decimal
    per row), the same selection as ``queries.payment.load_year``."""
    first, last = reads.year_range(year)
    levels = {pk: care_level(t).value for pk, t in facilities.values_list("pk", "type")}
    fac_ids = sorted(levels)
    rows = list(Discharge.objects.filter(discharge_date__range=(first, last), facility_id__in=fac_ids)
                .annotate(c=Cast("total_cost", FloatField()), f=Cast("fund_paid", FloatField()))
                .values_list("pk", "facility_id", "scheme", "c", "f", "special_review").order_by("pk"))
    grouped = CaseGroup.objects.filter(version=version, status=GroupStatus.GROUPED,
                                       discharge__discharge_date__range=(first, last),
                                       discharge__facility_id__in=fac_ids)
    drg_of = dict(grouped.values_list("discharge_id", "drg").order_by())
    # a CHS-DRG code carries its ADRG (first three characters) and MDC (first letter)
    mdc_of, adrg_of = {d: d[:1] for d in drgs}, {d: d[:3] for d in drgs}
    index = {d: i for i, d in enumerate(drgs)}
    present = sorted({r[1] for r in rows})
    fac_index = {f: i for i, f in enumerate(present)}
    n = len(rows)
    cases = Cases(
        facility=np.fromiter((fac_index[r[1]] for r in rows), np.int32, n),
        level=np.fromiter((LEVEL_INDEX.get(levels[r[1]], 1) for r in rows), np.int8, n),
        scheme=np.fromiter((SCHEME_INDEX.get(r[2], -1) for r in rows), np.int8, n),
        drg=np.fromiter((index.get(drg_of.get(r[0], ""), -1) for r in rows), np.int32, n),
        cost=np.fromiter((r[3] or 0.0 for r in rows), np.float64, n),
        fund=np.fromiter((r[4] or 0.0 for r in rows), np.float64, n),
        special=np.fromiter((bool(r[5]) for r in rows), np.bool_, n),
        facilities=present, drgs=drgs)
    return cases, mdc_of, adrg_of


def fund_context(year: int, communities) -> dict[str, Any]:
    """The year's budgets (highest version per community and scheme): (amount, out-of-county fund spend,
    deduction ratio, inpatient share), and the basis of each inpatient share in words."""
    from .dip import inpatient_share

    latest: dict[tuple[int, str], Budget] = {}
    for b in Budget.objects.filter(year=year, community__in=communities).select_related("community__region") \
            .order_by("version"):
        latest[(b.community_id, b.scheme)] = b
    rows, basis = [], []
    for b in latest.values():
        out = InsuranceSettlement.objects.filter(
            residence_county=b.community.region.code[:6], scheme=b.scheme, settle_date__year=year,
            facility_level="out_of_county").aggregate(s=Sum("fund_paid"))["s"] or Decimal(0)
        lines: list[str] = []
        share = inpatient_share(b, (year, year - 1), lines)
        basis += [f"{payment.SCHEME_NAMES.get(b.scheme, b.scheme)} — {line}" for line in lines]
        rows.append((float(b.amount), float(out), float(b.out_of_county_deduction), float(share)))
    return {"budgets": rows, "basis": basis}


def compare(cases: Cases, base: Terms, scen: Terms) -> tuple[np.ndarray, np.ndarray]:
    """Per facility (aligned with ``cases.facilities``): baseline and scenario income."""
    n = len(cases.facilities)
    b = np.bincount(cases.facility, weights=pay(cases, base), minlength=n)
    s = np.bincount(cases.facility, weights=pay(cases, scen), minlength=n)
    return b, s


def _fund_effect(ctx: dict, deduction: float | None, b_total: float, s_total: float, fund_ratio: float) -> dict:
    budget = sum(r[0] for r in ctx["budgets"])
    out_spend = sum(r[1] for r in ctx["budgets"])
    ded_b = sum(r[1] * r[2] for r in ctx["budgets"])
    ded_s = sum(r[1] * (deduction if deduction is not None else r[2]) for r in ctx["budgets"])
    avail_b, avail_s = budget - ded_b, budget - ded_s
    # the inpatient part, budget by budget: (amount − its deduction) × its inpatient share
    ip_b = sum((r[0] - r[1] * r[2]) * r[3] for r in ctx["budgets"])
    ip_s = sum((r[0] - r[1] * (deduction if deduction is not None else r[2])) * r[3] for r in ctx["budgets"])
    fb, fs = b_total * fund_ratio, s_total * fund_ratio
    return {"budget": round(budget, 2), "out_of_county_spend": round(out_spend, 2),
            "deduction_baseline": round(ded_b, 2), "deduction_scenario": round(ded_s, 2),
            "available_baseline": round(avail_b, 2), "available_scenario": round(avail_s, 2),
            "inpatient_share": round(ip_b / avail_b, 4) if avail_b > 0 else None,
            "inpatient_baseline": round(ip_b, 2), "inpatient_scenario": round(ip_s, 2),
            "basis": "inpatient", "basis_lines": list(ctx.get("basis", [])),
            "drg_baseline": round(b_total, 2), "drg_scenario": round(s_total, 2), "fund_ratio": round(fund_ratio, 4),
            "drg_fund_baseline": round(fb, 2), "drg_fund_scenario": round(fs, 2),
            "share_baseline": round(fb / ip_b, 4) if ip_b > 0 else None,
            "share_scenario": round(fs / ip_s, 4) if ip_s > 0 else None,
            "whole_share_baseline": round(fb / avail_b, 4) if avail_b > 0 else None,
            "whole_share_scenario": round(fs / avail_s, 4) if avail_s > 0 else None,
            "difference": round(fs - fb, 2)}


def simulate(year: int, parameters: Mapping[str, Any], *, facilities, communities) -> dict[str, Any]:
    """The results of one what-if (no writes)."""
    if not isinstance(parameters, Mapping):
        raise InvalidInput("invalid_parameters", _("参数应为 JSON 对象"), field="parameters")
    t0 = time.perf_counter()
    version = str(parameters.get("version") or reads.payment_version())
    deduction = _deduction(parameters)
    cases, base, mdc_of, adrg_of = load(year, version, facilities)
    scen, lines = apply_parameters(parameters, base, cases.drgs, mdc_of, adrg_of)
    if deduction is not None:
        lines.append(f"外转扣减比例改为 {deduction:.0%}")
    loaded = time.perf_counter() - t0
    b, s = compare(cases, base, scen)
    names = {f.pk: (f.short_name or f.name, f.care_level.value, str(f.care_level.label))
             for f in facilities.filter(pk__in=cases.facilities)}
    counts = np.bincount(cases.facility, minlength=len(cases.facilities))
    insured = cases.scheme >= 0
    cost, fund = float(cases.cost[insured].sum()), float(cases.fund[insured].sum())
    total_b, total_s = float(b.sum()), float(s.sum())
    fund_effect = _fund_effect(fund_context(year, communities), deduction, total_b, total_s,
                               fund / cost if cost else 1.0)
    # the deduction's change, spread by each member's share of the baseline DRG payments (see the module)
    ded_change = fund_effect["deduction_scenario"] - fund_effect["deduction_baseline"]
    spread = b / total_b * ded_change if total_b > 0 else np.zeros(len(b))
    members = []
    for i, f in enumerate(cases.facilities):
        name, level, label = names.get(f, ("?", "", ""))
        net = float(s[i] - b[i] - spread[i])
        members.append({"facility": f, "name": name, "level": level, "level_label": label, "cases": int(counts[i]),
                        "baseline": round(float(b[i]), 2), "scenario": round(float(s[i]), 2),
                        "difference": round(float(s[i] - b[i]), 2),
                        "percent": round(float((s[i] - b[i]) / b[i] * 100), 2) if b[i] else None,
                        "deduction_change": round(-float(spread[i]), 2), "net_difference": round(net, 2),
                        "net_percent": round(net / float(b[i]) * 100, 2) if b[i] else None})
    members.sort(key=lambda m: -m["baseline"])
    unpaid = int((insured & (cases.drg < 0) & ~cases.special).sum())
    return {
        "year": year, "version": version, "cases": len(cases), "unpaid_cases": unpaid,
        "changes": lines or [_("未作任何调整（与现行规则相同）")],
        "members": members,
        "total": {"baseline": round(total_b, 2), "scenario": round(total_s, 2),
                  "difference": round(total_s - total_b, 2),
                  "percent": round((total_s - total_b) / total_b * 100, 2) if total_b else None,
                  "deduction_change": round(-ded_change, 2) if total_b > 0 else 0.0,
                  "net_difference": round(total_s - total_b - (ded_change if total_b > 0 else 0.0), 2)},
        "fund": fund_effect,
        "seconds": {"load": round(loaded, 3), "total": round(time.perf_counter() - t0, 3)},
    }


def run_simulation(year: int, parameters: Mapping[str, Any], *, actor: Actor, save: bool = True,
                   name: str = "") -> dict[str, Any]:
    """Run a what-if over the year's cases of the actor's communities; saved as a Simulation unless
    ``save`` is false. Returns the results (with ``id`` when saved)."""
    permissions.check(actor, "insurance.simulate", None)
    communities = reads.communities_of(actor)
    facilities = reads.member_facilities(actor)
    if not 2000 <= year <= 2100:
        raise InvalidInput("invalid_year", _("年度不正确"), field="year")
    results = simulate(year, parameters, facilities=facilities, communities=communities)
    if save:
        name = (name or "").strip()[:100] or f"{year} 模拟测算 {timezone.localtime():%m-%d %H:%M}"
        sim = Simulation.objects.create(name=name, year=year, parameters=dict(parameters), results=results,
                                        seconds=results["seconds"]["total"], created_by=actor.user)
        audit.record(actor, "simulate", "simulation", sim.pk, year=year)
        results = {**results, "id": sim.pk, "name": name}
    return results
