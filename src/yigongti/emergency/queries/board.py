"""The dispatcher's board (调度大屏): open calls by priority then waiting time, every vehicle with its status and
current call, and a cheap stamp that tells a polling board whether anything changed.

Three queries whatever the number of calls and vehicles (calls, their active missions, vehicles with their
stations), read as values: the naive version (the ORM objects with their relations followed row by row) is the
baseline of ``bench/em_board.py``."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor

from ..models import (
    Call,
    CallEvent,
    CallStatus,
    Mission,
    MissionStatus,
    Priority,
    Vehicle,
    VehicleKind,
    VehicleStatus,
)
from ..services.calls import BOARD_VERSION_KEY, SPECIAL_NEEDS
from .calls import calls_visible_to

log = logging.getLogger("yigongti.emergency")
OPEN = (CallStatus.OPEN, CallStatus.DISPATCHED)
MAX_CALLS = 200  # a county's open calls at once are tens; the board never pages


@dataclass
class BoardMission:
    mission_id: int
    vehicle_id: int
    call_sign: str
    status: str
    status_label: str


@dataclass
class BoardCall:
    pk: int
    call_no: str
    kind: str
    priority: int
    priority_label: str
    complaint: str
    where: str
    located: bool
    waiting_s: int
    status: str
    status_label: str
    needs: list[str]
    lon: float | None = None
    lat: float | None = None
    missions: list[BoardMission] = field(default_factory=list)
    url: str = ""
    recommend_url: str = ""
    rang_ms: int = 0  # the ring, as epoch milliseconds (the board's clock ticks the waiting time between polls)

    @property
    def waiting(self) -> str:
        """How long since the ring, as m:ss (h:mm:ss past an hour)."""
        m, sec = divmod(max(self.waiting_s, 0), 60)
        return f"{m // 60}:{m % 60:02d}:{sec:02d}" if m >= 60 else f"{m}:{sec:02d}"


@dataclass
class BoardVehicle:
    pk: int
    call_sign: str
    plate: str
    kind: str
    kind_label: str
    station: str
    status: str
    status_label: str
    status_at: dt.datetime | None
    lon: float | None
    lat: float | None
    call_id: int | None
    call_no: str
    call_url: str = ""


@dataclass
class Board:
    calls: list[BoardCall]
    vehicles: list[BoardVehicle]
    counts: list[tuple[str, str, int]]  # (status, label, vehicles), in the workflow's order
    stamp: str
    now: dt.datetime

    @property
    def now_ms(self) -> int:
        return int(self.now.timestamp() * 1000)


def stamp() -> str:
    """What a board shows changes only when one of these does: the open calls (their number and newest), any
    time point, a vehicle's status or position, or a write the services announce (``bump_board``). One
    statement (a round trip is most of its cost)."""
    call, event, vehicle = Call._meta.db_table, CallEvent._meta.db_table, Vehicle._meta.db_table
    with connection.cursor() as cur:  # the table names are ours, the values parameters
        cur.execute(
            f"SELECT (SELECT COUNT(*) FROM {call} WHERE status IN (%s, %s)), "
            f"(SELECT MAX(id) FROM {call} WHERE status IN (%s, %s)), (SELECT MAX(id) FROM {event}), "
            f"(SELECT MAX(status_at) FROM {vehicle}), (SELECT MAX(position_at) FROM {vehicle}), "
            f"(SELECT COUNT(*) FROM {vehicle})", [*OPEN, *OPEN])
        row = cur.fetchone()
    raw = ":".join(str(x) for x in row) + f":{cache.get(BOARD_VERSION_KEY, 0)}"
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


def _where(row: Any) -> str:
    parts = [p for p in (row["region__parent__name"] if row["region__level"] == "village" else "",
                         row["region__name"], row["landmark__name"], row["address"]) if p]
    if not parts and row["lon"] is not None:
        return f"{row['lon']:.4f}, {row['lat']:.4f}"
    return " · ".join(dict.fromkeys(parts))


def board(actor: Actor, now: dt.datetime | None = None, *, known_stamp: str = "") -> Board:
    """The board for a dispatcher (calls they may see; the fleet is no one's person-level data). ``known_stamp``:
    the stamp the caller has just read (the poll), not read again."""
    now = now or timezone.now()
    s = known_stamp or stamp()
    priorities = dict(Priority.choices)
    call_states = dict(CallStatus.choices)
    vehicle_states = dict(VehicleStatus.choices)
    rows = list(calls_visible_to(actor.user).filter(status__in=OPEN).order_by("priority", "rang_at", "pk").values(
        "pk", "call_no", "kind", "priority", "chief_complaint", "address", "lon", "lat", "node_id", "rang_at",
        "status", "special_needs", "region__name", "region__level", "region__parent__name", "landmark__name",
        "area_code")[:MAX_CALLS])
    calls = {r["pk"]: BoardCall(
        r["pk"], r["call_no"], r["kind"], r["priority"], str(priorities.get(r["priority"], r["priority"])),
        r["chief_complaint"], _where(r), r["node_id"] is not None, int((now - r["rang_at"]).total_seconds()),
        r["status"], str(call_states.get(r["status"], r["status"])),
        [str(SPECIAL_NEEDS.get(n, n)) for n in r["special_needs"] or []], r["lon"], r["lat"],
        rang_ms=int(r["rang_at"].timestamp() * 1000)) for r in rows}
    busy: dict[int, tuple[int, str]] = {}
    for m in Mission.objects.filter(status=MissionStatus.ACTIVE).values(
            "pk", "call_id", "call__call_no", "vehicle_id", "vehicle__call_sign", "vehicle__status"):
        busy[m["vehicle_id"]] = (m["call_id"], m["call__call_no"])
        if m["call_id"] in calls:
            calls[m["call_id"]].missions.append(BoardMission(
                m["pk"], m["vehicle_id"], m["vehicle__call_sign"], m["vehicle__status"],
                str(vehicle_states.get(m["vehicle__status"], m["vehicle__status"]))))
    kinds = dict(VehicleKind.choices)
    vehicles = []
    counts: dict[str, int] = {}
    for row in Vehicle.objects.filter(active=True).order_by("station__name", "call_sign").values(
            "pk", "call_sign", "plate", "kind", "station__name", "status", "status_at", "lon", "lat"):
        call_id, call_no = busy.get(row["pk"], (None, ""))
        counts[row["status"]] = counts.get(row["status"], 0) + 1
        vehicles.append(BoardVehicle(row["pk"], row["call_sign"], row["plate"], row["kind"],
                                     str(kinds.get(row["kind"], "")), row["station__name"], row["status"],
                                     str(vehicle_states.get(row["status"], "")), row["status_at"], row["lon"],
                                     row["lat"], call_id, call_no))
    # the rows' links from one reverse each (a reverse per row was a fifth of the fragment's time)
    call_url = reverse("emergency:call", args=[0])[:-2]
    recommend_url = reverse("emergency:call_recommend", args=[0])[:-len("0/recommend/")]
    back = quote(reverse("emergency:board") + "?call=")
    for c in calls.values():
        c.url = f"{call_url}{c.pk}/"
        c.recommend_url = f"{recommend_url}{c.pk}/recommend/?next={back}{c.pk}"
    for v in vehicles:
        v.call_url = f"{call_url}{v.call_id}/" if v.call_id else ""
    ordered = [(k, str(label), counts[k]) for k, label in VehicleStatus.choices if k in counts]
    return Board(list(calls.values()), vehicles, ordered, s, now)


@dataclass
class Recommendation:
    candidates: list[Any]
    error: str = ""


def recommend_for(call: Call, limit: int = 5) -> Recommendation:
    """The available vehicles ranked by road ETA (the roads helper's ``recommend``); an empty list and the
    reason when the ranking cannot be had, so that the dispatcher can still choose from the fleet."""
    try:
        from ..recommend import recommend
    except ImportError:
        return Recommendation([], _("路网推荐暂不可用，请从车辆列表中选择"))
    try:
        return Recommendation(list(recommend(call, limit=limit)))
    except Exception as e:  # the board must stay up whatever the graph does
        log.exception("recommendation failed for call %s", call.pk)
        return Recommendation([], _("路网推荐失败（%(e)s），请从车辆列表中选择") % {"e": type(e).__name__})


def dispatchable(board_: Board) -> list[BoardVehicle]:
    return [v for v in board_.vehicles if v.status in (VehicleStatus.AVAILABLE, VehicleStatus.RETURNING)]
