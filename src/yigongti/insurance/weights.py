"""DRG weights, rates and the 基层病组 list of a year, and pricing the year's cases (CasePayment).

Weights come from the community's own cases (the CHS-DRG 付费技术规范's "基于历史费用数据" method):

    weight(DRG) = mean total cost of the DRG's cases ÷ mean total cost of all grouped cases

A DRG with fewer than ``min_cases`` cases (default 5) is too small for its own mean: it takes the mean of its
ADRG (all severities together) when the ADRG has enough cases, else that of its MDC, else the overall mean
(weight 1). Its own case count and mean stay shown; ``explanation`` in the result says which DRGs borrowed.
``avg_cost`` (the outlier reference) and ``avg_los`` follow the same fallback. No trimming of outliers: the
community is small and every case counts (the outlier rules act at payment)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput, collect
from yigongti.orgs import permissions

from . import payment
from .models import CasePayment, DipGroup, DipPointValue, Discharge, DrgRate, DrgWeight
from .payment import Rate, Weight
from .queries import payment as reads

MIN_CASES = 5
FOUR = Decimal("0.0001")

# 基层病组 by default: common medical (内科) conditions a township health center treats, taken from the
# ADRGs of the tables (the DRGs of these ADRGs except the 伴严重合并症 ones, severity "1").
GRASSROOTS_ADRGS = (
    "FV2",  # 高血压
    "KS1",  # 糖尿病
    "ET2",  # 慢性气道阻塞病 (COPD)
    "ES3",  # 呼吸系统感染／炎症 (pneumonia)
    "EX1",  # 哮喘及喘息性支气管炎
    "EX2",  # 百日咳及急性支气管炎
    "DT1",  # 中耳炎及上呼吸道感染
    "GW1",  # 食管炎、胃肠炎
    "BR2",  # 脑缺血性疾病 (恢复期)
    "IU2",  # 颈腰背疾病
    "LU1",  # 肾及尿路感染
)


@dataclass(frozen=True)
class WeightRow:
    drg: str
    cases: int
    weight: Decimal
    avg_cost: Decimal
    avg_los: Decimal
    source: str  # "drg" / "adrg" / "mdc" / "all": whose mean it is


def default_grassroots(drgs: Iterable[str]) -> list[str]:
    """The default 基层病组 among these DRG codes (see ``GRASSROOTS_ADRGS``)."""
    return sorted(d for d in drgs if d[:3] in GRASSROOTS_ADRGS and len(d) == 4 and d[3] != "1")


def weights_from_cases(cases: Iterable[tuple[str, str, str, Decimal, int]], *,
                       min_cases: int = MIN_CASES) -> tuple[list[WeightRow], Decimal]:
    """Pure: ``cases`` are (drg, adrg, mdc, total cost, length of stay) of grouped cases; returns one row per
    DRG and the overall mean cost."""
    sums: dict[tuple[str, str], list] = defaultdict(lambda: [0, Decimal(0), 0])
    meta: dict[str, tuple[str, str]] = {}
    total, n = Decimal(0), 0
    for drg, adrg, mdc, cost, los in cases:
        meta[drg] = (adrg or drg[:3], mdc or drg[:1])
        for unit in (("drg", drg), ("adrg", adrg or drg[:3]), ("mdc", mdc or drg[:1])):
            acc = sums[unit]
            acc[0] += 1
            acc[1] += cost
            acc[2] += los
        total += cost
        n += 1
    if n == 0 or total <= 0:
        return [], Decimal(0)
    overall = total / n
    overall_los = Decimal(sum(v[2] for k, v in sums.items() if k[0] == "mdc")) / n
    rows = []
    for drg, (adrg, mdc) in sorted(meta.items()):
        own = sums[("drg", drg)]
        source, found = "all", None
        for kind, code in (("drg", drg), ("adrg", adrg), ("mdc", mdc)):
            if sums[(kind, code)][0] >= min_cases:
                source, found = kind, sums[(kind, code)]
                break
        mean, mean_los = ((found[1] / found[0], Decimal(found[2]) / found[0]) if found
                          else (overall, overall_los))
        rows.append(WeightRow(drg, own[0], (mean / overall).quantize(FOUR), payment.money(mean),
                              mean_los.quantize(Decimal("0.01")), source))
    return rows, payment.money(overall)


def _drg_names(version: str) -> dict[str, str]:
    from .drg import RulePackError, pack_for

    try:  # the grouper's shipped tables (a version that does not load: the names stay empty)
        return dict(pack_for(version).drg_names)
    except RulePackError:
        return {}


def compute_weights(year: int, version: str, *, actor: Actor, min_cases: int = MIN_CASES) -> dict:
    """Compute and store the year's DRG weights under ``version`` from the year's grouped discharges. The
    基层病组 flags of existing rows are kept; a year without any takes the default list."""
    permissions.check(actor, "insurance.set_rates", None)
    if not 1 <= min_cases <= 1000:
        raise InvalidInput("invalid_min_cases", _("最少例数应在 1 到 1000 之间"), field="min_cases")
    cases = reads.load_year(year, version)
    rows, overall = weights_from_cases(
        ((cases.drg[i], cases.adrg[i], cases.mdc[i], cases.cost[i], cases.los[i])
         for i in range(len(cases)) if cases.grouped[i] and cases.cost[i] > 0), min_cases=min_cases)
    if not rows:
        raise InvalidInput("no_cases", _("%(year)s 年没有 %(version)s 已入组的出院病例，无法测算权重")
                           % {"year": year, "version": version})
    old = set(DrgWeight.objects.filter(year=year, version=version, grassroots=True).values_list("drg", flat=True))
    had_rows = DrgWeight.objects.filter(year=year, version=version).exists()
    flagged = old if had_rows else set(default_grassroots(r.drg for r in rows))
    names = _drg_names(version)
    with transaction.atomic():
        DrgWeight.objects.filter(year=year, version=version).delete()
        DrgWeight.objects.bulk_create([
            DrgWeight(version=version, year=year, drg=r.drg, name=names.get(r.drg, "")[:100], weight=r.weight,
                      avg_cost=r.avg_cost, avg_los=r.avg_los, grassroots=r.drg in flagged) for r in rows],
            batch_size=1000)
        audit.record(actor, "compute_weights", "drgweight", f"{version}/{year}", drgs=len(rows),
                     min_cases=min_cases)
    borrowed = [r.drg for r in rows if r.source != "drg"]
    return {"year": year, "version": version, "drgs": len(rows), "cases": sum(r.cases for r in rows),
            "overall_mean_cost": str(overall), "borrowed": borrowed, "grassroots": sorted(flagged)}


def _ratio(value, label: str, field: str, errors: dict[str, list[str]], lo: Decimal, hi: Decimal,
           default: Decimal) -> Decimal:
    if value in (None, ""):
        return default
    try:
        d = Decimal(str(value).strip())
    except ArithmeticError:
        errors.setdefault(field, []).append(_("%(label)s不是数字") % {"label": label})
        return default
    if not d.is_finite() or not lo <= d <= hi:
        errors.setdefault(field, []).append(_("%(label)s应在 %(lo)s 到 %(hi)s 之间")
                                            % {"label": label, "lo": lo, "hi": hi})
        return default
    return d


def validate_rates(rates: Sequence[Mapping]) -> list[dict]:
    """Pure check of rate rows {level, scheme, rate, high_outlier?, low_outlier?}; one InvalidInput naming
    every bad field ("rates.2.rate")."""
    errors: dict[str, list[str]] = {}
    out, seen = [], set()
    if not rates:
        errors["rates"] = [_("请至少填写一条费率")]
    for i, r in enumerate(rates):
        level, scheme = str(r.get("level", "")).strip(), str(r.get("scheme", "")).strip()
        p = f"rates.{i}."
        if level not in ("", *payment.LEVELS):
            errors.setdefault(p + "level", []).append(_("机构层级应为 county、township、village 或空（基层病组）"))
        if scheme not in payment.SCHEMES:
            errors.setdefault(p + "scheme", []).append(_("险种应为 resident（城乡居民）或 employee（职工）"))
        if (level, scheme) in seen:
            errors.setdefault(p + "level", []).append(_("同一层级和险种的费率重复"))
        seen.add((level, scheme))
        try:
            rate = payment_money(r.get("rate"))
        except ValueError as e:
            errors.setdefault(p + "rate", []).append(str(e))
            rate = None
        if rate is not None and not Decimal(100) <= rate <= Decimal(1_000_000):
            errors.setdefault(p + "rate", []).append(_("费率应在 100 到 1,000,000 元/权重之间"))
        high = _ratio(r.get("high_outlier"), _("高倍率界值"), p + "high_outlier", errors, Decimal("1.1"),
                      Decimal(20), payment.DEFAULT_HIGH)
        low = _ratio(r.get("low_outlier"), _("低倍率界值"), p + "low_outlier", errors, Decimal("0.01"),
                     Decimal("0.99"), payment.DEFAULT_LOW)
        out.append({"level": level, "scheme": scheme, "rate": rate, "high_outlier": high, "low_outlier": low})
    collect(errors, "invalid_rates")
    return out


def payment_money(value) -> Decimal | None:
    from yigongti.core.validation import parse_money

    d = parse_money(value)
    if d is None:
        raise ValueError(_("请填写费率"))
    return d


def set_rates(year: int, rates: Sequence[Mapping], *, actor: Actor) -> list[DrgRate]:
    """Set the year's rates (rows given replace the same level and scheme; others stay)."""
    permissions.check(actor, "insurance.set_rates", None)
    rows = validate_rates(rates)
    with transaction.atomic():
        saved = []
        for r in rows:
            obj, _created = DrgRate.objects.update_or_create(
                year=year, level=r["level"], scheme=r["scheme"],
                defaults={"rate": r["rate"], "high_outlier": r["high_outlier"], "low_outlier": r["low_outlier"]})
            saved.append(obj)
        audit.record(actor, "set_rates", "drgrate", str(year),
                     rates=[{k: str(v) for k, v in r.items()} for r in rows])
    return saved


