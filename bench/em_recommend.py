"""Ambulance recommendation by road travel time: our latency against networkx, and what straight-line nearest
would cost over a year of calls — side by side, in one run.

    python bench/em_recommend.py                       # 20,000-node county, 300 timed calls, a year of calls
    python bench/em_recommend.py --target-nodes 40000 --calls 500 --year-calls 13500 --vehicles 15

1. Builds, in a throw-away SQLite database, the demo county's regions (蓝山县: 15 townships, ~170 villages) and its
   120 network as the demo seeds describe it (the county command center, the county hospital's sub-center and 3
   township stations; ``--vehicles`` ambulances, ~1 per 30,000 residents), then generates the road network
   (``generate_network``, ≥ 20,000 nodes) — the generation is timed too.
2. Latency: ``recommend(call)`` end to end (the active network's cache check, the vehicles' query, one Dijkstra
   from the incident over the reversed graph with scipy.sparse.csgraph, the ranking, road metres of the shown
   candidates) for calls at random nodes, with every vehicle at its own position (a quarter of them away from
   their station, as when returning). Against: networkx, one single-source Dijkstra on the reversed graph per
   call (the same algorithm in pure Python), and the naive way, one networkx Dijkstra per vehicle.
3. Straight line vs road: a year of calls (placed by village population), each vehicle busy with probability
   ``--busy``; how often the straight-line nearest available ambulance is not the fastest by road, and by how
   many minutes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def pct(values, q):
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


def loadavg() -> str:
    with open("/proc/loadavg") as fh:
        return fh.read().strip()


def setup(tmp: str):
    os.environ["YIGONGTI_DATA_DIR"] = tmp
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yigongti.settings")
    os.environ.setdefault("YIGONGTI_AUDIT_KEY", "bench-only-audit-key-not-for-production-0123456789")
    os.environ.setdefault("YIGONGTI_AUDIT_WITNESS_CHATTR", "0")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def build_county(n_vehicles: int, seed: int):
    """The demo county's regions and its stations and vehicles (no residents: the bench needs only places)."""
    from yigongti.demo.data import county as C
    from yigongti.demo.orgs import STATIONS, township_codes
    from yigongti.emergency.models import Station, StationKind, Vehicle, VehicleKind
    from yigongti.orgs.models import Facility, FacilityType, MedicalCommunity, Region, RegionLevel

    rng = np.random.default_rng(seed)
    province = Region.objects.create(code=C.PROVINCE[0], name=C.PROVINCE[1], level=RegionLevel.PROVINCE)
    city = Region.objects.create(code=C.CITY[0], name=C.CITY[1], level=RegionLevel.CITY, parent=province)
    county = Region.objects.create(code=C.COUNTY[0], name=C.COUNTY[1], level=RegionLevel.COUNTY, parent=city)
    stems = list(C.VILLAGE_STEMS)
    townships = {}
    villages = []
    for (name, share), code in zip(C.TOWNSHIPS, township_codes(county.code), strict=True):
        t = Region.objects.create(code=code, name=name, level=RegionLevel.TOWNSHIP, parent=county)
        townships[name] = t
        for j, k in enumerate(rng.permutation(len(stems))[: max(6, round(share * 170))]):
            villages.append(Region(code=f"{code[:9]}{201 + j:03d}", name=f"{stems[k]}村", level=RegionLevel.VILLAGE,
                                   parent=t))
    Region.objects.bulk_create(villages)
    community = MedicalCommunity.objects.create(name="蓝山县紧密型县域医共体", region=county)
    seat = townships[C.TOWNSHIPS[0][0]]
    hospital = Facility.objects.create(code="431127A100001", name="蓝山县中心医院",
                                       type=FacilityType.GENERAL_HOSPITAL, region=seat, community=community)
    stations = []
    for k, (name, township) in enumerate(STATIONS):
        fac = Facility.objects.create(code=f"431127E{100 if k == 0 else 300}{k + 1:03d}", name=name,
                                      type=FacilityType.EMERGENCY_CENTER if k == 0 else FacilityType.EMERGENCY_STATION,
                                      region=townships[township], community=community)
        stations.append(Station.objects.create(facility=fac, community=community, name=name, lon=0, lat=0,
                                               kind=StationKind.COMMAND if k == 0 else StationKind.STATION))
    stations.insert(1, Station.objects.create(facility=hospital, community=community, name="县中心医院急救分中心",
                                              kind=StationKind.SUB_CENTER, lon=0, lat=0))
    # the county seat's stations keep most vehicles (as the seeds' county does); 1–2 negative-pressure
    weights = np.array([0.3, 0.25, 0.15, 0.15, 0.15])[: len(stations)]
    plan = rng.choice(len(stations), size=n_vehicles, p=weights / weights.sum())
    plan[: len(stations)] = np.arange(len(stations))  # every station has one
    for i, s in enumerate(plan):
        kind = VehicleKind.NEGATIVE_PRESSURE if i in (1, 7) else (VehicleKind.MONITORING if i % 3 == 0
                                                                   else VehicleKind.BASIC)
        Vehicle.objects.create(station=stations[int(s)], call_sign=f"LS{i + 1:02d}", plate=f"湘M·1{i + 1:04d}",
                               kind=kind)
    return county


