"""Reads of indicator figures for a period and an area, from the monthly facts.

Figures are aggregates, not person-level data: any signed-in user may see those of areas within
their registry scope (their county; the city for city users). Drill-down to the encounters or
settlements behind a figure *is* person-level: it goes through the encounters app's scoped queries
and is audited."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet

from yigongti.core import audit
from yigongti.core.errors import NotFound
from yigongti.core.paging import Page, slice_page
from yigongti.encounters.models import Death, Encounter, InsuranceSettlement, PopulationByAge
from yigongti.encounters.queries import encounters_visible_to, settlements_visible_to
from yigongti.orgs.models import Facility, MedicalCommunity, Region, RegionLevel
from yigongti.orgs.queries import registry_scope

from .definitions import EVIDENCE_ITEMS, INDICATORS, NCD_RANGES, PREMATURE_BANDS, REFERRAL_CODES, Indicator, Value
from .engine import IDX as MEASURE_INDEX
from .engine import Facts, aggregate_sql, collect, evaluate, merge
from .models import EvidenceItem, EvidenceStatus, MonthlyFact
from .periods import Period, parse_period

CACHE_SECONDS = 600
DISPLAY_ORDER = ["N07", "N08", "N09", "N10", "N10G", "N11", "N12", "N14", "BED_OCC", "ALOS", "IP_COST", "OP_COST",
                 "DRUG_RATIO", "MATERIAL_100", "COST_GROWTH", "VISITS", "ER_VISITS", "DISCHARGES", "SURGERIES",
                 "GR_VISITS", "GR_VISIT_GROWTH", "REVENUE", "ALIAS_COUNTY_RATE", "ALIAS_GRASSROOTS_RATE",
                 *REFERRAL_CODES, "N01", "N02", "N03", "N04", "N05", "N06", "N13"]
LEVEL_TYPES = {"county": ["A100", "A210", "G100", "A900", "E300"], "township": ["B200", "B100"], "village": ["D600"]}


# ------------------------------------------------------------------------------------------------
# Areas of the hierarchy

@dataclass(frozen=True)
class Area:
    kind: str  # city | county | community | township | village | facility
    code: str
    name: str
    prefix: str  # region prefix the figures are attributed to
    facility_key: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.code}"

    def where(self, basis: str = "facility") -> tuple[str, list]:
        if self.kind == "facility":
            return "facility_key = %s", [self.facility_key]
        return f"{self.column(basis)} LIKE %s", [self.prefix + "%"]

    def column(self, basis: str) -> str:
        """Below the county, residence-based figures follow the patient's home."""
        return "residence_area" if basis == "residence" and self.kind in ("township", "village") else "unit_area"

    @property
    def child_prefix_len(self) -> int:
        return {"city": 6, "county": 9, "community": 9, "township": 12}.get(self.kind, 0)


KIND_LABELS = {"city": "市", "county": "县", "community": "医共体", "township": "乡镇", "village": "村",
               "facility": "机构"}


def _region_area(region: Region) -> Area:
    kind = {RegionLevel.CITY: "city", RegionLevel.COUNTY: "county", RegionLevel.TOWNSHIP: "township",
            RegionLevel.VILLAGE: "village", RegionLevel.PROVINCE: "city"}[region.level]
    return Area(kind, region.code, region.name, region.prefix)


def default_area(user) -> Area:
    """Where a user's dashboard opens: the city, the county, the community, the township or village
    of their facility, or their county-level facility."""
    if user.role == "community_manager" and user.facility_id and user.facility.community_id:
        c = user.facility.community
        return Area("community", str(c.pk), c.name, c.region.prefix)
    if user.role in ("city", "bureau", "insurance_officer", "auditor") and user.region_id:
        return _region_area(user.region)
    if user.facility_id:
        f = user.facility
        if f.type == "D600":
            return _region_area(f.region)
        if f.type in ("B200", "B100"):
            return _region_area(f.region)
        if user.role == "facility_admin" and f.community_id and f.community.lead_facility_id == f.pk:
            c = f.community
            return Area("community", str(c.pk), c.name, c.region.prefix)
        return Area("facility", f.code, f.name, f.region.code, f.code)
    if user.region_id:
        return _region_area(user.region)
    raise NotFound("账号未关联机构或区划，无法确定统计范围")


