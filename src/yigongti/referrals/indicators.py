"""The referral indicators, declared once, in the shape of ``indicators.definitions``: a code, names, a
numerator and denominator over monthly *measures*, unit, direction and target.

The measures are computed here from the referral table (and, for the two rates, grassroots visits and
county discharges from encounters) by month of submission, within the user's scope. To register them in
the indicator engine, add the ``ref`` source's measures (``REFERRAL_MEASURES``) to ``indicators.measures``
with ``referral_measures_sql`` and copy ``REFERRAL_INDICATORS`` into ``definitions._DEFS`` (the
``Sum(source="ref")`` declarations below are already in the engine's form)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.cache import cache
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from yigongti.core.scoping import scope_for
from yigongti.encounters.models import Encounter

from .models import Referral, Status

SOURCE_DOC = "《紧密型县域医疗卫生共同体监测指标体系（2024版）》服务协同联动；医共体双向转诊考核口径"
REFERRAL_MEASURES = ["ref_up", "ref_down", "ref_answered", "ref_accepted", "ref_within_sla", "ref_response_min",
                     "ref_overdue", "gr_visits", "county_discharges"]


@dataclass(frozen=True)
class Sum:
    measure: str
    source: str = "ref"


@dataclass(frozen=True)
class RefIndicator:
    code: str
    name: str
    name_en: str
    kind: str  # count | ratio
    unit: str = "%"
    scale: int = 100
    direction: str = "higher"
    target: Decimal | None = None
    numerator: Sum | None = None
    denominator: Sum | None = None
    definition: str = ""
    dimension: str = "促分工"
    source: str = SOURCE_DOC


REFERRAL_INDICATORS = [
    RefIndicator("REF_UP", "上转人次", "Up-referrals", "count", unit="人次", scale=1, numerator=Sum("ref_up"),
                 definition="提交的上转单数（按提交月份）"),
    RefIndicator("REF_DOWN", "下转人次", "Down-referrals", "count", unit="人次", scale=1, numerator=Sum("ref_down"),
                 definition="提交的下转单数（按提交月份）"),
    RefIndicator("REF_UP_RATE", "上转率（每千基层门急诊人次）", "Up-referrals per 1,000 grassroots visits", "ratio",
                 unit="‰", scale=1000, direction="lower", numerator=Sum("ref_up"), denominator=Sum("gr_visits", "enc"),
                 definition="上转人次 ÷ 基层医疗卫生机构门急诊人次 × 1000‰（按患者居住地）"),
    RefIndicator("REF_DOWN_RATE", "下转率", "Down-referral rate", "ratio", target=Decimal(10),
                 numerator=Sum("ref_down"), denominator=Sum("county_discharges", "enc"),
                 definition="下转人次 ÷ 县级医院出院人次 × 100%（按患者居住地）"),
    RefIndicator("REF_DOWN_SHARE", "下转占比", "Down-referral share", "ratio", target=Decimal(30),
                 numerator=Sum("ref_down"), denominator=Sum("ref_all"),
                 definition="下转人次 ÷（上转人次 + 下转人次）× 100%"),
    RefIndicator("REF_ACCEPT", "转诊接收率", "Acceptance rate", "ratio", target=Decimal(95),
                 numerator=Sum("ref_accepted"), denominator=Sum("ref_answered"),
                 definition="接收（含改派）的转诊单 ÷ 已应答的转诊单 × 100%"),
    RefIndicator("REF_SLA", "按时响应率", "Answered within the SLA", "ratio", target=Decimal(95),
                 numerator=Sum("ref_within_sla"), denominator=Sum("ref_answered"),
                 definition="在响应时限内（绿色通道15分钟、紧急30分钟、普通2小时，可配置）应答的转诊单 ÷ 已应答的转诊单 × 100%"),
    RefIndicator("REF_RESPONSE", "平均响应时间", "Mean response time", "ratio", unit="分钟", scale=1,
                 direction="lower", target=Decimal(30), numerator=Sum("ref_response_min"),
                 denominator=Sum("ref_answered"), definition="转诊中心自提交至应答的分钟数之和 ÷ 已应答的转诊单"),
    RefIndicator("REF_OVERDUE", "超时转诊单数", "Overdue referrals", "count", unit="张", scale=1, direction="lower",
                 numerator=Sum("ref_overdue"), definition="超过响应时限仍未应答、已升级至主管的转诊单数"),
]
BY_CODE = {i.code: i for i in REFERRAL_INDICATORS}


@dataclass
class Figure:
    indicator: RefIndicator
    numerator: Decimal
    denominator: Decimal | None
    value: Decimal | None
    trend: list[tuple[str, Decimal | None]]

    @property
    def status(self) -> str:
        t, v = self.indicator.target, self.value
        if t is None or v is None:
            return ""
        good = v >= t if self.indicator.direction == "higher" else v <= t
        return "green" if good else "red"


def _month_keys(first: dt.date, last: dt.date) -> list[str]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def monthly_measures(user, first: dt.date, last: dt.date) -> dict[str, dict[str, int]]:
    """{month: {measure: integer}} within the user's scope (patients' home areas)."""
    scope = scope_for(user)
    key = f"referrals:measures:{scope.prefixes}:{first}:{last}"
    if (hit := cache.get(key)) is not None:
        return hit
    out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(REFERRAL_MEASURES + ["ref_all"], 0))
    start = timezone.make_aware(dt.datetime.combine(first, dt.time()))
    stop = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time()))
    rows = (scope.filter(Referral.objects.all(), "area_code").filter(submitted_at__gte=start, submitted_at__lt=stop)
            .values_list("direction", "status", "submitted_at", "answered_at", "due_at", "escalated_at", "center_id"))
    for direction, status, sub, ans, due, esc, center in rows:
        m = out[f"{timezone.localtime(sub):%Y-%m}"]
        m["ref_up" if direction == "up" else "ref_down"] += 1
        m["ref_all"] += 1
        if center and ans:
            m["ref_answered"] += 1
            m["ref_accepted"] += status != Status.DECLINED
            m["ref_within_sla"] += bool(due and ans <= due)
            m["ref_response_min"] += max(0, int((ans - sub).total_seconds() // 60))
        if esc:
            m["ref_overdue"] += 1
    enc = scope.filter(Encounter.objects.all(), "area_code").filter(admit_date__gte=first, admit_date__lte=last)
    for row in (enc.filter(type__in=["outpatient", "emergency"], facility__type__in=["B200", "B100", "D600"])
                .annotate(mon=TruncMonth("admit_date")).values("mon").annotate(n=Count("id"))):
        out[f"{row['mon']:%Y-%m}"]["gr_visits"] = row["n"]
    dis = scope.filter(Encounter.objects.all(), "area_code").filter(
        type="inpatient", discharge_date__gte=first, discharge_date__lte=last).filter(
        ~Q(facility__type__in=["B200", "B100", "D600"]))
    for row in dis.annotate(mon=TruncMonth("discharge_date")).values("mon").annotate(n=Count("id")):
        out[f"{row['mon']:%Y-%m}"]["county_discharges"] = row["n"]
    result = {k: dict(v) for k, v in out.items()}
    cache.set(key, result, 600)
    return result


def _value(ind: RefIndicator, sums: dict[str, int]) -> tuple[Decimal, Decimal | None, Decimal | None]:
    num = Decimal(sums.get(ind.numerator.measure, 0))
    if ind.kind == "count":
        return num, None, num
    den = Decimal(sums.get(ind.denominator.measure, 0))
    value = None if not den else (num / den * ind.scale).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return num, den, value


def figures(user, first: dt.date, last: dt.date) -> tuple[list[str], list[Figure]]:
    months = _month_keys(first, last)
    data = monthly_measures(user, first, last)
    total: dict[str, int] = defaultdict(int)
    for m in months:
        for k, v in data.get(m, {}).items():
            total[k] += v
    out = []
    for ind in REFERRAL_INDICATORS:
        num, den, value = _value(ind, total)
        trend = [(m, _value(ind, data.get(m, {}))[2]) for m in months]
        out.append(Figure(ind, num, den, value, trend))
    return months, out


def referral_measures_sql(dialect_name: str) -> str:
    """The measures as the engine's monthly facts would read them (source 'ref', attributed to the patient's
    home area), for registering these indicators in ``indicators.measures``."""
    month = {"sqlite": "strftime('%Y-%m', submitted_at)", "postgresql": "to_char(submitted_at, 'YYYY-MM')"}.get(
        dialect_name, "strftime(submitted_at, '%Y-%m')")
    return f"""SELECT {month} AS month, 'ref' AS source, area_code AS unit_area, area_code AS residence_area,
  SUM(CASE WHEN direction = 'up' THEN 1 ELSE 0 END) AS ref_up,
  SUM(CASE WHEN direction = 'down' THEN 1 ELSE 0 END) AS ref_down,
  SUM(CASE WHEN center_id IS NOT NULL AND answered_at IS NOT NULL THEN 1 ELSE 0 END) AS ref_answered,
  SUM(CASE WHEN center_id IS NOT NULL AND answered_at IS NOT NULL AND status <> 'declined' THEN 1 ELSE 0 END) AS ref_accepted,
  SUM(CASE WHEN center_id IS NOT NULL AND answered_at <= due_at THEN 1 ELSE 0 END) AS ref_within_sla,
  SUM(CASE WHEN escalated_at IS NOT NULL THEN 1 ELSE 0 END) AS ref_overdue
FROM referrals_referral WHERE submitted_at IS NOT NULL GROUP BY 1, 2, 3, 4"""
