"""The insurance fund's indicators on the dashboard and in the monthly report (``indicators.registry``).

Figures of the fund are the community's: an area that is a county, a community or the city reads the ledger
of its community (``indicators.queries.community_of``); below that (a township, a facility) they are not
defined. Case-mix figures follow the discharging facility, so they are defined for every area.

* INS_EXEC 基金预算执行率: the fund spend the ledger holds for the period's posted months ÷ the budget's
  monthly pre-allocations (按月预拨) of those months, both schemes. Over 100 % the fund is spent faster than
  the budget allows.
* INS_GAP 年末预测缺口: the forecast of the year's spend (``insurance.forecast``, the seasonal pattern of past
  years) minus the year's budget, ÷ the budget; positive = the budget will not hold.
* INS_CMI 病例组合指数: Σ relative weight ÷ grouped discharges of the period, under the payment version (the
  year's weights, ``DrgWeight``).
* INS_GR_SHARE 基层病组基层收治占比: of the discharges in a 基层病组 (同病同付), the share treated at a township
  or village facility.
* INS_OUT 县外就医基金支出: the ledger's out-of-county fund spend of the period (万元), the costliest disease
  groups named in the card's note.

N08 (医保基金县域内支出占比) is computed by the indicators engine from the settlements; the ledger posts the same
settlements by the same in-county rule, so ``ledger_in_county_share`` agrees with it for any posted period
(tests/insurance/test_indicators.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractYear

from yigongti.core.carelevel import GRASSROOTS_LEVELS, IN_COUNTY_LEVELS, care_level
from yigongti.indicators.definitions import Indicator, Value
from yigongti.orgs.models import MedicalCommunity

from .models import Budget, CaseGroup, DrgWeight, GroupStatus, LedgerEntry

D_FUND = "医保基金"
SOURCE = "医共体医保基金总额付费及 CHS-DRG/DIP 支付口径"
FUND_AREAS = ("county", "community", "city")
PHARMACY, OUT = "pharmacy", "out_of_county"
TOP_GROUPS = 3

INDICATORS = [
    Indicator("INS_EXEC", "医保基金预算执行率（按月预拨）", "Fund budget execution (against monthly allocation)",
              D_FUND, "registry", target=Decimal(100), direction="lower", source=SOURCE,
              definition="台账中本期已过账月份的统筹基金支出（城乡居民、职工合计） ÷ "
                         "年度预算中这些月份的按月预拨额 × 100%；超过 100% 表示支出快于预算进度",
              definition_en="Pooled-fund spending posted to the ledger in the period's posted months (resident and "
                            "employee schemes together) ÷ the budget's monthly pre-allocations of those months × 100%; "
                            "above 100% the fund is spent faster than the budget allows"),
    Indicator("INS_GAP", "年末预测缺口率", "Forecast year-end gap", D_FUND, "registry", target=Decimal(0),
              direction="lower", source=SOURCE,
              definition="（按往年季节规律预测的全年统筹基金支出 − 年度预算）÷ 年度预算 × 100%；正数表示预算将超支，"
                         "附注预计用完预算的月份",
              definition_en="(The year's pooled-fund spending forecast from the seasonal pattern of past years − the "
                            "year's budget) ÷ the budget × 100%; positive means the budget will not hold, the note "
                            "names the month it runs out"),
    Indicator("INS_CMI", "病例组合指数（CMI）", "Case mix index (CMI)", D_FUND, "registry", unit="", scale=1,
              source=SOURCE,
              definition="本期出院病例按付费版本入组后的 DRG 相对权重之和 ÷ 入组病例数"
                         "（权重为当年医共体自身病例测算值）",
              definition_en="Sum of the DRG relative weights of the period's discharges grouped under the payment "
                            "version ÷ grouped discharges (weights computed from the community's own cases of the "
                            "year)"),
    Indicator("INS_GR_SHARE", "基层病组基层收治占比", "Share of grassroots DRG cases treated at grassroots", D_FUND,
              "registry", target=Decimal(50), source=SOURCE,
              definition="本期入组基层病组（同病同付）的出院病例中，在乡镇卫生院、村卫生室等基层医疗卫生机构"
                         "收治的例数 ÷ 基层病组出院总例数 × 100%",
              definition_en="Of the period's discharges grouped into a grassroots DRG (paid the same at every "
                            "level), those treated at township or village facilities ÷ all of them × 100%"),
    Indicator("INS_OUT", "县外就医统筹基金支出", "Out-of-county pooled-fund spending", D_FUND, "registry",
              unit="万元", scale=1, direction="lower", source=SOURCE, money=True,
              definition="县域参保人在县域外医疗机构发生的统筹基金支出（台账口径，不含定点药店），附注支出最多的病组",
              definition_en="Pooled-fund spending of the county's insureds at facilities outside the county (ledger, "
                            "pharmacies excluded); the note names the costliest disease groups"),
]
BY_CODE = {i.code: i for i in INDICATORS}


def _q(x: Decimal, places: int = 2) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _ym(months: list[str]) -> list[tuple[int, int]]:
    return [(int(m[:4]), int(m[5:7])) for m in months]


def _months_q(months: list[tuple[int, int]]) -> Q:
    q = Q(pk__in=[])
    by_year: dict[int, list[int]] = defaultdict(list)
    for y, m in months:
        by_year[y].append(m)
    for y, ms in by_year.items():
        q |= Q(year=y, month__in=ms)
    return q


def community_for(area) -> MedicalCommunity | None:
    """The community whose ledger an area's fund figures read (None below the county)."""
    if area.kind not in FUND_AREAS:
        return None
    from yigongti.indicators.queries import community_of

    return community_of(area)