def resolve_area(user, key: str | None) -> Area:
    """An area from its key (``county:431127000000``, ``facility:431127A100001`` …) if the user may see it."""
    if not key:
        return default_area(user)
    kind, _, code = key.partition(":")
    area = None
    if kind == "facility":
        f = Facility.objects.select_related("region").filter(code=code).first()
        if f:
            area = Area("facility", f.code, f.name, f.region.code, f.code)
    elif kind == "community":
        c = MedicalCommunity.objects.select_related("region").filter(pk=code if code.isdigit() else 0).first()
        if c:
            area = Area("community", str(c.pk), c.name, c.region.prefix)
    elif kind in ("city", "county", "township", "village"):
        r = Region.objects.filter(code=code).first()
        if r:
            area = _region_area(r)
    if area is None or not registry_scope(user).contains(area.prefix):
        raise NotFound("统计范围不存在或不在您的管辖范围内")
    return area


def area_choices(user) -> list[Area]:
    """The areas a user can switch between on the dashboard: their default area and everything in it."""
    home = default_area(user)
    out = [home]
    if home.kind in ("city", "county", "community"):
        if home.kind == "city":
            out += [_region_area(r) for r in Region.objects.filter(level=RegionLevel.COUNTY,
                                                                   code__startswith=home.prefix).order_by("code")]
        out += [_region_area(r) for r in Region.objects.filter(level=RegionLevel.TOWNSHIP,
                                                               code__startswith=home.prefix).order_by("code")]
        out += [Area("facility", f.code, f.name, f.region.code, f.code)
                for f in Facility.objects.select_related("region").filter(
                    region__code__startswith=home.prefix, type__in=LEVEL_TYPES["county"][:3]).order_by("code")]
    elif home.kind == "township":
        out += [_region_area(r) for r in Region.objects.filter(level=RegionLevel.VILLAGE,
                                                               code__startswith=home.prefix).order_by("code")]
    return out


# ------------------------------------------------------------------------------------------------
# Facts → figures

def _version() -> int:
    """Bumped by services.refresh_facts. The cache is per process unless CACHES names a shared one, so
    other processes see refreshed facts after at most CACHE_SECONDS."""
    v = cache.get("indicators:version")
    if v is None:
        v = 0
        cache.set("indicators:version", v, CACHE_SECONDS)
    return v


def fetch(area: Area, months: list[str], group: str = "'all'", sources: tuple[str, ...] | None = None,
          basis: str = "facility") -> dict[str, dict[str, Facts]]:
    """Facts of an area summed by ``group`` (a SQL expression over the fact columns) and month."""
    raw = f"{_version()}:{area.key}:{group}:{sources}:{basis}:{','.join(months)}"
    key = "indicators:facts:" + hashlib.md5(raw.encode()).hexdigest()
    hit = cache.get(key)
    if hit is not None:
        return hit
    where, params = area.where(basis)
    where += f" AND month IN ({', '.join(['%s'] * len(months))})"
    params += months
    if sources:
        where += f" AND source IN ({', '.join(['%s'] * len(sources))})"
        params += list(sources)
    with connection.cursor() as cur:
        cur.execute(aggregate_sql("indicators_monthlyfact", group, where), params)
        result = collect(cur.fetchall())
    result = {g: dict(m) for g, m in result.items()}
    cache.set(key, result, CACHE_SECONDS)
    return result


def latest_month(default: str | None = None) -> str:
    m = cache.get("indicators:latest_month")
    if m is None:
        m = (MonthlyFact.objects.filter(source="enc").order_by("-month").values_list("month", flat=True).first()
             or default or dt.date.today().strftime("%Y-%m"))
        cache.set("indicators:latest_month", m, 60)
    return m


def default_period() -> Period:
    return parse_period(latest_month())


@dataclass
class Card:
    indicator: Indicator
    value: Value
    trend: list[tuple[str, Decimal | None]]
    note: str = ""

    @property
    def status(self) -> str:
        return self.value.status


def _months_of(period: Period, trend: int = 12) -> list[str]:
    want = set(period.months) | set(period.prior_year().months) | set(period.trend_months(trend))
    want |= {f"{int(m[:4]) - 1:04d}{m[4:]}" for m in period.trend_months(trend)}
    return sorted(want)


def _active(facts: Facts) -> bool:
    """A month with visits or submitted referrals (not one holding only bed-days of older stays)."""
    i, j = MEASURE_INDEX["visits"], MEASURE_INDEX["ref_all"]
    return any(v[i] or v[j] for v in facts.values())


