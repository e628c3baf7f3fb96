"""CHS-DRG grouping speed: our grouper against a naive table-scanning one, on a city-year of generated cases.

    python bench/drg_group.py                       # 200,000 cases under CHS-DRG 2.0, baseline on 2,000
    python bench/drg_group.py --cases 200000 --version "CHS-DRG 1.1" --baseline-cases 2000

1. Loads both shipped rule packs (timed: parse, count check, checksum, indexes).
2. Generates cases whose codes come from the tables' own lists (seeded): ~45 % surgical (a surgical ADRG's
   main diagnosis and main procedure), ~45 % medical (a medical ADRG's main diagnosis), newborns with a birth
   weight, pregnancies, HIV and multiple-trauma cases, 0–5 secondary diagnoses drawn from the MCC/CC lists and
   the MDC lists, and ~2 % invalid cases (a main diagnosis from the not-valid-as-main list, an unknown
   procedure code, a newborn without weight).
3. Groups all of them with ``group_many`` (trace kept) and a subsample with the baseline below, in the same
   process, and prints cases/s of both, the ratio, and how often the two agree on the subsample.

The baseline is what a straightforward implementation does: the tables as lists of rows, scanned per case
(which MDC list holds the main diagnosis, which ADRG list holds the procedure, whether a secondary diagnosis is
in the MCC/CC list, which exclusion table holds the main diagnosis), with the same rules and a trace. The issue
quotes OpenDRG's Python grouper at about 3,500 cases/s on this machine (not run here).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from yigongti.insurance.drg import VERSIONS, Case, group_many, load_pack, pack_dir
from yigongti.insurance.drg.rulepack import (
    ANY_DX,
    ANY_PROC,
    MAIN_DX,
    MAIN_PROC,
    NO_OR_PROC,
    OR_PROC,
    OTHER_DX,
    RulePack,
)

OPENDRG_CASES_PER_S = 3500


def generate(pack: RulePack, n: int, seed: int = 1) -> list[Case]:
    rng = random.Random(seed)
    body = [m for m in pack.mdc_names if m not in ("MDCA", "MDCP", "MDCY", "MDCZ")]
    surgical: list[tuple[str, list[str], list[str]]] = []
    medical: list[tuple[str, list[str]]] = []
    ps: list[str]
    for mdc in body:
        mdc_dx = sorted(pack.mdc_diagnoses[mdc] - pack.invalid_main_diagnoses)
        for adrg in pack.adrgs_of_mdc[mdc]:
            alt = pack.rules[adrg].alternatives[0]
            dx = next((sorted(r.codes) for r in alt if r.kind == MAIN_DX and r.codes), mdc_dx)
            dx = [d for d in dx if d in pack.mdc_diagnoses[mdc]] or mdc_dx
            if "A" <= adrg[1] <= "J":
                main_procs = next((sorted(r.codes) for r in alt if r.kind == MAIN_PROC and r.codes), [])
                if main_procs:
                    surgical.append((mdc, dx, main_procs))
            elif len(alt) == 1 and alt[0].kind == MAIN_DX:
                medical.append((mdc, dx))
    mcc, cc = sorted(pack.mcc), sorted(pack.cc)
    all_dx = sorted(pack.mdcs_of_diagnosis)
    newborn_dx = sorted(pack.mdc_diagnoses.get("MDCP", frozenset()))
    hiv = sorted(pack.mdc_diagnoses.get("MDCY", frozenset()))
    regions = [sorted(v) for v in pack.trauma_regions.values()]
    invalid_main = sorted(pack.invalid_main_diagnoses) or ["Z99.999"]
    non_or = sorted(pack.not_main_procedures) or ["89.0000"]
    cases: list[Case] = []
    for i in range(n):
        r = rng.random()
        sex = rng.choice("12")
        age = rng.randint(18, 90)
        age_days = None
        weight = None
        procs: tuple[str, ...] = ()
        if r < 0.45:
            mdc, dxs, ps = rng.choice(surgical)
            main = rng.choice(dxs)
            procs = (rng.choice(ps),) + ((rng.choice(non_or),) if rng.random() < 0.3 else ())
        elif r < 0.90:
            mdc, dxs = rng.choice(medical)
            main = rng.choice(dxs)
        elif r < 0.93 and newborn_dx:
            mdc, main, age, age_days, weight = "MDCP", rng.choice(newborn_dx), 0, rng.randint(0, 28), \
                rng.randint(1000, 4200)
        elif r < 0.95 and hiv:
            mdc, main = "MDCY", rng.choice(hiv)
        elif r < 0.98 and regions:
            a, b = rng.sample(regions, 2)
            mdc, main = "MDCZ", rng.choice(a)
            cases.append(Case(f"C{i:07d}", sex, age, (main, rng.choice(b), rng.choice(cc)), (), los_days=9))
            continue
        else:
            kind = rng.randrange(3)
            if kind == 0:
                main, mdc = rng.choice(invalid_main), ""
            elif kind == 1:
                mdc, dxs, ps = rng.choice(surgical)
                main, procs = rng.choice(dxs), ("99.99x999",)
            else:
                mdc, main, age, age_days = "MDCP", rng.choice(newborn_dx or all_dx), 0, 5
        if mdc == "MDCM":
            sex = "1"
        elif mdc in ("MDCN", "MDCO"):
            sex, age = "2", rng.randint(18, 45)
        secondaries = []
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 5))):
            x = rng.random()
            secondaries.append(rng.choice(mcc) if x < 0.15 else rng.choice(cc) if x < 0.55 else rng.choice(all_dx))
        cases.append(Case(f"C{i:07d}", sex, age, (main, *secondaries), procs, age_days=age_days,
                          birth_weight_g=weight, los_days=rng.randint(1, 30),
                          discharge_mode="5" if rng.random() < 0.01 else "1"))
    return cases


class NaiveGrouper:
    """The straightforward way: the tables as lists, scanned per case (no indexes), same rules and a trace."""

    def __init__(self, pack: RulePack) -> None:
        self.pack = pack
        self.mdc_lists = [(m, list(pack.mdc_diagnoses[m])) for m in pack.mdc_names]
        self.adrg_rows = [(a, [[(r.kind, list(r.codes), [(x.kind, list(x.codes)) for x in r.alts]) for r in alt]
                               for alt in pack.rules[a].alternatives]) for a in pack.adrg_names]
        self.pre_rows: list = [(a, [[(ANY_PROC if k == MAIN_PROC else k, c, x) for k, c, x in alt] for alt in alts])
                         for a, alts in self.adrg_rows if a[0] == "A"]
        self.mcc_rows = list(pack.mcc_table.items())
        self.cc_rows = list(pack.cc_table.items())
        self.cce_rows = [(dx, t) for dx, ts in pack.exclusion_tables.items() for t in ts]
        self.invalid = list(pack.invalid_main_diagnoses)
        self.procs = list(pack.procedure_names)
        self.or_procs = list(pack.or_procedures)
        self.drgs = list(pack.drg_names.items())

    def _ok(self, kind, codes, alts, main, others, mp, procs) -> bool:
        if kind == MAIN_DX:
            return main in codes
        if kind == MAIN_PROC:
            return mp in codes
        if kind == ANY_PROC:
            return any(p in codes for p in procs)
        if kind == OTHER_DX:
            return any(d in codes for d in others)
        if kind == ANY_DX:
            return main in codes or any(d in codes for d in others)
        if kind == OR_PROC:
            return mp in self.or_procs
        if kind == NO_OR_PROC:
            return mp not in self.or_procs
        return any(self._ok(k, c, (), main, others, mp, procs) for k, c in alts)

    def group(self, case: Case) -> tuple[str, str, list[str]]:
        trace: list[str] = []
        main, others = case.diagnoses[0], case.diagnoses[1:]
        procs = case.procedures
        if main in self.invalid:
            return "ungroupable", "", [f"主要诊断 {main} 不能作为主要诊断"]
        mdcs = [m for m, codes in self.mdc_lists if main in codes]
        if not mdcs:
            return "ungroupable", "", [f"主要诊断 {main} 不在任何 MDC"]
        for p in procs:
            if p not in self.procs and self.pack.not_main_procedures:  # 1.1 lists only procedures that group
                return "ungroupable", "", [f"手术或操作 {p} 不在手术表"]
        mp = procs[0] if procs else ""
        adrg = ""
        for a, alts in self.pre_rows:
            if any(all(self._ok(k, c, x, main, others, mp, procs) for k, c, x in alt) for alt in alts):
                adrg = a
                break
        if not adrg:
            mdc = next((m for m in mdcs if not (m == "MDCM" and case.sex != "1")
                        and not (m in ("MDCN", "MDCO") and case.sex != "2")), "")
            if not mdc:
                return "ungroupable", "", ["性别矛盾"]
            trace.append(f"主要诊断 {main} 属 {mdc}")
            candidates = [(a, alts) for a, alts in self.adrg_rows if "MDC" + a[0] == mdc]
            for a, alts in sorted(candidates, key=lambda r: not "A" <= r[0][1] <= "J"):
                if any(all(self._ok(k, c, x, main, others, mp, procs) for k, c, x in alt) for alt in alts):
                    adrg = a
                    break
            if not adrg:
                return "ungroupable", mdc, trace
        trace.append(f"入 ADRG {adrg}")
        suffixes = "".join(sorted(d[3] for d, _ in self.drgs if d[:3] == adrg))
        level = ""
        if suffixes != "9":
            excl = [t for dx, t in self.cce_rows if dx == main]
            for d in others:
                for kind, rows in (("MCC", self.mcc_rows), ("CC", self.cc_rows)):
                    t = next((t for code, t in rows if code == d), None)
                    if t is not None:
                        if t and t in excl:
                            trace.append(f"其他诊断 {d} 为 {kind}，但被主要诊断排除（表 {t}）")
                        else:
                            trace.append(f"其他诊断 {d} 为 {kind}")
                            level = "MCC" if kind == "MCC" else level or "CC"
                        break
        if "9" in suffixes:
            s = "9"
        elif level == "MCC":
            s = suffixes[0]
        elif level == "CC":
            s = "3" if "3" in suffixes else "5"
        else:
            s = "5"
        trace.append(f"DRG {adrg}{s}")
        return "grouped", adrg + s, trace


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=200_000)
    ap.add_argument("--baseline-cases", type=int, default=2_000)
    ap.add_argument("--version", default=VERSIONS[0], choices=VERSIONS)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    packs = {}
    for v in VERSIONS:
        t0 = time.perf_counter()
        packs[v] = load_pack(pack_dir(v), v)
        print(f"load {v}: {time.perf_counter() - t0:.2f} s  counts {packs[v].counts}  "
              f"sha256 {packs[v].checksum[:16]}…")
    pack = packs[args.version]
    t0 = time.perf_counter()
    cases = generate(pack, args.cases, args.seed)
    print(f"generated {len(cases):,} cases in {time.perf_counter() - t0:.1f} s ({args.version}); "
          f"load average {os.getloadavg()[0]:.2f}")

    t0, c0 = time.perf_counter(), time.process_time()
    results = group_many(pack, cases)
    ours_s, ours_cpu = time.perf_counter() - t0, time.process_time() - c0
    ours = len(cases) / ours_s
    grouped = sum(r.status == "grouped" for r in results)
    lines = sum(len(r.trace) for r in results)
    print(f"ours:     {len(cases):,} cases in {ours_s:.2f} s = {ours:,.0f} cases/s "
          f"({len(cases) / ours_cpu:,.0f} per CPU-second; {grouped / len(cases):.1%} grouped, "
          f"{lines / len(cases):.1f} trace lines per case)")

    naive = NaiveGrouper(pack)
    sub = cases[: args.baseline_cases]
    t0, c0 = time.perf_counter(), time.process_time()
    base = [naive.group(c) for c in sub]
    base_s, base_cpu = time.perf_counter() - t0, time.process_time() - c0
    base_rate = len(sub) / base_s
    agree = sum(1 for r, b in zip(results, base, strict=False) if r.drg == b[1])
    print(f"baseline: {len(sub):,} cases in {base_s:.2f} s = {base_rate:,.0f} cases/s "
          f"({len(sub) / base_cpu:,.0f} per CPU-second; table scans per case)")
    print(f"ratio ours/baseline: {ours / base_rate:,.1f}×; ours vs OpenDRG's ~{OPENDRG_CASES_PER_S:,} cases/s quoted "
          f"in the issue: {ours / OPENDRG_CASES_PER_S:.1f}×")
    print(f"load average after: {os.getloadavg()[0]:.2f} (the machine is shared: compare the ratio)")
    print(f"same DRG as the baseline on the subsample: {agree / len(sub):.1%} (the baseline skips the newborn, "
          f"HIV and multiple-trauma steps and the age checks)")


if __name__ == "__main__":
    main()
