"""Hypertension and type-2 diabetes indicators (``indicators.registry``: the dashboard and the monthly report),
computed from the enrolments and follow-ups, as the 国家基本公共卫生服务规范（第三版）defines them (glossary):

* CH_HTN_STD / CH_DM_STD 规范管理率 = patients managed to standard in the year ÷ patients managed in the year.
  "Managed in the year": an enrolment under management at some day of the year up to the period's end (enrolled
  on or before it, not ended before 1 January). "To standard": at least 4 face-to-face follow-ups (clinic or home,
  not phone) in that year up to the period's end (the 规范: 每年提供至少4次面对面随访). A month early in the year
  therefore reads low: the year-to-date is what the 规范 counts.
* CH_HTN_CTRL / CH_DM_CTRL 控制率 = patients at target at their last follow-up of the year ÷ patients managed in
  the year. At target: BP < 140/90 mmHg (< 150/90 at 65+ on the visit day); fasting glucose < 7.0 mmol/L
  (``chronic.rules.at_target``: the thresholds of ``chronic/rules_data``, the same the follow-up decisions use).
  A patient without a follow-up in the year is not at target.
* CH_RECENT 近3个月有随访的管理患者占比 = patients under management at the period's end with a face-to-face
  follow-up in the 3 months before it ÷ patients under management at the period's end (for the period in
  progress: today, so the 3 months are not cut short by days still to come).

The patients of an area are the residents living in it (``Resident.area_code``). ``managed_resident_ids`` is what
N13 (慢性病健康管理人群住院率, ``indicators.queries``) counts as the managed population."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_noop

from yigongti.indicators.definitions import Indicator, Value

from .models import Enrolment, FollowUp, VisitMode

D_CH = gettext_noop("两病管理（基本公卫）")  # translated where shown
SOURCE = "国家基本公共卫生服务规范（第三版）（国卫基层发〔2017〕13号）"
STANDARD_VISITS = 4


def _def(code, name, name_en, definition, definition_en, target=None):
    return Indicator(code, name, name_en, D_CH, "registry", target=Decimal(target) if target else None,
                     target_source=SOURCE if target else "", source=SOURCE, live_only=True,
                     definition=definition, definition_en=definition_en)


INDICATORS = [
    _def("CH_HTN_STD", "高血压患者规范管理率", "Hypertension patients managed to standard",
         "年内按规范要求（至少4次面对面随访）管理的高血压患者人数 ÷ 年内已管理的高血压患者人数 × 100%（年初至期末）",
         "Hypertension patients with at least 4 face-to-face follow-ups in the year ÷ hypertension patients managed "
         "in the year × 100% (1 January to the period's end)", 60),
    _def("CH_HTN_CTRL", "管理人群血压控制率", "Blood-pressure control among managed patients",
         "年内最近一次随访血压达标（<140/90 mmHg，65岁及以上<150/90 mmHg）的人数 ÷ 年内已管理的高血压患者人数 × 100%",
         "Patients whose last follow-up of the year had BP < 140/90 mmHg (< 150/90 at 65+) ÷ hypertension patients "
         "managed in the year × 100%", 60),
    _def("CH_DM_STD", "2型糖尿病患者规范管理率", "Type-2 diabetes patients managed to standard",
         "年内按规范要求（至少4次面对面随访）管理的2型糖尿病患者人数 ÷ 年内已管理的2型糖尿病患者人数 × 100%（年初至期末）",  # noqa: E501
         "Type-2 diabetes patients with at least 4 face-to-face follow-ups in the year ÷ diabetes patients managed "
         "in the year × 100% (1 January to the period's end)", 60),
    _def("CH_DM_CTRL", "管理人群血糖控制率", "Glucose control among managed patients",
         "年内最近一次随访空腹血糖达标（<7.0 mmol/L）的人数 ÷ 年内已管理的2型糖尿病患者人数 × 100%",
         "Patients whose last follow-up of the year had fasting glucose < 7.0 mmol/L ÷ diabetes patients managed "
         "in the year × 100%", 60),
    _def("CH_RECENT", "近3个月有随访的管理患者占比", "Managed patients seen in the last 3 months",
         "期末在管的高血压、2型糖尿病患者中，期末前3个月内有面对面随访的人数 ÷ 期末在管患者人数 × 100%",
         "Patients under management at the period's end with a face-to-face follow-up in the 3 months before it ÷ "
         "patients under management at the period's end × 100%", 90),
]
BY_CODE = {i.code: i for i in INDICATORS}


def _end(period) -> dt.date:
    return period.stop - dt.timedelta(days=1)


def managed_in(prefix: str, start: dt.date, end: dt.date, condition: str | None = None) -> QuerySet[Enrolment]:
    """Enrolments under management at some day of [start, end] of the residents living under ``prefix``."""
    qs = Enrolment.objects.filter(resident__area_code__startswith=prefix, enrolled_on__lte=end).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=start))
    return qs.filter(condition=condition) if condition else qs


def managed_resident_ids(prefix: str, start: dt.date, end: dt.date) -> QuerySet:
    """The residents of the area managed for hypertension or diabetes in the period (N13's population)."""
    return managed_in(prefix, start, end).values("resident_id").distinct()


def _ratio(code: str, num: int, den: int, note: str = "") -> Value:
    ind = BY_CODE[code]
    if not den:
        return Value(ind, Decimal(num), Decimal(den), None, extra={"note": note or gettext_noop("本期无管理患者")})
    value = (Decimal(num) * 100 / Decimal(den)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return Value(ind, Decimal(num), Decimal(den), value, extra={"note": note})


def _year(period) -> tuple[dt.date, dt.date]:
    end = _end(period)
    return dt.date(end.year, 1, 1), end


def standard(condition: str, code: str):
    def figure(area, period) -> Value:
        start, end = _year(period)
        managed = managed_in(area.prefix, start, end, condition)
        den = managed.count()
        num = managed.annotate(n=Count("follow_ups", filter=Q(
            follow_ups__visit_date__gte=start, follow_ups__visit_date__lte=end) & ~Q(
            follow_ups__mode=VisitMode.PHONE))).filter(n__gte=STANDARD_VISITS).count()
        return _ratio(code, num, den, f"{start:%Y-%m-%d}–{end:%Y-%m-%d}")
    return figure


def at_target(condition: str, sbp, dbp, fbg, age: int) -> bool:
    """The 控制率 numerator's test: the rules in force (``chronic.rules.at_target``, thresholds from
    ``rules_data``), so a new edition changes the follow-up decisions and the indicator together."""
    from .rules import at_target as rule_at_target

    return rule_at_target(condition, age=age, sbp=sbp, dbp=dbp, fbg=fbg)


def control(condition: str, code: str):
    def figure(area, period) -> Value:
        start, end = _year(period)
        managed = managed_in(area.prefix, start, end, condition)
        last = FollowUp.objects.filter(enrolment=OuterRef("pk"), visit_date__gte=start, visit_date__lte=end).order_by(
            "-visit_date", "-id")
        rows = list(managed.annotate(fid=Subquery(last.values("id")[:1])).values_list("fid", "resident__birth_date"))
        ids = [f for f, _b in rows if f]
        visits = {f.pk: f for f in FollowUp.objects.filter(pk__in=ids).only("sbp", "dbp", "fbg", "visit_date")}
        num = 0
        for fid, birth in rows:
            f = visits.get(fid)
            if f is None:
                continue
            age = f.visit_date.year - birth.year - ((f.visit_date.month, f.visit_date.day) < (birth.month, birth.day))
            num += at_target(condition, f.sbp, f.dbp, f.fbg, age)
        return _ratio(code, num, len(rows))
    return figure


def recent(area, period) -> Value:
    end = min(_end(period), timezone.localdate())  # a period in progress: the 3 months before today
    since = end - dt.timedelta(days=91)
    managed = managed_in(area.prefix, end, end)
    den = managed.values("resident_id").distinct().count()
    num = (managed.filter(follow_ups__visit_date__gt=since, follow_ups__visit_date__lte=end)
           .exclude(follow_ups__mode=VisitMode.PHONE).values("resident_id").distinct().count())
    return _ratio("CH_RECENT", num, den)


FIGURES = {
    "CH_HTN_STD": standard("htn", "CH_HTN_STD"),
    "CH_HTN_CTRL": control("htn", "CH_HTN_CTRL"),
    "CH_DM_STD": standard("t2dm", "CH_DM_STD"),
    "CH_DM_CTRL": control("t2dm", "CH_DM_CTRL"),
    "CH_RECENT": recent,
}


def register() -> None:
    from yigongti.indicators import registry

    for code, figure in FIGURES.items():
        registry.register(BY_CODE[code], figure)
