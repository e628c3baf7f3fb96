"""The distribution tests' world on the cast: a few catalogue items (village and county level), the community's
distribution center at the county hospital with stock in two lots (FEFO), a pharmacist there, and a tiny road
network joining the hospital's and both villages' places."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from django.db import transaction

from tests.cast import PASSWORD, SYSTEM
from yigongti.orgs.models import Role, User
from yigongti.orgs.services import create_account
from yigongti.pharmacy import ledger
from yigongti.pharmacy.models import DistributionCenter, Item, Lot, MovementKind, TraceCode

TODAY = dt.date.today()


@dataclass
class World:
    c: object
    center: object
    pharmacist: User
    township_pharmacist: User
    amlodipine: Item  # village level, two lots at the center
    metformin: Item  # village level, one lot
    ceftriaxone: Item  # county level only
    early: Lot
    late: Lot
    met_lot: Lot


def _item(c, code, name, strength, level="village", pack=28):
    return Item.objects.create(community=c.community, code=code, kind="western", generic_name=name,
                               strength=strength, pack_size=pack, price="12.50", min_level=level)


def trace(n: int, prefix: str) -> list[str]:
    return [f"{prefix}{i:06d}".rjust(20, "8")[:20] for i in range(n)]


def build_world(c) -> World:
    pharmacist = create_account(actor=SYSTEM, username="dc_pharmacist", role=Role.PHARMACIST, password=PASSWORD,
                                facility=c.county_hospital)[0]
    township_pharmacist = create_account(actor=SYSTEM, username="tc_pharmacist", role=Role.PHARMACIST,
                                         password=PASSWORD, facility=c.township_center)[0]
    DistributionCenter.objects.create(community=c.community, facility=c.county_hospital)
    aml = _item(c, "XC08CAA001A001010100001", "苯磺酸氨氯地平片", "5mg")
    met = _item(c, "XA10BAA001A001010100002", "盐酸二甲双胍片", "0.25g", pack=48)
    cef = _item(c, "XJ01DDA001B002010100003", "注射用头孢曲松钠", "1g", level="county", pack=1)
    early = Lot.objects.create(item=aml, number="A2401", expires_on=TODAY + dt.timedelta(days=200))
    late = Lot.objects.create(item=aml, number="A2409", expires_on=TODAY + dt.timedelta(days=600))
    met_lot = Lot.objects.create(item=met, number="M2405", expires_on=TODAY + dt.timedelta(days=400))
    cef_lot = Lot.objects.create(item=cef, number="C2402", expires_on=TODAY + dt.timedelta(days=400))
    with transaction.atomic():
        for lot, n in ((early, 10), (late, 50), (met_lot, 40), (cef_lot, 20)):
            ledger.post(facility=c.county_hospital, lot=lot, quantity=n, kind=MovementKind.RECEIPT, source="test")
        TraceCode.objects.bulk_create([TraceCode(code=code, lot=early, facility=c.county_hospital)
                                       for code in trace(10, "81")])
    return World(c, c.county_hospital, pharmacist, township_pharmacist, aml, met, cef, early, late, met_lot)


def build_roads(c) -> None:
    """A straight road: hospital — township — village — other village, 10 km a hop at 36 km/h."""
    from yigongti.emergency.models import Place, RoadEdge, RoadNetwork, RoadNode

    net = RoadNetwork.objects.create(name="test", version="t1", active=True)
    nodes = [RoadNode.objects.create(network=net, lon=112.0 + 0.1 * i, lat=25.3) for i in range(4)]
    for a, b in itertools.pairwise(nodes):
        RoadEdge.objects.create(network=net, source=a, target=b, road_class="county", length_m=10000, speed_kmh=36)
    for region, node in ((c.county, nodes[0]), (c.township, nodes[1]), (c.village, nodes[2]),
                         (c.other_village, nodes[3])):
        Place.objects.create(network=net, region=region, lon=node.lon, lat=node.lat, node=node)
    from yigongti.emergency.roads.graph import clear_cache

    clear_cache()


def distribution_world(c) -> dict:
    """An order at every step and a shortage, for the every-page walk (tests/test_every_page.py)."""
    from tests.cast import as_
    from yigongti.distribution import services

    DistributionCenter.objects.get_or_create(community=c.community, defaults={"facility": c.county_hospital})
    item, _ = Item.objects.get_or_create(
        community=c.community, code="XN02BAA001A001010109999",
        defaults={"kind": "western", "generic_name": "对乙酰氨基酚片（走查）", "strength": "0.5g", "price": "3.00"})
    lot, _ = Lot.objects.get_or_create(item=item, number="WALK01", defaults={"expires_on": TODAY.replace(
        year=TODAY.year + 2)})
    with transaction.atomic():
        ledger.post(facility=c.county_hospital, lot=lot, quantity=20, kind=MovementKind.RECEIPT, source="walk")
    o = services.create_order(as_(c.village_doctor), c.village_clinic, {item.pk: 4}, submit=True)
    services.approve_order(SYSTEM, o)
    services.pick_order(SYSTEM, o)
    services.dispatch_order(SYSTEM, o)
    s = services.register_shortage(as_(c.village_doctor), c.village_clinic,
                                   {"drug_name": "硝苯地平控释片", "resident": c.resident.pk})
    return {("distribution", None, "pk"): o.pk, ("distribution", None, "line"): o.lines.first().pk,
            ("distribution", "order_act", "action"): "pick", ("distribution", "shortage", "pk"): s.pk,
            ("api", "/api/v1/distribution/orders/{pk}", "pk"): o.pk}
