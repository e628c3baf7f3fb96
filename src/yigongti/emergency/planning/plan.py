"""One planning run over plain data (``data.PlanningInput``): today's coverage, each scenario's best sites (add one,
add two, move one), their coverage, and — when asked — a simulated year of calls under today's stations and under
each proposal, on the same calls. The result is plain JSON, kept on ``StationPlan.result``."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.utils.translation import gettext_noop

from . import coverage as cov
from . import optimize, simulate
from .data import PlanningInput

SCENARIOS = {"add1": (1, 0), "add2": (2, 0), "move1": (0, 1)}  # key → (add, move)
# labels translated where shown ({% translate %}); marked here for makemessages
SCENARIO_LABELS = {"add1": gettext_noop("新增1个站点"), "add2": gettext_noop("新增2个站点"),
                   "move1": gettext_noop("迁移1个站点")}
TODAY_LABEL = gettext_noop("现状")
THRESHOLDS = cov.THRESHOLDS_MIN


@dataclass(frozen=True)
class Params:
    objective: str = "mclp"
    threshold_min: int = 15
    scenarios: tuple[str, ...] = ("add1", "add2", "move1")
    simulate: bool = True
    calls_per_year: float | None = None  # None: the county's last year of calls, else 30 per 1,000 residents
    new_vehicles: int = 1
    seed: int = 0
    days: int = 365

    def as_dict(self) -> dict:
        return {"objective": self.objective, "threshold_min": self.threshold_min, "scenarios": list(self.scenarios),
                "simulate": self.simulate, "calls_per_year": self.calls_per_year, "new_vehicles": self.new_vehicles,
                "seed": self.seed, "days": self.days}

    @classmethod
    def from_dict(cls, d: dict) -> Params:
        keys = cls.__dataclass_fields__
        kw = {k: v for k, v in d.items() if k in keys}
        if "scenarios" in kw:
            kw["scenarios"] = tuple(kw["scenarios"])
        return cls(**kw)


@dataclass
class Timing:
    parts: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, started: float) -> None:
        self.parts[name] = round(self.parts.get(name, 0.0) + time.perf_counter() - started, 3)


def _seconds_list(best: np.ndarray) -> list[int | None]:
    return [None if not math.isfinite(x) else round(x) for x in best]


def plan_stations(stations: list[tuple[int, int]], solution: optimize.Solution | None,
                  new_vehicles: int) -> list[tuple[int, int]]:
    """The (site, vehicles) list of a proposal: today's, less the closed sites, plus the new ones (a moved
    station takes its vehicles along, a new one gets ``new_vehicles``)."""
    if solution is None:
        return list(stations)
    vehicles = dict(stations)
    out = [(j, n) for j, n in stations if j not in solution.closed]
    moved = [vehicles[j] for j in solution.closed]
    for j in solution.added:
        out.append((j, moved.pop(0) if moved else new_vehicles))
    return out


def compute(inp: PlanningInput, params: Params) -> dict:
    timing = Timing()
    t0 = time.perf_counter()
    if not inp.villages:
        raise ValueError("no villages with a population on this network")
    existing = inp.existing
    stations = [(j, max(inp.sites[j].vehicles, 1)) for j in existing]
    today = cov.coverage(inp.times, inp.population, existing, THRESHOLDS)
    timing.add("coverage", t0)
    scenarios: list[dict[str, Any]] = []
    for key in params.scenarios:
        add, move = SCENARIOS[key]
        if move > len(existing) or add + move > len(inp.candidates):
            continue
        t = time.perf_counter()
        sol = optimize.solve(inp.times, inp.population, existing=existing, candidates=inp.candidates, add=add,
                             move=move, objective=params.objective, threshold_s=params.threshold_min * 60)
        timing.add("optimize", t)
        c = cov.coverage(inp.times, inp.population, sol.open_sites, THRESHOLDS)
        scenarios.append({"key": key, "label": SCENARIO_LABELS[key], "solution": sol.as_dict(),
                          "stations": plan_stations(stations, sol, params.new_vehicles),
                          "coverage": c.as_dict(), "best_s": _seconds_list(c.best_s),
                          "nearest": [int(x) for x in c.nearest], "_sol": sol})
    result: dict = {
        "thresholds": list(THRESHOLDS), "threshold_min": params.threshold_min, "objective": params.objective,
        "hospital": inp.hospital, "sites": [s.as_dict() for s in inp.sites], "villages": inp.villages,
        "today": {"open": existing, "stations": stations, "coverage": today.as_dict(),
                  "best_s": _seconds_list(today.best_s), "nearest": [int(x) for x in today.nearest]},
        "scenarios": scenarios, "townships": []}
    if params.simulate and stations:
        t = time.perf_counter()
        pop_total = float(inp.population.sum())
        rate = params.calls_per_year or inp.calls_per_year or pop_total * simulate.CALLS_PER_1000_PER_YEAR / 1000
        source = "params" if params.calls_per_year else ("calls" if inp.calls_per_year else "poisson")
        config = simulate.SimConfig(calls_per_year=rate, hourly=inp.hourly or simulate.TYPICAL_HOURLY,
                                    days=params.days, seed=params.seed)
        calls = simulate.generate_calls(config, inp.population)
        timing.add("draw_calls", t)
        result["calls_model"] = {"calls_per_year": round(rate), "source": source, "calls": len(calls),
                                 "days": params.days, "hourly": [round(x, 4) for x in
                                                                 (np.asarray(config.hourly) /
                                                                  np.sum(config.hourly)).tolist()]}

        def run(plan: list[tuple[int, int]]) -> dict:
            started = time.perf_counter()
            r = simulate.simulate(calls, inp.times, plan, to_hospital_s=inp.to_hospital_s,
                                  hospital_to_site_s=inp.hospital_to_site_s, horizon_s=params.days * 86400.0)
            timing.add("simulate", started)
            return r.as_dict()

        result["today"]["sim"] = run(stations)
        if inp.actual:
            result["actual"] = inp.actual
        for s in scenarios:
            s["sim"] = run(s["stations"])
    for s in scenarios:
        s.pop("_sol")
        s["stations"] = [list(x) for x in s["stations"]]
    result["today"]["stations"] = [list(x) for x in stations]
    result["townships"] = township_table(result)
    timing.add("total", t0)
    result["timing"] = timing.parts
    return result


def township_table(result: dict) -> list[dict]:
    """Per township: population, and the share within the planning threshold today and in each scenario."""
    limit = result["threshold_min"] * 60
    rows: dict[str, dict] = {}
    for i, v in enumerate(result["villages"]):
        row = rows.setdefault(v["township"], {"township": v["township"], "population": 0, "today": 0,
                                              "scenarios": {s["key"]: 0 for s in result["scenarios"]}})
        row["population"] += v["population"]
        t = result["today"]["best_s"][i]
        if t is not None and t <= limit:
            row["today"] += v["population"]
        for s in result["scenarios"]:
            t = s["best_s"][i]
            if t is not None and t <= limit:
                row["scenarios"][s["key"]] += v["population"]
    return sorted(rows.values(), key=lambda r: r["today"] / max(r["population"], 1))