def _value(ind: Indicator, months: dict[str, Facts], period: Period) -> Value:
    facts = merge(months, period.months)
    prior = merge(months, period.prior_year().months) if ind.kind == "growth" else None
    if prior is not None and not any(prior.values()):
        prior = None
    return evaluate(ind, facts, prior)


def figures(area: Area, period: Period, codes: list[str] | None = None, trend: int = 12) -> list[Card]:
    """Every indicator of an area for a period, with the monthly trend (a card per indicator)."""
    wanted = _months_of(period, trend)
    by_basis = {"facility": fetch(area, wanted).get("all", {})}
    # the trend starts with the first month that has visits (not with a month holding only the tail
    # of stays admitted before the data begins)
    active = [m for m in period.trend_months(trend) if _active(by_basis["facility"].get(m, {}))]
    trend_months = [m for m in period.trend_months(trend) if active and m >= active[0]]
    cards = []
    for code in codes or DISPLAY_ORDER:
        ind = INDICATORS[code]
        if ind.kind in ("ratio", "count", "growth"):
            basis = ind.local_basis if area.column(ind.local_basis) != "unit_area" else "facility"
            if basis not in by_basis:
                by_basis[basis] = fetch(area, wanted, basis=basis).get("all", {})
            months = by_basis[basis]
            value = _value(ind, months, period)
            series = [(m, _value(ind, months, parse_period(m)).value) for m in trend_months]
            cards.append(Card(ind, value, series))
        elif ind.kind == "mortality":
            value = premature_mortality(area, period)
            cards.append(Card(ind, value, [], note="年化" if period.kind != "year" else ""))
        elif ind.kind == "qualitative":
            cards.append(Card(ind, evidence_value(area, ind, int(period.last[:4])), []))
        else:
            cards.append(Card(ind, Value(ind, None, None, None), [], note=f"待{ind.data_from}模块接入"))
    return cards


def ranking(area: Area, period: Period, code: str, by: str = "child") -> list[dict]:
    """Units below an area ranked by an indicator for a period (月考核、月通报): townships (or villages,
    or counties) with ``by='child'``, facilities with ``by='facility'``. Best first; no value last."""
    ind = INDICATORS[code]
    if not ind.computed or ind.kind == "mortality":
        return []
    months = sorted(set(period.months) | set(period.prior_year().months))
    if by == "facility":
        if ind.uses_settlements:
            return []
        # referral facts only for referral indicators (by referring facility), so that other rankings
        # do not gain facilities that merely sent a referral
        sources = ("enc", "bed", "ref") if ind.uses_referrals else ("enc", "bed")
        grouped = fetch(area, months, "facility_key", sources=sources)
        facs = Facility.objects.filter(code__in=list(grouped))
        if area.kind in ("city", "county", "community"):
            facs = facs.exclude(type__in=LEVEL_TYPES["village"])  # village clinics rank within their township
        names = dict(facs.values_list("code", "name"))
        grouped = {g: v for g, v in grouped.items() if g in names}
    else:
        n = area.child_prefix_len
        if not n:
            return []
        column = "residence_area" if ind.local_basis == "residence" else "unit_area"
        grouped = fetch(area, months, f"substr({column}, 1, {n})", basis=ind.local_basis)
        # patients from other counties have no township of ours to be ranked in
        grouped = {g: v for g, v in grouped.items() if g and g.startswith(area.prefix[:6])
                   and not (column == "residence_area" and n == 9 and g.endswith("000"))}
        codes = {g.ljust(12, "0"): g for g in grouped}
        names = {codes[c]: name for c, name in Region.objects.filter(code__in=list(codes)).values_list("code", "name")}
        for g in grouped:
            if n == 9 and g.endswith("000"):
                names[g] = "县级医疗机构"  # facilities sitting at the county seat, not in a township
            names.setdefault(g, g)
    rows = []
    for g, months_facts in grouped.items():
        v = _value(ind, months_facts, period)
        if ind.uses_settlements and not v.numerator and not v.denominator:
            continue  # e.g. the county-level facilities, which insure nobody
        rows.append({"key": g, "name": names.get(g, g), "value": v.value, "numerator": v.numerator,
                     "denominator": v.denominator, "status": v.status})
    higher = ind.direction == "higher"
    rows.sort(key=lambda r: (r["value"] is None, -(r["value"] or 0) if higher else (r["value"] or 0)))
    for i, r in enumerate(rows, start=1):
        r["rank"] = i if r["value"] is not None else None
    return rows


