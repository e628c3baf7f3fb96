"""Basic public-health indicators (``indicators.registry``: the dashboard and the monthly report), computed from the
maternal, child, check and vaccine records. An area's figures are those of the residents living in it.

* PH_EARLY_REG 早孕建册率 = women with a live birth in the period who were registered (建册, with the first antenatal
  check) before 13 weeks (``registered_week`` < 13) ÷ live births in the period × 100% (the 规范's 考核指标:
  孕13周之前建册并进行第一次产前检查的产妇人数 ÷ 该地该时间段内活产数). Live births are counted as pregnancies
  with the outcome 活产 (the number of babies of a multiple birth is not kept).
* PH_ANC5 产前检查5次及以上比例 = women delivered in the period with at least 5 antenatal visits (maternal visits
  dated before delivery) ÷ women delivered in the period × 100%.
* PH_POSTPARTUM 产后访视率 = women with a live birth in the period visited within 28 days after it ÷ live births in
  the period × 100% (the 规范: 产妇出院后28天内接受过产后访视的产妇人数 ÷ 活产数; no discharge date is kept, so
  the 28 days run from the delivery day — the service schedule still asks for the visit within the first week).
* PH_CHILD 0–6岁儿童健康管理率 = children aged 0–6 on the period's last day with at least one child health visit in
  that year (1 January to the period's end) ÷ children aged 0–6 × 100% (规范: 年内接受1次及以上随访).
* PH_ELDERLY 65岁及以上老年人健康管理率 (年度体检率) = residents aged 65+ with a health check in the year (1 January to
  the period's end) ÷ residents aged 65+ × 100%.
* PH_VACC_<vaccine> 接种率 = children aged 0–6 who are past the complete-by age of the vaccine's last dose in the
  national schedule (``publichealth.immunisation``) with every dose of it ÷ those children × 100% (target 90 %,
  the 规范's 乡镇单位适龄儿童国家免疫规划疫苗接种率 > 90%).
* PH_VILLAGE_SHARE 村卫生室承担基本公卫任务占比 = services of the period done by village clinics (chronic follow-ups,
  health checks, maternal and child visits — vaccines are given at 接种单位, left out) ÷ all those services ×
  100% (the seeds: 45–50 %)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Q
from django.utils.translation import gettext_noop

from yigongti.core.carelevel import CareLevel, levels_q
from yigongti.indicators.definitions import Indicator, Value
from yigongti.residents.models import Resident

from .models import ChildVisit, HealthCheck, MaternalVisit, Pregnancy, PregnancyOutcome, VaccineDose

D_PH = gettext_noop("基本公共卫生服务")  # translated where shown
SOURCE = "国家基本公共卫生服务规范（第三版）（国卫基层发〔2017〕13号）"
LOCAL = "本地目标（种子材料：村卫生室承担45%–50%的基本公卫任务）"
VACCINE_NAMES_EN = {"HepB": "hepatitis B", "BCG": "BCG", "IPV": "inactivated polio", "bOPV": "bivalent oral polio",
                    "DTaP": "DTaP", "DT": "DT", "MMR": "MMR", "JE-L": "Japanese encephalitis (live)",
                    "JE-I": "Japanese encephalitis (inactivated)", "MPSV-A": "meningococcal A",
                    "MPSV-AC": "meningococcal AC", "HepA-L": "hepatitis A (live)", "HepA-I": "hepatitis A (inactivated)"}  # noqa: E501


def _ind(code, name, name_en, definition, definition_en, target=None, target_source=SOURCE):
    return Indicator(code, name, name_en, D_PH, "registry", target=Decimal(target) if target is not None else None,
                     target_source=target_source if target is not None else "", source=SOURCE, live_only=True,
                     definition=definition, definition_en=definition_en)


def _vaccine_series() -> dict[str, list]:
    try:
        from .immunisation import schedule

        out: dict[str, list] = {}
        for d in schedule().doses:
            out.setdefault(d.vaccine, []).append(d)
        return out
    except (ImportError, AttributeError, OSError, ValueError):
        return {}


SERIES = _vaccine_series()


def _code(vaccine_code: str) -> str:
    return "PH_VACC_" + vaccine_code.replace("-", "_")

INDICATORS = [
    _ind("PH_EARLY_REG", "早孕建册率", "Early pregnancy registration",
         "本期活产的产妇中孕13周之前建册并进行第一次产前检查的人数 ÷ 本期活产数 × 100%",
         "Women with a live birth in the period registered (with the first antenatal check) before 13 weeks ÷ "
         "live births in the period × 100%", 90),
    _ind("PH_ANC5", "产前检查5次及以上比例", "Five or more antenatal visits",
         "本期分娩的产妇中产前随访（分娩前）不少于5次的人数 ÷ 本期分娩的产妇人数 × 100%",
         "Women delivered in the period with at least 5 antenatal visits ÷ women delivered in the period × 100%", 90),
    _ind("PH_POSTPARTUM", "产后访视率", "Postpartum visit rate",
         "本期活产的产妇中产后28天内接受过产后访视的人数 ÷ 本期活产数 × 100%（未记录出院日期，自分娩日起算）",
         "Women with a live birth in the period visited within 28 days after delivery ÷ live births in the period "
         "× 100% (no discharge date is kept: counted from the delivery day)", 90),
    _ind("PH_CHILD", "0–6岁儿童健康管理率", "Health management of children 0–6",
         "期末0–6岁儿童中年内（1月1日至期末）接受1次及以上健康检查的人数 ÷ 期末0–6岁儿童数 × 100%",
         "Children aged 0–6 at the period's end with at least one health visit in the year (1 January to the "
         "period's end) ÷ children aged 0–6 × 100%", 85),
    _ind("PH_ELDERLY", "65岁及以上老年人健康管理率", "Annual health check of the 65+",
         "期末65岁及以上居民中年内（1月1日至期末）接受健康体检的人数 ÷ 期末65岁及以上居民数 × 100%",
         "Residents aged 65+ with a health check in the year (1 January to the period's end) ÷ residents aged 65+ "
         "× 100%", 70),
    *[_ind(_code(v), f"{doses[0].name.split(' ')[0]}接种率", f"Coverage: {VACCINE_NAMES_EN.get(v, v)} vaccine",
           f"期末已过该疫苗末剂次应完成月龄的0–6岁儿童中全程接种（{len(doses)}剂）的人数 ÷ 这些儿童数 × 100%",
           f"Children aged 0–6 past the complete-by age of the vaccine's last dose with all {len(doses)} dose(s) ÷ "
           "those children × 100%", 90)
      for v, doses in SERIES.items()],
    _ind("PH_VILLAGE_SHARE", "村卫生室承担基本公卫任务占比", "Village clinics' share of public-health tasks",
         "本期村卫生室完成的慢病随访、健康体检、孕产妇和儿童随访次数 ÷ 同期全部该类服务次数 × 100%（预防接种在接种单位，不计）",  # noqa: E501
         "Chronic follow-ups, health checks, maternal and child visits done by village clinics in the period ÷ all "
         "such services in the period × 100% (vaccinations, given at vaccination units, left out)", 45, LOCAL),
]
BY_CODE = {i.code: i for i in INDICATORS}


def _end(period) -> dt.date:
    return period.stop - dt.timedelta(days=1)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _ratio(code: str, num: int, den: int, note: str = "") -> Value:
    ind = BY_CODE[code]
    if not den:
        return Value(ind, Decimal(num), Decimal(den), None, extra={"note": note or gettext_noop("本期无数据")})
    value = (Decimal(num) * 100 / Decimal(den)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return Value(ind, Decimal(num), Decimal(den), value, extra={"note": note})


POSTPARTUM_DAYS = 28  # 产后访视率: 出院后28天内


def _live_births(area, period):
    return _delivered(area, period).filter(outcome=PregnancyOutcome.LIVE_BIRTH)


def early_registration(area, period) -> Value:
    qs = _live_births(area, period)
    return _ratio("PH_EARLY_REG", qs.filter(registered_week__lt=13).count(), qs.count())


def _delivered(area, period):
    return Pregnancy.objects.filter(resident__area_code__startswith=area.prefix, delivered_on__gte=period.start,
                                    delivered_on__lt=period.stop)


def antenatal5(area, period) -> Value:
    qs = _delivered(area, period)
    n = qs.annotate(k=Count("visits", filter=Q(visits__date__lt=F("delivered_on")))).filter(k__gte=5).count()
    return _ratio("PH_ANC5", n, qs.count())


def postpartum(area, period) -> Value:
    qs = _live_births(area, period)
    seen = set(MaternalVisit.objects.filter(pregnancy__in=qs, date__gt=F("pregnancy__delivered_on"))
               .values_list("pregnancy_id", "date", "pregnancy__delivered_on"))
    ok = {pid for pid, d, dlv in seen if dlv is not None and (d - dlv).days <= POSTPARTUM_DAYS}
    return _ratio("PH_POSTPARTUM", len(ok), qs.count())


def children(area, period) -> Value:
    end = _end(period)
    kids = Resident.objects.filter(area_code__startswith=area.prefix, merged_into__isnull=True,
                                   birth_date__gt=_years_before(end, 7), birth_date__lte=end)
    seen = ChildVisit.objects.filter(child__in=kids, date__gte=dt.date(end.year, 1, 1), date__lte=end)
    return _ratio("PH_CHILD", seen.values("child_id").distinct().count(), kids.count())


def elderly(area, period) -> Value:
    end = _end(period)
    old = Resident.objects.filter(area_code__startswith=area.prefix, merged_into__isnull=True,
                                  birth_date__lte=_years_before(end, 65))
    checked = HealthCheck.objects.filter(resident__in=old, date__gte=dt.date(end.year, 1, 1), date__lte=end)
    return _ratio("PH_ELDERLY", checked.values("resident_id").distinct().count(), old.count())


def vaccine(code: str, v: str):
    def figure(area, period) -> Value:
        doses = SERIES.get(v, [])
        if not doses:
            return Value(BY_CODE[code], None, None, None)
        end = _end(period)
        last = max(doses, key=lambda d: d.dose)
        complete = int(getattr(last, "complete_by_days", 0) or last.recommended_age_days)
        kids = Resident.objects.filter(area_code__startswith=area.prefix, merged_into__isnull=True,
                                       birth_date__gt=_years_before(end, 7),
                                       birth_date__lte=end - dt.timedelta(days=complete))
        den = kids.count()
        full = (VaccineDose.objects.filter(child__in=kids, vaccine=v, given_on__lte=end).values("child_id")
                .annotate(n=Count("dose", distinct=True)).filter(n__gte=len(doses)).count())
        return _ratio(code, full, den)
    return figure


def village_share(area, period) -> Value:
    from yigongti.chronic.models import FollowUp

    village = levels_q([CareLevel.VILLAGE], "facility__type")
    total = num = 0
    for qs, field in ((FollowUp.objects, "visit_date"), (HealthCheck.objects, "date"),
                      (ChildVisit.objects, "date"), (MaternalVisit.objects, "date")):
        person = "pregnancy__resident__area_code" if qs.model is MaternalVisit else (
            "child__area_code" if qs.model is ChildVisit else "resident__area_code")
        rows = qs.filter(**{f"{field}__gte": period.start, f"{field}__lt": period.stop,
                            f"{person}__startswith": area.prefix})
        total += rows.count()
        num += rows.filter(village).count()
    return _ratio("PH_VILLAGE_SHARE", num, total)


FIGURES = {"PH_EARLY_REG": early_registration, "PH_ANC5": antenatal5, "PH_POSTPARTUM": postpartum,
           "PH_CHILD": children, "PH_ELDERLY": elderly,
           **{_code(v): vaccine(_code(v), v) for v in SERIES},
           "PH_VILLAGE_SHARE": village_share}


def register() -> None:
    from yigongti.indicators import registry

    for code, figure in FIGURES.items():
        registry.register(BY_CODE[code], figure)
