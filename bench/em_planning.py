"""Station planning for the full demo county (450,000 residents) on a generated road network of ≥ 20,000 nodes:
the plan (all villages as demand, all township centers and the county seat as candidates; add one, add two, move
one) against its 30 s target, and the year's simulation (today's stations and each proposal on the same calls)
against its 60 s target — with, side by side, a brute-force enumeration of every candidate pair (the optimum the
MILP must match, and what it costs without a solver).

    python bench/em_planning.py                      # a temporary SQLite database
    python bench/em_planning.py --nodes 40000 --population 450000 --objective pmedian

It builds only what planning reads: the demo county's regions and facilities (demo.orgs), village populations
summing to ``--population`` (each township's share of the demo county, spread over its villages), the network by
``roads.generate.generate_network``, the 120 stations of demo.orgs.STATIONS plus the county hospital's sub-center
on their townships' centers, and about one ambulance per 30,000 residents."""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from _common import bench_env

PLAN_TARGET_S = 30.0
SIM_TARGET_S = 60.0


def build_county(population: int, nodes: int, seed: int):
    import datetime as dt

    import numpy as np
    from django.db import transaction
    from django.utils import timezone

    from yigongti.demo.context import DemoContext
    from yigongti.demo.data import county as C
    from yigongti.demo.orgs import STATIONS, build_facilities, build_regions
    from yigongti.emergency.models import Place, Station, StationKind, Vehicle, VehicleKind
    from yigongti.emergency.roads.generate import generate_network
    from yigongti.orgs.models import Facility, FacilityType, Region, RegionLevel

    ctx = DemoContext(seed=seed, population=population, today=timezone.localdate(), now=timezone.now())
    with transaction.atomic():
        build_regions(ctx)
        build_facilities(ctx)
    county = Region.objects.get(code=C.COUNTY[0])
    rng = np.random.default_rng(seed)
    share = dict(C.TOWNSHIPS)
    pops: dict[str, int] = {}
    for township in Region.objects.filter(level=RegionLevel.TOWNSHIP, parent=county):
        villages = list(township.children.order_by("code").values_list("code", flat=True))
        w = rng.uniform(0.5, 1.5, len(villages))
        for code, n in zip(villages, np.round(w / w.sum() * share[township.name] * population).astype(int),
                           strict=True):
            pops[code] = int(n)
    t = time.perf_counter()
    network = generate_network(county, seed=seed, target_nodes=nodes, populations=pops)
    gen_s = time.perf_counter() - t
    places = {p.region.name: p for p in Place.objects.filter(network=network).select_related("region")}
    stations = []
    for k, (name, township_name) in enumerate(STATIONS):
        fac = Facility.objects.get(name=name)
        p = places[township_name] if k else places.get(county.name, places[township_name])
        stations.append(Station.objects.create(facility=fac, kind=StationKind.COMMAND if k == 0 else
                                               StationKind.STATION, name=name, lon=p.lon, lat=p.lat, node=p.node))
    hospital = Facility.objects.filter(type=FacilityType.GENERAL_HOSPITAL).order_by("code")[0]
    seat = stations[0]
    stations.append(Station.objects.create(facility=hospital, kind=StationKind.SUB_CENTER, name="县中心医院急救分中心",
                                           lon=seat.lon, lat=seat.lat, node=seat.node))
    fleet = max(len(stations), round(population / 30_000))
    order = [stations[0], stations[-1], *stations[1:-1]]
    for i in range(fleet):
        st = order[i % len(order)]
        Vehicle.objects.create(station=st, call_sign=f"V{i + 1:02d}", plate=f"湘M·9{i + 1:04d}",
                               kind=VehicleKind.MONITORING if i % 3 == 0 else VehicleKind.BASIC, lon=st.lon,
                               lat=st.lat, node=st.node, status_at=timezone.now() - dt.timedelta(hours=1))
    return network, gen_s, fleet