def set_grassroots(year: int, version: str, drgs: Iterable[str] | None, *, actor: Actor) -> list[str]:
    """Set the year's 基层病组 list (``None``: the default list). Every code must have a weight that year."""
    permissions.check(actor, "insurance.set_rates", None)
    known = set(DrgWeight.objects.filter(year=year, version=version).values_list("drg", flat=True))
    if not known:
        raise InvalidInput("no_weights", _("%(year)s 年 %(version)s 还没有权重，请先测算权重")
                           % {"year": year, "version": version})
    codes = default_grassroots(known) if drgs is None else sorted({d.strip().upper() for d in drgs if d.strip()})
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput("unknown_drg", _("这些病组本年度没有权重：%(codes)s") % {"codes": "、".join(unknown[:20])},
                           field="drgs")
    with transaction.atomic():
        DrgWeight.objects.filter(year=year, version=version).update(grassroots=False)
        DrgWeight.objects.filter(year=year, version=version, drg__in=codes).update(grassroots=True)
        audit.record(actor, "set_grassroots", "drgweight", f"{version}/{year}", drgs=codes)
    return codes


# ---- pricing ---------------------------------------------------------------------------------------------


def rate_table(year: int) -> dict[tuple[str, str], Rate]:
    return {(r.level, r.scheme): Rate(r.rate, r.high_outlier, r.low_outlier) for r in DrgRate.objects.filter(year=year)}


