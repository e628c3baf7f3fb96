"""Reads of indicator figures for a period and an area, from the monthly facts.

Figures are aggregates, not person-level data: any signed-in user may see those of areas within
their registry scope (their county; the city for city users). Drill-down to the encounters or
settlements behind a figure *is* person-level: it goes through the encounters app's scoped queries
and is audited."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Max, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.carelevel import CareLevel, levels_q, type_q
from yigongti.core.errors import NotFound
from yigongti.core.exports import EXPORT_LIMIT
from yigongti.core.paging import Page, slice_page
from yigongti.encounters.models import Death, Encounter, InsuranceSettlement, PopulationByAge
from yigongti.encounters.queries import encounters_visible_to, settlements_visible_to
from yigongti.orgs.models import Facility, MedicalCommunity, Profession, Region, RegionLevel, Staff
from yigongti.orgs.permissions import Category, check_read
from yigongti.orgs.queries import registry_scope
from yigongti.residents.models import KeyPopulation, Resident

from .definitions import EVIDENCE_ITEMS, INDICATORS, NCD_RANGES, PREMATURE_BANDS, REFERRAL_CODES, Indicator, Value
from .engine import IDX as MEASURE_INDEX
from .engine import Facts, aggregate_sql, collect, evaluate, merge
from .measures import months_between
from .models import EvidenceItem, EvidenceStatus, MonthlyFact
from .periods import Period, parse_period

CACHE_SECONDS = 600
# The older names (县域就诊率, 县域内基层就诊率) are not cards of their own: a note on the card they alias.
DISPLAY_ORDER = ["N07", "N08", "N09", "N10", "N10G", "N11", "N12", "N13", "N14", "BED_OCC", "ALOS", "IP_COST",
                 "OP_COST", "DRUG_RATIO", "MATERIAL_100", "COST_GROWTH", "VISITS", "ER_VISITS", "DISCHARGES",
                 "SURGERIES", "GR_VISITS", "GR_VISIT_GROWTH", "REVENUE", *REFERRAL_CODES, "N04",
                 "N01", "N02", "N03", "N05", "N06"]
ALIASES = {code: [i for i in INDICATORS.values() if i.alias_of == code] for code in INDICATORS}


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
    kinds: dict[str, str] = {RegionLevel.CITY: "city", RegionLevel.COUNTY: "county", RegionLevel.TOWNSHIP: "township",
                             RegionLevel.VILLAGE: "village", RegionLevel.PROVINCE: "city"}
    kind = kinds[region.level]
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
        if f.is_grassroots:  # a township center or village clinic sees its township or village
            return _region_area(f.region)
        if user.role == "facility_admin" and f.community_id and f.community.lead_facility_id == f.pk:
            c = f.community
            return Area("community", str(c.pk), c.name, c.region.prefix)
        return Area("facility", f.code, f.name, f.region.code, f.code)
    if user.region_id:
        return _region_area(user.region)
    raise NotFound(_("账号未关联机构或区划，无法确定统计范围"))


def resolve_area(user, key: str | None) -> Area:
    """An area from its key (``county:431127000000``, ``facility:431127A100001`` …) if the user may see it."""
    if not key:
        return default_area(user)
    kind, _sep, code = key.partition(":")
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
        raise NotFound(_("统计范围不存在或不在您的管辖范围内"))
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
        # the county's hospitals (A), maternal and child hospitals (G): not its 120 stations
        out += [Area("facility", f.code, f.name, f.region.code, f.code)
                for f in Facility.objects.select_related("region").filter(
                    type_q(CareLevel.COUNTY), Q(type__startswith="A") | Q(type__startswith="G"),
                    region__code__startswith=home.prefix).order_by("code")]
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


def latest_complete_month() -> str:
    """The latest month with data that has ended: the month in progress (a demo generated on the 2nd, or a
    live county on any day but the last) would read as a two-day month — bed occupancy 5 %, mortality 0 %."""
    current = timezone.localdate().strftime("%Y-%m")
    m = cache.get("indicators:latest_complete_month")
    if m is None:
        m = (MonthlyFact.objects.filter(source="enc", month__lt=current).order_by("-month")
             .values_list("month", flat=True).first() or latest_month())
        cache.set("indicators:latest_complete_month", m, 60)
    return m


def default_period() -> Period:
    """What the dashboard, the home page and the API show when no period is asked for."""
    return parse_period(latest_complete_month())


@dataclass
class Card:
    indicator: Indicator
    value: Value
    trend: list[tuple[str, Decimal | None]]
    note: str = ""
    # older names of this indicator with their figures for the period (shown as a note on the card)
    aliases: list[Value] = field(default_factory=list)

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


# ------------------------------------------------------------------------------------------------
# Coverage: which months the data has. A period counts only those (and says so); a growth figure is
# computed only when every month it compares with has data.

Coverage = dict[str, frozenset[str]]  # source ('enc', 'set', 'ref', 'death') → months with data


def coverage() -> Coverage:
    """The months with data of each source, county-wide (a village without visits in a month is a zero,
    a month without any encounter in the database is no data)."""
    key = f"indicators:coverage:{_version()}"
    hit = cache.get(key)
    if hit is not None:
        return hit
    out: dict[str, set[str]] = {"enc": set(), "set": set(), "ref": set(), "death": set()}
    with connection.cursor() as cur:
        cur.execute("SELECT month, source FROM indicators_monthlyfact WHERE source <> 'bed' "
                    "GROUP BY month, source HAVING SUM(visits) + SUM(discharges) + SUM(st_cases) + SUM(ref_all) "
                    "+ SUM(st_fund) + SUM(st_ip_cases) > 0")
        for month, source in cur.fetchall():
            out.setdefault(source, set()).add(month)
    # the death registry runs continuously: a month without a death in a small county is a zero, so it
    # covers the span from its first to its last registration
    span = Death.objects.aggregate(lo=Min("death_date"), hi=Max("death_date"))
    if span["lo"] is not None:
        out["death"].update(months_between(span["lo"], span["hi"]))
    result = {k: frozenset(v) for k, v in out.items()}
    cache.set(key, result, CACHE_SECONDS)
    return result


def months_label(months: list[str]) -> str:
    """'2026年1–10月', '2025年11月–2026年2月', '2026年1–3、5月' for a list of YYYY-MM."""
    ms = sorted(set(months))
    if not ms:
        return ""
    runs: list[list[str]] = [[ms[0]]]
    for m in ms[1:]:
        y, mo = int(runs[-1][-1][:4]), int(runs[-1][-1][5:])
        nxt = f"{y + (mo == 12):04d}-{mo % 12 + 1:02d}"
        if m == nxt:
            runs[-1].append(m)
        else:
            runs.append([m])
    parts, year = [], None
    for run in runs:
        a, b = run[0], run[-1]
        ya, ma, yb, mb = a[:4], int(a[5:]), b[:4], int(b[5:])
        prefix = "" if ya == year else f"{ya}年"
        if ya != yb:
            parts.append(f"{prefix}{ma}月–{yb}年{mb}月")
        elif a == b:
            parts.append(f"{prefix}{ma}月")
        else:
            parts.append(f"{prefix}{ma}–{mb}月")
        year = yb
    return "、".join(parts)


def covered_months(ind: Indicator, months: list[str], cover: Coverage) -> list[str]:
    """The months among ``months`` in which every source the indicator reads has data."""
    sources = ind.sources or {"enc"}
    return [m for m in months if all(m in cover.get(s, ()) for s in sources)]


def period_coverage(period: Period, cover: Coverage | None = None) -> str:
    """'' when the encounters cover the whole period, else the months they cover ('2026年1–10月')."""
    cover = cover if cover is not None else coverage()
    got = [m for m in period.months if m in cover.get("enc", ())]
    if len(got) == len(period.months):
        return ""
    return months_label(got) or "无数据"


def _prior(m: str) -> str:
    return f"{int(m[:4]) - 1:04d}{m[4:]}"


def _value(ind: Indicator, months: dict[str, Facts], period: Period, cover: Coverage | None = None) -> Value:
    """A figure over the months of the period that have data. ``extra['note']`` says what was left out:
    a partial period ('仅2026年1–10月有数据'), or why a growth figure is not computed (its comparison
    months are not all covered)."""
    cover = cover if cover is not None else coverage()
    got = covered_months(ind, period.months, cover)
    if not got:
        return Value(ind, None, None, None, extra={"note": "本期无数据", "months": []})
    note = "" if len(got) == len(period.months) else f"仅{months_label(got)}有数据"
    prior = None
    if ind.kind == "growth":
        back = [_prior(m) for m in got]
        have = covered_months(ind.base_indicator, back, cover)
        if len(have) < len(back):
            reason = f"上年同期（{months_label(back)}）数据不全，"
            reason += f"仅{months_label(have)}有数据" if have else "无数据"
            return Value(ind, None, None, None, extra={"note": reason, "months": got})
        prior = merge(months, back)
    v = evaluate(ind, merge(months, got), prior)
    v.extra.update(note=note, months=got)
    return v


def figures(area: Area, period: Period, codes: list[str] | None = None, trend: int = 12) -> list[Card]:
    """Every indicator of an area for a period, with the monthly trend (a card per indicator).

    Cached whole (cards pickle to ~25 kB) for CACHE_SECONDS under the facts version, in the cache every worker
    shares: the dashboard and the home page's red-indicator panel ask for the same cards on every request,
    and computing them costs ~1.5 s at 450,000 residents (N13 counts settlements of the managed residents;
    the trend formulas run ~8,000 times). A registry figure (N04, N13) may thus lag its tables by up to ten
    minutes, as the facts lag the encounters until the nightly refresh."""
    raw = f"{_version()}:{area.key}:{period.key}:{','.join(codes or [])}:{trend}"
    key = "indicators:figures:" + hashlib.md5(raw.encode()).hexdigest()
    hit = cache.get(key)
    if hit is None:
        hit = _figures(area, period, codes, trend)
        cache.set(key, hit, CACHE_SECONDS)
    return hit


def _figures(area: Area, period: Period, codes: list[str] | None, trend: int) -> list[Card]:
    wanted = _months_of(period, trend)
    cover = coverage()
    by_basis = {"facility": fetch(area, wanted).get("all", {})}
    # the trend starts with the first month that has visits (not with a month holding only the tail
    # of stays admitted before the data begins)
    active = [m for m in period.trend_months(trend) if _active(by_basis["facility"].get(m, {}))]
    trend_months = [m for m in period.trend_months(trend) if active and m >= active[0]]
    cards = []
    for code in codes or DISPLAY_ORDER:
        ind = INDICATORS[code]
        if ind.from_facts:
            months = _basis_facts(ind, area, wanted, by_basis)
            value = _value(ind, months, period, cover)
            series = [(m, _value(ind, months, parse_period(m), cover).value) for m in trend_months]
            aliases = [_value(a, _basis_facts(a, area, wanted, by_basis), period, cover) for a in ALIASES[code]]
            cards.append(Card(ind, value, series, note=_card_note(value, period, cover), aliases=aliases))
        elif ind.kind == "mortality":
            value = premature_mortality(area, period)
            cards.append(Card(ind, value, [], note=value.extra.get("note", "")))
        elif ind.kind == "registry":
            value = REGISTRY_FIGURES[code](area, period)
            cards.append(Card(ind, value, [], note=_card_note(value, period, cover)))
        elif ind.kind == "qualitative":
            cards.append(Card(ind, evidence_value(area, ind, int(period.last[:4])), []))
        else:
            cards.append(Card(ind, Value(ind, None, None, None), [], note=f"待{ind.data_from}模块接入"))
    return cards


def _basis_facts(ind: Indicator, area: Area, wanted: list[str], by_basis: dict) -> dict[str, Facts]:
    basis = ind.local_basis if area.column(ind.local_basis) != "unit_area" else "facility"
    if basis not in by_basis:
        by_basis[basis] = fetch(area, wanted, basis=basis).get("all", {})
    return by_basis[basis]


def _card_note(value: Value, period: Period, cover: Coverage) -> str:
    """The value's note unless it only repeats the page's coverage (shown once in the heading)."""
    note = value.extra.get("note", "")
    page = period_coverage(period, cover)
    if page and note == f"仅{page}有数据":
        return ""
    return note


def ranking(area: Area, period: Period, code: str, by: str = "child") -> list[dict]:
    """Units below an area ranked by an indicator for a period (月考核、月通报): townships (or villages,
    or counties) with ``by='child'``, facilities with ``by='facility'``. Best first; no value last."""
    ind = INDICATORS[code]
    if not ind.from_facts:
        return []
    months = sorted(set(period.months) | set(period.prior_year().months))
    cover = coverage()
    if by == "facility":
        # patient-flow indicators (where people seek care) rank the places they live in, never facilities:
        # a county hospital's "grassroots share" is 0 by definition
        if ind.uses_settlements or ind.local_basis == "residence":
            return []
        # referral facts only for referral indicators (by referring facility), so that other rankings
        # do not gain facilities that merely sent a referral
        sources = ("enc", "bed", "ref") if ind.uses_referrals else ("enc", "bed")
        grouped = fetch(area, months, "facility_key", sources=sources)
        facs = Facility.objects.filter(code__in=list(grouped))
        if area.kind in ("city", "county", "community"):
            facs = facs.exclude(type_q(CareLevel.VILLAGE))  # village clinics rank within their township
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
    rows: list[dict[str, Any]] = []
    for g, months_facts in grouped.items():
        v = _value(ind, months_facts, period, cover)
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
    got = covered_months(ind, period.months, coverage())
    facts = merge(fetch(area, period.months).get("all", {}), got)
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
    key = f"indicators:n14:{_version()}:{area.key}:{period.key}"
    hit = cache.get(key)
    if hit is not None:
        return hit
    # only the months the death registry covers, annualised over their days (never ten months over a year)
    got = [m for m in period.months if m in coverage().get("death", ())]
    if not got:
        return Value(ind, None, None, None, extra={"note": "本期无死亡登记数据"})
    in_months = Q()
    for m in got:
        mp = parse_period(m)
        in_months |= Q(death_date__gte=mp.start, death_date__lt=mp.stop)
    deaths: dict[int, int] = {}
    for age, cause in Death.objects.filter(in_months, area_code__startswith=area.prefix, age__gte=30, age__lt=70
                                           ).values_list("age", "cause_icd10"):
        if _is_ncd(cause):
            band = age // 5 * 5
            deaths[band] = deaths.get(band, 0) + 1
    year = int(period.last[:4])
    pop_qs = PopulationByAge.objects.filter(area_code__startswith=area.prefix, age_from__in=PREMATURE_BANDS)
    years_available = sorted(set(pop_qs.values_list("year", flat=True)))
    use = max([y for y in years_available if y <= year], default=years_available[0] if years_available else None)
    population: dict[int, int] = {}
    for band, n in (pop_qs.filter(year=use).values_list("age_from", "population") if use is not None else []):
        population[band] = population.get(band, 0) + n
    days = sum(parse_period(m).days for m in got)
    years = Decimal(days) / Decimal(365)
    p = premature_probability(deaths, population, years)
    note = "" if days == 365 or (period.kind == "year" and len(got) == 12) else f"按{months_label(got)}（{days}天）年化"
    value = Value(ind, Decimal(sum(deaths.values())), Decimal(sum(population.values())),
                  None if p is None else p.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), extra={"note": note})
    cache.set(key, value, CACHE_SECONDS)
    return value


# ------------------------------------------------------------------------------------------------
# Registry indicators: computed from the live registries (staff, residents), not from the monthly facts

MID_SENIOR_TITLES = ("zhongji", "fugao", "zhenggao")  # 中级、副高级、正高级


def resident_population(area: Area, year: int) -> int:
    """常住人口 of an area: the population table of the latest year up to ``year`` (the area's own rows if
    it has them, else the sum of its townships), or the resident index when no table was imported."""
    qs = PopulationByAge.objects.filter(area_code__startswith=area.prefix)
    years = sorted(set(qs.values_list("year", flat=True)))
    use = max([y for y in years if y <= year], default=years[0] if years else None)
    if use is not None:
        own = qs.filter(year=use, area_code=area.prefix.ljust(12, "0"))
        rows = own if own.exists() else qs.filter(year=use)  # never the county and its townships twice
        total = sum(rows.values_list("population", flat=True))
        if total:
            return total
    return Resident.objects.filter(area_code__startswith=area.prefix, merged_into__isnull=True).count()


def posted_physicians(area: Area, period: Period) -> Value:
    """N04: physicians (执业、助理) of intermediate or senior title whose post (编制) is at a county-level
    facility and who work at a grassroots facility of the area, per 10,000 residents. A point-in-time
    count of the staff on duty today; the workforce module's postings will date it."""
    ind = INDICATORS["N04"]
    if area.kind == "facility":
        return Value(ind, None, None, None)
    n = Staff.objects.filter(
        levels_q(IN_COUNTY_GRASSROOTS, "work_facility__type"), type_q(CareLevel.COUNTY, "establishment_facility__type"),
        is_active=True, profession__in=[Profession.PHYSICIAN, Profession.ASSISTANT_PHYSICIAN],
        title__in=MID_SENIOR_TITLES, work_facility__region__code__startswith=area.prefix).count()
    pop = resident_population(area, int(period.last[:4]))
    value = None if not pop else (Decimal(n) / Decimal(pop) * ind.scale).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return Value(ind, Decimal(n), Decimal(pop), value, extra={"note": "在岗时点数"})


