"""The time-critical pathways' indicators on the dashboard and in the monthly report (``indicators.registry``),
computed from the cases' active time points (``metrics.case_metrics``), attributed to the treating facility (an
area's figures are those of the cases treated by its facilities; a facility area, that facility's), a case
counting in the month it was opened. Ruled-out cases are left out.

* PW_CP_FMC_ECG 首次医疗接触至首份心电图≤10分钟比例 (all chest-pain cases with both time points).
* PW_CP_D2W STEMI 入门至导丝通过≤90分钟比例 (target ≥ 75 %, 中国胸痛中心认证标准); the note gives the median.
* PW_CP_D2W_MIN STEMI 入门至导丝通过时间中位数 (≤ 90).
* PW_CP_DIDO 转运患者首诊医院 DIDO≤30分钟比例 (the township units' door-in-door-out).
* PW_ST_DNT 缺血性卒中 DNT≤60分钟比例 (target ≥ 50 %, local default); the note gives the median.
* PW_ST_DPT 缺血性卒中 DPT≤90分钟比例.
* PW_DELAY 未达标病例延误原因填写率: misses with a delay reason ÷ misses × 100 % (every kind).
* PW_CASES 五大中心救治病例数, by kind in the note.

Targets are the indicator's (the bureau may change them); the minutes a metric must meet are
``metrics.target_of`` (``YIGONGTI_PATHWAY_TARGETS``)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from yigongti.indicators.definitions import Indicator, Value

from . import metrics as m
from .models import PathwayKind
from .queries_dashboards import CaseFacts, area_cases, summarise

D_PW = "五大救治中心"
CPC = "《中国胸痛中心认证标准》（第六版）；中国胸痛中心质控指标"
SC = "《中国卒中中心建设标准》；国家卒中中心质控指标"
LOCAL = "县域医共体本地目标（可调整）"


def _share(code: str, name: str, name_en: str, metric: str, target: int, source: str, what: str,
           what_en: str) -> Indicator:
    minutes = m.target_of(m.BY_CODE[metric])
    return Indicator(code, name, name_en, D_PW, "registry", target=Decimal(target), source=source, live_only=True,
                     definition=f"{what}中，{m.BY_CODE[metric].label}≤{minutes:g}分钟的病例数 ÷ 同期有该两个时间节点的"
                                f"病例数 × 100%（按救治机构、建档月份）；附注时间中位数",
                     definition_en=f"{what_en} whose {metric} was ≤ {minutes:g} minutes ÷ those with both time "
                                   f"points × 100% (by treating facility and the month the case was opened); the note "
                                   f"gives the median minutes")


INDICATORS = [
    _share("PW_CP_FMC_ECG", "首次医疗接触至首份心电图≤10分钟比例", "FMC to first ECG within 10 minutes",
           "fmc_to_ecg", 75, CPC, "胸痛病例", "Chest-pain cases"),
    _share("PW_CP_D2W", "STEMI入门至导丝通过≤90分钟比例", "STEMI door-to-wire within 90 minutes", "d2w", 75, CPC,
           "直接PCI的STEMI病例", "STEMI cases with primary PCI"),
    Indicator("PW_CP_D2W_MIN", "STEMI入门至导丝通过时间中位数", "Median STEMI door-to-wire minutes", D_PW,
              "registry", unit="分钟", unit_en="minutes", scale=1, direction="lower", target=Decimal(90), source=CPC,
              live_only=True, definition="直接PCI的STEMI病例入门（到达本院大门）至导丝通过时间（分钟）的中位数",
              definition_en="Median minutes from arrival at the hospital's door to wire crossing, STEMI cases with "
                            "primary PCI"),
    _share("PW_CP_DIDO", "转运胸痛患者首诊医院DIDO≤30分钟比例", "Transferred chest pain: DIDO within 30 minutes",
           "dido", 75, CPC, "经首诊医院（胸痛救治单元）转来的胸痛病例", "Chest-pain cases transferred from the first "
           "facility (a township chest-pain unit)"),
    _share("PW_ST_DNT", "缺血性卒中DNT≤60分钟比例", "Ischaemic stroke door-to-needle within 60 minutes", "dnt", 50,
           SC, "静脉溶栓的缺血性卒中病例", "Ischaemic stroke cases with thrombolysis"),
    _share("PW_ST_DPT", "缺血性卒中DPT≤90分钟比例", "Ischaemic stroke door-to-puncture within 90 minutes", "dpt", 50,
           SC, "血管内治疗的缺血性卒中病例", "Ischaemic stroke cases with endovascular treatment"),
    Indicator("PW_DELAY", "未达标病例延误原因填写率", "Missed targets with a delay reason", D_PW, "registry",
              target=Decimal(100), source=LOCAL, live_only=True,
              definition="五大中心病例中未达时间目标的指标，已填写延误原因的个数 ÷ 未达标指标总个数 × 100%",
              definition_en="Missed time targets of the pathway cases that have a delay reason ÷ all missed targets "
                            "× 100%"),
    Indicator("PW_CASES", "五大中心救治病例数", "Time-critical pathway cases", D_PW, "registry", unit="例",
              unit_en="cases", scale=1, source=LOCAL, live_only=True,
              definition="本期建档的胸痛、卒中、创伤、危重孕产妇、危重新生儿救治病例数（不含排除诊断）；附注按通道",
              definition_en="Chest-pain, stroke, trauma, critical maternal and critical neonatal cases opened in the "
                            "period (ruled-out cases excluded); the note gives them by pathway"),
]
BY_CODE = {i.code: i for i in INDICATORS}
METRIC_OF = {"PW_CP_FMC_ECG": ("chest_pain", "fmc_to_ecg"), "PW_CP_D2W": ("chest_pain", "d2w"),
             "PW_CP_DIDO": ("chest_pain", "dido"), "PW_ST_DNT": ("stroke", "dnt"), "PW_ST_DPT": ("stroke", "dpt")}


def _q(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _bounds(period) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(period.start, dt.time(), tz), dt.datetime.combine(period.stop, dt.time(), tz)


def _cases(area, period, kind: str) -> list[CaseFacts]:
    start, stop = _bounds(period)
    return area_cases(area, start, stop, kind)


def share_value(code: str, cases: list[CaseFacts]) -> Value:
    """The share of cases meeting the metric's target, from plain case data (pure)."""
    ind = BY_CODE[code]
    _kind, metric = METRIC_OF[code]
    comp = m.compliance(c.metrics() for c in cases).get(metric)
    if comp is None or not comp.n:
        return Value(ind, Decimal(0), Decimal(0), None, extra={"note": "本期无数据"})
    note = f"{comp.n} 例，中位 {comp.median_min:g} 分钟"
    return Value(ind, Decimal(comp.met), Decimal(comp.n), _q(Decimal(comp.met) * 100 / Decimal(comp.n)),
                 extra={"note": note})


