"""The pathways' time metrics (FMC→first ECG, door-to-wire, DNT, DPT, DIDO …) as pure functions of a case's active
time points, and the monthly aggregation used by the dashboards and the indicators.

A metric is the minutes between two time points, judged against a target (minutes, ``≤``). It applies to a kind,
optionally only to some subtypes and arrival modes. While the end point is missing, with ``now`` given, the metric
is *running*: its minutes are those elapsed so far and it is already missed once they pass the target — except
for an alternative treatment (thrombolysis at a PCI center, DPT, theatre: ``live=False``), measured only once done.

Targets follow 中国胸痛中心认证标准, 中国卒中中心建设标准 and the glossary; each is configurable with the setting
``YIGONGTI_PATHWAY_TARGETS = {"d2w": 90, …}``; a target of ``None`` shows the minutes without judging them."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class MetricDef:
    code: str
    label: StrOrPromise  # lazy
    kind: str
    start: str  # event code
    end: str
    target_min: float | None
    subtypes: tuple[str, ...] = ()
    arrival_modes: tuple[str, ...] = ()
    live: bool = True  # runs against the clock while its end is missing; False for an alternative treatment

    def applies(self, subtype: str = "", arrival_mode: str = "") -> bool:
        if self.subtypes and subtype and subtype not in self.subtypes:
            return False
        return not (self.arrival_modes and arrival_mode and arrival_mode not in self.arrival_modes)


@dataclass(frozen=True)
class Metric:
    code: str
    label: str
    minutes: float | None  # None: not started (or not finished and no ``now``)
    target_min: float | None
    met: bool | None  # None: pending or no target
    running: bool = False  # the end point is still missing; minutes are the elapsed ones
    start: str = ""
    end: str = ""

    @property
    def missed(self) -> bool:
        return self.met is False

    @property
    def done(self) -> bool:
        return self.minutes is not None and not self.running


ACS = ("stemi", "nstemi", "ua")
DEFS: tuple[MetricDef, ...] = (
    # chest pain (中国胸痛中心认证标准)
    MetricDef("fmc_to_ecg", _("首次医疗接触至首份心电图"), "chest_pain", "fmc", "first_ecg", 10),
    MetricDef("ecg_to_diagnosis", _("首份心电图至心电图诊断"), "chest_pain", "first_ecg", "ecg_diagnosis", 10),
    MetricDef("dido", _("首诊医院入门至出门（DIDO）"), "chest_pain", "first_door", "door_out", 30,
              arrival_modes=("transfer",)),
    MetricDef("troponin_tat", _("抽血至肌钙蛋白结果"), "chest_pain", "blood_draw", "troponin", 20),
    MetricDef("d2n_chest", _("入门至溶栓（D2N）"), "chest_pain", "door", "needle", 30, subtypes=("stemi",),
              live=False),
    MetricDef("activation_to_ready", _("启动至导管室激活"), "chest_pain", "cath_lab_activation", "cath_lab_ready", 30,
              subtypes=ACS),
    MetricDef("d2w", _("入门至导丝通过（D2W）"), "chest_pain", "door", "wire", 90, subtypes=("stemi",)),
    MetricDef("fmc_to_wire", _("首次医疗接触至导丝通过"), "chest_pain", "fmc", "wire", 120, subtypes=("stemi",)),
    MetricDef("door_to_cta", _("入门至CT血管造影"), "chest_pain", "door", "cta", None,
              subtypes=("aortic_dissection", "pe")),
    # stroke (中国卒中中心建设标准)
    MetricDef("onset_to_door", _("发病至入门"), "stroke", "onset", "door", None),
    MetricDef("dido_stroke", _("首诊医院入门至出门（DIDO）"), "stroke", "first_door", "door_out", 30,
              arrival_modes=("transfer",)),
    MetricDef("door_to_ct", _("入门至CT完成"), "stroke", "door", "ct", 25),
    MetricDef("dnt", _("入门至溶栓（DNT）"), "stroke", "door", "needle", 60, subtypes=("ischaemic",)),
    MetricDef("dpt", _("入门至股动脉穿刺（DPT）"), "stroke", "door", "puncture", 90, subtypes=("ischaemic",),
              live=False),
    MetricDef("door_to_recanalization", _("入门至血管再通"), "stroke", "door", "recanalization", 120,
              subtypes=("ischaemic",), live=False),
    MetricDef("door_to_neurosurgery", _("入门至神经外科手术"), "stroke", "door", "neurosurgery", None,
              subtypes=("haemorrhagic",)),
    # major trauma (创伤中心建设与管理指导原则; the county's own targets)
    MetricDef("dido_trauma", _("首诊医院入门至出门（DIDO）"), "trauma", "first_door", "door_out", 30,
              arrival_modes=("transfer",)),
    MetricDef("door_to_team", _("入门至创伤小组到达"), "trauma", "door", "trauma_team", 10),
    MetricDef("door_to_resuscitation", _("入门至开始复苏"), "trauma", "door", "resuscitation", 10),
    MetricDef("door_to_ct_trauma", _("入门至CT完成"), "trauma", "door", "ct", 30),
    MetricDef("door_to_theatre", _("入门至进入手术室"), "trauma", "door", "theatre", 60, live=False),
    # critical maternal (危重孕产妇救治中心建设与管理指南)
    MetricDef("door_to_obstetric_team", _("入门至产科抢救小组到达"), "maternal", "door", "obstetric_team", 10),
    MetricDef("pph_to_transfusion", _("产后出血诊断至输血"), "maternal", "pph_diagnosis", "transfusion", 30,
              subtypes=("pph",)),
    MetricDef("ddi", _("决定剖宫产至胎儿娩出（DDI）"), "maternal", "decision_csection", "delivery", 30),
    MetricDef("dido_maternal", _("首诊医院入门至出门（DIDO）"), "maternal", "first_door", "door_out", 30,
              arrival_modes=("transfer",)),
    # critical neonatal (危重新生儿救治中心建设与管理指南; 新生儿复苏指南)
    MetricDef("birth_to_resuscitation", _("出生至开始复苏"), "neonatal", "birth", "resuscitation", 1),
    MetricDef("request_to_depart", _("申请转运至转运队出发"), "neonatal", "transfer_request", "team_depart", 30),
    MetricDef("door_to_nicu", _("入门至入住NICU"), "neonatal", "door", "nicu", 30),
)
BY_CODE = {d.code: d for d in DEFS}


def target_of(d: MetricDef) -> float | None:
    from django.conf import settings

    overrides = getattr(settings, "YIGONGTI_PATHWAY_TARGETS", None) or {}
    return overrides.get(d.code, d.target_min)


def definitions(kind: str, *, subtype: str = "", arrival_mode: str = "") -> list[MetricDef]:
    return [d for d in DEFS if d.kind == kind and d.applies(subtype, arrival_mode)]


def minutes_between(start: dt.datetime, end: dt.datetime) -> float:
    return round((end - start).total_seconds() / 60.0, 1)


def measure(d: MetricDef, events: Mapping[str, dt.datetime], *, now: dt.datetime | None = None) -> Metric:
    """One metric of one case from its active time points."""
    target = target_of(d)
    start, end = events.get(d.start), events.get(d.end)
    if start is None:
        return Metric(d.code, str(d.label), None, target, None, start=d.start, end=d.end)
    if end is None:
        if now is None or not d.live:
            return Metric(d.code, str(d.label), None, target, None, start=d.start, end=d.end)
        elapsed = max(minutes_between(start, now), 0.0)
        missed = target is not None and elapsed > target
        return Metric(d.code, str(d.label), elapsed, target, False if missed else None, running=True,
                      start=d.start, end=d.end)
    minutes = minutes_between(start, end)
    met = None if target is None else minutes <= target
    return Metric(d.code, str(d.label), minutes, target, met, start=d.start, end=d.end)


def case_metrics(kind: str, events: Mapping[str, dt.datetime], *, subtype: str = "", arrival_mode: str = "",
                 now: dt.datetime | None = None) -> list[Metric]:
    """Every metric of the kind that applies to this case (subtype, arrival mode), in catalogue order."""
    return [measure(d, events, now=now) for d in definitions(kind, subtype=subtype, arrival_mode=arrival_mode)]


def missed(metrics: Iterable[Metric]) -> list[Metric]:
    """The metrics whose target was missed (finished over target, or running past it): each asks for a reason."""
    return [m for m in metrics if m.met is False]


# ---- aggregation (dashboards, indicators) -------------------------------------------------------------------


@dataclass(frozen=True)
class Compliance:
    code: str
    label: str
    target_min: float | None
    n: int  # cases where the metric was measured (finished)
    met: int
    median_min: float | None
    p90_min: float | None

    @property
    def rate(self) -> float | None:
        return round(self.met / self.n, 4) if self.n and self.target_min is not None else None


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return round(s[lo] + (s[hi] - s[lo]) * (pos - lo), 1)


def compliance(per_case: Iterable[Iterable[Metric]]) -> dict[str, Compliance]:
    """Per metric over many cases: how many measured, how many met, the median and 90th percentile minutes.
    Running and unstarted metrics do not count."""
    minutes: dict[str, list[float]] = defaultdict(list)
    met: dict[str, int] = defaultdict(int)
    seen: dict[str, Metric] = {}
    for metrics in per_case:
        for m in metrics:
            if not m.done or m.minutes is None:
                continue
            seen.setdefault(m.code, m)
            minutes[m.code].append(m.minutes)
            met[m.code] += 1 if m.met else 0
    out: dict[str, Compliance] = {}
    for d in DEFS:
        if d.code not in seen:
            continue
        values = minutes[d.code]
        out[d.code] = Compliance(d.code, str(d.label), seen[d.code].target_min, len(values), met[d.code],
                                 round(statistics.median(values), 1), _quantile(values, 0.9))
    return out


def month_of(when: dt.datetime | dt.date) -> str:
    return f"{when.year:04d}-{when.month:02d}"


def monthly(rows: Iterable[tuple[dt.datetime | dt.date, Iterable[Metric]]]) -> dict[str, dict[str, Compliance]]:
    """``{"2026-11": {"d2w": Compliance, …}, …}`` from (the case's month anchor, its metrics) pairs, months
    in order. The anchor is the caller's choice (the door time or the case's opening, in local time)."""
    buckets: dict[str, list[list[Metric]]] = defaultdict(list)
    for when, metrics in rows:
        buckets[month_of(when)].append(list(metrics))
    return {month: compliance(buckets[month]) for month in sorted(buckets)}