def chronic_admission_rate(area: Area, period: Period) -> Value:
    """N13: of the residents managed for hypertension or diabetes in the period (管理人群: chronic enrolments,
    ``chronic.indicators.managed_resident_ids``) living in the area, the share with an inpatient settlement in the
    period's covered months (reversed settlements left out). Where no enrolment exists yet, the residents tagged
    with hypertension or diabetes."""
    from yigongti.chronic.indicators import managed_resident_ids

    ind = INDICATORS["N13"]
    if area.kind == "facility":
        return Value(ind, None, None, None)
    got = covered_months(INDICATORS["N11"], period.months, coverage())
    managed = Resident.objects.filter(area_code__startswith=area.prefix, merged_into__isnull=True,
                                      pk__in=managed_resident_ids(area.prefix, period.start,
                                                                  period.stop - dt.timedelta(days=1)))
    if not managed.exists():  # no chronic registry in use here yet: the register's tags, as before
        managed = Resident.objects.filter(area_code__startswith=area.prefix, merged_into__isnull=True,
                                          tags__tag__in=[KeyPopulation.HYPERTENSION,
                                                         KeyPopulation.DIABETES]).distinct()
    den = managed.count()
    if not got:
        return Value(ind, None, Decimal(den), None, extra={"note": "本期无医保结算数据"})
    in_months = Q()
    for m in got:
        mp = parse_period(m)
        in_months |= Q(settle_date__gte=mp.start, settle_date__lt=mp.stop)
    reversed_nos = InsuranceSettlement.objects.exclude(reverses_no="").values("reverses_no")
    stays = (InsuranceSettlement.objects.filter(in_months, type="inpatient", reverses_no="",
                                                resident__in=managed.values("pk"))
             .exclude(settlement_no__in=reversed_nos))
    num = stays.values("resident_id").distinct().count()
    value = None if not den else (Decimal(num) / Decimal(den) * ind.scale).quantize(Decimal("0.01"), ROUND_HALF_UP)
    note = "" if len(got) == len(period.months) else f"仅{months_label(got)}有数据"
    return Value(ind, Decimal(num), Decimal(den), value, extra={"note": note})