def _none(code: str, note: str) -> Value:
    return Value(BY_CODE[code], None, None, None, extra={"note": note})


def _label(months: list[tuple[int, int]]) -> str:
    from yigongti.indicators.queries import months_label

    return months_label([f"{y:04d}-{m:02d}" for y, m in months])


def posted(community: MedicalCommunity, months: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The months among ``months`` the ledger holds rows for."""
    have = set(LedgerEntry.objects.filter(_months_q(months), community=community)
               .values_list("year", "month").distinct())
    return [ym for ym in months if ym in have]


def current_budgets(community: MedicalCommunity, year: int) -> list[Budget]:
    """The year's budget of each scheme (its highest version)."""
    latest: dict[str, Budget] = {}
    for b in Budget.objects.filter(community=community, year=year).order_by("scheme", "-version"):
        latest.setdefault(b.scheme, b)
    return list(latest.values())


def _prealloc(budget: Budget, month: int) -> Decimal:
    from .budget import prealloc_of

    return prealloc_of(budget)[month - 1]


def budget_execution(area, period) -> Value:
    code = "INS_EXEC"
    community = community_for(area)
    if community is None:
        return _none(code, "按医共体统计")
    got = posted(community, _ym(period.months))
    if not got:
        return _none(code, "本期台账未过账")
    budgets: dict[int, list[Budget]] = {}
    den = Decimal(0)
    for y, m in got:
        if y not in budgets:
            budgets[y] = current_budgets(community, y)
        den += sum((_prealloc(b, m) for b in budgets[y]), Decimal(0))
    num = LedgerEntry.objects.filter(_months_q(got), community=community).aggregate(s=Sum("fund_paid"))["s"] or 0
    num = Decimal(num)
    if den == 0:
        return Value(BY_CODE[code], num, None, None, extra={"note": "本年度未设定预算"})
    note = "" if len(got) == len(period.months) else f"仅{_label(got)}已过账"
    return Value(BY_CODE[code], num, den, _q(num / den * 100), extra={"note": note})


@dataclass(frozen=True)
class YearForecast:
    """The year's forecast over both schemes: the expected spend, the budget and the earliest month a scheme's
    budget runs out (by its expected path)."""

    expected: Decimal
    budget: Decimal
    runs_out_month: int | None


def year_forecast(community: MedicalCommunity, year: int) -> YearForecast | None:
    """The ledger's forecast (``insurance.forecast`` over the posted months, cached with the ledger page) of each
    scheme with a budget, added up; None when no scheme has a budget or a posted month."""
    from .queries.ledger import forecast_for

    expected, budget, months = Decimal(0), Decimal(0), []
    for b in current_budgets(community, year):
        f = forecast_for(community, year, b.scheme)
        if not f.months_posted:
            continue
        expected += f.expected
        budget += b.amount
        if f.runs_out_month:
            months.append(f.runs_out_month)
    if not budget:
        return None
    return YearForecast(expected, budget, min(months) if months else None)


def forecast_gap(area, period) -> Value:
    code = "INS_GAP"
    community = community_for(area)
    if community is None:
        return _none(code, "按医共体统计")
    year = int(period.last[:4])
    if not current_budgets(community, year):
        return _none(code, "本年度未设定预算")
    fc = year_forecast(community, year)
    if fc is None:
        return _none(code, "本年度台账未过账，无法预测")
    expected, amount = fc.expected, fc.budget
    note = f"预计{fc.runs_out_month}月用完预算" if fc.runs_out_month else "预计全年不超预算"
    return Value(BY_CODE[code], expected, amount, _q((expected - amount) / amount * 100), extra={"note": note})


def _discharges(area, period):
    qs = CaseGroup.objects.filter(discharge__discharge_date__gte=period.start,
                                  discharge__discharge_date__lt=period.stop, status=GroupStatus.GROUPED)
    if area.kind == "facility":
        return qs.filter(discharge__facility__code=area.facility_key)
    if area.kind == "community":
        return qs.filter(discharge__facility__community_id=area.code)
    return qs.filter(discharge__facility__region__code__startswith=area.prefix)


def _weights(version: str, years: set[int]) -> dict[tuple[int, str], DrgWeight]:
    return {(w.year, w.drg): w for w in DrgWeight.objects.filter(version=version, year__in=years)}


def case_mix_index(area, period) -> Value:
    from .ledger import payment_version

    version = payment_version()
    rows = (_discharges(area, period).filter(version=version)
            .values("drg", y=ExtractYear("discharge__discharge_date")).annotate(n=Count("id")).order_by())
    rows = list(rows)
    weights = _weights(version, {r["y"] for r in rows})
    total, n = Decimal(0), 0
    for r in rows:
        w = weights.get((r["y"], r["drg"]))
        if w is not None:
            total += w.weight * r["n"]
            n += r["n"]
    if not n:
        return _none("INS_CMI", "本期无已入组且有权重的出院病例")
    return Value(BY_CODE["INS_CMI"], _q(total, 4), Decimal(n), _q(total / n), extra={"note": version})


def grassroots_share(area, period) -> Value:
    from .ledger import payment_version

    code = "INS_GR_SHARE"
    version = payment_version()
    rows = list(_discharges(area, period).filter(version=version)
                .values("drg", "discharge__facility__type", y=ExtractYear("discharge__discharge_date"))
                .annotate(n=Count("id")).order_by())
    listed = {(w.year, w.drg) for w in _weights(version, {r["y"] for r in rows}).values() if w.grassroots}
    num = den = 0
    for r in rows:
        if (r["y"], r["drg"]) in listed:
            den += r["n"]
            if care_level(r["discharge__facility__type"]).value in GRASSROOTS_LEVELS:
                num += r["n"]
    if not den:
        return _none(code, "本期无基层病组出院病例")
    return Value(BY_CODE[code], Decimal(num), Decimal(den), _q(Decimal(num) / den * 100))


def out_of_county_groups(community: MedicalCommunity, months: list[tuple[int, int]], limit: int = 15) -> list[dict]:
    """The out-of-county fund spend of the months by disease group, the costliest first (settlements without a
    diagnosis, mostly outpatient, left out)."""
    return list(LedgerEntry.objects.filter(_months_q(months), community=community, level=OUT).exclude(group="")
                .values("group").annotate(fund=Sum("fund_paid"), cases=Sum("cases")).order_by("-fund")[:limit])


def out_of_county_spend(area, period) -> Value:
    code = "INS_OUT"
    community = community_for(area)
    if community is None:
        return _none(code, "按医共体统计")
    got = posted(community, _ym(period.months))
    if not got:
        return _none(code, "本期台账未过账")
    fund = LedgerEntry.objects.filter(_months_q(got), community=community, level=OUT) \
        .aggregate(s=Sum("fund_paid"))["s"] or Decimal(0)
    top = out_of_county_groups(community, got, TOP_GROUPS)
    parts = [f"{r['group']} {_q(Decimal(r['fund']) / 10000, 1)}万元" for r in top if r["fund"]]
    note = ("前三：" + "、".join(parts)) if parts else ""
    if len(got) < len(period.months):
        note = f"仅{_label(got)}已过账" + (f"；{note}" if note else "")
    wan = _q(Decimal(fund) / 10000)
    return Value(BY_CODE[code], wan, None, wan, extra={"note": note})


def ledger_in_county_share(community: MedicalCommunity, months: list[tuple[int, int]]) -> Decimal | None:
    """N08 from the ledger: the in-county fund spend ÷ the fund spend outside pharmacies × 100 (2 places)."""
    rows = LedgerEntry.objects.filter(_months_q(months), community=community).exclude(level=PHARMACY)
    total = rows.aggregate(s=Sum("fund_paid"))["s"] or Decimal(0)
    inside = rows.filter(level__in=IN_COUNTY_LEVELS).aggregate(s=Sum("fund_paid"))["s"] or Decimal(0)
    return None if not total else _q(Decimal(inside) / Decimal(total) * 100)


FIGURES = {"INS_EXEC": budget_execution, "INS_GAP": forecast_gap, "INS_CMI": case_mix_index,
           "INS_GR_SHARE": grassroots_share, "INS_OUT": out_of_county_spend}


def register() -> None:
    """Called from ``InsuranceConfig.ready``: the fund's indicators join the dashboard and the monthly report."""
    from yigongti.indicators import registry

    for ind in INDICATORS:
        registry.register(ind, FIGURES[ind.code])
