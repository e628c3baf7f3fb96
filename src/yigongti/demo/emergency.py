"""A year of the county's 120 command center consistent with the encounters, and the time-critical pathways.

The road network is generated from the seed (``emergency.roads.generate``, scaled with the population); the
stations are the four E300 facilities (the county command center and three township stations) and the county
hospital's 急救分中心; about one vehicle per 32,000 residents (at least six), one or two negative-pressure; crews
with the demo logins ``crew`` (a doctor on a command-center vehicle) and ``crew_township`` (a nurse at a township
station).

Calls: the admissions and emergency visits that began with a 120 call (strokes, chest pain, hip fractures, heart
failure and COPD, a few deliveries, and a share of emergency visits) — on the visit's day, at an hour drawn from a
diurnal curve — plus missions that ended on scene, calls answered without a vehicle and merged duplicates. Each
mission goes from the nearest station with a free vehicle, its travel times from Dijkstra over the generated roads
(mountain townships slower by the network's own speeds, some with an extra delay), and records every time point as
a ``CallEvent``. The STEMI ECGs the township and village clinics sent to the ECG center (the telemedicine step)
become transfers or 一键呼叫 calls, and the county's green-channel referrals transfers too; chest-pain, stroke,
trauma and maternal cases follow the calls to the county hospital with their pathway events, pre-arrival alerts,
pre-hospital records and vital signs, some meeting and some missing their targets (with a delay reason, mostly).

Everything is drawn from ``ctx.rng('emergency')`` and bulk-loaded; the pathway targets are judged by the
pathways' own pure functions (``pathways.metrics``)."""

from __future__ import annotations

import datetime as dt
import json
import math
import time
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from yigongti.emergency.models import (
    Call,
    CallEvent,
    CrewMember,
    CrewRole,
    Mission,
    Place,
    PreArrivalAlert,
    PrehospitalRecord,
    RoadEdge,
    RoadNode,
    Station,
    StationKind,
    Vehicle,
    VehicleKind,
    VehicleStatus,
    VitalSigns,
)
from yigongti.encounters.models import Encounter
from yigongti.orgs.models import Facility, Staff, User
from yigongti.pathways.models import Case, CaseEvent, CenterLevel, DelayReason, PathwayCenter

from .bulk import analyze, load_rows, reset_sequences
from .context import DemoContext
from .data import county as C
from .data import emergency as D
from .data.names import MALE_CHARS, SURNAMES
from .orgs import STATIONS, township_codes

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
FULL_COUNTY = 450_000
MISSION_KINDS = ("dispatch_order", "crew_ack", "wheels_rolling", "on_scene", "fmc", "leave_scene",
                 "arrive_hospital", "handover", "available")
CENTER_CAPABILITIES = {
    "chest_pain": ["pci", "cath_lab", "thrombolysis", "ct", "ecg12"],
    "stroke": ["ct", "mri", "thrombolysis", "thrombectomy", "neurosurgery"],
    "trauma": ["ct", "theatre", "icu", "neurosurgery", "blood_bank"],
    "maternal": ["obstetric_theatre", "blood_bank", "icu"],
    "neonatal": ["nicu", "neonatal_transport"],
}
UNIT_CAPABILITIES = ["ecg12", "thrombolysis", "troponin_poct"]


def target_nodes(population: int) -> int:
    """≥ 20,000 road nodes for the full county, fewer (never under 2,500) for a smaller demo."""
    return max(2_500, round(20_000 * population / FULL_COUNTY))


# ---- the road graph as a sparse matrix (travel seconds) ------------------------------------------------------


class _Graph:
    """Shortest travel times over the network's edges (scipy's Dijkstra: a few sources at a time)."""

    def __init__(self, network) -> None:
        from scipy.sparse import csr_matrix

        ids = list(RoadNode.objects.filter(network=network).order_by("pk").values_list("pk", flat=True))
        self.index = {pk: i for i, pk in enumerate(ids)}
        best: dict[tuple[int, int], float] = {}
        for s, t, length, speed, oneway in RoadEdge.objects.filter(network=network).values_list(
                "source_id", "target_id", "length_m", "speed_kmh", "oneway").iterator(chunk_size=20_000):
            w = max(length, 1.0) / max(speed, 5.0) * 3.6
            a, b = self.index[s], self.index[t]
            for key in ((a, b),) if oneway else ((a, b), (b, a)):
                if w < best.get(key, math.inf):
                    best[key] = w
        n = len(ids)
        if best:
            rows, cols = zip(*best.keys(), strict=True)
            self.matrix = csr_matrix((list(best.values()), (rows, cols)), shape=(n, n))
        else:
            self.matrix = csr_matrix((n, n))
        self._from: dict[int, np.ndarray] = {}
        self._to: dict[int, np.ndarray] = {}

    def _run(self, nodes: list[int], cache: dict[int, np.ndarray], transpose: bool) -> None:
        from scipy.sparse.csgraph import dijkstra

        todo = [n for n in dict.fromkeys(nodes) if n not in cache and n in self.index]
        if not todo:
            return
        m = self.matrix.T.tocsr() if transpose else self.matrix
        out = dijkstra(m, directed=True, indices=[self.index[n] for n in todo])
        for n, row in zip(todo, np.atleast_2d(out), strict=True):
            cache[n] = row

    def seconds(self, a: int | None, b: int | None) -> float:
        """Travel seconds from node ``a`` to node ``b`` (inf when unknown or unreachable)."""
        if a is None or b is None or a not in self.index or b not in self.index:
            return math.inf
        if a in self._from:
            return float(self._from[a][self.index[b]])
        if b in self._to:
            return float(self._to[b][self.index[a]])
        self._run([a], self._from, False)
        return float(self._from[a][self.index[b]])

    def prepare_from(self, nodes: list[int]) -> None:
        self._run(nodes, self._from, False)

    def prepare_to(self, nodes: list[int]) -> None:
        self._run(nodes, self._to, True)