def _share_figure(code: str):
    def figure(area, period) -> Value:
        return share_value(code, _cases(area, period, METRIC_OF[code][0]))
    return figure


def d2w_minutes(area, period) -> Value:
    ind = BY_CODE["PW_CP_D2W_MIN"]
    comp = m.compliance(c.metrics() for c in _cases(area, period, "chest_pain")).get("d2w")
    if comp is None or comp.median_min is None:
        return Value(ind, None, None, None, extra={"note": "本期无数据"})
    median = Decimal(str(comp.median_min))
    return Value(ind, median, Decimal(comp.n), _q(median), extra={"note": f"{comp.n} 例"})


def delay_value(cases: list[CaseFacts]) -> Value:
    s = summarise(cases)
    ind = BY_CODE["PW_DELAY"]
    if not s.missed:
        return Value(ind, Decimal(0), Decimal(0), None, extra={"note": "本期无未达标指标"})
    done = s.missed - s.missed_without_reason
    return Value(ind, Decimal(done), Decimal(s.missed), _q(Decimal(done) * 100 / Decimal(s.missed)),
                 extra={"note": f"未填写 {s.missed_without_reason} 个" if s.missed_without_reason else ""})


def delays(area, period) -> Value:
    return delay_value([c for kind in PathwayKind.values for c in _cases(area, period, kind)])


def cases(area, period) -> Value:
    counts = Counter({kind: len(_cases(area, period, kind)) for kind in PathwayKind.values})
    total = sum(counts.values())
    note = "；".join(f"{PathwayKind(k).label} {n}" for k, n in counts.items() if n)
    return Value(BY_CODE["PW_CASES"], Decimal(total), None, Decimal(total), extra={"note": note})


FIGURES = {**{code: _share_figure(code) for code in METRIC_OF}, "PW_CP_D2W_MIN": d2w_minutes, "PW_DELAY": delays,
           "PW_CASES": cases}


def register() -> None:
    """Called from the app's registry at start-up: the pathway indicators join the dashboard."""
    from yigongti.indicators import registry

    for code, figure in FIGURES.items():
        registry.register(BY_CODE[code], figure)