IN_COUNTY_GRASSROOTS = (CareLevel.TOWNSHIP, CareLevel.VILLAGE)
REGISTRY_FIGURES = {"N04": posted_physicians, "N13": chronic_admission_rate}


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
    s = ind.base_indicator.numerator
    assert s is not None  # drill-down is offered for ratio, count and growth figures only
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
        q &= levels_q(s.levels, "facility__type")
    return q


def drill_encounters(actor: Actor, code: str, area: Area, period: Period, facility_code: str = "", page: int = 1,
                     size: int = 50) -> Page:
    """The encounters counted in an indicator's numerator, in an area (or one facility) and period: person-level
    rows (masked patients), so asked for as the export asks for them."""
    check_read(actor, Category.DEMOGRAPHICS)
    qs = _drill_encounters_qs(actor, code, area, period, facility_code)
    result = slice_page(qs, page, size)
    audit.record(actor, "list", "encounter", "", indicator=code, area=area.key, period=period.key,
                 facility=facility_code, ids=[e.pk for e in result.items])
    return result


def export_drill_encounters(actor: Actor, code: str, area: Area, period: Period, facility_code: str = "") -> list:
    """The drill-down's encounters for an Excel export: the page's scoped query, at most ``EXPORT_LIMIT``
    rows, audited with every id (the file masks the patient as the page does). The page shows managers masked
    rows too, so the export asks what the page's rows are: person-level demographics."""
    check_read(actor, Category.DEMOGRAPHICS)
    rows = list(_drill_encounters_qs(actor, code, area, period, facility_code)[:EXPORT_LIMIT])
    audit.record(actor, "export", "encounter", "", indicator=code, area=area.key, period=period.key,
                 facility=facility_code, count=len(rows), ids=[e.pk for e in rows], format="xlsx")
    return rows


