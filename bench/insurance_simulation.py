"""A what-if simulation re-run over a county year of discharges: seconds against the 10 s target, side by side
with a simple baseline (a per-case Python loop over ORM-free dicts calling ``insurance.payment.drg_payment``).

    python bench/insurance_simulation.py --cases 70000 -n 5        # a temporary SQLite database
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/h_payment python bench/insurance_simulation.py --keep

It builds a synthetic county in the configured database (one community: a county hospital, a TCM hospital, a
maternal and child hospital, 18 township centers; ``--cases`` discharges of the year whose DRGs are the
CHS-DRG 2.0 table's own codes drawn with a Zipf-like frequency, costs log-normal around each DRG's mean so that
some are high and low outliers, ~1 % special review, ~1.5 % ungroupable, ~3 % self-pay), computes the weights
from those cases (``weights.compute_weights``), sets the rates and the budgets, then times:

* ``run_simulation`` end to end (load the year from the database, baseline and scenario, per member and fund
  effect, saved as a Simulation) — the figure the target is about;
* the vectorised computation alone (arrays loaded once: two ``simulation.pay`` passes and the per-member sums);
* the baseline: the same two passes as a Python loop, one ``payment.drg_payment`` call per case and pass, over
  dicts already in memory (its loading is not charged to it);
* and, for reference, ``weights.price_cases`` (every discharge priced by DRG and DIP with its explanation,
  written as CasePayment rows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from _common import bench_env

TARGET_S = 10.0
YEAR = 2026
VERSION = "CHS-DRG 2.0"
DRG_TABLE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "chs-drg" / "CHS_DRG_20" / "DRG.dat"
SCENARIO = {"rate_pct": {"county": -3, "": 5}, "weight_pct": {"MDC:F": 2},
            "out_of_county_deduction": 0.5}


def _drgs() -> list[str]:
    try:
        from yigongti.insurance.drg import pack_for

        codes = sorted(pack_for(VERSION).drg_names)
        if codes:
            return codes
    except Exception:  # the grouper's pack is optional here: the table itself will do
        pass
    if DRG_TABLE.exists():
        return [ln.split()[0] for ln in DRG_TABLE.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return [f"{m}{a}{i}{s}" for m in "BEFGIK" for a in "RSTU" for i in range(1, 5) for s in "135"]


def build(n: int, seed: int = 7) -> None:
    """A synthetic county year: facilities, ``n`` discharges with encounters and groups (bulk inserts)."""
    from yigongti.encounters.models import Encounter
    from yigongti.insurance.models import CaseGroup, Discharge
    from yigongti.orgs.models import Facility, MedicalCommunity, Region

    rng = random.Random(seed)
    county = Region.objects.create(code="431127000000", name="蓝山县", level="county")
    community = MedicalCommunity.objects.create(name="蓝山县医共体", region=county)
    specs = [("431127A100001", "县人民医院", "A100", 0.45), ("431127A210001", "县中医医院", "A210", 0.2),
             ("431127G100001", "县妇幼保健院", "G100", 0.08)]
    specs += [(f"4311271{i:02d}B200", f"第{i + 1}乡镇卫生院", "C210", 0.27 / 18) for i in range(18)]
    facilities = [Facility.objects.create(code=c, name=nm, type=t, region=county, community=community)
                  for c, nm, t, _s in specs]
    shares = [s for *_x, s in specs]
    drgs = _drgs()
    freq = [1 / (i + 1) ** 0.9 for i in range(len(drgs))]
    rng.shuffle(freq)
    mean_cost = {d: rng.lognormvariate(9.0, 0.7) for d in drgs}
    depts = ["内科", "外科", "妇产科", "儿科", "骨科", "中医科"]
    t0 = time.perf_counter()
    chosen = rng.choices(drgs, weights=freq, k=n)
    where = rng.choices(range(len(facilities)), weights=shares, k=n)
    encounters, rows = [], []
    for i in range(n):
        f = facilities[where[i]]
        day = dt.date(YEAR, 1, 1) + dt.timedelta(days=rng.randrange(365))
        los = max(1, int(rng.lognormvariate(1.8, 0.5)))
        cost = Decimal(str(round(mean_cost[chosen[i]] * rng.lognormvariate(0, 0.45) * (0.7 if where[i] > 2 else 1),
                                 2)))
        scheme = rng.choices(["resident", "employee", "none"], weights=[80, 17, 3])[0]
        encounters.append(Encounter(area_code="431127100201", residence_county="431127", facility=f,
                                    type="inpatient", admit_date=day - dt.timedelta(days=los), discharge_date=day,
                                    total_cost=cost, scheme=scheme))
        rows.append((f, day, los, cost, scheme, rng.choice(depts)))
    Encounter.objects.bulk_create(encounters, batch_size=5000)
    discharges = [Discharge(encounter=e, facility=f, department=dept, scheme="" if scheme == "none" else scheme,
                            sex=rng.choice("12"), age_years=rng.randrange(1, 95), admit_date=day - dt.timedelta(
                                days=los), discharge_date=day, los_days=los, diagnoses=["I10"], procedures=[],
                            total_cost=cost, fund_paid=(cost * Decimal("0.68")).quantize(Decimal("0.01")),
                            special_review=rng.random() < 0.01)
                  for e, (f, day, los, cost, scheme, dept) in zip(encounters, rows, strict=True)]
    Discharge.objects.bulk_create(discharges, batch_size=5000)
    groups = []
    for d, code in zip(discharges, chosen, strict=True):
        ok = rng.random() >= 0.015
        groups.append(CaseGroup(discharge=d, version=VERSION, mdc=code[0] if ok else "", adrg=code[:3] if ok else "",
                                drg=code if ok else "", status="grouped" if ok else "ungroupable", trace=[]))
    CaseGroup.objects.bulk_create(groups, batch_size=5000)
    print(f"built {n:,} discharges at {len(facilities)} members ({len(set(chosen))} DRGs) in "
          f"{time.perf_counter() - t0:.1f} s")


def terms() -> None:
    from yigongti.core.actor import Actor
    from yigongti.insurance import weights
    from yigongti.insurance.models import Budget
    from yigongti.orgs.models import MedicalCommunity

    actor = Actor.system("bench")
    t = time.perf_counter()
    out = weights.compute_weights(YEAR, VERSION, actor=actor)
    print(f"weights of {out['drgs']} DRGs from {out['cases']:,} cases in {time.perf_counter() - t:.1f} s")
    weights.set_rates(YEAR, [{"level": lv, "scheme": sc, "rate": r} for sc in ("resident", "employee")
                             for lv, r in (("county", 10500), ("township", 8200), ("village", 7000), ("", 9000))],
                      actor=actor)
    community = MedicalCommunity.objects.get()
    for scheme, amount in (("resident", "450000000"), ("employee", "120000000")):
        Budget.objects.create(community=community, year=YEAR, scheme=scheme, prior_spend=Decimal(amount),
                              growth_rate=Decimal("0.04"), amount=Decimal(amount), retained_share=Decimal("0.6"),
                              overspend_cap=Decimal("0.1"), overspend_share=Decimal("0.5"),
                              out_of_county_deduction=Decimal("0.3"))


def python_loop(rows: list[dict], weights: dict, rates: dict, scen_weights: dict, scen_rates: dict) -> dict:
    """The baseline: both passes case by case with the pure Decimal function."""
    from yigongti.insurance.payment import drg_payment

    out: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in rows:
        for k, (w, rt) in enumerate(((weights, rates), (scen_weights, scen_rates))):
            p = drg_payment(drg=r["drg"], grouped=r["grouped"], cost=r["cost"], level=r["level"], scheme=r["scheme"],
                            weight=w.get(r["drg"]), rates=rt, special_review=r["special"])
            out[r["facility"]][k] += p.amount
    return out


def run(reps: int) -> None:
    import numpy as np

    from yigongti.core.actor import Actor
    from yigongti.insurance import simulation, weights
    from yigongti.insurance.payment import Rate, Weight
    from yigongti.insurance.queries import payment as reads
    from yigongti.orgs.models import Facility, MedicalCommunity

    actor = Actor.system("bench")
    times, res = [], {}
    for _ in range(reps):
        t = time.perf_counter()
        res = simulation.run_simulation(YEAR, SCENARIO, actor=actor, name="bench")
        times.append(time.perf_counter() - t)
    facilities = Facility.objects.filter(community__isnull=False)
    cases, base, mdc_of, adrg_of = simulation.load(YEAR, VERSION, facilities)
    scen, _lines = simulation.apply_parameters(SCENARIO, base, cases.drgs, mdc_of, adrg_of)
    vec = []
    for _ in range(max(reps, 3)):
        t = time.perf_counter()
        _b, s = simulation.compare(cases, base, scen)
        vec.append(time.perf_counter() - t)
    # the baseline's data: ORM-free dicts (not timed), its terms as the pure function's dataclasses
    yc = reads.load_year(YEAR, VERSION, facilities=facilities)
    rows = [{"facility": yc.facility[i], "drg": yc.drg[i], "grouped": yc.grouped[i], "cost": yc.cost[i],
             "level": yc.level[i], "scheme": yc.scheme[i], "special": yc.special[i]} for i in range(len(yc))]
    w0 = weights.weight_table(YEAR, VERSION)
    r0 = weights.rate_table(YEAR)
    w1 = {d: Weight(x.weight * (Decimal("1.02") if mdc_of.get(d, d[:1]) == "F" else 1), x.avg_cost, x.grassroots)
          for d, x in w0.items()}
    r1 = {k: Rate(v.rate * (Decimal("0.97") if k[0] == "county" else Decimal("1.05") if k[0] == "" else 1),
                  v.high, v.low) for k, v in r0.items()}
    t = time.perf_counter()
    loop = python_loop(rows, w0, r0, w1, r1)
    loop_s = time.perf_counter() - t
    # both agree (to rounding of the scaled rates and weights)
    fac_index = {f: i for i, f in enumerate(cases.facilities)}
    worst = max(abs(float(v[1]) - s[fac_index[f]]) for f, v in loop.items())
    total = float(sum(v[1] for v in loop.values()))
    t = time.perf_counter()
    priced = weights.price_cases(YEAR, actor=actor, version=VERSION)
    price_s = time.perf_counter() - t
    community = MedicalCommunity.objects.get()
    print(f"{len(cases):,} discharges of {YEAR}, {len(cases.facilities)} members of {community.name}; "
          f"{np.count_nonzero(cases.drg >= 0):,} grouped with a weight")
    print(f"{'figure':52} {'seconds':>9}")
    print(f"{'run_simulation end to end (median of ' + str(reps) + ')':52} {sorted(times)[len(times) // 2]:9.3f}"
          f"   target ≤ {TARGET_S:.0f} s")
    print(f"{'  of which loading the year (last run)':52} {res['seconds']['load']:9.3f}")
    print(f"{'vectorised compute, 2 passes (median)':52} {sorted(vec)[len(vec) // 2]:9.4f}")
    print(f"{'baseline: Python loop, 2 passes':52} {loop_s:9.3f}")
    print(f"{'price_cases (DRG + DIP, ' + format(2 * priced['cases'], ',') + ' CasePayment rows)':52} {price_s:9.3f}")
    print(f"baseline ÷ vectorised compute = {loop_s / sorted(vec)[len(vec) // 2]:.0f}×; "
          f"baseline ÷ end to end = {loop_s / sorted(times)[len(times) // 2]:.1f}×")
    print(f"scenario total {total:,.2f} yuan; largest per-member difference loop vs arrays {worst:.2f} yuan; "
          f"fund: DRG {res['fund']['drg_scenario']:,.0f} vs available {res['fund']['available_scenario']:,.0f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=70_000)
    ap.add_argument("-n", type=int, default=5, help="timed end-to-end runs")
    ap.add_argument("--keep", action="store_true", help="use the configured database (DATABASE_URL) as it is; "
                                                        "build the county only if it has no discharges")
    args = ap.parse_args()
    tmp = None
    if not args.keep:
        tmp = tempfile.TemporaryDirectory(prefix="ygt-simulation-")
        os.environ["YIGONGTI_DATA_DIR"] = tmp.name
        os.environ.pop("DATABASE_URL", None)
    bench_env(os.environ)  # type: ignore[arg-type]
    from _common import setup_django

    setup_django()
    from django.core.management import call_command

    from yigongti.insurance.models import Discharge

    t = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"migrated in {time.perf_counter() - t:.0f} s")
    if not Discharge.objects.exists():
        build(args.cases)
        terms()
    run(args.n)
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
