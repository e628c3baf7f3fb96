"""A year of 120 calls played through the county's stations (离散事件仿真, simpy), to compare today's stations with
a proposed plan on the same calls (common random numbers: one draw of the calls, two runs).

The model, kept plain on purpose:
- Calls arrive as a Poisson process whose rate follows the hour of the day (``hourly`` weights: from the demo's or
  the county's calls, or a typical diurnal curve), at villages in proportion to their population, with the
  national call-grading mix of priorities.
- Each call takes ``handling`` seconds from ring to dispatch order (answer + address + grading). The nearest
  station by road with a free vehicle is sent; when every vehicle is out the call waits, and the first vehicle to
  come free takes the most urgent (then the oldest) waiting call.
- The vehicle leaves after a chute time (dispatch order → wheels rolling), drives the road time (times a small
  per-call factor: traffic, weather), stays on scene, takes most patients to hospital, hands over and drives back
  to its station, where it is free again.
- Response time is ring → on scene; the out time is dispatch order → wheels rolling (so a call that waited for a
  vehicle counts its wait), and the 3-minute out rate is the share of calls out within 180 s (国卫医发〔2020〕19号
  counts 3分钟出车率 from the dispatch order)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import simpy

# A typical diurnal curve of 120 calls (share by hour, peaks late morning and evening, trough before dawn).
TYPICAL_HOURLY = (2.4, 2.0, 1.8, 1.6, 1.6, 1.9, 2.8, 3.9, 4.9, 5.4, 5.6, 5.3, 4.9, 4.6, 4.7, 4.9, 5.1, 5.3, 5.5,
                  5.6, 5.3, 4.6, 3.8, 3.1)
PRIORITY_MIX = {1: 0.08, 2: 0.27, 3: 0.45, 4: 0.20}
CALLS_PER_1000_PER_YEAR = 30.0  # county 120 systems carry about 25–35 calls per 1,000 residents a year


@dataclass(frozen=True)
class SimConfig:
    calls_per_year: float
    hourly: Sequence[float] = TYPICAL_HOURLY
    days: int = 365
    seed: int = 0
    handling_median_s: float = 70.0
    chute_median_s: float = 95.0
    chute_sigma: float = 0.45
    on_scene_median_s: float = 900.0
    transport_share: float = 0.75
    handover_median_s: float = 600.0
    travel_sigma: float = 0.10
    priority_mix: dict[int, float] = field(default_factory=lambda: dict(PRIORITY_MIX))


@dataclass(frozen=True)
class Calls:
    """The drawn calls, sorted by time (seconds from the start of the year)."""

    at: np.ndarray
    point: np.ndarray  # demand point (village) index
    priority: np.ndarray
    handling_s: np.ndarray
    chute_s: np.ndarray
    travel_factor: np.ndarray
    on_scene_s: np.ndarray
    transport: np.ndarray  # bool
    handover_s: np.ndarray

    def __len__(self) -> int:
        return int(self.at.shape[0])


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(n))


def generate_calls(config: SimConfig, population: Sequence[float] | np.ndarray) -> Calls:
    """One year's calls: per hour a Poisson count at that hour's rate, times uniform within the hour."""
    rng = np.random.default_rng(config.seed)
    pop = np.asarray(population, dtype=float)
    if pop.sum() <= 0:
        raise ValueError("no population to draw calls from")
    weights = np.asarray(config.hourly, dtype=float)
    if weights.shape != (24,) or weights.sum() <= 0:
        raise ValueError("hourly needs 24 non-negative weights")
    weights = weights / weights.sum()
    per_hour = np.tile(weights, config.days) * config.calls_per_year / 365.0
    counts = rng.poisson(per_hour)
    n = int(counts.sum())
    at = np.repeat(np.arange(per_hour.shape[0]) * 3600.0, counts) + rng.uniform(0, 3600.0, n)
    at.sort()
    prios = np.array(sorted(config.priority_mix))
    mix = np.array([config.priority_mix[p] for p in prios], dtype=float)
    return Calls(
        at=at, point=rng.choice(pop.shape[0], size=n, p=pop / pop.sum()),
        priority=rng.choice(prios, size=n, p=mix / mix.sum()),
        handling_s=_lognormal(rng, config.handling_median_s, 0.35, n),
        chute_s=_lognormal(rng, config.chute_median_s, config.chute_sigma, n),
        travel_factor=np.exp(config.travel_sigma * rng.standard_normal(n)),
        on_scene_s=_lognormal(rng, config.on_scene_median_s, 0.4, n),
        transport=rng.random(n) < config.transport_share,
        handover_s=_lognormal(rng, config.handover_median_s, 0.4, n))


@dataclass
class SimResult:
    calls: int
    served: int
    unreachable: int  # calls at a village no station reaches by road
    response_p50_s: float
    response_p90_s: float
    response_p95_s: float
    response_mean_s: float
    out_3min_rate: float
    waited_share: float  # calls that waited for a vehicle
    utilisation: float  # share of vehicle time out on a mission
    by_priority: dict[int, dict[str, float]]
    point_mean_s: np.ndarray  # per demand point, mean response (nan: no call)
    response_s: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))

    def as_dict(self) -> dict:
        return {"calls": self.calls, "served": self.served, "unreachable": self.unreachable,
                "response_p50_s": round(self.response_p50_s, 1), "response_p90_s": round(self.response_p90_s, 1),
                "response_p95_s": round(self.response_p95_s, 1), "response_mean_s": round(self.response_mean_s, 1),
                "out_3min_rate": round(self.out_3min_rate, 4), "waited_share": round(self.waited_share, 4),
                "utilisation": round(self.utilisation, 4),
                "by_priority": {str(k): v for k, v in self.by_priority.items()}}


def simulate(calls: Calls, times: np.ndarray, stations: Sequence[tuple[int, int]], *,
             to_hospital_s: np.ndarray | None = None, hospital_to_site_s: dict[int, float] | None = None,
             horizon_s: float | None = None) -> SimResult:
    """Play ``calls`` through ``stations`` (site column, number of vehicles). ``times[i, j]``: seconds from site
    ``j`` to village ``i`` (roads taken as two-way for the drive back). ``to_hospital_s[i]``: from village ``i`` to
    the receiving hospital; ``hospital_to_site_s[j]``: from that hospital back to site ``j`` (without them a
    transported patient adds no hospital leg)."""
    stations = [(int(j), int(n)) for j, n in stations if n > 0]
    if not stations:
        raise ValueError("a plan needs at least one station with a vehicle")
    cols = np.array([j for j, _ in stations])
    free = [n for _, n in stations]
    fleet = sum(free)
    sub = times[:, cols]
    order = np.argsort(sub, axis=1, kind="stable")  # per village: stations nearest first
    env = simpy.Environment()
    waiting: list[tuple[int, float, int, simpy.Event]] = []  # (priority, at, seq, event)
    seq = itertools.count()
    n = len(calls)
    response = np.full(n, np.nan)
    out = np.full(n, np.nan)
    waited = np.zeros(n, dtype=bool)
    busy = [0.0]

    def release(k: int) -> None:
        if waiting:
            _, _, _, ev = heapq.heappop(waiting)
            ev.succeed(k)
        else:
            free[k] += 1

    def mission(c: int, k: int, ordered_at: float):
        start = env.now
        yield env.timeout(float(calls.chute_s[c]))
        out[c] = env.now - ordered_at
        i = int(calls.point[c])
        drive = float(sub[i, k]) * float(calls.travel_factor[c])
        yield env.timeout(drive)
        response[c] = env.now - float(calls.at[c])
        yield env.timeout(float(calls.on_scene_s[c]))
        if calls.transport[c] and to_hospital_s is not None and hospital_to_site_s is not None:
            yield env.timeout(float(to_hospital_s[i]) + float(calls.handover_s[c]))
            yield env.timeout(float(hospital_to_site_s.get(int(cols[k]), sub[i, k])))
        else:
            if calls.transport[c]:
                yield env.timeout(float(calls.handover_s[c]))
            yield env.timeout(drive)
        busy[0] += env.now - start
        release(k)

    def call(c: int):
        yield env.timeout(float(calls.at[c]) - env.now + float(calls.handling_s[c]))
        ordered_at = env.now
        i = int(calls.point[c])
        k = next((int(k) for k in order[i] if np.isfinite(sub[i, k]) and free[int(k)] > 0), None)
        if k is None:
            ev = env.event()
            waited[c] = True
            heapq.heappush(waiting, (int(calls.priority[c]), float(calls.at[c]), next(seq), ev))
            k = yield ev
        else:
            free[k] -= 1
        env.process(mission(c, k, ordered_at))

    reachable = np.isfinite(sub).any(axis=1)
    unreachable = 0
    for c in range(n):
        if not reachable[int(calls.point[c])]:
            unreachable += 1
            continue
        env.process(call(c))
    env.run()
    ok = ~np.isnan(response)
    resp = response[ok]
    horizon = horizon_s or (float(calls.at.max()) if n else 1.0)
    by_priority = {}
    for p in sorted({int(x) for x in calls.priority}):
        sel = ok & (calls.priority == p)
        if sel.any():
            by_priority[p] = {"calls": int(sel.sum()), "p50_s": round(float(np.percentile(response[sel], 50)), 1),
                              "p90_s": round(float(np.percentile(response[sel], 90)), 1)}
    point_mean = np.full(times.shape[0], np.nan)
    if ok.any():
        sums = np.bincount(calls.point[ok], weights=resp, minlength=times.shape[0])
        cnt = np.bincount(calls.point[ok], minlength=times.shape[0])
        with np.errstate(invalid="ignore", divide="ignore"):
            point_mean = np.where(cnt > 0, sums / np.maximum(cnt, 1), np.nan)

    def pct(q: float) -> float:
        return float(np.percentile(resp, q)) if resp.size else float("nan")

    return SimResult(
        calls=n, served=int(ok.sum()), unreachable=unreachable, response_p50_s=pct(50), response_p90_s=pct(90),
        response_p95_s=pct(95), response_mean_s=float(resp.mean()) if resp.size else float("nan"),
        out_3min_rate=float((out[ok] <= 180.0).mean()) if ok.any() else 0.0,
        waited_share=float(waited[ok].mean()) if ok.any() else 0.0,
        utilisation=busy[0] / (fleet * horizon) if horizon > 0 else 0.0, by_priority=by_priority,
        point_mean_s=point_mean, response_s=resp)