def weight_table(year: int, version: str) -> dict[str, Weight]:
    return {w.drg: Weight(w.weight, w.avg_cost, w.grassroots)
            for w in DrgWeight.objects.filter(year=year, version=version)}


PAYMENT_COLUMNS = ("discharge_id", "method", "version", "group", "units", "unit_price", "outlier", "grassroots",
                   "status", "amount", "explanation")


def _insert_payments(rows: list[tuple]) -> None:
    """Insert CasePayment rows (tuples in ``PAYMENT_COLUMNS`` order) with ``executemany``: a county year is
    ~140,000 rows, and ``bulk_create`` spends most of its time preparing each field of each row (and SQLite's
    999-parameter limit cuts it into ~1,500 statements)."""
    qn = connection.ops.quote_name
    sql = (f"INSERT INTO {qn(CasePayment._meta.db_table)} ({', '.join(qn(c) for c in PAYMENT_COLUMNS)}) "
           f"VALUES ({', '.join(['%s'] * len(PAYMENT_COLUMNS))})")
    with connection.cursor() as cur:
        for i in range(0, len(rows), 5000):
            cur.executemany(sql, rows[i:i + 5000])


def _payment_rows(year: int, version: str, *, ids: Iterable[int] | None = None
                  ) -> tuple[reads.YearCases, list[tuple], dict[str, int], dict[str, Decimal]]:
    """The CasePayment rows (DRG and DIP) of the year's discharges (all, or ``ids``), with counts and totals."""
    from . import dip

    cases = reads.load_year(year, version, codes=True, ids=ids)
    rates, weights = rate_table(year), weight_table(year, version)
    groups = {g.code: g for g in DipGroup.objects.filter(year=year)}
    core = {c for c, g in groups.items() if g.kind == "core"}
    points = {p.scheme: p for p in DipPointValue.objects.filter(year=year)}
    factors = dip.level_factors(year)
    out: list[tuple] = []
    counts: dict[str, int] = defaultdict(int)
    totals = {"drg": Decimal(0), "dip": Decimal(0)}
    for i, pk in enumerate(cases.ids):
        level = cases.level[i]
        p = payment.drg_payment(drg=cases.drg[i], grouped=cases.grouped[i], cost=cases.cost[i],
                                level=level, scheme=cases.scheme[i], weight=weights.get(cases.drg[i]),
                                rates=rates, special_review=cases.special[i])
        code = dip.group_code(cases.diagnosis[i], cases.procedure[i], core) if groups else ""
        g, pv = groups.get(code), points.get(cases.scheme[i])
        value = (pv.settled if pv.settled is not None else pv.estimated) if pv else None
        q = payment.dip_payment(group=code if g else "", score=g.score if g else None, point_value=value,
                                cost=cases.cost[i], scheme=cases.scheme[i], special_review=cases.special[i],
                                settled=bool(pv and pv.settled is not None),
                                factor=factors.get(level, Decimal(1)), avg_cost=g.avg_cost if g else None,
                                grassroots=bool(g and g.grassroots), level=level)
        for r, v in ((p, version), (q, "")):
            counts[f"{r.method}:{r.status}"] += 1
            totals[r.method] += r.amount
            out.append((pk, r.method, v, r.group[:40], r.units, r.unit_price, r.outlier, r.grassroots, r.status,
                        r.amount, json.dumps(list(r.explanation), ensure_ascii=False)))
    return cases, out, counts, totals