def _straight_s(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """A fallback travel time: straight-line distance × 1.4 at 40 km/h."""
    dx = (lon2 - lon1) * 111_320 * math.cos(math.radians((lat1 + lat2) / 2))
    dy = (lat2 - lat1) * 110_540
    return math.hypot(dx, dy) * 1.4 / (40 / 3.6)


# ---- the world ---------------------------------------------------------------------------------------------


@dataclass
class _Where:
    lon: float
    lat: float
    node: int | None
    region_id: int | None
    code: str
    name: str
    mountain: bool = False


@dataclass
class _Veh:
    pk: int
    station: int  # Station pk
    kind: str
    node: int | None
    crew_user: int | None = None
    busy_until: dt.datetime = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass
class _World:
    network: Any
    graph: _Graph
    places: dict[str, _Where]  # region code → where
    stations: list[Station]
    vehicles: list[_Veh]
    fac_where: dict[int, _Where]  # facility pk → where
    lead: Facility
    dispatcher: int | None
    county_doctor: int | None
    people: list[Any]
    names: dict[str, str]  # region code → name
    facilities: dict[int, Facility]  # pk → facility


def _network(ctx: DemoContext):
    from yigongti.emergency.roads.generate import generate_network

    county = ctx.regions[C.COUNTY[0]]
    populations: dict[str, int] = {}
    for p in ctx.extra.get("people", []):
        for code in (p.village_code, p.village_code[:9] + "000", county.code):
            populations[code] = populations.get(code, 0) + 1
    return generate_network(county, seed=ctx.seed, target_nodes=target_nodes(ctx.population),
                            populations=populations)


def _places(network) -> tuple[dict[str, _Where], dict[str, str]]:
    out, names = {}, {}
    for code, name, lon, lat, node, rid in Place.objects.filter(network=network).values_list(
            "region__code", "region__name", "lon", "lat", "node_id", "region_id"):
        out[code] = _Where(lon, lat, node, rid, code, name, mountain=name.endswith("乡"))
        names[code] = name
    # a village is as mountainous as its township
    for code, w in out.items():
        town = out.get(code[:9] + "000")
        if town is not None and code != town.code:
            w.mountain = town.mountain
    return out, names


def _facility_where(ctx: DemoContext, places: dict[str, _Where]) -> dict[int, _Where]:
    seat = places.get(township_codes(C.COUNTY[0])[0])
    out: dict[int, _Where] = {}
    for f in ctx.facilities.values():
        code = f.region.code if f.region_id else ""
        where = places.get(code) if code != C.COUNTY[0] else seat
        if where is None and f.care_level == "county":
            where = seat
        if where is not None:
            out[f.pk] = where
    return out


def _fleet(ctx: DemoContext, rng: np.random.Generator, places: dict[str, _Where],
           fac_where: dict[int, _Where], now: dt.datetime) -> tuple[list[Station], list[_Veh]]:
    """Stations at the E300 facilities and the county hospital, vehicles, their crews (the demo logins seated)."""
    county = C.COUNTY[0][:6]
    lead = ctx.community.lead_facility
    e300 = [ctx.facilities[f"{county}E3000{k + 1}"] for k in range(len(STATIONS))]
    plan = [(e300[0], StationKind.COMMAND, STATIONS[0][0]), (lead, StationKind.SUB_CENTER, "县中心医院急救分中心")]
    plan += [(f, StationKind.STATION, name) for f, (name, _t) in zip(e300[1:], STATIONS[1:], strict=True)]
    stations = []
    for f, kind, name in plan:
        w = fac_where[f.pk]
        stations.append(Station(facility=f, community=ctx.community, kind=kind, name=name, lon=w.lon, lat=w.lat,
                                node_id=w.node))
    Station.objects.bulk_create(stations)
    stations = list(Station.objects.filter(facility__in=[f for f, _k, _n in plan]).order_by("pk"))
    order = {f.pk: i for i, (f, _k, _n) in enumerate(plan)}
    stations.sort(key=lambda s: order[s.facility_id])

    n = max(6, round(ctx.population / 32_000))
    per_station = max(1, round(n * 0.14))
    sub = max(1, round(n * 0.2))
    command = max(2, n - sub - per_station * (len(stations) - 2))
    counts = [command, sub] + [per_station] * (len(stations) - 2)
    big = ctx.population >= 200_000
    rows: list[Vehicle] = []
    k = 0
    for s, count in zip(stations, counts, strict=True):
        for j in range(count):
            k += 1
            if s.kind == StationKind.SUB_CENTER:
                vkind = (VehicleKind.NEGATIVE_PRESSURE if j == 0 else VehicleKind.NEONATAL if j == 1 and big
                        else VehicleKind.MONITORING)
            elif s.kind == StationKind.COMMAND:
                vkind = (VehicleKind.NEGATIVE_PRESSURE if j == count - 1 and big else
                        VehicleKind.MONITORING if j % 2 == 0 else VehicleKind.BASIC)
            else:
                vkind = VehicleKind.MONITORING if j == 0 else VehicleKind.BASIC
            rows.append(Vehicle(station=s, call_sign=f"蓝山120-{k:02d}", plate=f"湘M·{12000 + k}", kind=vkind,
                                equipment=D.EQUIPMENT[vkind], status=VehicleStatus.AVAILABLE, status_at=now,
                                lon=s.lon, lat=s.lat, node_id=s.node_id, position_at=now,
                                gps_device_id=f"GPS-LS{k:04d}"))
    Vehicle.objects.bulk_create(rows)
    vehicles = list(Vehicle.objects.filter(station__in=stations).order_by("pk"))
    _crews(ctx, rng, stations, vehicles)
    seats = dict(CrewMember.objects.filter(user__isnull=False).values_list("vehicle_id", "user_id"))
    return stations, [_Veh(v.pk, v.station_id, v.kind, v.node_id, seats.get(v.pk)) for v in vehicles]


def _crews(ctx: DemoContext, rng: np.random.Generator, stations: list[Station], vehicles: list[Vehicle]) -> None:
    surnames = [s for s, _w in SURNAMES]
    staff_by_fac: dict[int, list[tuple[str, str]]] = {}
    for fid, name, profession in Staff.objects.filter(
            work_facility__in=[s.facility_id for s in stations], profession__in=["emergency", "nurse", "physician"]
    ).order_by("id").values_list("work_facility_id", "name", "profession"):
        staff_by_fac.setdefault(fid, []).append((name, profession))
    demo = {u.username: u for u in User.objects.filter(username__in=["crew", "crew_township"])}
    seated: dict[int, tuple[User, str]] = {}
    by_station: dict[int, list[Vehicle]] = {}
    for v in vehicles:
        by_station.setdefault(v.station_id, []).append(v)
    command, township = stations[0], stations[2] if len(stations) > 2 else stations[-1]
    if "crew" in demo and by_station.get(command.pk):
        seated[by_station[command.pk][0].pk] = (demo["crew"], CrewRole.DOCTOR)
    crew_township = demo.get("crew_township")
    if crew_township is not None:
        # the nurse's own station (her account's facility), else the first township station
        mine = next((s for s in stations if s.facility_id == crew_township.facility_id), township)
        if by_station.get(mine.pk):
            seated[by_station[mine.pk][0].pk] = (crew_township, CrewRole.NURSE)
    rows = []
    for s in stations:
        pool = list(staff_by_fac.get(s.facility_id, []))
        for v in by_station.get(s.pk, []):
            seat = seated.get(v.pk)
            if seat is not None:
                user, role = seat
                rows.append(CrewMember(vehicle=v, user=user, name=user.display_name or user.username, role=role))
            for role, want in ((CrewRole.DOCTOR, ("emergency", "physician")), (CrewRole.NURSE, ("nurse",))):
                if seat is not None and seat[1] == role:
                    continue
                pick = next((p for p in pool if p[1] in want), None)
                if pick is not None:
                    pool.remove(pick)
                    rows.append(CrewMember(vehicle=v, name=pick[0], role=role))
            driver = surnames[int(rng.integers(0, len(surnames)))] + "".join(
                MALE_CHARS[int(i)] for i in rng.integers(0, len(MALE_CHARS), 2))
            rows.append(CrewMember(vehicle=v, name=driver, role=CrewRole.DRIVER))
    CrewMember.objects.bulk_create(rows)


def _pathway_centers(ctx: DemoContext) -> list[PathwayCenter]:
    """The county hospital's five centers; chest-pain units at the 中心卫生院 townships and the demo township."""
    lead = ctx.community.lead_facility
    certified = ctx.today.replace(year=ctx.today.year - 2, month=6, day=1)
    rows = [PathwayCenter(facility=lead, kind=kind, level=CenterLevel.CENTER, capabilities=caps,
                          certified_on=certified) for kind, caps in CENTER_CAPABILITIES.items()]
    units = sorted((f for f in ctx.facilities.values() if f.type == "C210"), key=lambda f: f.code)
    demo_town = User.objects.filter(username="township_doctor").values_list("facility_id", flat=True).first()
    extra = [f for f in ctx.facilities.values() if f.pk == demo_town and f not in units]
    for f in (units + extra)[:5]:
        rows.append(PathwayCenter(facility=f, kind="chest_pain", level=CenterLevel.UNIT, capabilities=UNIT_CAPABILITIES,
                                  certified_on=certified.replace(year=certified.year + 1)))
    PathwayCenter.objects.bulk_create(rows)
    return rows


# ---- drawing the year --------------------------------------------------------------------------------------


@dataclass
class _Call:
    rang: dt.datetime
    complaint: str
    priority: int
    where: _Where
    rid: int | None = None
    dest: int | None = None  # facility pk (None: no transport)
    kind: str = "emergency"
    from_facility: int | None = None
    referral: int | None = None
    ecg: tuple | None = None  # (order pk, ordered, acquired, reported, facility pk, level)
    outcome: str = ""  # close reason when not transported
    undispatched: str = ""  # close reason of a call without a vehicle
    special: list[str] = field(default_factory=list)
    merged_into: _Call | None = None  # the original call of a duplicate
    live: str = ""  # "active" | "open"
    delay: str = ""  # why the ambulance took longer (a mountain road)
    # filled while simulating
    id: int = 0
    events: list[tuple[str, dt.datetime]] = field(default_factory=list)  # call-level
    mission: dict | None = None
    subtype: str = ""
    pathway: str = ""


def _at_hour(rng: np.random.Generator, day: dt.date, hourly: np.ndarray) -> dt.datetime:
    hour = int(rng.choice(24, p=hourly))
    return dt.datetime.combine(day, dt.time(hour, int(rng.integers(0, 60)), int(rng.integers(0, 60))), tzinfo=TZ)


def _pick(rng: np.random.Generator, table: list[tuple[Any, float]] | dict[Any, float]) -> Any:
    items = list(table.items()) if isinstance(table, dict) else list(table)
    w = np.array([x[1] for x in items], dtype=float)
    return items[int(rng.choice(len(items), p=w / w.sum()))][0]


def _priority(rng: np.random.Generator, complaint: str) -> int:
    w = np.array(D.COMPLAINTS[complaint][4], dtype=float)
    return int(rng.choice(4, p=w / w.sum())) + 1


def _draw_calls(ctx: DemoContext, rng: np.random.Generator, w: _World, now: dt.datetime) -> list[_Call]:
    hourly = np.array(D.HOURLY) / sum(D.HOURLY)
    first = dt.date(ctx.today.year - (ctx.today.month < 12), ctx.today.month % 12 + 1, 1)
    county_facs = {f.pk for f in ctx.facilities.values() if f.care_level in ("county", "township")
                   and not f.type.startswith("E")}
    calls: list[_Call] = []

    def where_of(rid: int) -> _Where | None:
        p = w.people[rid - 1] if 0 < rid <= len(w.people) else None
        return w.places.get(p.village_code) if p is not None else None

    admissions = list(Encounter.objects.filter(type="inpatient", resident__isnull=False, admit_date__gte=first,
                                               admit_date__lte=ctx.today, facility_id__in=county_facs)
                      .order_by("id").values_list("resident_id", "facility_id", "admit_date", "main_icd10"))
    visits = list(Encounter.objects.filter(type="emergency", resident__isnull=False, admit_date__gte=first,
                                           admit_date__lte=ctx.today, facility_id__in=county_facs)
                  .order_by("id").values_list("resident_id", "facility_id", "admit_date", "main_icd10"))
    target = ctx.population * D.DISPATCHES_PER_1000 / 1000 * (1 - D.NO_TRANSPORT_SHARE)
    u = rng.random(len(admissions))
    picked = []
    for (rid, fid, day, icd), x in zip(admissions, u, strict=True):
        hit = next(((c, share) for code, (c, share) in D.ADMISSION_CALLS.items() if icd.startswith(code)), None)
        if hit is not None and x < hit[1]:
            picked.append((rid, fid, day, hit[0]))
    quota = round(target * D.ADMISSION_SHARE)  # admissions by 120 at most this share: the rest are emergency visits
    if len(picked) > quota:
        keep = np.sort(rng.permutation(len(picked))[:quota])
        picked = [picked[int(i)] for i in keep]
    p_visit = max(0.0, (target - len(picked)) / max(1, len(visits)))
    for (rid, fid, day, _icd), x in zip(visits, rng.random(len(visits)), strict=True):
        if x < p_visit:
            picked.append((rid, fid, day, str(_pick(rng, D.EMERGENCY_MIX))))
    for rid, fid, day, complaint in picked:
        where = where_of(rid)
        if where is None:
            continue
        rang = _at_hour(rng, day, hourly)
        if rang >= now - dt.timedelta(hours=6):
            continue
        calls.append(_Call(rang, complaint, _priority(rng, complaint), where, rid=rid, dest=fid,
                           special=["negative_pressure"] if complaint == "fever" and rng.random() < 0.15 else []))
    # missions that end on scene (no encounter follows), from anywhere in the county
    ndays = (ctx.today - first).days + 1
    n_people = len(w.people)
    for _k in range(round(len(calls) * D.NO_TRANSPORT_SHARE / (1 - D.NO_TRANSPORT_SHARE))):
        rid = int(rng.integers(1, n_people + 1))
        where = where_of(rid)
        rang = _at_hour(rng, first + dt.timedelta(days=int(rng.integers(0, ndays))), hourly)
        if where is None or rang >= now - dt.timedelta(hours=6):
            continue
        complaint = str(_pick(rng, D.EMERGENCY_MIX))
        calls.append(_Call(rang, complaint, _priority(rng, complaint), where, rid=rid,
                           outcome=str(_pick(rng, D.NO_TRANSPORT_REASONS))))
    calls += _stemi_transfers(rng, w, now)
    calls += _green_referrals(rng, w, now)
    # calls answered without a vehicle, and duplicates of real incidents
    dispatched = list(calls)
    for _k in range(round(len(dispatched) * D.UNDISPATCHED_SHARE)):
        rid = int(rng.integers(1, n_people + 1))
        where = where_of(rid)
        rang = _at_hour(rng, first + dt.timedelta(days=int(rng.integers(0, ndays))), hourly)
        if where is None or rang >= now - dt.timedelta(hours=1):
            continue
        calls.append(_Call(rang, "other", 4, where, undispatched=str(_pick(rng, D.UNDISPATCHED_REASONS))))
    dispatched.sort(key=lambda c: c.rang)
    calls.sort(key=lambda c: c.rang)
    for c in [d for d in dispatched if rng.random() < D.DUPLICATE_SHARE]:
        dup = _Call(c.rang + dt.timedelta(seconds=int(rng.integers(60, 300))), c.complaint, c.priority, c.where,
                    undispatched="同一事件重复呼救，已合并")
        dup.merged_into = c
        calls.append(dup)
    # the demo's now: an ambulance with a STEMI patient (the county team alerted), one call still being taken
    seat = w.places.get(township_codes(C.COUNTY[0])[0])
    if seat is not None and n_people:
        rid = next((i + 1 for i, p in enumerate(w.people) if p.village_code.startswith(seat.code[:9])
                    and (ctx.today - p.birth).days > 60 * 365), 1)
        live_where = where_of(rid) or seat
        chest = _Call(now - dt.timedelta(minutes=24), "chest_pain", 1, live_where, rid=rid, dest=w.lead.pk,
                      live="active")
        chest.pathway, chest.subtype = "chest_pain", "stemi"
        calls.append(chest)
        calls.append(_Call(now - dt.timedelta(seconds=50), "trauma", 2, seat, live="open"))
    calls.sort(key=lambda c: (c.merged_into is not None, c.rang))
    return calls


def _stemi_transfers(rng: np.random.Generator, w: _World, now: dt.datetime) -> list[_Call]:
    """The STEMI ECGs from the townships and villages (the ECG center's critical findings): a 120 transfer from
    the township, a 一键呼叫 from the village clinic, to the county hospital's chest-pain center."""
    from yigongti.telemedicine.models import CriticalValue

    out = []
    rows = (CriticalValue.objects.filter(finding__stemi=True, order__reported_at__isnull=False,
                                         order__reported_at__lt=now - dt.timedelta(hours=6),
                                         facility__type__in=["C210", "C220", "D600"])
            .order_by("order_id").values_list("order_id", "order__resident_id", "order__facility_id",
                                              "order__ordered_at", "order__acquired_at", "order__reported_at",
                                              "order__facility__type"))
    for oid, rid, fid, ordered, acquired, reported, ftype in rows:
        where = w.fac_where.get(fid)
        if where is None or reported is None or ordered is None:
            continue
        village = ftype == "D600"
        rang = reported + dt.timedelta(minutes=float(rng.uniform(2, 12)))
        c = _Call(rang, "chest_pain", 1, where, rid=rid, dest=w.lead.pk,
                  kind="green_channel" if village else "transfer", from_facility=fid,
                  ecg=(oid, ordered, acquired or ordered, reported, fid, "village" if village else "township"))
        c.subtype, c.pathway = "stemi", "chest_pain"
        out.append(c)
    return out


def _green_referrals(rng: np.random.Generator, w: _World, now: dt.datetime) -> list[_Call]:
    """Green-channel up-referrals that arrived (chest pain, stroke, head injury): a 120 transfer timed so that the
    ambulance reaches the county hospital about when the referral says the patient arrived."""
    from yigongti.referrals.models import Referral

    out = []
    rows = (Referral.objects.filter(direction="up", urgency="green", to_facility=w.lead, arrived_at__isnull=False,
                                    arrived_at__lt=now - dt.timedelta(hours=6))
            .order_by("id").values_list("id", "resident_id", "from_facility_id", "arrived_at", "icd10"))
    lead = w.fac_where.get(w.lead.pk)
    for ref, rid, fid, arrived, icd in rows:
        where = w.fac_where.get(fid)
        if where is None or arrived is None or lead is None:
            continue
        out_s = min(_road_s(w, s.node_id, where.node, s.lon, s.lat, where) for s in w.stations)
        back_s = _road_s(w, where.node, lead.node, where.lon, where.lat, lead)
        ahead = 10 + 90 + 40 + 100 + out_s * 1.1 + 12 * 60 + back_s * 1.02  # call, order, out, travel, on scene
        complaint = "stroke" if icd.startswith("I6") else "chest_pain" if icd.startswith(("R07", "I2")) else "trauma"
        c = _Call(arrived - dt.timedelta(seconds=ahead), complaint, 1 if complaint != "trauma" else 2, where,
                  rid=rid, dest=w.lead.pk, kind="transfer", from_facility=fid, referral=ref)
        out.append(c)
    return out


# ---- simulating the missions -------------------------------------------------------------------------------


def _s(t: dt.datetime, seconds: float) -> dt.datetime:
    return t + dt.timedelta(seconds=float(seconds))


def _lognormal(rng: np.random.Generator, median: float, sigma: float = 0.45) -> float:
    return float(median * math.exp(sigma * rng.standard_normal()))


def _simulate(rng: np.random.Generator, w: _World, calls: list[_Call], now: dt.datetime) -> None:
    """Call taking, the vehicle chosen (the nearest station with a free vehicle, by road), and every time point."""
    w.graph.prepare_from([s.node_id for s in w.stations if s.node_id is not None])
    dests = {c.dest for c in calls if c.dest}
    w.graph.prepare_to([n for d in dests if d in w.fac_where and (n := w.fac_where[d].node) is not None])
    by_station: dict[int, list[_Veh]] = {}
    for v in w.vehicles:
        by_station.setdefault(v.station, []).append(v)
    for c in calls:
        r = rng.random(12)
        ring = c.rang
        answer = _s(ring, (11 + 14 * r[0]) if r[1] < 0.04 else 2 + 7 * r[0])
        c.events = [("ring", ring), ("answer", answer)]
        if c.undispatched:
            if c.undispatched != "误拨/无声电话":
                c.events.append(("address_confirmed", _s(answer, 20 + 60 * r[2])))
            continue
        confirmed = _s(answer, 25 + 70 * r[2] + (60 * r[3] if c.where.mountain else 0))
        c.events.append(("address_confirmed", confirmed))
        graded = _s(confirmed, 10 + 30 * r[4])
        c.events.append(("priority", graded))
        if c.live == "open":
            continue
        order_at = _s(graded, 15 + 45 * r[5])
        # the vehicle: stations by road time to the scene, the first with a free vehicle (special needs kept)
        node = c.where.node
        ranked = sorted(w.stations, key=lambda s: _road_s(w, s.node_id, node, s.lon, s.lat, c.where))
        veh, station = None, None
        for s in ranked:
            free = [x for x in by_station.get(s.pk, []) if x.busy_until <= order_at
                    and (not c.special or x.kind == VehicleKind.NEGATIVE_PRESSURE)
                    and not (c.live and x.crew_user)]  # the demo crews' own vehicles stay free at now
            if free:
                veh, station = free[int(r[6] * len(free))], s
                break
        if veh is None:  # every vehicle out: the first to come free
            pool = [x for x in w.vehicles if not c.special or x.kind == VehicleKind.NEGATIVE_PRESSURE] or w.vehicles
            veh = min(pool, key=lambda x: x.busy_until)
            order_at = max(order_at, veh.busy_until + dt.timedelta(seconds=30))
            station = next(s for s in w.stations if s.pk == veh.station)
        assert station is not None
        rank = ranked.index(station) + 1
        straight = sorted(w.stations, key=lambda s: _straight_s(s.lon, s.lat, c.where.lon, c.where.lat))
        eta = _road_s(w, station.node_id, node, station.lon, station.lat, c.where)
        night = ring.astimezone(TZ).hour < 6
        turnout = (200 + 200 * r[7]) if r[8] < (0.09 if night else 0.04) else 45 + 120 * r[7]
        ack = _s(order_at, min(turnout * 0.4, 15 + 40 * r[9]))
        rolling = _s(order_at, turnout)
        travel = eta * (0.95 + 0.35 * r[10]) * (0.92 if night else 1.0)
        if c.where.mountain and r[11] < 0.12:
            travel += 60 * float(rng.uniform(8, 25))  # the last kilometres on foot, a washed-out road
            c.delay = D.MOUNTAIN_DELAY[int(r[2] * len(D.MOUNTAIN_DELAY))]
        on_scene = _s(rolling, travel)
        lo, hi = D.COMPLAINTS[c.complaint][5]
        fmc = _s(on_scene, 40 + 100 * rng.random())
        m: dict[str, Any] = {"vehicle": veh.pk, "station": station.pk, "dispatched_at": order_at, "eta_s": int(eta),
                             "rank": 1 if rank == 1 or r[6] < 0.7 else rank,
                             "straight_rank": straight.index(station) + 1, "crew_user": veh.crew_user,
                             "events": [("dispatch_order", order_at), ("crew_ack", ack), ("wheels_rolling", rolling),
                                        ("on_scene", on_scene), ("fmc", fmc)]}
        c.mission = m
        leave = _s(fmc, 60 * float(rng.uniform(lo, hi)))
        if c.dest is None:
            done = _s(leave, 60 * float(rng.uniform(5, 15)))
            if c.outcome.startswith("到达现场未见患者"):  # nobody to contact: no FMC, no record
                m["events"] = [e for e in m["events"] if e[0] != "fmc"]
            m["events"] += [("available", done)]
            veh.busy_until = _s(done, 0.6 * eta)
            continue
        dest = w.fac_where.get(c.dest)
        to_hospital = _road_s(w, c.where.node, dest.node if dest else None, c.where.lon, c.where.lat, dest or c.where)
        arrive = _s(leave, to_hospital * (0.9 + 0.25 * rng.random()))
        handover = _s(arrive, 60 * _lognormal(rng, 9, 0.5))
        available = _s(handover, 60 * float(rng.uniform(8, 25)))
        m["events"] += [("leave_scene", leave), ("arrive_hospital", arrive), ("handover", handover),
                        ("available", available)]
        m["destination"] = c.dest
        back = _road_s(w, dest.node if dest else None, station.node_id, station.lon, station.lat, c.where)
        veh.busy_until = _s(available, 0.7 * min(back, 3600))
        if c.live == "active":  # under way at the demo's now: what has happened so far, and the planned arrival
            m["planned"] = dict(m["events"])
            m["events"] = [e for e in m["events"] if e[1] <= now]
            veh.busy_until = dt.datetime.max.replace(tzinfo=dt.UTC)


def _road_s(w: _World, a: int | None, b: int | None, alon: float, alat: float, bw: _Where) -> float:
    s = w.graph.seconds(a, b)
    return s if math.isfinite(s) else _straight_s(alon, alat, bw.lon, bw.lat)


# ---- pathway cases -------------------------------------------------------------------------------------------


@dataclass
class _Case:
    call: _Call
    kind: str
    subtype: str
    arrival: str
    events: dict[str, dt.datetime]
    diagnosis: str
    first_facility: int | None = None
    ecg_order: int | None = None
    risk_colour: str = ""
    outcome: str = ""
    closed_at: dt.datetime | None = None
    delays: list[tuple[str, str, str]] = field(default_factory=list)
    id: int = 0
    no: str = ""


def _m(t: dt.datetime, minutes: float) -> dt.datetime:
    return t + dt.timedelta(minutes=float(minutes))


def _cases(rng: np.random.Generator, w: _World, calls: list[_Call], now: dt.datetime) -> list[_Case]:
    out = []
    for c in calls:
        if c.live == "active" and c.mission is not None and c.rid is not None:
            live = _live_case(c, now)
            if live is not None:
                out.append(live)
            continue
        if c.mission is None or c.rid is None or c.dest != w.lead.pk or c.live:
            continue
        ev = dict(c.mission["events"])
        if "arrive_hospital" not in ev:
            continue
        kind = c.pathway or D.COMPLAINTS[c.complaint][6]
        if c.complaint == "trauma" and c.priority <= 2:
            kind = "trauma"
        if not kind or (kind == "maternal" and c.priority > 1) or (kind == "trauma" and c.priority > 2):
            continue
        case = _draw_case(rng, c, kind, ev, now)
        if case is not None:
            out.append(case)
    return out


def _live_case(c: _Call, now: dt.datetime) -> _Case | None:
    """The STEMI on its way at the demo's now: FMC and the ambulance's 12-lead ECG so far, no door yet."""
    ev = dict(c.mission["events"]) if c.mission else {}
    if "fmc" not in ev:
        return None
    e = {"onset": _m(c.rang, -40), "call_120": c.rang, "fmc": ev["fmc"], "first_ecg": _m(ev["fmc"], 4),
         "ecg_transmit": _m(ev["fmc"], 5)}
    return _Case(c, "chest_pain", "stemi", "ems", {k: t for k, t in e.items() if t <= now},
                 "疑似急性ST段抬高型心肌梗死（院前心电图）")


def _draw_case(rng: np.random.Generator, c: _Call, kind: str, ev: dict[str, dt.datetime],
               now: dt.datetime) -> _Case | None:
    door = ev["arrive_hospital"]
    e: dict[str, dt.datetime] = {"call_120": c.rang}
    transfer = c.kind == "transfer"
    arrival = "transfer" if transfer else "ems"
    first_facility = c.from_facility
    if c.ecg is not None:  # the township's or village's own ECG: FMC there, the ECG center's times
        _oid, ordered, acquired, reported, _fid, _level = c.ecg
        e["fmc"] = _m(ordered, -float(rng.uniform(1, 4)))
        e["first_ecg"], e["ecg_transmit"], e["ecg_diagnosis"] = acquired, _m(acquired, 1), reported
        if transfer:
            e["first_door"] = _m(e["fmc"], -float(rng.uniform(2, 15)))
    elif transfer:
        e["first_door"] = _m(c.rang, -float(rng.uniform(5, 25)))
        e["fmc"] = _m(e["first_door"], float(rng.uniform(1, 5)))
    else:
        e["fmc"] = ev["fmc"]
    if transfer:
        e["door_out"] = ev["leave_scene"]
    e["door"] = door
    subtype, diagnosis = c.subtype, ""
    if kind == "chest_pain":
        if not subtype:
            subtype = str(_pick(rng, [(s[0], s[1]) for s in D.CHEST_PAIN_SUBTYPES]))
        diagnosis = next(s[2] for s in D.CHEST_PAIN_SUBTYPES if s[0] == subtype)
        e["onset"] = _m(e.get("first_door", e["fmc"]), -float(rng.uniform(25, 240)))
        if "first_ecg" not in e:
            e["first_ecg"] = _m(e["fmc"], _lognormal(rng, 6, 0.45))
            e["ecg_transmit"] = _m(e["first_ecg"], float(rng.uniform(0.5, 2)))
            e["ecg_diagnosis"] = _m(e["ecg_transmit"], _lognormal(rng, 4.5, 0.5))
        e["blood_draw"] = _m(door, float(rng.uniform(3, 15)))
        e["troponin"] = _m(e["blood_draw"], _lognormal(rng, 16, 0.3))
        e["diagnosis"] = e["ecg_diagnosis"] if subtype == "stemi" else _m(e["troponin"], float(rng.uniform(3, 15)))
        if subtype in ("stemi", "nstemi", "ua"):
            e["antiplatelet"] = _m(e["diagnosis"], float(rng.uniform(3, 12)))
        if subtype == "stemi":
            e["cath_lab_activation"] = _m(e["ecg_diagnosis"], float(rng.uniform(2, 10)))
            e["cath_lab_ready"] = _m(e["cath_lab_activation"], _lognormal(rng, 20, 0.35))
            e["consent_start"] = _m(door, float(rng.uniform(3, 10)))
            hesitate = rng.random() < 0.2
            e["consent_signed"] = _m(e["consent_start"], float(rng.uniform(30, 70) if hesitate else rng.uniform(4, 20)))
            e["arrive_cath_lab"] = _m(max(door, e["cath_lab_ready"], e["consent_signed"]), float(rng.uniform(3, 10)))
            e["puncture"] = _m(e["arrive_cath_lab"], float(rng.uniform(4, 12)))
            e["wire"] = _m(e["puncture"], _lognormal(rng, 14, 0.4) + (35 if rng.random() < 0.08 else 0))
        elif subtype in ("aortic_dissection", "pe"):
            e["cta"] = _m(door, float(rng.uniform(20, 60)))
            if subtype == "aortic_dissection" and rng.random() < 0.5:
                e["surgery"] = _m(e["cta"], float(rng.uniform(60, 180)))
    elif kind == "stroke":
        subtype = str(_pick(rng, [(s[0], s[1]) for s in D.STROKE_SUBTYPES]))
        diagnosis = next(s[2] for s in D.STROKE_SUBTYPES if s[0] == subtype)
        e["onset"] = _m(e.get("first_door", e["fmc"]), -float(rng.uniform(30, 300)))
        e["stroke_team"] = _m(door, float(rng.uniform(2, 12)))
        e["nihss"] = _m(door, float(rng.uniform(5, 15)))
        e["blood_draw"] = _m(door, float(rng.uniform(4, 12)))
        e["ct"] = _m(door, _lognormal(rng, 17, 0.4))
        e["ct_report"] = _m(e["ct"], float(rng.uniform(5, 15)))
        window = (door - e["onset"]).total_seconds() / 3600 < 4.5
        if subtype == "ischaemic" and window and rng.random() < 0.55:
            e["consent_signed"] = _m(e["ct_report"], _lognormal(rng, 12, 0.6))
            e["needle"] = _m(e["consent_signed"], float(rng.uniform(3, 10)))
            if rng.random() < 0.2:
                e["puncture"] = _m(e["needle"], float(rng.uniform(25, 80)))
                e["recanalization"] = _m(e["puncture"], float(rng.uniform(25, 60)))
        elif subtype == "haemorrhagic" and rng.random() < 0.35:
            e["neurosurgery"] = _m(door, float(rng.uniform(90, 240)))
    elif kind == "trauma":
        subtype, diagnosis = "major_trauma", "严重多发伤"
        e["injury"] = _m(c.rang, -float(rng.uniform(3, 20)))
        e["trauma_team"] = _m(door, _lognormal(rng, 5, 0.5))
        e["resuscitation"] = _m(door, _lognormal(rng, 4, 0.6))
        if rng.random() < 0.3:
            e["transfusion"] = _m(door, float(rng.uniform(15, 40)))
        e["ct"] = _m(door, _lognormal(rng, 22, 0.4))
        if rng.random() < 0.45:
            e["theatre"] = _m(e["ct"], _lognormal(rng, 35, 0.5))
        if rng.random() < 0.3:
            e["icu"] = _m(e.get("theatre", e["ct"]), float(rng.uniform(60, 240)))
    elif kind == "maternal":
        subtype = str(_pick(rng, [(s[0], s[1]) for s in D.MATERNAL_SUBTYPES]))
        diagnosis = next(s[2] for s in D.MATERNAL_SUBTYPES if s[0] == subtype)
        subtype = subtype if subtype in ("pph", "eclampsia") else "obstetric_other"
        e["onset"] = _m(c.rang, -float(rng.uniform(10, 60)))
        e["obstetric_team"] = _m(door, _lognormal(rng, 6, 0.5))
        if subtype == "pph":
            e["pph_diagnosis"] = _m(door, float(rng.uniform(5, 15)))
            e["transfusion"] = _m(e["pph_diagnosis"], _lognormal(rng, 20, 0.4))
        if subtype == "eclampsia":
            e["magnesium"] = _m(door, float(rng.uniform(5, 20)))
        if rng.random() < 0.6:
            e["decision_csection"] = _m(door, float(rng.uniform(10, 40)))
            e["delivery"] = _m(e["decision_csection"], _lognormal(rng, 22, 0.35))
    else:
        return None
    # the patient's stay: discharged a few days later (or still in hospital at the demo's now)
    stay = _m(door, 60 * 24 * float(rng.uniform(4, 12)))
    outcome, closed = "", None
    if stay < now:
        died = rng.random() < (0.04 if kind != "maternal" else 0.005)
        outcome = "died" if died else "discharged"
        e["discharge"] = stay
        closed = stay
    case = _Case(c, kind, subtype, arrival, {k: t for k, t in e.items() if t <= now}, diagnosis,
                 first_facility=first_facility, ecg_order=c.ecg[0] if c.ecg else None,
                 risk_colour=("red" if kind == "maternal" and rng.random() < 0.6 else "orange" if kind == "maternal"
                              else ""), outcome=outcome, closed_at=closed)
    case.delays = _delays(rng, case)
    return case


DELAY_BY_METRIC = {
    "fmc_to_ecg": [("ecg_delay", "现场先行处置，心电图采集延后")],
    "ecg_to_diagnosis": [("ecg_delay", "心电图传输信号差，重传")],
    "dido": [("transport_delay", "等待120转运车辆"), ("patient_decision", "家属商量是否转院")],
    "d2w": [("patient_decision", "家属犹豫，知情同意时间长"), ("cath_lab_busy", "导管室占台"),
            ("team_delay", "夜间导管室团队到位慢")],
    "fmc_to_wire": [("transport_delay", "山区转运路程长")],
    "activation_to_ready": [("team_delay", "夜间导管室团队到位慢")],
    "troponin_tat": [("imaging_delay", "检验排队")],
    "door_to_ct": [("imaging_delay", "CT 检查排队")],
    "dnt": [("patient_decision", "家属签署溶栓知情同意时间长"), ("unstable", "血压过高，先行降压")],
    "dpt": [("team_delay", "介入团队到位延误")],
    "door_to_recanalization": [("team_delay", "介入团队到位延误")],
    "door_to_theatre": [("cath_lab_busy", "手术室占台")],
    "door_to_ct_trauma": [("unstable", "血流动力学不稳定，先行复苏")],
    "door_to_team": [("team_delay", "夜间创伤小组到位慢")],
    "door_to_resuscitation": [("team_delay", "夜间创伤小组到位慢")],
    "pph_to_transfusion": [("imaging_delay", "等待配血")],
    "ddi": [("cath_lab_busy", "手术室占台")],
    "door_to_obstetric_team": [("team_delay", "产科二线到位延误")],
}


def _delays(rng: np.random.Generator, case: _Case) -> list[tuple[str, str, str]]:
    """A reason for most missed targets (a few left for the center to fill in), judged by the pathways' metrics."""
    from yigongti.pathways import metrics

    out = []
    for m in metrics.missed(metrics.case_metrics(case.kind, case.events, subtype=case.subtype,
                                                 arrival_mode=case.arrival)):
        if rng.random() < 0.85:
            opts = DELAY_BY_METRIC.get(m.code, [("other", "院内流程衔接不畅")])
            code, note = opts[int(rng.integers(0, len(opts)))]
            out.append((m.code, code, note))
    return out


# ---- writing -----------------------------------------------------------------------------------------------


def _utc(rows: list[tuple]) -> list[tuple]:
    """Times as the ORM stores them (UTC): SQLite compares the text, so an offset other than +00:00 would sort
    wrongly against the ORM's own parameters."""
    from django.db import connection

    naive = connection.vendor == "sqlite"

    def conv(v: Any) -> Any:
        if isinstance(v, dt.datetime) and v.tzinfo is not None:
            u = v.astimezone(dt.UTC)
            return u.replace(tzinfo=None) if naive else u
        return v

    return [tuple(conv(v) for v in row) for row in rows]


def _next_id(model) -> int:
    return (model.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1


def _vitals(rng: np.random.Generator, complaint: str, priority: int) -> dict[str, Any]:
    sick = priority <= 2
    sbp = int(rng.normal(175 if complaint == "stroke" else 95 if complaint == "trauma" and sick else 138, 18))
    return {"sbp": max(60, sbp), "dbp": max(40, int(sbp * rng.uniform(0.55, 0.68))),
            "heart_rate": int(rng.normal(108 if sick else 86, 14)), "resp_rate": int(rng.normal(22 if sick else 18, 3)),
            "spo2": int(min(100, rng.normal(91 if complaint == "dyspnea" else 96, 2.5))),
            "gcs": int(rng.integers(5, 12)) if complaint in ("unconscious", "stroke") and sick else 15}


def _address(w: _World, where: _Where) -> str:
    town = where.code[:9] + "000"
    return (where.name if town == where.code else f"{w.names.get(town, '')}{where.name}")[:120]


def _write(ctx: DemoContext, rng: np.random.Generator, w: _World, calls: list[_Call], cases: list[_Case],
           now: dt.datetime) -> dict[str, int]:
    call_id, mission_id, record_id = _next_id(Call), _next_id(Mission), _next_id(PrehospitalRecord)
    for c in calls:
        c.id, call_id = call_id, call_id + 1
    seq: dict[str, int] = {}
    call_rows: list[tuple] = []
    event_rows: list[tuple] = []
    mission_rows: list[tuple] = []
    record_rows: list[tuple] = []
    vital_rows: list[tuple] = []
    alert_rows: list[tuple] = []
    case_of = {id(k.call): k for k in cases}
    recorded = now
    for c in sorted(calls, key=lambda c: c.rang):
        day = c.rang.astimezone(TZ)
        stem = f"{day:%y%m%d}"
        seq[stem] = seq.get(stem, 0) + 1
        c_no = f"120-{stem}{seq[stem]:04d}"
        p = w.people[c.rid - 1] if c.rid else None
        age = (c.rang.date() - p.birth).days // 365 if p is not None else None
        desc = f"{'男' if p.sex == 'M' else '女'}，约{max(1, round(age / 5) * 5) if age and age >= 5 else age or 1}岁" \
            if p is not None else ""
        complaint = D.COMPLAINTS[c.complaint]
        chief = complaint[0] if not c.undispatched else c.undispatched
        if c.complaint == "trauma" and not c.undispatched:
            chief = f"{D.TRAUMA_SCENES[c.id % len(D.TRAUMA_SCENES)]}，{complaint[0]}"
        if c.kind != "emergency" and c.from_facility:
            fac = w.facilities[c.from_facility]
            chief = f"{fac.short_name or fac.name}转县中心医院：{complaint[1]}" + ("（心电图示STEMI）" if c.ecg else "")
        m = c.mission
        if c.merged_into is not None:
            status, closed_at, reason = "merged", c.events[-1][1], c.undispatched
        elif c.undispatched:
            status, closed_at, reason = ("cancelled" if "取消" in c.undispatched else "closed"), c.events[-1][1], \
                c.undispatched
        elif c.live == "open":
            status, closed_at, reason = "open", None, ""
        elif c.live == "active":
            status, closed_at, reason = "dispatched", None, ""
        else:
            assert m is not None
            status, closed_at = "closed", m["events"][-1][1]
            reason = (c.outcome or "已送达医院") + (f"；{c.delay}" if c.delay else "")
        merged = c.merged_into.id if c.merged_into is not None else None
        phone = (p.phone if p is not None and p.phone else
                 f"1{3 + (c.id % 6)}{(c.id * 7919) % 10**9:09d}")
        call_rows.append((c.id, c_no, c.kind, phone, "家属" if p is not None and c.id % 3 else "",
                          c.rid, desc, c.where.code, c.where.region_id,
                          _address(w, c.where),
                          round(c.where.lon + float(rng.normal(0, 0.003)), 6),
                          round(c.where.lat + float(rng.normal(0, 0.003)), 6), c.where.node, chief[:200],
                          complaint[2] if not c.undispatched else "", c.priority, json.dumps(c.special), status, merged,
                          c.from_facility, c.referral, c.dest if c.kind != "emergency" else None, w.dispatcher,
                          c.rang, closed_at, reason, ""))
        for kind, at in c.events:
            event_rows.append((c.id, None, kind, at, recorded, w.dispatcher,
                               "telephony" if kind in ("ring", "answer") else "manual", ""))
        if m is None:
            continue
        mid = mission_id
        mission_id += 1
        active = c.live == "active"
        mission_rows.append((mid, c.id, m["vehicle"], "active" if active else "completed", w.dispatcher,
                             m["dispatched_at"], m["eta_s"], m["rank"], m["straight_rank"], m.get("destination"),
                             "具备胸痛/卒中救治能力，路程最短" if case_of.get(id(c)) else
                             ("患者就近就医" if m.get("destination") else ""), ""))
        for kind, at in m["events"]:
            by = w.dispatcher if kind == "dispatch_order" else m["crew_user"]
            event_rows.append((c.id, mid, kind, at, recorded, by,
                               "gps" if kind in ("on_scene", "arrive_hospital") and mid % 3 else "manual", ""))
        ev = dict(m["events"])
        if "fmc" in ev and (case_of.get(id(c)) is not None or rng.random() >= D.RECORD_MISSING):
            case = case_of.get(id(c))
            impression, code, icd = complaint[1], complaint[2], complaint[3]
            if case is not None and case.diagnosis:
                impression = case.diagnosis
                code = case.subtype if case.kind == "chest_pain" and case.subtype == "stemi" else case.kind
            record_rows.append((record_id, mid, c.rid, impression[:200], code, icd, D.TREATMENT[c.complaint],
                                c.ecg[0] if c.ecg else None, m["crew_user"], ev.get("leave_scene", ev["fmc"])))
            for k, at in enumerate([ev["fmc"], ev.get("arrive_hospital")]):
                if at is None or (k and rng.random() < 0.4):
                    continue
                vit = _vitals(rng, c.complaint, c.priority)
                vital_rows.append((record_id, _m(at, 2 if not k else -3), vit["sbp"], vit["dbp"], vit["heart_rate"],
                                   vit["resp_rate"], vit["spo2"], vit["gcs"], m["crew_user"], ""))
            record_id += 1
        case = case_of.get(id(c))
        if case is not None and c.live == "active":  # the county team alerted, not yet acknowledged
            planned = m.get("planned", {})
            sent = min(_m(now, -0.5), _m(max(case.events.values()), 1.5))
            alert_rows.append((mid, w.lead.pk, case.kind, case.diagnosis[:200], planned.get("arrive_hospital"),
                               None, m["crew_user"] or w.dispatcher, sent, None, None))
        elif case is not None and "leave_scene" in ev:
            sent = max(ev["leave_scene"], case.events.get("ecg_diagnosis", ev["leave_scene"]))
            sent = min(sent, _m(ev["arrive_hospital"], -2))
            ack = _m(sent, float(rng.uniform(0.5, 4))) if rng.random() < 0.95 else None
            alert_rows.append((mid, w.lead.pk, case.kind, case.diagnosis[:200],
                               _m(ev["arrive_hospital"], float(rng.normal(0, 2))), c.ecg[0] if c.ecg else None,
                               m["crew_user"] or w.dispatcher, sent, w.county_doctor if ack else None, ack))
    with transaction.atomic():
        load_rows(Call, ["id", "call_no", "kind", "caller_phone", "caller_name", "resident", "patient_description",
                         "area_code", "region", "address", "lon", "lat", "node", "chief_complaint", "complaint_code",
                         "priority", "special_needs", "status", "merged_into", "from_facility", "referral",
                         "destination", "taken_by", "rang_at", "closed_at", "close_reason", "idempotency_key"],
                  _utc(call_rows))
        load_rows(Mission, ["id", "call", "vehicle", "status", "dispatched_by", "dispatched_at", "eta_s",
                            "recommended_rank", "straight_line_rank", "destination", "destination_reason",
                            "abort_reason"], _utc(mission_rows))
        load_rows(CallEvent, ["call", "mission", "kind", "at", "recorded_at", "by", "source", "idempotency_key"],
                  _utc(event_rows))
        load_rows(PrehospitalRecord, ["id", "mission", "resident", "impression", "impression_code", "icd10",
                                      "treatment", "ecg_order", "recorded_by", "updated_at"], _utc(record_rows))
        load_rows(VitalSigns, ["record", "at", "sbp", "dbp", "heart_rate", "resp_rate", "spo2", "gcs", "by",
                               "idempotency_key"], _utc(vital_rows))
        load_rows(PreArrivalAlert, ["mission", "facility", "pathway", "impression", "eta_at", "ecg_order", "sent_by",
                                    "sent_at", "acknowledged_by", "acknowledged_at"], _utc(alert_rows))
        n_cases = _write_cases(w, cases, now)
        reset_sequences(Call, Mission, CallEvent, PrehospitalRecord, VitalSigns, PreArrivalAlert, Case, CaseEvent,
                        DelayReason)
        _vehicle_now(w, calls, now)
    analyze(Call, Mission, CallEvent, Case, CaseEvent)
    return {"calls": len(call_rows), "missions": len(mission_rows), "events": len(event_rows),
            "records": len(record_rows), "alerts": len(alert_rows), "cases": n_cases}


def _write_cases(w: _World, cases: list[_Case], now: dt.datetime) -> int:
    from yigongti.pathways.services import PREFIX

    case_id = _next_id(Case)
    seq: dict[str, int] = {}
    rows, events, delays = [], [], []
    for k in sorted(cases, key=lambda k: k.events.get("fmc", k.call.rang)):
        k.id, case_id = case_id, case_id + 1
        opened = min(k.events.get("fmc", k.call.rang), k.call.rang)
        stem = f"{PREFIX.get(k.kind, 'LC')}{opened.astimezone(TZ):%y%m%d}"
        seq[stem] = seq.get(stem, 0) + 1
        p = w.people[(k.call.rid or 1) - 1]
        rows.append((k.id, f"{stem}{seq[stem]:04d}", k.kind, k.subtype, k.call.rid, p.village_code, w.lead.pk,
                     k.first_facility, k.arrival, k.call.id, k.call.referral, k.ecg_order, k.risk_colour, k.diagnosis,
                     k.outcome, "closed" if k.closed_at else "open", w.county_doctor, opened, k.closed_at, ""))
        for code, at in sorted(k.events.items(), key=lambda x: x[1]):
            src = ("emergency" if code in ("call_120", "fmc", "door", "door_out", "first_door") and k.call.mission
                   else "telemedicine" if code in ("first_ecg", "ecg_transmit", "ecg_diagnosis")
                   else "lab" if code == "troponin" else "imaging" if code in ("ct", "ct_report", "cta")
                   else "manual")
            fac = k.first_facility if code in ("first_door", "door_out") else w.lead.pk
            if code in ("fmc", "first_ecg", "ecg_transmit", "ecg_diagnosis") and k.ecg_order:
                fac = k.first_facility
            by = None if src != "manual" else w.county_doctor
            events.append((k.id, code, at, fac, src, f"call:{k.call.id}" if src == "emergency" else "", "", True,
                           "", by, now, ""))
        for metric, code, note in k.delays:
            delays.append((k.id, metric, code, note, w.county_doctor, now))
    load_rows(Case, ["id", "case_no", "kind", "subtype", "resident", "area_code", "facility", "first_facility",
                     "arrival_mode", "call", "referral", "ecg_order", "risk_colour", "diagnosis", "outcome", "status",
                     "opened_by", "opened_at", "closed_at", "idempotency_key"], _utc(rows))
    load_rows(CaseEvent, ["case", "code", "at", "facility", "source", "source_ref", "value", "active", "reason",
                          "recorded_by", "recorded_at", "idempotency_key"], _utc(events))
    load_rows(DelayReason, ["case", "metric", "code", "note", "by", "at"], _utc(delays))
    return len(rows)


def _vehicle_now(w: _World, calls: list[_Call], now: dt.datetime) -> None:
    """Vehicles at the demo's now: at their station, the live mission's on scene where the call is."""
    from yigongti.emergency.models import VehiclePosition

    stations = {s.pk: s for s in w.stations}
    for c in calls:
        if c.live == "active" and c.mission is not None:
            last = c.mission["events"][-1]
            status = {"on_scene": VehicleStatus.ON_SCENE, "fmc": VehicleStatus.ON_SCENE,
                      "leave_scene": VehicleStatus.TRANSPORTING}.get(last[0], VehicleStatus.DISPATCHED)
            Vehicle.objects.filter(pk=c.mission["vehicle"]).update(
                status=status, status_at=last[1], lon=c.where.lon, lat=c.where.lat, node_id=c.where.node,
                position_at=now - dt.timedelta(seconds=20))
            # the GPS trail of the way out (a straight line is enough for the board's trail)
            ev = dict(c.mission["events"])
            start, end = ev.get("wheels_rolling"), ev.get("on_scene")
            home = stations[c.mission["station"]]
            if start is not None and end is not None:
                n = 8
                VehiclePosition.objects.bulk_create([
                    VehiclePosition(vehicle_id=c.mission["vehicle"], at=start + (end - start) * k / n,
                                    lon=round(home.lon + (c.where.lon - home.lon) * k / n, 6),
                                    lat=round(home.lat + (c.where.lat - home.lat) * k / n, 6),
                                    speed_kmh=0.0 if k == n else 45.0) for k in range(n + 1)])


# ---- the step --------------------------------------------------------------------------------------------


def build_emergency(ctx: DemoContext) -> None:
    t0 = time.perf_counter()
    rng = ctx.rng("emergency")
    now = ctx.now or timezone.now()
    network = _network(ctx)
    t_net = time.perf_counter()
    places, names = _places(network)
    fac_where = _facility_where(ctx, places)
    with transaction.atomic():
        stations, vehicles = _fleet(ctx, rng, places, fac_where, now)
        _pathway_centers(ctx)
    users = dict(User.objects.filter(username__in=["dispatcher", "county_doctor"]).values_list("username", "pk"))
    w = _World(network, _Graph(network), places, stations, vehicles, fac_where, ctx.community.lead_facility,
               users.get("dispatcher"), users.get("county_doctor"), ctx.extra["people"], names,
               {f.pk: f for f in ctx.facilities.values()})
    calls = _draw_calls(ctx, rng, w, now)
    _simulate(rng, w, calls, now)
    cases = _cases(rng, w, calls, now)
    counts = _write(ctx, rng, w, calls, cases, now)
    counts["vehicles"] = len(vehicles)
    counts["stations"] = len(stations)
    timings = ctx.extra.setdefault("timings", {})
    timings["emergency_network_s"] = t_net - t0
    timings["emergency_s"] = time.perf_counter() - t0
    ctx.extra["emergency"] = counts

