"""The month's rota as plain data and functions (no database): which expert goes to which township request on
which day. Two solvers over the same input: CP-SAT (OR-Tools) and a greedy baseline, so that a run can say how
much of the townships' need each one meets.

Rules (both solvers): an expert serves a request only if the specialty matches (a request without a specialty
takes anyone) and the kind is one the expert does; one place a day per expert, never a day the expert is busy
(another posting) or unavailable; at most ``cap`` days a month per expert; at most one expert a day per request
and at most the request's days a month. CP-SAT maximises the days met (and, among plans meeting as
many, minimises the largest load); with time left, a second phase keeps those days and minimises the days beyond
each expert's fair share of the month's requests. ``seconds`` bounds the whole call, building included."""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

CANDIDATES = 24  # experts considered for a request without a specialty (see ``candidates``)
DEFAULT_CAP = 8  # days a month an expert is away from the home hospital when no availability was filed


@dataclass(frozen=True)
class Need:
    """A township's request for the month: ``days`` expert-days of ``kind`` in ``specialty`` at ``host``."""

    id: int
    host: int
    kind: str
    specialty: str
    days: int


@dataclass(frozen=True)
class Expert:
    id: int
    specialty: str
    cap: int = DEFAULT_CAP
    kinds: frozenset[str] = frozenset()  # empty: every kind
    unavailable: frozenset[dt.date] = frozenset()


@dataclass
class Plan:
    """A solver's answer: (expert, need, day) triples, and what share of the requested days they meet."""

    solver: str
    assignments: list[tuple[int, int, dt.date]]
    requested: int
    seconds: float
    status: str = ""
    loads: dict[int, int] = field(default_factory=dict)

    @property
    def met(self) -> int:
        return len(self.assignments)

    @property
    def share(self) -> float:
        return self.met / self.requested if self.requested else 1.0


def working_days(month: dt.date, holidays: frozenset[dt.date] = frozenset()) -> list[dt.date]:
    """Monday to Friday of the month, without the given holidays."""
    first = month.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    days = [first + dt.timedelta(days=i) for i in range((nxt - first).days)]
    return [d for d in days if d.weekday() < 5 and d not in holidays]


def eligible(e: Expert, n: Need) -> bool:
    return (not n.specialty or n.specialty == e.specialty) and (not e.kinds or n.kind in e.kinds)


def _free(e: Expert, d: dt.date, busy: set[tuple[int, dt.date]]) -> bool:
    return d not in e.unavailable and (e.id, d) not in busy


def _plan(solver: str, out: list[tuple[int, int, dt.date]], needs: list[Need], t0: float, status: str) -> Plan:
    loads: dict[int, int] = defaultdict(int)
    for e, _n, _d in out:
        loads[e] += 1
    return Plan(solver, sorted(out, key=lambda a: (a[2], a[1], a[0])), sum(n.days for n in needs),
                time.perf_counter() - t0, status, dict(loads))


def greedy_loads(assignments) -> dict[int, int]:
    loads: dict[int, int] = defaultdict(int)
    for e, _n, _d in assignments:
        loads[e] += 1
    return loads


def greedy(needs: list[Need], experts: list[Expert], days: list[dt.date],
           busy: set[tuple[int, dt.date]] | None = None) -> Plan:
    """The baseline: requests by size (largest first), days in order, each day the eligible free expert with the
    fewest days so far."""
    t0 = time.perf_counter()
    busy = set(busy or ())
    load: dict[int, int] = defaultdict(int)
    out: list[tuple[int, int, dt.date]] = []
    for n in sorted(needs, key=lambda n: (-n.days, n.id)):
        got = 0
        pool = [e for e in experts if eligible(e, n)]
        for d in days:
            if got >= n.days:
                break
            free = [e for e in pool if load[e.id] < e.cap and _free(e, d, busy)]
            if not free:
                continue
            e = min(free, key=lambda e: (load[e.id], e.id))
            out.append((e.id, n.id, d))
            busy.add((e.id, d))
            load[e.id] += 1
            got += 1
    return _plan("greedy", out, needs, t0, "FEASIBLE")