def place_fleet(g, rng, away_share: float = 0.25) -> None:
    """Vehicles at their station; a share of them away (returning), at a random node."""
    from yigongti.emergency.models import Vehicle, VehicleStatus

    vehicles = list(Vehicle.objects.select_related("station"))
    for v in vehicles:
        if rng.uniform() < away_share:
            node = int(rng.choice(g.node_ids))
            v.status = VehicleStatus.RETURNING
        else:
            node = v.station.node_id
            v.status = VehicleStatus.AVAILABLE
        v.node_id = node
        v.lon, v.lat = g.lonlat(node)
    Vehicle.objects.bulk_update(vehicles, ["node", "lon", "lat", "status"])


def nx_graph(g):
    import networkx as nx

    coo = g._fwd.tocoo()
    G = nx.DiGraph()
    G.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))
    return G


def latency(g, n_calls: int, baseline_calls: int, rng):
    import networkx as nx

    from yigongti.emergency.models import Call, Vehicle
    from yigongti.emergency.recommend import recommend

    targets = rng.choice(g.node_ids, size=n_calls)
    ours = []
    for node in targets:
        call = Call(node_id=int(node), special_needs=[])
        t0 = time.perf_counter()
        recommend(call)
        ours.append((time.perf_counter() - t0) * 1000)

    G = nx_graph(g)
    R = G.reverse(copy=False)
    vehicles = list(Vehicle.objects.all())
    v_idx = [g.index(v.node_id) for v in vehicles]
    one_run, per_vehicle = [], []
    for node in targets[:baseline_calls]:
        goal = g.index(int(node))
        t0 = time.perf_counter()
        d = nx.single_source_dijkstra_path_length(R, goal, weight="weight")
        sorted((d.get(i, float("inf")), i) for i in v_idx)
        one_run.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        etas = []
        for i in v_idx:
            try:
                etas.append(nx.dijkstra_path_length(G, i, goal, weight="weight"))
            except nx.NetworkXNoPath:
                etas.append(float("inf"))
        sorted(etas)
        per_vehicle.append((time.perf_counter() - t0) * 1000)
    return ours, one_run, per_vehicle, len(vehicles)


