"""Delivery routes for every village clinic of the demo county in one day's run: OR-Tools vehicle routing over the
county roads against the nearest-neighbour baseline, side by side, in the same run.

    python bench/pharmacy_routes.py                          # ~170 villages, 20,000-node roads, 12 stops a van
    python bench/pharmacy_routes.py --target-nodes 5000 --time-limit 2      # a small run that proves it works

1. Builds, in a throw-away SQLite database, the demo county's regions (蓝山县: 15 townships, ~170 villages, as
   bench/em_recommend.py does), a village clinic in every village, the distribution center at the county
   hospital, and generates the road network (``generate_network``).
2. Puts one picked order for every village clinic in the center's queue and times ``distribution.services.
   plan_routes`` end to end: where each clinic is on the graph, the travel-time matrix (one Dijkstra per stop),
   OR-Tools (cheapest-arc start from the baseline, guided local search for ``--time-limit`` seconds), the
   nearest-neighbour baseline under the same limits, each route's road path and metres, the rows written.
3. Prints the day's total driving time and road length of both, and the ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def build_world():
    import datetime as dt

    from django.db import transaction

    from yigongti.core.actor import Actor
    from yigongti.distribution.models import OrderLine, OrderStatus, VillageOrder
    from yigongti.orgs.models import Facility, FacilityType, MedicalCommunity, Region, RegionLevel
    from yigongti.pharmacy import ledger
    from yigongti.pharmacy.models import DistributionCenter, Item, Lot, MovementKind

    community = MedicalCommunity.objects.get()
    hospital = Facility.objects.get(code="431127A100001")
    DistributionCenter.objects.create(community=community, facility=hospital)
    clinics = Facility.objects.bulk_create([
        Facility(code=f"{r.code}D600", name=f"{r.name}卫生室", type=FacilityType.VILLAGE_CLINIC, region=r,
                 community=community) for r in Region.objects.filter(level=RegionLevel.VILLAGE).order_by("code")])
    clinics = list(Facility.objects.filter(type=FacilityType.VILLAGE_CLINIC).order_by("code"))
    item = Item.objects.create(community=community, code="XC08CAA001A001010100001", kind="western",
                               generic_name="苯磺酸氨氯地平片", strength="5mg", price="12.50")
    lot = Lot.objects.create(item=item, number="B1", expires_on=dt.date.today() + dt.timedelta(days=700))
    now = dt.datetime.now(dt.UTC)
    with transaction.atomic():
        ledger.post(facility=hospital, lot=lot, quantity=100_000, kind=MovementKind.RECEIPT, source="bench")
        orders = VillageOrder.objects.bulk_create([
            VillageOrder(community=community, facility=c, center=hospital, status=OrderStatus.PICKED, created_at=now)
            for c in clinics])
        OrderLine.objects.bulk_create([OrderLine(order=o, item=item, requested=10, approved=10, picked=10)
                                       for o in orders])
    return Actor.system("bench"), hospital, len(clinics)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target-nodes", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-stops", type=int, default=12)
    ap.add_argument("--time-limit", type=float, default=10.0, help="OR-Tools search seconds")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="pharmacy_routes_") as tmp:
        from em_recommend import build_county, loadavg, setup

        setup(tmp)
        from django.utils import timezone

        from yigongti.distribution import services
        from yigongti.emergency.roads.generate import generate_network

        county = build_county(5, args.seed)
        t = time.perf_counter()
        generate_network(county, seed=args.seed, target_nodes=args.target_nodes)
        gen_s = time.perf_counter() - t
        actor, center, n = build_world()
        from yigongti.emergency.roads.graph import road_graph

        g = road_graph()
        print(f"network: {len(g):,} nodes (generated in {gen_s:.1f} s); {n} village clinics with an order; "
              f"≤ {args.max_stops} stops a van; load {loadavg()}")
        t = time.perf_counter()
        runs = services.plan_routes(actor, center, timezone.localdate(), max_stops=args.max_stops,
                                    time_limit_s=args.time_limit)
        plan_s = time.perf_counter() - t
        ours_m = sum(r.distance_m for r in runs)
        ours_s = sum(r.duration_s for r in runs)
        base_m = runs[0].baseline_distance_m
        from yigongti.core.models import AuditEvent

        ev = AuditEvent.objects.filter(action="plan").order_by("-seq").first()
        base_s = ev.detail["baseline_s"] if ev else float("nan")
        print(f"plan_routes end to end: {plan_s:.1f} s (budget 30 s; OR-Tools search {args.time_limit:.0f} s), "
              f"{len(runs)} vans, solver {runs[0].solver}")
        print(f"{'':22}{'driving time':>14}{'road length':>14}")
        print(f"{'OR-Tools':22}{ours_s / 3600:>12.2f} h{ours_m / 1000:>11.1f} km")
        print(f"{'nearest neighbour':22}{base_s / 3600:>12.2f} h{base_m / 1000:>11.1f} km")
        print(f"{'ratio (ours ÷ NN)':22}{ours_s / base_s:>14.3f}{ours_m / base_m:>14.3f}")


if __name__ == "__main__":
    main()
