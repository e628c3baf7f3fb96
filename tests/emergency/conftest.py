"""A small county 120 network on top of the cast: a 12 × 12 road grid (1 km apart, the county seat's streets in the
middle, a slow mountain road on the east), the command center at the county hospital's town, two stations and five
vehicles, a dispatcher and two crews with accounts.

Other helpers' tests use ``ems`` and ``make_call``; keep the names stable:
``ems.network`` (RoadNetwork), ``ems.node(i, j)`` (the RoadNode at grid column i, row j), ``ems.command`` /
``ems.county_station`` / ``ems.township_station`` (Station rows; the first two at the county seat, the third at
塔峰镇's center… placed at grid (9, 9)), ``ems.vehicles["A1" | "A2" | "A3" | "B1" | "N1"]`` (A*: county station,
A3 monitoring; B1 at the township station; N1 negative-pressure at the county station), ``ems.dispatcher``,
``ems.crew_a1`` (a doctor seated on A1), ``ems.crew_b1`` (a nurse at the township station, seated on B1),
``ems.places[region_code]`` (Place rows of the cast's villages and townships).

The county hospital runs the chest-pain and stroke centers (PCI, thrombolysis, CT); 塔峰镇卫生院 is a chest-pain
unit (thrombolysis)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from tests.cast import Cast, _account
from yigongti.emergency.models import (
    CrewMember,
    CrewRole,
    Place,
    RoadEdge,
    RoadNetwork,
    RoadNode,
    Station,
    StationKind,
    Vehicle,
    VehicleKind,
)
from yigongti.orgs.models import Facility, FacilityType, Profession, Role
from yigongti.pathways.models import CenterLevel, PathwayCenter

LON0, LAT0 = 112.10, 25.30  # grid (0, 0); 0.01° ≈ 1 km
STEP = 0.01
N = 12


@dataclass
class Ems:
    cast: Cast
    network: RoadNetwork
    nodes: dict = field(default_factory=dict)
    command: Station | None = None
    county_station: Station | None = None
    township_station: Station | None = None
    vehicles: dict = field(default_factory=dict)
    places: dict = field(default_factory=dict)
    dispatcher: object = None
    crew_a1: object = None
    crew_b1: object = None

    def node(self, i: int, j: int) -> RoadNode:
        return self.nodes[(i, j)]


def _lonlat(i: int, j: int) -> tuple[float, float]:
    return LON0 + i * STEP, LAT0 + j * STEP


def build_ems(cast: Cast) -> Ems:
    net = RoadNetwork.objects.create(name="测试路网", source="generated", seed=0, version="test-1",
                                     bbox=[LON0, LAT0, LON0 + (N - 1) * STEP, LAT0 + (N - 1) * STEP])
    ems = Ems(cast, net)
    for i in range(N):
        for j in range(N):
            lon, lat = _lonlat(i, j)
            ems.nodes[(i, j)] = RoadNode.objects.create(network=net, ext_id=i * N + j, lon=lon, lat=lat)
    edges = []
    for i in range(N):
        for j in range(N):
            for di, dj in ((1, 0), (0, 1)):
                a, b = (i, j), (i + di, j + dj)
                if b not in ems.nodes:
                    continue
                if 3 <= i <= 5 and 3 <= j <= 5:
                    cls, speed = "street", 30.0
                elif j == 2:
                    cls, speed = "national", 70.0  # a fast road along row 2
                elif i >= 10:
                    cls, speed = "village", 20.0  # the slow mountain side
                else:
                    cls, speed = "county", 45.0
                for s, t in ((a, b), (b, a)):
                    edges.append(RoadEdge(network=net, source=ems.nodes[s], target=ems.nodes[t], road_class=cls,
                                          length_m=1000.0, speed_kmh=speed))
    RoadEdge.objects.bulk_create(edges)

    where = {cast.county.code: (4, 4), cast.township.code: (4, 4), cast.village.code: (7, 8),
             cast.other_township.code: (9, 9), cast.other_village.code: (11, 11)}
    for region in (cast.county, cast.township, cast.village, cast.other_township, cast.other_village):
        i, j = where[region.code]
        lon, lat = _lonlat(i, j)
        ems.places[region.code] = Place.objects.create(network=net, region=region, lon=lon, lat=lat,
                                                       node=ems.nodes[(i, j)], population=3000)

    command_fac = Facility.objects.create(code="431127E100001", name="蓝山县急救中心",
                                          type=FacilityType.EMERGENCY_CENTER, region=cast.township,
                                          community=cast.community)
    station_fac = Facility.objects.create(code="431127E300002", name="总市急救站", type=FacilityType.EMERGENCY_STATION,
                                          region=cast.other_township, community=cast.community,
                                          parent=cast.other_center)
    lon, lat = _lonlat(4, 4)
    ems.command = Station.objects.create(facility=command_fac, community=cast.community, kind=StationKind.COMMAND,
                                         name="蓝山县急救中心", lon=lon, lat=lat, node=ems.node(4, 4))
    ems.county_station = Station.objects.create(facility=cast.county_hospital, community=cast.community,
                                                kind=StationKind.SUB_CENTER, name="县中心医院急救分中心",
                                                lon=lon, lat=lat, node=ems.node(4, 4))
    lon9, lat9 = _lonlat(9, 9)
    ems.township_station = Station.objects.create(facility=station_fac, community=cast.community,
                                                  kind=StationKind.STATION, name="总市急救站", lon=lon9, lat=lat9,
                                                  node=ems.node(9, 9))
    now = timezone.now() - dt.timedelta(minutes=5)
    plan = [("A1", "湘M·12001", ems.command, VehicleKind.BASIC, (4, 4)),
            ("A2", "湘M·12002", ems.command, VehicleKind.BASIC, (3, 3)),
            ("A3", "湘M·12003", ems.county_station, VehicleKind.MONITORING, (4, 4)),
            ("N1", "湘M·12009", ems.county_station, VehicleKind.NEGATIVE_PRESSURE, (4, 4)),
            ("B1", "湘M·12101", ems.township_station, VehicleKind.MONITORING, (9, 9))]
    for sign, plate, station, kind, (i, j) in plan:
        lon, lat = _lonlat(i, j)
        ems.vehicles[sign] = Vehicle.objects.create(
            station=station, call_sign=sign, plate=plate, kind=kind, lon=lon, lat=lat, node=ems.node(i, j),
            position_at=now, status_at=now,
            equipment=["ecg12", "defibrillator", "monitor"] if kind != VehicleKind.BASIC else ["ecg12"])
    ems.dispatcher = _account("dispatcher", Role.DISPATCHER, command_fac, profession=Profession.PHYSICIAN)
    ems.crew_a1 = _account("crew_a1", Role.DOCTOR, command_fac, profession=Profession.PHYSICIAN)
    ems.crew_b1 = _account("crew_b1", Role.NURSE, station_fac, profession=Profession.NURSE)
    CrewMember.objects.create(vehicle=ems.vehicles["A1"], user=ems.crew_a1, name="急救医生甲", role=CrewRole.DOCTOR)
    CrewMember.objects.create(vehicle=ems.vehicles["A1"], name="司机甲", role=CrewRole.DRIVER)
    CrewMember.objects.create(vehicle=ems.vehicles["B1"], user=ems.crew_b1, name="急救护士乙", role=CrewRole.NURSE)

    for kind in ("chest_pain", "stroke", "trauma", "maternal", "neonatal"):
        PathwayCenter.objects.create(facility=cast.county_hospital, kind=kind, level=CenterLevel.CENTER,
                                     capabilities=["pci", "cath_lab", "thrombolysis", "ct", "nicu", "neurosurgery"])
    PathwayCenter.objects.create(facility=cast.township_center, kind="chest_pain", level=CenterLevel.UNIT,
                                 capabilities=["thrombolysis", "ecg12"])
    return ems


@pytest.fixture
def ems(cast) -> Ems:
    return build_ems(cast)