def year(g, n_calls: int, busy: float, rng):
    """Straight-line nearest vs fastest by road, on a year of calls placed by village population."""
    from yigongti.emergency.models import Place, Vehicle
    from yigongti.emergency.recommend import Row, rank_candidates
    from yigongti.emergency.roads.geometry import haversine_m

    vehicles = list(Vehicle.objects.select_related("station"))
    homes = sorted({v.station.node_id for v in vehicles})
    home_times = {n: g.times_from(n).array for n in homes}  # station → every node
    home_ll = {n: g.lonlat(n) for n in homes}
    villages = list(Place.objects.filter(network_id=g.network_id, region__level="village")
                    .values_list("node_id", "population"))
    nodes = np.array([n for n, _p in villages])
    weights = np.array([max(p, 1) for _n, p in villages], dtype=float)
    picks = rng.choice(len(nodes), size=n_calls, p=weights / weights.sum())
    worse, lost, same = 0, [], 0
    for k in picks:
        # the incident: a random node within ~1.5 km of the village (its fields, its roads)
        vx, vy = g.lonlat(int(nodes[k]))
        target = int(g.nearest(vx + rng.normal(0, 0.008), vy + rng.normal(0, 0.006)))
        ti = g.index(target)
        tx, ty = g.lonlat(target)
        free = [v for v in vehicles if rng.uniform() >= busy]
        if not free:
            continue
        rows = [Row(key=v, eta_s=float(home_times[v.station.node_id][ti]),
                    straight_m=float(haversine_m(*home_ll[v.station.node_id], tx, ty)), needs_met=True)
                for v in free]
        best = rank_candidates(rows)[0][0]
        nearest = min(rows, key=lambda r: r.straight_m or 0.0)
        if nearest.eta_s is not None and best.eta_s is not None and nearest.eta_s > best.eta_s + 1e-6:
            worse += 1
            lost.append((nearest.eta_s - best.eta_s) / 60.0)
        else:
            same += 1
    return worse, lost, len(picks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target-nodes", type=int, default=20000)
    ap.add_argument("--calls", type=int, default=300, help="timed recommendations")
    ap.add_argument("--baseline-calls", type=int, default=30, help="of them, also timed with networkx")
    ap.add_argument("--vehicles", type=int, default=15)
    ap.add_argument("--year-calls", type=int, default=13500, help="≈ 30 calls per 1,000 residents of 450,000")
    ap.add_argument("--busy", type=float, default=0.3, help="chance that a vehicle is out on another call")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="em_recommend_") as tmp:
        setup(tmp)
        from yigongti.emergency.roads.generate import generate_network
        from yigongti.emergency.roads.graph import road_graph

        print(f"load average at start: {loadavg()}")
        county = build_county(args.vehicles, args.seed)
        t0 = time.perf_counter()
        generate_network(county, seed=args.seed, target_nodes=args.target_nodes)
        gen_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        g = road_graph()
        load_s = time.perf_counter() - t0
        print(f"network: {len(g):,} nodes, {g.edge_count:,} directed edges; generated and stored in {gen_s:.1f} s, "
              f"graph loaded in {load_s * 1000:.0f} ms (once per process)")
        rng = np.random.default_rng(args.seed)
        place_fleet(g, rng)
        ours, one_run, per_vehicle, n_v = latency(g, args.calls, args.baseline_calls, rng)
        print(f"\nrecommendation latency, {n_v} vehicles each at its own position ({args.calls} calls; "
              f"networkx on {len(one_run)}):")
        print(f"  {'':44s} {'p50 ms':>9s} {'p95 ms':>9s}")
        print(f"  {'ours: recommend() (scipy csgraph, 1 run)':44s} {pct(ours, 50):9.1f} {pct(ours, 95):9.1f}")
        print(f"  {'networkx, 1 reversed single-source run':44s} {pct(one_run, 50):9.1f} {pct(one_run, 95):9.1f}")
        print(f"  {'networkx, 1 Dijkstra per vehicle (naive)':44s} {pct(per_vehicle, 50):9.1f} "
              f"{pct(per_vehicle, 95):9.1f}")
        print(f"  target p95 ≤ 50 ms: {'met' if pct(ours, 95) <= 50 else 'NOT met'}; naive/ours p95 = "
              f"{pct(per_vehicle, 95) / pct(ours, 95):.0f}×, networkx-1-run/ours = "
              f"{pct(one_run, 95) / pct(ours, 95):.1f}×")

        worse, lost, total = year(g, args.year_calls, args.busy, rng)
        print(f"\na simulated year of {total:,} calls (by village population; each vehicle busy with p={args.busy}):")
        print(f"  straight-line nearest would have sent a slower ambulance on {worse:,} calls "
              f"({worse / max(total, 1):.1%})")
        if lost:
            print(f"  minutes lost on those calls: median {statistics.median(lost):.1f}, mean "
                  f"{statistics.fmean(lost):.1f}, p90 {pct(lost, 90):.1f}, max {max(lost):.1f}; "
                  f"{sum(1 for m in lost if m >= 3):,} calls lost ≥ 3 min")
        print(f"\nload average at end: {loadavg()}")


if __name__ == "__main__":
    main()