def candidates(needs: list[Need], experts: list[Expert], days: list[dt.date], busy: set[tuple[int, dt.date]],
               limit: int = CANDIDATES, keep: frozenset[tuple[int, int]] = frozenset()) -> dict[Need, list[Expert]]:
    """The experts CP-SAT considers for each request: every eligible one, or for a broad request (no specialty:
    anyone) the ``limit`` with the most days to spare (free days and cap, less what the specialised requests
    of their specialty already ask of them), plus the (expert, request) pairs in ``keep`` (the greedy plan's,
    so that CP-SAT's starting hint is whole). Keeps the model to a size two cores presolve in a second."""
    free = {e.id: min(e.cap, sum(_free(e, d, busy) for d in days)) for e in experts}
    asked: dict[str, int] = defaultdict(int)
    supply: dict[str, int] = defaultdict(int)
    for n in needs:
        if n.specialty:
            asked[n.specialty] += n.days
    for e in experts:
        supply[e.specialty] += free[e.id]
    out: dict[Need, list[Expert]] = {}
    for n in needs:
        pool = [e for e in experts if eligible(e, n) and free[e.id] > 0]
        if not n.specialty and len(pool) > limit:
            def spare(e: Expert) -> float:
                share = asked[e.specialty] / supply[e.specialty] if supply[e.specialty] else 0
                return free[e.id] * (1 - min(share, 1))

            ranked = sorted(pool, key=lambda e: (-spare(e), e.id))
            pool = ranked[:limit] + [e for e in ranked[limit:] if (e.id, n.id) in keep]
        out[n] = pool
    return out


def solve(needs: list[Need], experts: list[Expert], days: list[dt.date],
          busy: set[tuple[int, dt.date]] | None = None, *, seconds: float = 8.0, workers: int = 2,
          seed: int = 1) -> Plan:
    """CP-SAT: maximise the requested days met, then the spread of the load among the experts. Stops after
    ``seconds`` with the best plan found (status FEASIBLE) or proves it optimal (OPTIMAL)."""
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    busy = set(busy or ())
    m = cp_model.CpModel()
    x: dict[tuple[int, int, dt.date], Any] = {}
    by_ed: dict[tuple[int, dt.date], list] = defaultdict(list)
    by_nd: dict[tuple[int, dt.date], list] = defaultdict(list)
    by_n: dict[int, list] = defaultdict(list)
    by_e: dict[int, list] = defaultdict(list)
    base = set(greedy(needs, experts, days, busy).assignments)
    for n, pool in candidates(needs, experts, days, busy, keep=frozenset((e, r) for e, r, _d in base)).items():
        for e in pool:
            for d in days:
                if _free(e, d, busy):
                    v = m.new_bool_var("")
                    x[e.id, n.id, d] = v
                    by_ed[e.id, d].append(v)
                    by_nd[n.id, d].append(v)
                    by_n[n.id].append(v)
                    by_e[e.id].append(v)
    for vs in by_ed.values():
        m.add_at_most_one(vs)
    for vs in by_nd.values():
        m.add_at_most_one(vs)
    need_days = {n.id: n.days for n in needs}
    total = cp_model.LinearExpr.sum
    for nid, vs in by_n.items():
        m.add(total(vs) <= need_days[nid])
    caps = {e.id: e.cap for e in experts}
    hi = max(caps.values(), default=0)
    top = m.new_int_var(0, hi, "top")
    fair = -(-sum(n.days for n in needs) // max(len(experts), 1))  # the fair share of days, rounded up
    excess = []
    for eid, vs in by_e.items():
        load = total(vs)
        m.add(load <= caps[eid])
        m.add(load <= top)
        over = m.new_int_var(0, caps[eid], "")
        m.add(over >= load - fair)
        excess.append(over)
    met = total(list(x.values())) if x else 0
    # first the days met (and the largest load), then, keeping those days, the days above the fair share
    m.maximize(met * (hi + 1) - top)
    # start from the greedy plan: CP-SAT then only improves on the baseline
    for key, v in x.items():
        m.add_hint(v, key in base)
    if base:
        m.add_hint(top, max(greedy_loads(base).values()))
    s = cp_model.CpSolver()
    s.parameters.max_time_in_seconds = max(seconds - (time.perf_counter() - t0), 0.5)
    s.parameters.num_workers = workers
    s.parameters.random_seed = seed
    s.parameters.cp_model_probing_level = 0  # probing and symmetry detection on ~10k booleans eat the budget
    s.parameters.symmetry_level = 0
    status = s.solve(m)
    name = s.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _plan("cp-sat", [], needs, t0, name)
    out = [k for k, v in x.items() if s.boolean_value(v)]
    left = seconds - (time.perf_counter() - t0)
    if left > 1 and out:
        # the second phase: as many days, spread more evenly; starts from the first phase's plan
        m.clear_hints()
        for v in x.values():
            m.add_hint(v, s.boolean_value(v))
        m.add(met >= len(out))
        m.minimize(total(excess) * (hi + 1) + top)
        s.parameters.max_time_in_seconds = left
        again = s.solve(m)
        if again in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            out = [k for k, v in x.items() if s.boolean_value(v)]
            name = f"{name}+{s.status_name(again)}"
    return _plan("cp-sat", out, needs, t0, name)