def _drill_encounters_qs(actor: Actor, code: str, area: Area, period: Period, facility_code: str):
    ind = INDICATORS.get(code)
    if ind is None or ind.uses_settlements or ind.uses_referrals or ind.kind not in ("ratio", "count", "growth"):
        raise NotFound(_("该指标不能下钻到就诊记录"))
    qs = encounters_visible_to(actor.user).filter(_encounter_q(ind, period))
    if facility_code:
        qs = qs.filter(facility__code=facility_code)
    elif area.kind == "facility":
        qs = qs.filter(facility__code=area.facility_key)
    else:
        qs = qs.filter(facility__region__code__startswith=area.prefix)
    return qs.select_related("facility", "resident").order_by("-admit_date", "-id")


def drill_settlements(actor: Actor, code: str, area: Area, period: Period, level: str = "", page: int = 1,
                      size: int = 50) -> Page:
    """The settlements behind a settlement-based indicator, by the insured's home area (person-level rows, asked
    for as the export asks for them)."""
    check_read(actor, Category.DEMOGRAPHICS)
    result = slice_page(_drill_settlements_qs(actor, code, area, period, level), page, size)
    audit.record(actor, "list", "settlement", "", indicator=code, area=area.key, period=period.key,
                 ids=[s.pk for s in result.items])
    return result


