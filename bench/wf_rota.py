"""The experts' monthly rota: ~100 experts × 15 townships, CP-SAT against the greedy baseline in the same run.

    python bench/wf_rota.py [--experts 100] [--townships 15] [--seconds 8] [--seed 1] [--runs 3]

A seeded synthetic month (no database): experts in eight specialties with a skewed supply, caps of 4–10 days,
a quarter to a third of their working days unavailable (their own clinics, on-call); each township asks for three
kinds of help (one without a specialty). ``--tight``: scarcer experts (caps 2–6, a third to half unavailable).
Prints the share of the requested days each solver meets, the ratio
CP-SAT / greedy, the seconds (CP-SAT's budget is ``--seconds``, the whole run must stay ≤ 10 s) and the load."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics

from yigongti.workforce import rota

SPECIALTIES = ["内科", "外科", "儿科", "妇产科", "中医科", "骨科", "眼科", "口腔科"]
SUPPLY = [30, 18, 12, 10, 10, 8, 6, 6]  # experts per specialty (of 100), scaled


def instance(n_experts: int, n_townships: int, seed: int, tight: bool = False):
    r = random.Random(seed)
    days = rota.working_days(dt.date(2026, 12, 1))
    experts = []
    for i in range(n_experts):
        spec = r.choices(SPECIALTIES, weights=SUPPLY)[0]
        lo, hi = (len(days) // 3, len(days) // 2) if tight else (len(days) // 4, len(days) // 3)
        off = frozenset(r.sample(days, r.randint(lo, hi)))
        caps = [2, 3, 4, 6] if tight else [4, 6, 8, 10]
        experts.append(rota.Expert(i + 1, spec, cap=r.choice(caps), unavailable=off))
    needs = []
    for t in range(n_townships):
        for k in range(3):
            spec = "" if k == 2 else r.choice(SPECIALTIES)
            needs.append(rota.Need(t * 10 + k, t, r.choice(["clinic", "rounds", "teaching"]), spec,
                                   r.choice([6, 8, 10, 12, 16])))
    return needs, experts, days


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--experts", type=int, default=100)
    ap.add_argument("--townships", type=int, default=15)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tight", action="store_true", help="scarcer experts: caps 2–6 days, a third to half unavailable")
    a = ap.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    rows = []
    for run in range(a.runs):
        needs, experts, days = instance(a.experts, a.townships, a.seed + run, a.tight)
        g = rota.greedy(needs, experts, days)
        c = rota.solve(needs, experts, days, seconds=a.seconds)
        total = g.seconds + c.seconds
        rows.append((g.share, c.share, c.seconds, total))
        spread_g = statistics.pstdev(g.loads.values()) if g.loads else 0
        spread_c = statistics.pstdev(c.loads.values()) if c.loads else 0
        print(f"seed {a.seed + run}: requested {g.requested} expert-days · greedy {g.share:.1%} "
              f"({g.seconds * 1000:.0f} ms) · CP-SAT {c.share:.1%} ({c.seconds:.2f} s, {c.status}) · "
              f"ratio {c.share / g.share if g.share else float('inf'):.3f} · load sd greedy {spread_g:.2f} / "
              f"CP-SAT {spread_c:.2f} · whole run {total:.2f} s {'≤' if total <= 10 else '>'} 10 s")
    gs, cs = statistics.mean(r[0] for r in rows), statistics.mean(r[1] for r in rows)
    print(f"mean: greedy {gs:.1%}, CP-SAT {cs:.1%}, CP-SAT / greedy = {cs / gs:.3f}; "
          f"slowest run {max(r[3] for r in rows):.2f} s; load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