def brute_force(times, population, existing, candidates, add, threshold_s):
    """Every combination of ``add`` candidates: the best coverage within the threshold (ties: least weighted time)."""
    import numpy as np

    best = None
    base = times[:, existing].min(axis=1) if existing else np.full(times.shape[0], np.inf)
    for combo in itertools.combinations(candidates, add):
        t = np.minimum(base, times[:, list(combo)].min(axis=1))
        covered = population[t <= threshold_s].sum()
        finite = np.isfinite(t)
        weighted = (t[finite] * population[finite]).sum()
        key = (-covered, weighted)
        if best is None or key < best[0]:
            best = (key, sorted(combo))
    assert best is not None
    return best[1], int(-best[0][0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--population", type=int, default=450_000)
    ap.add_argument("--nodes", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--objective", default="mclp", choices=["mclp", "pmedian"])
    ap.add_argument("--threshold", type=int, default=15)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="ygt-em-planning-")
    os.environ["YIGONGTI_DATA_DIR"] = tmp.name
    os.environ.pop("DATABASE_URL", None)
    bench_env(os.environ)  # type: ignore[arg-type]
    from _common import setup_django

    setup_django()
    from django.core.management import call_command

    t = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"migrated in {time.perf_counter() - t:.0f} s")
    from tests.cast import SYSTEM
    from yigongti.emergency.planning import data as planning_data
    from yigongti.emergency.planning import simulate
    from yigongti.emergency.roads import graph as roads_graph
    from yigongti.emergency.services import planning as services

    network, gen_s, fleet = build_county(args.population, args.nodes, args.seed)
    print(f"network: {network.nodes.count():,} nodes, {network.edges.count():,} edges (generated in {gen_s:.1f} s); "
          f"{fleet} ambulances")

    roads_graph.clear_cache()
    t = time.perf_counter()
    plan = services.start_plan(SYSTEM, name="bench", background=False, objective=args.objective,
                               threshold_min=args.threshold, simulate=False)
    plan_s = time.perf_counter() - t
    assert plan.status == "done", plan.result
    r = plan.result
    n_sites = len(r["sites"])
    print(f"demand: {len(r['villages'])} villages, {int(sum(v['population'] for v in r['villages'])):,} people; "
          f"sites: {sum(1 for s in r['sites'] if s['kind'] == 'station')} today + "
          f"{sum(1 for s in r['sites'] if s['kind'] == 'candidate')} candidates ({n_sites} columns)")
    print(f"plan parts (s): {r['timing']}")

    graph = roads_graph.road_graph(network)
    inp = planning_data.load_input(network, graph)
    cov_line = "coverage within 10/15/20 min: today " + "/".join(
        f"{r['today']['coverage']['share'][str(k)]:.1%}" for k in (10, 15, 20))
    print(cov_line)
    for s in r["scenarios"]:
        shares = "/".join(f"{s['coverage']['share'][str(k)]:.1%}" for k in (10, 15, 20))
        print(f"  {s['key']:6s} {shares}  "
              f"added {[r['sites'][j]['name'] for j in s['solution']['added']]} "
              f"closed {[r['sites'][j]['name'] for j in s['solution']['closed']]}  "
              f"solve {s['solution']['seconds']:.2f} s {s['solution']['status']}")

    print("\nbrute force (every candidate combination, same coverage objective):")
    if args.objective == "mclp":
        for key, add in (("add1", 1), ("add2", 2)):
            s = next((x for x in r["scenarios"] if x["key"] == key), None)
            if s is None:
                continue
            t = time.perf_counter()
            sites, covered = brute_force(inp.times, inp.population, inp.existing, inp.candidates, add,
                                         args.threshold * 60)
            bf_s = time.perf_counter() - t
            same = "same" if covered == s["solution"]["covered"] else "DIFFERENT"
            print(f"  {key}: MILP covers {s['solution']['covered']:,} {s['solution']['added']} "
                  f"in {s['solution']['seconds']:.2f} s; brute force {covered:,} {sites} in {bf_s:.2f} s ({same})")

    t = time.perf_counter()
    rate = float(inp.population.sum()) * simulate.CALLS_PER_1000_PER_YEAR / 1000
    config = simulate.SimConfig(calls_per_year=rate, seed=args.seed)
    calls = simulate.generate_calls(config, inp.population)
    stations = [(j, max(inp.sites[j].vehicles, 1)) for j in inp.existing]
    runs = {"today": simulate.simulate(calls, inp.times, stations, to_hospital_s=inp.to_hospital_s,
                                       hospital_to_site_s=inp.hospital_to_site_s)}
    one_s = time.perf_counter() - t
    for s in r["scenarios"]:
        runs[s["key"]] = simulate.simulate(calls, inp.times, [tuple(x) for x in s["stations"]],
                                           to_hospital_s=inp.to_hospital_s,
                                           hospital_to_site_s=inp.hospital_to_site_s)
    sim_s = time.perf_counter() - t
    print(f"\nsimulated year: {len(calls):,} calls ({rate:,.0f}/year), {len(runs)} plans on the same calls")
    print(f"  {'plan':8s} {'p50 min':>8s} {'p90 min':>8s} {'p95 min':>8s} {'3-min out':>10s} {'waited':>7s} "
          f"{'util':>6s}")
    for k, x in runs.items():
        print(f"  {k:8s} {x.response_p50_s / 60:8.1f} {x.response_p90_s / 60:8.1f} {x.response_p95_s / 60:8.1f} "
              f"{x.out_3min_rate:10.1%} {x.waited_share:7.1%} {x.utilisation:6.1%}")
    print(f"\n{'figure':44s} {'ours':>9s} {'target':>9s} {'ratio':>7s}")
    print(f"{'plan, full county (start_plan, cold graph)':44s} {plan_s:8.2f}s {PLAN_TARGET_S:8.0f}s "
          f"{plan_s / PLAN_TARGET_S:7.3f}")
    print(f"{'simulated year, today only':44s} {one_s:8.2f}s {SIM_TARGET_S:8.0f}s {one_s / SIM_TARGET_S:7.3f}")
    print(f"{'simulated year, today + ' + str(len(runs) - 1) + ' proposals':44s} {sim_s:8.2f}s "
          f"{SIM_TARGET_S:8.0f}s {sim_s / SIM_TARGET_S:7.3f}")
    with open("/proc/loadavg") as f:
        print(f"loadavg: {f.read().strip()}")


if __name__ == "__main__":
    main()
