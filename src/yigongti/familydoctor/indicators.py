"""Family-doctor contract indicators (``indicators.registry``: the dashboard and the monthly report), computed from
the contracts, their schedules and the 118 sessions. An area's figures are those of the residents living in it
(``Resident.area_code``); the 118 sessions those of the teams whose health center lies in it.

* FD_CONTRACT 家庭医生签约率 = residents with a contract in force on the period's last day (or today, if earlier)
  ÷ residents × 100%. In force: start ≤ day ≤ end and not ended before the day (history, not today's status).
* FD_KEY 重点人群签约率 = residents carrying any key-population tag with a contract in force ÷ residents with a tag;
  FD_KEY_<tag> the same for one key population (65+, 0–6, maternal, htn, t2dm, 脱贫, …) — target 100 %.
* FD_FULFIL 履约率 = scheduled services due by a day of the period that were delivered ÷ scheduled services due
  in the period × 100%; the slots of a contract ended early (解约) and due after its end do not count (as in the
  monthly assessment). For the period in progress FD_FULFIL and FD_RENEWAL stop at today: a slot not yet due, a
  term not yet over, are not counted as missed.
* FD_RENEWAL 续约率 = contracts whose term ended in the period (not ended early) renewed ÷ those contracts × 100%.
* FD_118 118服务开展次数: team sessions of at least 8 hours held in the period (the note: all sessions logged)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_noop

from yigongti.indicators.definitions import Indicator, Value
from yigongti.residents.models import KeyPopulation, Resident, ResidentTag

from .models import Contract, ScheduledService, TeamSession

D_FD = "家庭医生签约服务"
SOURCE = "《关于推进家庭医生签约服务高质量发展的指导意见》（国卫基层发〔2022〕10号）"
LOCAL = gettext_noop("本地目标：重点人群全部签约、全部履约服务")  # shown through {% trans %}: no "%" in it
SESSION_HOURS = 8
# the note of FD_118, stored in Chinese and translated when shown (indicator_tags.note_text)
SESSIONS_NOTE = gettext_noop("登记服务日 %(a)s 次")
KEY_TAGS = [KeyPopulation.ELDERLY_65, KeyPopulation.CHILD_0_6, KeyPopulation.MATERNAL, KeyPopulation.HYPERTENSION,
            KeyPopulation.DIABETES, KeyPopulation.POVERTY_ALLEVIATED, KeyPopulation.DIBAO, KeyPopulation.TEKUN,
            KeyPopulation.MONITORED, KeyPopulation.SEVERE_MENTAL, KeyPopulation.DISABLED]
TAG_EN = {"tuopin": "poverty-alleviated", "dibao": "minimum-living-allowance", "tekun": "extreme-poverty",
          "jiance": "monitored households", "child": "children 0–6", "maternal": "pregnant and postpartum women",
          "elderly": "elderly 65+", "htn": "hypertension", "t2dm": "type-2 diabetes",
          "smi": "severe mental disorder", "disabled": "disabled"}


def _ind(code, name, name_en, definition, definition_en, *, target=None, kind_unit=None, target_source=""):
    extra = {"unit": kind_unit[0], "unit_en": kind_unit[1], "scale": 1} if kind_unit else {}
    return Indicator(code, name, name_en, D_FD, "registry", target=Decimal(target) if target is not None else None,
                     target_source=target_source, source=SOURCE, live_only=True, definition=definition,
                     definition_en=definition_en, **extra)


INDICATORS = [
    _ind("FD_CONTRACT", "家庭医生签约率", "Family-doctor contract rate",
         "期末（或今日）有在约签约协议的居民数 ÷ 居民档案人数 × 100%",
         "Residents with a contract in force on the period's last day (or today) ÷ residents of the register × 100%"),
    _ind("FD_KEY", "重点人群签约率", "Key-population contract rate",
         "有任一重点人群标签且有在约协议的居民数 ÷ 有重点人群标签的居民数 × 100%",
         "Residents with a key-population tag and a contract in force ÷ residents with a key-population tag × 100%",
         target=100, target_source=LOCAL),
    *[_ind(f"FD_KEY_{t.value}", f"{t.label}签约率", f"Contract rate: {TAG_EN[t.value]}",
           f"标签为“{t.label}”且有在约协议的居民数 ÷ 标签为“{t.label}”的居民数 × 100%",
           f"Residents tagged {TAG_EN[t.value]} with a contract in force ÷ residents so tagged × 100%",
           target=100, target_source=LOCAL) for t in KEY_TAGS],
    _ind("FD_FULFIL", "签约服务履约率", "Contract services fulfilled",
         "应服务截止日在本期内的履约计划中已完成的次数 ÷ 应服务截止日在本期内的履约计划次数 × 100%",
         "Scheduled package services due by a day of the period that were delivered ÷ scheduled services due in "
         "the period × 100%", target=100, target_source=LOCAL),
    _ind("FD_RENEWAL", "签约续约率", "Contract renewal rate",
         "本期到期（未提前解约）的协议中已续约的份数 ÷ 本期到期的协议份数 × 100%",
         "Contracts whose term ended in the period (not ended early) that were renewed ÷ those contracts × 100%"),
    _ind("FD_118", "“118”服务开展次数", "118 sessions held",
         "本期团队“118”服务日中时长不少于8小时的次数（附注：登记的全部服务日次数）",
         "Team '118' sessions of at least 8 hours held in the period (the note: all sessions logged)",
         kind_unit=("次", "sessions")),
]
BY_CODE = {i.code: i for i in INDICATORS}


def _day(period) -> dt.date:
    from django.utils import timezone

    return min(period.stop - dt.timedelta(days=1), timezone.localdate())


def in_force(day: dt.date) -> Q:
    return Q(start__lte=day, end__gte=day) & (Q(ended_on__isnull=True) | Q(ended_on__gt=day))


def _ratio(code: str, num: int, den: int, note: str = "") -> Value:
    ind = BY_CODE[code]
    if not den:
        return Value(ind, Decimal(num), Decimal(den), None, extra={"note": note or "本期无数据"})
    value = (Decimal(num) * 100 / Decimal(den)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return Value(ind, Decimal(num), Decimal(den), value, extra={"note": note})


def _signed(day: dt.date, field: str = "pk") -> Exists:
    return Exists(Contract.objects.filter(in_force(day), resident_id=OuterRef(field)))


def contract_rate(area, period) -> Value:
    day = _day(period)
    people = Resident.objects.filter(area_code__startswith=area.prefix, merged_into__isnull=True)
    return _ratio("FD_CONTRACT", people.filter(_signed(day)).count(), people.count(), f"{day:%Y-%m-%d}")


def key_rate(tag: str | None):
    code = f"FD_KEY_{tag}" if tag else "FD_KEY"

    def figure(area, period) -> Value:
        day = _day(period)
        tags = ResidentTag.objects.filter(resident__area_code__startswith=area.prefix,
                                          resident__merged_into__isnull=True)
        if tag:
            tags = tags.filter(tag=tag)
        ids = tags.values("resident_id").distinct()
        people = Resident.objects.filter(pk__in=ids)
        return _ratio(code, people.filter(_signed(day)).count(), people.count(), f"{day:%Y-%m-%d}")
    return figure


def fulfilment_rate(area, period) -> Value:
    due = ScheduledService.objects.filter(contract__resident__area_code__startswith=area.prefix,
                                          due_by__gte=period.start, due_by__lte=_day(period)).exclude(
        contract__ended_on__lt=F("due_by"))
    return _ratio("FD_FULFIL", due.filter(delivery__isnull=False).count(), due.count())


def renewal_rate(area, period) -> Value:
    ended = Contract.objects.filter(resident__area_code__startswith=area.prefix, end__gte=period.start,
                                    end__lte=_day(period)).exclude(ended_on__lt=F("end"))
    return _ratio("FD_RENEWAL", ended.filter(renewal__isnull=False).count(), ended.count())


def sessions_held(area, period) -> Value:
    ind = BY_CODE["FD_118"]
    qs = TeamSession.objects.filter(team__facility__region__code__startswith=area.prefix, date__gte=period.start,
                                    date__lt=period.stop)
    total, full = 0, 0
    for starts, ends in qs.values_list("starts", "ends"):
        total += 1
        hours = (dt.datetime.combine(dt.date.min, ends) - dt.datetime.combine(dt.date.min, starts)).seconds / 3600
        full += hours >= SESSION_HOURS
    return Value(ind, Decimal(full), None, Decimal(full), extra={"note": SESSIONS_NOTE % {"a": total}})


FIGURES = {"FD_CONTRACT": contract_rate, "FD_KEY": key_rate(None),
           **{f"FD_KEY_{t.value}": key_rate(t.value) for t in KEY_TAGS},
           "FD_FULFIL": fulfilment_rate, "FD_RENEWAL": renewal_rate, "FD_118": sessions_held}


def register() -> None:
    from yigongti.indicators import registry

    for code, figure in FIGURES.items():
        registry.register(BY_CODE[code], figure)