def level_breakdown(area: Area, period: Period, code: str) -> list[dict]:
    """An indicator's numerator and denominator by facility level (县级/乡镇/村/县外)."""
    ind = INDICATORS[code]
    facts = merge(fetch(area, period.months).get("all", {}), period.months)
    out = []
    for level, label in (("county", "县级"), ("township", "乡镇"), ("village", "村"), ("out_of_county", "县外")):
        part = {k: v for k, v in facts.items() if k[1] == level}
        if not part or ind.kind not in ("ratio", "count"):
            continue
        v = evaluate(ind, part)
        if (v.numerator or 0) == 0 and (v.denominator or 0) == 0:
            continue
        out.append({"level": level, "label": label, "numerator": v.numerator, "denominator": v.denominator})
    return out


# ------------------------------------------------------------------------------------------------
# N14: premature mortality from the four NCDs (life-table method)

def _is_ncd(icd: str) -> bool:
    c = (icd or "").upper()[:3]
    return any(lo <= c <= hi for lo, hi in NCD_RANGES)


def premature_probability(deaths: dict[int, int], population: dict[int, int], years: Decimal = Decimal(1)
                          ) -> Decimal | None:
    """1 − Π(1 − ₅q_x) over the bands 30–34 … 65–69, with ₅q_x = 5·M/(1 + 2.5·M) and M the annual
    death rate of the band (deaths ÷ population ÷ years). None when a band has no population."""
    survive = Decimal(1)
    for band in PREMATURE_BANDS:
        pop = population.get(band, 0)
        if pop <= 0:
            return None
        m = Decimal(deaths.get(band, 0)) / Decimal(pop) / years
        q = 5 * m / (1 + Decimal("2.5") * m)
        survive *= 1 - q
    return (1 - survive) * 100