def export_drill_settlements(actor: Actor, code: str, area: Area, period: Period, level: str = "") -> list:
    """The drill-down's settlements for an Excel export: the page's scoped query, at most ``EXPORT_LIMIT``
    rows, audited with every id."""
    check_read(actor, Category.DEMOGRAPHICS)
    rows = list(_drill_settlements_qs(actor, code, area, period, level)[:EXPORT_LIMIT])
    audit.record(actor, "export", "settlement", "", indicator=code, area=area.key, period=period.key,
                 level=level, count=len(rows), ids=[s.pk for s in rows], format="xlsx")
    return rows


def _drill_settlements_qs(actor: Actor, code: str, area: Area, period: Period, level: str):
    ind = INDICATORS.get(code)
    if ind is None or not ind.uses_settlements:
        raise NotFound(_("该指标不能下钻到结算记录"))
    qs = settlements_visible_to(actor.user).filter(settle_date__gte=period.start, settle_date__lt=period.stop)
    base = ind.base_indicator
    if base.denominator and base.denominator.measure.startswith("st_ip"):
        qs = qs.filter(type="inpatient")
    qs = qs.exclude(facility_level="pharmacy").exclude(type="pharmacy")
    if area.kind != "facility":
        qs = qs.filter(area_code__startswith=area.prefix)
    else:
        qs = qs.filter(facility_code=area.facility_key)
    if level:
        qs = qs.filter(facility_level=level)
    return qs.select_related("resident").order_by("-settle_date", "-id")


def settlement_rows_visible(user) -> QuerySet[InsuranceSettlement]:
    return settlements_visible_to(user)


def encounter_rows_visible(user) -> QuerySet[Encounter]:
    return encounters_visible_to(user)
