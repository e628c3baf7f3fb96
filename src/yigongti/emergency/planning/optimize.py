"""Where to put one or two new ambulance stations, or where to move one (站点选址): the maximal-covering location
problem (MCLP, Church & ReVelle) and the p-median problem, as mixed-integer programs in PuLP solved by HiGHS
(``pulp.HiGHS``, the highspy binding, no external binary).

Sites are the columns of the travel-time matrix (``times[i, j]``: seconds from site ``j`` to village ``i``):
``existing`` are today's stations, ``candidates`` the places a station could go (township centers, county sites).
A scenario keeps ``len(existing) - move`` or more of today's stations and opens ``len(existing) + add`` in all:
``add=1`` / ``add=2`` build new ones, ``move=1`` closes one and opens another.

The MCLP maximises the population reached within the threshold; among its optima a second stage picks the one
with the least population-weighted travel time (the p-median objective), so ties are broken the same way every
run. ``objective="pmedian"`` solves only the p-median. A village only keeps the assignment options that can
matter: with at most ``move`` of today's stations closed, one of its ``move + 1`` nearest stays open, so any site
slower than that one is dominated (this keeps the county's model to a few thousand variables)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pulp

OBJECTIVES = ("mclp", "pmedian")


@dataclass
class Solution:
    open_sites: list[int]
    added: list[int]
    closed: list[int]
    objective: str
    covered: int  # population within the threshold (MCLP) — also filled for the p-median
    weighted_s: float  # population-weighted mean travel time from the nearest open site
    status: str
    seconds: float
    stages: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"open": self.open_sites, "added": self.added, "closed": self.closed, "objective": self.objective,
                "covered": self.covered, "weighted_s": round(self.weighted_s, 1), "status": self.status,
                "seconds": round(self.seconds, 3)}


def solver(time_limit: float = 60.0) -> pulp.LpSolver:
    return pulp.HiGHS(msg=False, timeLimit=time_limit)


def _options(times: np.ndarray, sites: list[int], existing: list[int], move: int) -> list[list[int]]:
    """For each village, the sites worth assigning it to (finite and not dominated)."""
    sub = times[:, sites]
    ex_pos = [sites.index(j) for j in existing]
    out: list[list[int]] = []
    for i in range(times.shape[0]):
        row = sub[i]
        if ex_pos:
            ex_times = np.sort(row[ex_pos])
            bound = ex_times[min(move, len(ex_times) - 1)]
            keep = [sites[k] for k in range(len(sites)) if np.isfinite(row[k]) and row[k] <= bound]
        else:
            keep = [sites[k] for k in range(len(sites)) if np.isfinite(row[k])]
        out.append(keep)
    return out


def solve(times: np.ndarray, population: Sequence[float] | np.ndarray, *, existing: Sequence[int],
          candidates: Sequence[int], add: int = 1, move: int = 0, objective: str = "mclp", threshold_s: float = 900.0,
          time_limit: float = 60.0) -> Solution:
    """The best plan of a scenario; see the module's docstring. Raises ValueError on an impossible scenario."""
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}")
    started = time.perf_counter()
    existing = list(dict.fromkeys(int(j) for j in existing))
    sites = list(dict.fromkeys(existing + [int(j) for j in candidates]))
    new_sites = [j for j in sites if j not in existing]
    if add < 0 or move < 0 or move > len(existing):
        raise ValueError("add and move must be ≥ 0 and move at most the number of stations")
    if add + move > len(new_sites):
        raise ValueError("not enough candidate sites for this scenario")
    pop = np.asarray(population, dtype=float)
    p = len(existing) + add

    prob_sense = pulp.LpMaximize if objective == "mclp" else pulp.LpMinimize
    prob = pulp.LpProblem("stations", prob_sense)
    y = {j: prob.add_variable(f"y{j}", cat="Binary") for j in sites}
    prob += pulp.lpSum(y.values()) == p
    if existing:
        prob += pulp.lpSum(y[j] for j in existing) >= len(existing) - move

    reach = times <= threshold_s
    z: dict[int, pulp.LpVariable] = {}
    covered_expr = []
    for i in range(times.shape[0]):
        if pop[i] <= 0:
            continue
        near = [j for j in sites if reach[i, j]]
        if not near:
            continue
        z[i] = prob.add_variable(f"z{i}", 0, 1)
        prob += z[i] <= pulp.lpSum(y[j] for j in near)
        covered_expr.append(pop[i] * z[i])
    covered_total = pulp.lpSum(covered_expr)
    stages = []
    status = "Optimal"
    slv = solver(time_limit)
    if objective == "mclp":
        prob.setObjective(covered_total)
        prob.solve(slv)
        status = pulp.LpStatus[prob.status]
        stages.append(f"mclp:{status}")
        best_cover = pulp.value(prob.objective) or 0.0
        # stage 2: the least weighted time among the MCLP optima (a tolerance of half a person for rounding)
        prob.sense = pulp.LpMinimize
        prob += covered_total >= best_cover - 0.5
    options = _options(times, sites, existing, move)
    cost = []
    for i, opts in enumerate(options):
        if pop[i] <= 0 or not opts:
            continue
        x = {j: prob.add_variable(f"x{i}_{j}", 0, 1) for j in opts}
        prob += pulp.lpSum(x.values()) == 1
        for j, v in x.items():
            prob += v <= y[j]
            cost.append(pop[i] * float(times[i, j]) * v)
    prob.setObjective(pulp.lpSum(cost))
    prob.solve(slv)
    status2 = pulp.LpStatus[prob.status]
    stages.append(f"pmedian:{status2}")
    if status2 != "Optimal":
        status = status2
    open_sites = sorted(j for j in sites if (y[j].value() or 0) > 0.5)
    sub = times[:, open_sites]
    best = sub.min(axis=1) if open_sites else np.full(times.shape[0], np.inf)
    finite = np.isfinite(best) & (pop > 0)
    weighted = float((best[finite] * pop[finite]).sum() / pop[finite].sum()) if finite.any() else float("inf")
    return Solution(
        open_sites=open_sites, added=[j for j in open_sites if j not in existing],
        closed=[j for j in existing if j not in open_sites], objective=objective,
        covered=round(pop[best <= threshold_s].sum()), weighted_s=weighted, status=status,
        seconds=time.perf_counter() - started, stages=stages)
