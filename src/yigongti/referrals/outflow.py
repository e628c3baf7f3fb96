"""转外就医分析: which diseases still leave the county, by patients, cost and insurance spend, with the
monthly trend, to guide which key specialties to build. Aggregates only (no names), from insurance
settlements of the county's insureds at hospitals outside the county; cached for ten minutes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Max, Sum
from django.db.models.functions import Substr, TruncMonth

from yigongti.core.scoping import scope_for
from yigongti.encounters.models import InsuranceSettlement

from .icd10 import category_name

CACHE_SECONDS = 600
SORTS = {"patients": "patients", "cost": "cost", "fund": "fund"}


@dataclass
class OutflowRow:
    category: str
    name: str
    patients: int
    cases: int
    cost: Decimal
    fund: Decimal
    in_county_cases: int = 0
    trend: list[int] = field(default_factory=list)

    @property
    def outflow_share(self) -> Decimal | None:
        """外转占比: this category's admissions outside the county ÷ all its admissions (in + out), %."""
        total = self.cases + self.in_county_cases
        return None if not total else (Decimal(self.cases) * 100 / total).quantize(Decimal("0.1"))

    @property
    def cost_per_case(self) -> Decimal:
        return (self.cost / self.cases).quantize(Decimal("0.01")) if self.cases else Decimal(0)


@dataclass
class Outflow:
    first: dt.date
    last: dt.date
    months: list[str]
    rows: list[OutflowRow]
    totals: dict
    trend_total: list[dict]


def _last_month(qs) -> dt.date:
    latest = qs.aggregate(m=Max("settle_date"))["m"]
    return latest or dt.date.today()


def outflow(user, months: int = 12, sort: str = "patients", inpatient_only: bool = True, top: int = 30) -> Outflow:
    scope = scope_for(user)
    key = f"referrals:outflow:{scope.prefixes}:{months}:{sort}:{inpatient_only}:{top}"
    if (hit := cache.get(key)) is not None:
        return hit
    base = scope.filter(InsuranceSettlement.objects.all(), "area_code")
    last = _last_month(base.filter(facility_level="out_of_county"))
    y, m = last.year, last.month - months + 1
    while m <= 0:
        y, m = y - 1, m + 12
    first = dt.date(y, m, 1)
    period = base.filter(settle_date__gte=first, settle_date__lte=last)
    if inpatient_only:
        period = period.filter(type="inpatient")
    out = period.filter(facility_level="out_of_county").annotate(cat=Substr("main_icd10", 1, 3))
    agg = list(out.values("cat").annotate(patients=Count("resident", distinct=True), cases=Count("id"),
                                          cost=Sum("total_cost"), fund=Sum("fund_paid")))
    agg.sort(key=lambda a: (-(a[SORTS.get(sort, "patients")] or 0), a["cat"]))
    agg = agg[:top]
    cats = [a["cat"] for a in agg]
    inside = dict(period.filter(facility_level__in=["county", "township", "village"])
                  .annotate(cat=Substr("main_icd10", 1, 3)).filter(cat__in=cats)
                  .values("cat").annotate(n=Count("id")).values_list("cat", "n"))
    month_keys = []
    d = first
    while d <= last:
        month_keys.append(f"{d:%Y-%m}")
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    trend: dict[str, dict[str, int]] = {}
    totals_by_month: dict[str, dict] = {mk: {"month": mk, "cases": 0, "fund": Decimal(0)} for mk in month_keys}
    for row in out.annotate(mon=TruncMonth("settle_date")).values("cat", "mon").annotate(
            n=Count("id"), fund=Sum("fund_paid")):
        mk = f"{row['mon']:%Y-%m}"
        if row["cat"] in cats:
            trend.setdefault(row["cat"], {})[mk] = row["n"]
        if mk in totals_by_month:
            totals_by_month[mk]["cases"] += row["n"]
            totals_by_month[mk]["fund"] += row["fund"] or 0
    rows = [OutflowRow(a["cat"], category_name(a["cat"]), a["patients"], a["cases"], a["cost"] or Decimal(0),
                       a["fund"] or Decimal(0), inside.get(a["cat"], 0),
                       [trend.get(a["cat"], {}).get(mk, 0) for mk in month_keys]) for a in agg]
    t = out.aggregate(patients=Count("resident", distinct=True), cases=Count("id"), cost=Sum("total_cost"),
                      fund=Sum("fund_paid"))
    all_fund = period.exclude(facility_level="pharmacy").aggregate(f=Sum("fund_paid"))["f"] or Decimal(0)
    t["fund_share"] = (Decimal(t["fund"] or 0) * 100 / all_fund).quantize(Decimal("0.1")) if all_fund else None
    result = Outflow(first, last, month_keys, rows, t, list(totals_by_month.values()))
    cache.set(key, result, CACHE_SECONDS)
    return result


