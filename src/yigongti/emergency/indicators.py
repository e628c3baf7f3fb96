"""The 120 network's indicators on the dashboard and in the monthly report (``indicators.registry``), computed from
the calls' time points (``CallEvent``) and the fleet. A region's figures are those of the calls from it (the
incident's ``area_code``) and of the stations within it; a facility's, those of its station's vehicles (and of the
calls its dispatchers took).

* EM_ANSWER_10S 120呼救电话10秒接听率: calls answered within 10 s of the first ring ÷ calls answered × 100%.
* EM_OUT_3MIN 3分钟出车率: missions whose vehicle rolled within 3 min of the dispatch order ÷ missions × 100%.
* EM_RESPONSE 平均急救反应时间: mean minutes from the ring to the first vehicle on scene; the note gives it by
  priority (I–IV). The township areas of the dashboard give it by township; ``response_by`` gives both at once.
* EM_ON_SCENE 平均现场处置时间: on scene → leave scene; EM_HANDOVER 平均院前院内交接时间: arrive → hand-over.
* EM_AMB_30K 每3万人口救护车数: active vehicles of the area's stations ÷ its population × 30,000.
* EM_NEG_PRESSURE 负压救护车占比: active negative-pressure vehicles ÷ active vehicles × 100%.
* EM_RECORD 院前急救病历书写率: missions that reached the patient (FMC) with a pre-hospital record ÷ those missions.

Targets follow 国卫医发〔2020〕19号 (the 2025 targets of the glossary); the response, on-scene and hand-over times
have local defaults. Each target can be changed with the setting ``YIGONGTI_EMERGENCY_TARGETS = {"EM_OUT_3MIN": 90,
…}`` (a value of ``None`` shows the figure without judging it)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Max, Q, QuerySet, Sum
from django.utils import timezone

from yigongti.indicators.definitions import Indicator, Value

from .models import Call, CallEvent, EventKind, Mission, PrehospitalRecord, Priority, Vehicle, VehicleKind

D_EM = "院前急救（120）"
SOURCE = "《关于进一步完善院前医疗急救服务的指导意见》（国卫医发〔2020〕19号）"
CONFIGURED = "本地配置（YIGONGTI_EMERGENCY_TARGETS）"
ANSWER_SECONDS = 10
OUT_SECONDS = 180
PER_POPULATION = 30_000

INDICATORS = [
    Indicator("EM_ANSWER_10S", "120呼救电话10秒接听率", "120 calls answered within 10 s", D_EM, "registry",
              target=Decimal(95), target_source=SOURCE, source=SOURCE, live_only=True,
              definition="振铃后 10 秒内接听的 120 呼救电话数 ÷ 同期接听的呼救电话数 × 100%（按事发地区划）",
              definition_en="120 calls answered within 10 seconds of the first ring ÷ calls answered × 100% (by the "
                            "incident's area)"),
    Indicator("EM_OUT_3MIN", "3分钟出车率", "Ambulances out within 3 minutes", D_EM, "registry",
              target=Decimal(95), target_source=SOURCE, source=SOURCE, live_only=True,
              definition="接到派车指令后 3 分钟内出车的出车任务数 ÷ 同期出车任务数 × 100%",
              definition_en="Missions whose vehicle left within 3 minutes of the dispatch order ÷ missions × 100%"),
    Indicator("EM_RESPONSE", "平均急救反应时间", "Mean response time", D_EM, "registry", unit="分钟",
              unit_en="minutes", scale=1, direction="lower", target=Decimal(20), source=SOURCE, live_only=True,
              definition="从 120 振铃到首辆救护车到达现场的平均时间（分钟）；附注按分级（I–IV 级）；"
                         "农村服务半径 10–20 公里，目标为本地默认值",
              definition_en="Mean minutes from the first ring of a 120 call to the first ambulance on scene; the note "
                            "gives it by priority (I–IV); the target is a local default (rural radius 10–20 km)"),
    Indicator("EM_ON_SCENE", "平均现场处置时间", "Mean time on scene", D_EM, "registry", unit="分钟",
              unit_en="minutes", scale=1, direction="lower", target=Decimal(20), source=SOURCE, live_only=True,
              definition="救护车到达现场至离开现场的平均时间（分钟）",
              definition_en="Mean minutes from arrival on scene to leaving the scene"),
    Indicator("EM_HANDOVER", "平均院前院内交接时间", "Mean hand-over time", D_EM, "registry", unit="分钟",
              unit_en="minutes", scale=1, direction="lower", target=Decimal(15), source=SOURCE, live_only=True,
              definition="救护车到达医院至完成患者交接的平均时间（分钟）",
              definition_en="Mean minutes from the ambulance's arrival at hospital to the completed hand-over"),
    Indicator("EM_AMB_30K", "每3万人口救护车数", "Ambulances per 30,000 residents", D_EM, "registry", unit="辆",
              unit_en="vehicles", scale=1, target=Decimal(1), target_source=SOURCE, source=SOURCE, live_only=True,
              definition="辖区急救站点在用救护车数 ÷ 辖区常住人口 × 30000",
              definition_en="Active ambulances of the area's stations ÷ the area's population × 30,000"),
    Indicator("EM_NEG_PRESSURE", "负压救护车占比", "Share of negative-pressure ambulances", D_EM, "registry",
              target=Decimal(40), target_source=SOURCE, source=SOURCE, live_only=True,
              definition="在用负压救护车数 ÷ 在用救护车总数 × 100%",
              definition_en="Active negative-pressure ambulances ÷ all active ambulances × 100%"),
    Indicator("EM_RECORD", "院前急救病历书写率", "Pre-hospital records written", D_EM, "registry",
              target=Decimal(100), target_source=SOURCE, source=SOURCE, live_only=True,
              definition="已接触患者（首次医疗接触）且书写院前急救病历的出车任务数 ÷ 已接触患者的出车任务数 × 100%",
              definition_en="Missions that reached the patient (first medical contact) with a pre-hospital record ÷ "
                            "missions that reached the patient × 100%"),
]
BY_CODE = {i.code: i for i in INDICATORS}


def configured(ind: Indicator) -> Indicator:
    """The indicator with the target of the setting ``YIGONGTI_EMERGENCY_TARGETS``, when it names it."""
    from django.conf import settings

    overrides = getattr(settings, "YIGONGTI_EMERGENCY_TARGETS", None) or {}
    if ind.code not in overrides:
        return ind
    value = overrides[ind.code]
    return replace(ind, target=None if value is None else Decimal(str(value)), target_source=CONFIGURED)


def indicator(code: str) -> Indicator:
    return configured(BY_CODE[code])


# ---- pure calculations ---------------------------------------------------------------------------------------


def seconds_between(events: Mapping[str, dt.datetime], start: str, end: str) -> float | None:
    """Seconds from one time point to another of the same call or mission; None when either is missing or the
    end is before the start (a data error, not a negative time)."""
    a, b = events.get(start), events.get(end)
    if a is None or b is None or b < a:
        return None
    return (b - a).total_seconds()


def share_within(values: Iterable[float | None], limit_s: float) -> tuple[int, int]:
    """(how many within ``limit_s``, how many measured)."""
    measured = [v for v in values if v is not None]
    return sum(1 for v in measured if v <= limit_s), len(measured)


def mean_minutes(values: Iterable[float | None]) -> float | None:
    measured = [v for v in values if v is not None]
    return round(statistics.fmean(measured) / 60, 2) if measured else None


def response_seconds(call_events: Mapping[str, dt.datetime],
                     missions: Iterable[Mapping[str, dt.datetime]]) -> float | None:
    """Ring → the first vehicle on scene (of all the call's missions)."""
    ring = call_events.get(EventKind.RING)
    scenes = [m[EventKind.ON_SCENE] for m in missions if EventKind.ON_SCENE in m]
    if ring is None or not scenes:
        return None
    first = min(scenes)
    return (first - ring).total_seconds() if first >= ring else None


def per_30k(vehicles: int, population: int) -> Decimal | None:
    if population <= 0:
        return None
    return _q(Decimal(vehicles) * PER_POPULATION / Decimal(population))


# ---- reading the tables ------------------------------------------------------------------------------------


def _q(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _bounds(period) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(period.start, dt.time(), tz), dt.datetime.combine(period.stop, dt.time(), tz)


def _calls(area, period) -> QuerySet[Call]:
    start, stop = _bounds(period)
    qs = Call.objects.filter(rang_at__gte=start, rang_at__lt=stop).exclude(status="merged")
    if area.kind == "facility":
        return qs.filter(Q(missions__vehicle__station__facility__code=area.facility_key)
                         | Q(taken_by__facility__code=area.facility_key)).distinct()
    return qs.filter(area_code__startswith=area.prefix)


def _missions(area, period) -> QuerySet[Mission]:
    start, stop = _bounds(period)
    qs = Mission.objects.filter(dispatched_at__gte=start, dispatched_at__lt=stop)
    if area.kind == "facility":
        return qs.filter(vehicle__station__facility__code=area.facility_key)
    return qs.filter(call__area_code__startswith=area.prefix)


@dataclass
class Timings:
    """The time points of the period's calls: per call (mission-less events) and per mission."""

    calls: dict[int, dict[str, dt.datetime]]
    missions: dict[int, dict[str, dt.datetime]]
    mission_call: dict[int, int]
    priority: dict[int, int]  # call → priority
    township: dict[int, str]  # call → the township's 9-digit prefix


def timings(area, period) -> Timings:
    calls = _calls(area, period)
    t = Timings({}, {}, {}, {}, {})
    for pk, priority, area_code in calls.values_list("pk", "priority", "area_code"):
        t.priority[pk], t.township[pk] = priority, (area_code or "")[:9]
        t.calls[pk] = {}
    kinds = [EventKind.RING, EventKind.ANSWER, EventKind.DISPATCH_ORDER, EventKind.WHEELS_ROLLING,
             EventKind.ON_SCENE, EventKind.FMC, EventKind.LEAVE_SCENE, EventKind.ARRIVE_HOSPITAL, EventKind.HANDOVER]
    rows = CallEvent.objects.filter(call__in=calls.values("pk"), kind__in=kinds).values_list(
        "call_id", "mission_id", "kind", "at")
    for call_id, mission_id, kind, at in rows.iterator(chunk_size=10_000):
        if mission_id is None:
            t.calls.setdefault(call_id, {}).setdefault(kind, at)
        else:
            t.missions.setdefault(mission_id, {})[kind] = at
            t.mission_call[mission_id] = call_id
    if area.kind == "facility":  # a station's figures: its own vehicles' missions only
        mine = set(Mission.objects.filter(call__in=calls.values("pk"), vehicle__station__facility__code=
                                          area.facility_key).values_list("pk", flat=True))
        t.missions = {m: e for m, e in t.missions.items() if m in mine}
    return t


def _ratio(code: str, num: int, den: int, note: str = "") -> Value:
    ind = indicator(code)
    if not den:
        return Value(ind, Decimal(num), Decimal(den), None, extra={"note": note or "本期无数据"})
    return Value(ind, Decimal(num), Decimal(den), _q(Decimal(num) * 100 / Decimal(den)), extra={"note": note})


def _mean(code: str, values: list[float | None], note: str = "") -> Value:
    ind = indicator(code)
    n = sum(1 for v in values if v is not None)
    minutes = mean_minutes(values)
    if minutes is None:
        return Value(ind, None, None, None, extra={"note": "本期无数据"})
    value = _q(Decimal(str(minutes)))
    return Value(ind, value, Decimal(n), value, extra={"note": note or f"{n} 例"})


def answered(area, period) -> Value:
    t = timings(area, period)
    within, n = share_within((seconds_between(e, EventKind.RING, EventKind.ANSWER) for e in t.calls.values()),
                             ANSWER_SECONDS)
    return _ratio("EM_ANSWER_10S", within, n)


def out_3min(area, period) -> Value:
    sample = timings(area, period).missions.values()
    within, n = share_within((seconds_between(e, EventKind.DISPATCH_ORDER, EventKind.WHEELS_ROLLING)
                              for e in sample), OUT_SECONDS)
    return _ratio("EM_OUT_3MIN", within, n)


@dataclass(frozen=True)
class ResponseRow:
    key: str  # "1".."4" or a township prefix
    label: str
    n: int
    mean_min: float | None
    median_min: float | None
    p90_min: float | None


def _responses(t: Timings) -> dict[int, float]:
    by_call: dict[int, list[dict[str, dt.datetime]]] = defaultdict(list)
    for mission, events in t.missions.items():
        by_call[t.mission_call[mission]].append(events)
    out = {}
    for call, missions in by_call.items():
        s = response_seconds(t.calls.get(call, {}), missions)
        if s is not None:
            out[call] = s
    return out


def _row(key: str, label: str, seconds: list[float]) -> ResponseRow:
    if not seconds:
        return ResponseRow(key, label, 0, None, None, None)
    s = sorted(seconds)
    p90 = s[min(len(s) - 1, round(0.9 * (len(s) - 1)))]
    return ResponseRow(key, label, len(s), round(statistics.fmean(s) / 60, 1), round(statistics.median(s) / 60, 1),
                       round(p90 / 60, 1))


def response_by(area, period, by: str = "priority") -> list[ResponseRow]:
    """Response times (ring → first vehicle on scene) of the area's calls, by priority or by township."""
    from yigongti.orgs.models import Region

    t = timings(area, period)
    groups: dict[str, list[float]] = defaultdict(list)
    for call, seconds in _responses(t).items():
        groups[str(t.priority[call]) if by == "priority" else t.township[call]].append(seconds)
    if by == "priority":
        return [_row(str(p.value), str(p.label), groups.get(str(p.value), [])) for p in Priority]
    names = dict(Region.objects.filter(code__in=[k + "000" for k in groups]).values_list("code", "name"))
    return sorted((_row(k, names.get(k + "000", k), v) for k, v in groups.items()),
                  key=lambda r: -(r.mean_min or 0))


def response(area, period) -> Value:
    t = timings(area, period)
    responses = _responses(t)
    by_priority: dict[int, list[float]] = defaultdict(list)
    for call, seconds in responses.items():
        by_priority[t.priority[call]].append(seconds)
    note = "；".join(f"{Priority(p).label} {round(statistics.fmean(v) / 60, 1)} 分钟（{len(v)} 例）"
                    for p, v in sorted(by_priority.items()))
    return _mean("EM_RESPONSE", list(responses.values()), note)


def on_scene(area, period) -> Value:
    t = timings(area, period)
    return _mean("EM_ON_SCENE", [seconds_between(e, EventKind.ON_SCENE, EventKind.LEAVE_SCENE)
                                 for e in t.missions.values()])


def handover(area, period) -> Value:
    t = timings(area, period)
    return _mean("EM_HANDOVER", [seconds_between(e, EventKind.ARRIVE_HOSPITAL, EventKind.HANDOVER)
                                 for e in t.missions.values()])


def _vehicles(area) -> QuerySet[Vehicle]:
    qs = Vehicle.objects.filter(active=True, station__active=True)
    if area.kind == "facility":
        return qs.filter(station__facility__code=area.facility_key)
    return qs.filter(station__facility__region__code__startswith=area.prefix)


def population(area) -> int:
    """The area's population: its own row of the population table (the latest year), else its townships', else
    the residents of the register."""
    from yigongti.encounters.models import PopulationByAge
    from yigongti.residents.models import Resident

    qs = PopulationByAge.objects.filter(area_code__startswith=area.prefix)
    year = qs.aggregate(y=Max("year"))["y"]
    if year is not None:
        rows = dict(qs.filter(year=year).values_list("area_code").annotate(n=Sum("population")).order_by())
        own = (area.prefix + "0" * 12)[:12]
        if own in rows:
            return int(rows[own])
        towns = [n for code, n in rows.items() if code.endswith("000") and not code.endswith("000000")]
        if towns:
            return int(sum(towns))
    return Resident.objects.filter(area_code__startswith=area.prefix).count()


def ambulances(area, period) -> Value:
    ind = indicator("EM_AMB_30K")
    n = _vehicles(area).count()
    if area.kind == "facility":
        return Value(ind, Decimal(n), None, None, extra={"note": f"本站点在用救护车 {n} 辆（人口按辖区计算）"})
    people = population(area)
    value = per_30k(n, people)
    return Value(ind, Decimal(n), Decimal(people), value,
                 extra={"note": f"在用救护车 {n} 辆，人口 {people}" if value is not None else "本期无人口数据"})


def negative_pressure(area, period) -> Value:
    qs = _vehicles(area)
    return _ratio("EM_NEG_PRESSURE", qs.filter(kind=VehicleKind.NEGATIVE_PRESSURE).count(), qs.count())


def records(area, period) -> Value:
    reached = _missions(area, period).filter(events__kind=EventKind.FMC).values("pk")
    n = reached.count()
    written = PrehospitalRecord.objects.filter(mission__in=reached).count()
    return _ratio("EM_RECORD", written, n)


FIGURES = {"EM_ANSWER_10S": answered, "EM_OUT_3MIN": out_3min, "EM_RESPONSE": response, "EM_ON_SCENE": on_scene,
           "EM_HANDOVER": handover, "EM_AMB_30K": ambulances, "EM_NEG_PRESSURE": negative_pressure,
           "EM_RECORD": records}


def register() -> None:
    """Called from the app's registry at start-up: the 120 indicators join the dashboard and the monthly report."""
    from yigongti.indicators import registry

    for code, figure in FIGURES.items():
        registry.register(indicator(code), figure)