def price_cases(year: int, *, actor: Actor, version: str | None = None) -> dict:
    """Price every discharge of the year by DRG (under ``version``, default the payment version) and by DIP
    (the year's DIP groups, level factors and point values, when built), replacing the year's CasePayment
    rows."""
    permissions.check(actor, "insurance.set_rates", None)
    version = version or reads.payment_version()
    cases, out, counts, totals = _payment_rows(year, version)
    if not len(cases):
        raise InvalidInput("no_cases", _("%(year)s 年没有出院病例") % {"year": year})
    with transaction.atomic():
        first, last = reads.year_range(year)
        CasePayment.objects.filter(discharge__discharge_date__range=(first, last),
                                   discharge__facility__community__isnull=False).delete()
        _insert_payments(out)
        audit.record(actor, "price_cases", "casepayment", str(year), version=version, cases=len(cases))
    return {"year": year, "version": version, "cases": len(cases), "counts": dict(counts),
            "drg_total": str(totals["drg"]), "dip_total": str(totals["dip"])}


def price_discharge(discharge: Discharge, *, actor: Actor) -> list[CasePayment]:
    """Price one discharge again (after it was recoded or regrouped) on its year's terms, replacing its
    CasePayment rows — only when its year has been priced (``price_cases``), so that a year nobody priced yet
    does not get a partial set. Its coder (insurance.code_discharge) or the officer may do it."""
    if not any(permissions.allows(actor, verb, discharge)
               for verb in ("insurance.code_discharge", "insurance.group_cases")):
        permissions.check(actor, "insurance.set_rates", None)
    year = discharge.discharge_date.year
    first, last = reads.year_range(year)
    if not CasePayment.objects.filter(discharge__discharge_date__range=(first, last)).exists():
        return []
    version = reads.payment_version()
    with transaction.atomic():
        _cases, out, _counts, _totals = _payment_rows(year, version, ids=[discharge.pk])
        CasePayment.objects.filter(discharge_id=discharge.pk).delete()
        _insert_payments(out)
        audit.record(actor, "price_discharge", "casepayment", discharge.pk, year=year, version=version,
                     resident=discharge.resident_id)
    return list(CasePayment.objects.filter(discharge_id=discharge.pk).order_by("method"))