def premature_mortality(area: Area, period: Period) -> Value:
    ind = INDICATORS["N14"]
    if area.kind == "facility":
        return Value(ind, None, None, None)
    key = f"indicators:n14:{area.key}:{period.key}"
    hit = cache.get(key)
    if hit is not None:
        return hit
    deaths: dict[int, int] = {}
    for age, cause in Death.objects.filter(area_code__startswith=area.prefix, death_date__gte=period.start,
                                           death_date__lt=period.stop, age__gte=30, age__lt=70
                                           ).values_list("age", "cause_icd10"):
        if _is_ncd(cause):
            band = age // 5 * 5
            deaths[band] = deaths.get(band, 0) + 1
    year = int(period.last[:4])
    pop_qs = PopulationByAge.objects.filter(area_code__startswith=area.prefix, age_from__in=PREMATURE_BANDS)
    years_available = sorted(set(pop_qs.values_list("year", flat=True)))
    use = max([y for y in years_available if y <= year], default=years_available[0] if years_available else None)
    population: dict[int, int] = {}
    for band, n in pop_qs.filter(year=use).values_list("age_from", "population"):
        population[band] = population.get(band, 0) + n
    years = Decimal(period.days) / Decimal(365)
    p = premature_probability(deaths, population, years)
    value = Value(ind, Decimal(sum(deaths.values())), Decimal(sum(population.values())),
                  None if p is None else p.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    cache.set(key, value, CACHE_SECONDS)
    return value


# ------------------------------------------------------------------------------------------------
# Qualitative indicators: the evidence checklist

def community_of(area: Area) -> MedicalCommunity | None:
    if area.kind == "community":
        return MedicalCommunity.objects.filter(pk=area.code).first()
    return MedicalCommunity.objects.filter(region__code__startswith=area.prefix[:6]).order_by("pk").first()


def evidence_value(area: Area, ind: Indicator, year: int) -> Value:
    community = community_of(area) if area.kind in ("county", "community", "city") else None
    items = EVIDENCE_ITEMS.get(ind.code, [])
    if community is None or not items:
        return Value(ind, None, None, None)
    met = EvidenceItem.objects.filter(community=community, year=year, indicator=ind.code,
                                      status=EvidenceStatus.MET).count()
    return Value(ind, Decimal(met), Decimal(len(items)), None, extra={"community": community.pk})


def evidence_checklist(community: MedicalCommunity, year: int) -> list[dict]:
    filed = {(e.indicator, e.item): e for e in EvidenceItem.objects.filter(community=community, year=year)
             .select_related("updated_by")}
    out = []
    for code, items in EVIDENCE_ITEMS.items():
        out.append({"indicator": INDICATORS[code],
                    "items": [{"key": k, "label": label, "filed": filed.get((code, k))} for k, label in items]})
    return out


# ------------------------------------------------------------------------------------------------
# Drill-down to the records behind a figure (person-level: scoped and audited)

VISIT_MEASURES = {"visits", "er_visits", "tcm_visits", "visits_costed", "visit_cost"}
DISCHARGE_MEASURES = {"discharges", "discharges_costed", "discharge_cost", "los_days", "surgeries"}


def _encounter_q(ind: Indicator, period: Period) -> Q:
    s = ind.numerator if ind.kind != "growth" else INDICATORS[ind.base].numerator
    start, stop = period.start, period.stop
    visit = Q(type__in=["outpatient", "emergency"], admit_date__gte=start, admit_date__lt=stop)
    discharge = Q(type="inpatient", discharge_date__gte=start, discharge_date__lt=stop)
    m = s.measure
    if m in VISIT_MEASURES:
        q = visit
        if m == "er_visits":
            q &= Q(type="emergency")
        if m == "tcm_visits":
            q &= Q(tcm=True)
        if m in ("visits_costed", "visit_cost"):
            q &= Q(total_cost__isnull=False)
    elif m in DISCHARGE_MEASURES:
        q = discharge
        if m == "surgeries":
            q &= Q(surgery=True)
        if m in ("discharges_costed", "discharge_cost"):
            q &= Q(total_cost__isnull=False)
    elif m == "occupied_bed_days":
        q = Q(type="inpatient", admit_date__lt=stop, discharge_date__gt=start)
    else:  # revenue, drug, material, fund
        q = (visit | discharge) & Q(total_cost__isnull=False)
    if s.levels is not None:
        types = [t for lv in s.levels for t in LEVEL_TYPES.get(lv, [])]
        q &= Q(facility__type__in=types)
    return q


def drill_encounters(who, code: str, area: Area, period: Period, facility_code: str = "", page: int = 1,
                     size: int = 50) -> Page:
    """The encounters counted in an indicator's numerator, in an area (or one facility) and period."""
    ind = INDICATORS.get(code)
    if ind is None or ind.uses_settlements or ind.uses_referrals or ind.kind not in ("ratio", "count", "growth"):
        raise NotFound("该指标不能下钻到就诊记录")
    user = getattr(who, "user", who)
    qs = encounters_visible_to(user).filter(_encounter_q(ind, period))
    if facility_code:
        qs = qs.filter(facility__code=facility_code)
    elif area.kind == "facility":
        qs = qs.filter(facility__code=area.facility_key)
    else:
        qs = qs.filter(facility__region__code__startswith=area.prefix)
    result = slice_page(qs.select_related("facility", "resident").order_by("-admit_date", "-id"), page, size)
    audit.record(who, "list", "encounter", "", indicator=code, area=area.key, period=period.key,
                 facility=facility_code, ids=[e.pk for e in result.items])
    return result


def drill_settlements(who, code: str, area: Area, period: Period, level: str = "", page: int = 1,
                      size: int = 50) -> Page:
    """The settlements behind a settlement-based indicator, by the insured's home area."""
    ind = INDICATORS.get(code)
    if ind is None or not ind.uses_settlements:
        raise NotFound("该指标不能下钻到结算记录")
    user = getattr(who, "user", who)
    qs = settlements_visible_to(user).filter(settle_date__gte=period.start, settle_date__lt=period.stop)
    base = ind if ind.kind != "growth" else INDICATORS[ind.base]
    if base.denominator and base.denominator.measure.startswith("st_ip"):
        qs = qs.filter(type="inpatient")
    qs = qs.exclude(facility_level="pharmacy").exclude(type="pharmacy")
    if area.kind != "facility":
        qs = qs.filter(area_code__startswith=area.prefix)
    else:
        qs = qs.filter(facility_code=area.facility_key)
    if level:
        qs = qs.filter(facility_level=level)
    result = slice_page(qs.select_related("resident").order_by("-settle_date", "-id"), page, size)
    audit.record(who, "list", "settlement", "", indicator=code, area=area.key, period=period.key,
                 ids=[s.pk for s in result.items])
    return result


def settlement_rows_visible(user) -> QuerySet[InsuranceSettlement]:
    return settlements_visible_to(user)


def encounter_rows_visible(user) -> QuerySet[Encounter]:
    return encounters_visible_to(user)
