"""Use cases of a 120 call (呼救受理): take it, complete it (location, priority, complaint, special needs), send a
vehicle, merge a duplicate into the incident's first call, close it; and the inter-facility transfer that the
green channel asks for. The only writers of ``Call`` and of the call-level ``CallEvent`` rows (ring, answer,
address confirmed, priority, dispatch order).

Every time point is recorded once (the table's unique constraints; a repeat returns the first). ``dispatch``
locks the call and then the vehicle (SELECT … FOR UPDATE, always in that order): when two dispatchers send the
same ambulance at the same moment, the second waits for the first to commit, then reads the vehicle as
dispatched and is told who has it (``Conflict``); the partial unique index "one active mission per vehicle"
keeps that true even for a writer that skipped the lock."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import math
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yigongti.core.notify import notify
from yigongti.core.personal import PhoneError, normalise_phone
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Facility, Region, Role, User
from yigongti.orgs.permissions import check
from yigongti.residents.models import Resident

from .. import workflow
from ..models import (
    Call,
    CallEvent,
    CallKind,
    CallStatus,
    EventKind,
    Landmark,
    Mission,
    MissionStatus,
    Place,
    Priority,
    RoadNetwork,
    RoadNode,
    Vehicle,
    VehicleStatus,
)
from ..roads.graph import active_network

log = logging.getLogger("yigongti.emergency")

SPECIAL_NEEDS = {
    "negative_pressure": gettext_lazy("负压救护车"),
    "neonatal": gettext_lazy("新生儿转运"),
    "monitoring": gettext_lazy("监护型救护车"),
}
# what the caller describes (主诉分类); the pathway kinds first, so that the pathway starts from the call
COMPLAINTS = (
    ("chest_pain", gettext_lazy("胸痛/胸闷")),
    ("stroke", gettext_lazy("卒中症状（口角歪斜、肢体无力、言语不清）")),
    ("trauma", gettext_lazy("创伤")),
    ("maternal", gettext_lazy("孕产妇急症")),
    ("neonatal", gettext_lazy("新生儿急症")),
    ("dyspnea", gettext_lazy("呼吸困难")),
    ("coma", gettext_lazy("意识障碍/昏迷")),
    ("poisoning", gettext_lazy("中毒")),
    ("fever", gettext_lazy("高热/抽搐")),
    ("other", gettext_lazy("其他")),
)
OPEN_STATES = workflow.CALL_OPEN
DISPATCHABLE = workflow.DISPATCHABLE
CLOCK_SKEW = dt.timedelta(seconds=60)  # a switchboard's clock a little ahead of ours is not "the future"
BOARD_VERSION_KEY = "emergency:board:version"
DISPATCHER_ROLES = (Role.DISPATCHER,)
TRANSFER_ROLES = (Role.DOCTOR, Role.NURSE, Role.VILLAGE_DOCTOR)
FIELDS = ("caller_name", "patient_description", "chief_complaint", "complaint_code", "priority", "special_needs",
          "region", "landmark", "lon", "lat", "address", "resident")


def bump_board() -> None:
    """Tell the dispatchers' boards that something changed (they poll a cheap stamp, ``queries.board.stamp``)."""
    if not cache.add(BOARD_VERSION_KEY, 1, None):
        try:
            cache.incr(BOARD_VERSION_KEY)
        except ValueError:
            cache.set(BOARD_VERSION_KEY, 1, None)


# ---- call numbers -------------------------------------------------------------------------------------------


def next_call_no(day: dt.date | None = None) -> str:
    """``120-YYMMDDNNNN``: the next free number of the day (Asia/Shanghai). Unique by the table: a writer that
    loses the race retries with the next one."""
    day = day or timezone.localdate()
    prefix = f"120-{day:%y%m%d}"
    last = (Call.objects.filter(call_no__startswith=prefix).order_by("-call_no")
            .values_list("call_no", flat=True).first())
    seq = int(last[len(prefix):]) + 1 if last and last[len(prefix):].isdigit() else 1
    return f"{prefix}{seq:04d}"


# ---- parsing -------------------------------------------------------------------------------------------------


def parse_phone(raw: str) -> str:
    """The caller's number normalised; a hidden or odd switchboard number (a short code, an extension) kept as
    its digits; anything else refused."""
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        return normalise_phone(text)
    except PhoneError:
        digits = "".join(ch for ch in text if ch.isdigit())
        if digits and len(digits) <= 20 and len(digits) == len(text.replace("-", "").replace(" ", "")):
            return digits
        raise InvalidInput("phone_invalid", _("主叫号码格式不正确"), field="caller_phone") from None


def parse_priority(value: Any) -> int:
    roman = {"I": 1, "II": 2, "III": 3, "IV": 4}
    text = str(value).strip().upper().removesuffix("级")
    n = roman.get(text) or (int(text) if text.isdigit() else 0)
    if n not in Priority.values:
        raise InvalidInput("priority_invalid", _("分级应为 I（危急）、II（急重）、III（急症）或 IV（轻症）"),
                           field="priority")
    return n


def parse_needs(values: Any) -> list[str]:
    if isinstance(values, str):
        values = [v for v in values.replace("，", ",").split(",") if v.strip()]
    needs = sorted({str(v).strip() for v in values or ()})
    bad = [n for n in needs if n not in SPECIAL_NEEDS]
    if bad:
        raise InvalidInput("special_needs_invalid", _("特殊需求无效：%(needs)s") % {"needs": "、".join(bad)},
                           field="special_needs")
    return needs


def _coordinate(value: Any, name: str, low: float, high: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInput("coordinate_invalid", _("坐标格式不正确"), field=name) from None
    if not math.isfinite(x) or not low <= x <= high:
        raise InvalidInput("coordinate_invalid", _("坐标超出范围"), field=name)
    return x


def check_time(at: dt.datetime | None, *, field: str, not_before: dt.datetime | None = None,
               now: dt.datetime | None = None) -> dt.datetime:
    """A time point given by a person or a switchboard: not in the future, not before the call."""
    now = now or timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + CLOCK_SKEW:
        raise InvalidInput("time_in_future", _("时间 %(at)s 晚于当前时间，不能记录未来的时间")
                           % {"at": timezone.localtime(at).strftime("%H:%M:%S")}, field=field)
    if not_before is not None and at < not_before:
        raise InvalidInput("time_before_call", _("时间 %(at)s 早于振铃时间 %(ring)s")
                           % {"at": timezone.localtime(at).strftime("%H:%M:%S"),
                              "ring": timezone.localtime(not_before).strftime("%H:%M:%S")}, field=field)
    return at


# ---- locations -----------------------------------------------------------------------------------------------


def nearest_node(network: RoadNetwork, lon: float, lat: float) -> RoadNode | None:
    """The road node nearest to a point, by a box search widening from ~1 km (the position index serves it)."""
    for half in (0.01, 0.03, 0.1, 0.3, 1.0):
        box = list(RoadNode.objects.filter(network=network, lon__range=(lon - half, lon + half),
                                           lat__range=(lat - half, lat + half)).only("id", "lon", "lat")[:5000])
        if box:
            k = math.cos(math.radians(lat))
            return min(box, key=lambda n: ((n.lon - lon) * k) ** 2 + (n.lat - lat) ** 2)
    return None


def _region(value: Any) -> Region | None:
    if value in (None, ""):
        return None
    if isinstance(value, Region):
        return value
    region = Region.objects.filter(code=str(value).strip()).first()
    if region is None:
        raise InvalidInput("region_invalid", _("事发区划无效"), field="region")
    return region


def _landmark(value: Any) -> Landmark | None:
    """A landmark by id, or by its exact name on the active network."""
    if value in (None, ""):
        return None
    if isinstance(value, Landmark):
        return value
    text = str(value).strip()
    if text.isdigit():
        mark = Landmark.objects.filter(pk=int(text)).first()
        if mark is None:
            raise InvalidInput("landmark_invalid", _("地标不存在"), field="landmark")
        return mark
    return Landmark.objects.filter(network=active_network(), name=text).first()


def _locate(call: Call, values: dict[str, Any]) -> bool:
    """Apply the location fields: coordinates win, then a landmark, then the village/township (its Place);
    an address alone is kept as typed (the call is still dispatchable by its region). Returns whether the
    location was given."""
    given = False
    network = None
    if "region" in values:
        region = _region(values["region"])
        call.region, call.area_code = region, (region.code if region else "")
        given = given or region is not None
    typed = ""
    if "landmark" in values:
        mark = _landmark(values["landmark"])
        call.landmark = mark
        if mark is None and values["landmark"] not in (None, "") and not str(values["landmark"]).isdigit():
            typed = str(values["landmark"]).strip()  # a landmark we do not know: kept with the address
        if mark is not None:
            given = True
            call.lon, call.lat, call.node_id = mark.lon, mark.lat, mark.node_id
            if call.region_id is None:
                call.region, call.area_code = mark.region, mark.region.code
    lon = _coordinate(values.get("lon"), "lon", -180, 180)
    lat = _coordinate(values.get("lat"), "lat", -90, 90)
    if (lon is None) != (lat is None):
        raise InvalidInput("coordinate_invalid", _("经度和纬度须同时填写"), field="lon" if lon is None else "lat")
    if lon is not None and lat is not None:
        network = active_network()
        call.lon, call.lat = lon, lat
        node = nearest_node(network, lon, lat) if network is not None else None
        call.node_id = node.pk if node else None
        given = True
    elif call.landmark_id is None and call.region_id is not None and ("region" in values):
        network = network or active_network()
        place = Place.objects.filter(network=network, region=call.region).first() if network else None
        if place is not None:
            call.lon, call.lat, call.node_id = place.lon, place.lat, place.node_id
    if "address" in values or typed:
        address = str(values.get("address", call.address) or "").strip()
        parts = [typed] if typed else []
        if address and address != typed:
            parts.append(address)
        call.address = " ".join(parts)[:120]
        given = given or bool(call.address)
    return given


def _resident(actor: Actor, value: Any) -> Resident | None:
    if value in (None, ""):
        return None
    if isinstance(value, Resident):
        value = value.pk
    resident = Resident.objects.filter(pk=int(value), merged_into__isnull=True).first() \
        if str(value).isdigit() else None
    if resident is None or (actor.user is not None and not scope_for(actor.user).contains(resident.area_code)):
        raise NotFound(_("居民档案不存在或不在您的管辖范围内"))
    return resident


def _apply(actor: Actor, call: Call, values: dict[str, Any]) -> tuple[bool, bool]:
    """Set the given fields on the call (not saved). Returns (location given, priority given)."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise InvalidInput("unknown_field", _("无法修改字段：%(f)s") % {"f": "、".join(sorted(unknown))})
    for name in ("caller_name", "patient_description"):
        if name in values:
            setattr(call, name, str(values[name] or "").strip()[:40 if name == "caller_name" else 80])
    if "chief_complaint" in values:
        call.chief_complaint = str(values["chief_complaint"] or "").strip()[:200]
    if "complaint_code" in values:
        code = str(values["complaint_code"] or "").strip()
        if code and code not in dict(COMPLAINTS):
            raise InvalidInput("complaint_invalid", _("主诉分类无效"), field="complaint_code")
        call.complaint_code = code
    priority_given = False
    if values.get("priority") not in (None, ""):
        call.priority = parse_priority(values["priority"])
        priority_given = True
    if "special_needs" in values:
        call.special_needs = parse_needs(values["special_needs"])
    if "resident" in values:
        call.resident = _resident(actor, values["resident"])
    return _locate(call, values), priority_given


# ---- events --------------------------------------------------------------------------------------------------


def record_event(call: Call, kind: str, at: dt.datetime, *, by: User | None = None, source: str = "manual",
                 mission: Mission | None = None, idempotency_key: str = "") -> CallEvent:
    """The time point once: a second recording of the same kind returns the first."""
    lookup = {"call": call, "kind": kind, "mission": mission}
    existing = CallEvent.objects.filter(**lookup).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return CallEvent.objects.create(**lookup, at=at, by=by, source=source,
                                            idempotency_key=idempotency_key[:64])
    except IntegrityError:
        return CallEvent.objects.get(**lookup)


# ---- taking and completing a call ---------------------------------------------------------------------------


def _existing_call(user: User | None, key: str) -> Call | None:
    return Call.objects.filter(taken_by=user, idempotency_key=key).first() if key and user is not None else None


def take_call(actor: Actor, *, caller_phone: str = "", rang_at: dt.datetime | None = None,
              answered_at: dt.datetime | None = None, kind: str = CallKind.EMERGENCY, idempotency_key: str = "",
              source: str = "manual", **fields: Any) -> Call:
    """受理呼救: a new call with its number, the ring and answer time points (from the switchboard when it gave
    them, else now), and what the dispatcher already knows (``FIELDS``). A retry with the same idempotency key
    returns the first call."""
    check(actor, "emergency.take_call", None)
    key = (idempotency_key or "").strip()[:64]
    if done := _existing_call(actor.user, key):
        return done
    if kind not in CallKind.values:
        raise InvalidInput("kind_invalid", _("呼救类别无效"), field="kind")
    now = timezone.now()
    rang = check_time(rang_at, field="rang_at", now=now)
    answered = check_time(answered_at or max(now, rang), field="answered_at", not_before=rang, now=now)
    call = Call(kind=kind, caller_phone=parse_phone(caller_phone), taken_by=actor.user, rang_at=rang,
                idempotency_key=key)
    located, prioritised = _apply(actor, call, fields)
    try:
        call = _insert(call)
    except IntegrityError:
        if done := _existing_call(actor.user, key):
            return done
        raise
    with transaction.atomic():
        record_event(call, EventKind.RING, rang, by=actor.user, source=source)
        record_event(call, EventKind.ANSWER, answered, by=actor.user, source=source)
        if located:
            record_event(call, EventKind.ADDRESS_CONFIRMED, now, by=actor.user)
        if prioritised:
            record_event(call, EventKind.PRIORITY, now, by=actor.user)
        audit.record(actor, "create", "ems_call", call.pk, call_no=call.call_no, kind=kind,
                     resident=call.resident_id, priority=call.priority)
    bump_board()
    return call


def _insert(call: Call) -> Call:
    for _attempt in range(20):
        call.call_no = next_call_no(timezone.localdate(call.rang_at))
        try:
            with transaction.atomic():
                call.save(force_insert=True)
            return call
        except IntegrityError:
            call.pk = None
            if call.idempotency_key and _existing_call(call.taken_by, call.idempotency_key):
                raise
    raise Conflict("call_no_busy", _("受理号生成冲突，请重试"))


def update_call(actor: Actor, call: Call, **fields: Any) -> Call:
    """补充/更正呼救信息. The address-confirmed and priority time points are recorded the first time each is
    given; later corrections change the call, not its time points."""
    check(actor, "emergency.take_call", call)
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        if call.status not in OPEN_STATES:
            raise Conflict("call_closed", _("呼救 %(no)s 已%(state)s，不能修改")
                           % {"no": call.call_no, "state": call.get_status_display()})
        located, prioritised = _apply(actor, call, fields)
        call.save()
        now = timezone.now()
        if located:
            record_event(call, EventKind.ADDRESS_CONFIRMED, now, by=actor.user)
        if prioritised:
            record_event(call, EventKind.PRIORITY, now, by=actor.user)
        audit.record(actor, "update", "ems_call", call.pk, fields=sorted(fields))
    bump_board()
    return call


# ---- dispatch ------------------------------------------------------------------------------------------------


def _ranking(call: Call, vehicle: Vehicle, candidates: Sequence[Any] | None) -> Any | None:
    """The recommendation's entry for the chosen vehicle (its rank, road ETA and straight-line rank)."""
    if candidates is None:
        try:
            from ..recommend import recommend

            candidates = recommend(call, limit=50)
        except Exception:  # a ranking failure must never stop an ambulance
            log.exception("recommendation failed for call %s", call.pk)
            return None
    return next((c for c in candidates if getattr(getattr(c, "vehicle", None), "pk", None) == vehicle.pk), None)


def _dispatched_with(user: User | None, key: str) -> Mission | None:
    if not key or user is None:
        return None
    ev = (CallEvent.objects.filter(kind=EventKind.DISPATCH_ORDER, by=user, idempotency_key=key)
          .select_related("mission").first())
    return ev.mission if ev is not None else None


def _taken_message(vehicle: Vehicle) -> str:
    current = (Mission.objects.filter(vehicle=vehicle, status=MissionStatus.ACTIVE)
               .select_related("call", "dispatched_by").first())
    if current is None:
        return _("车辆 %(v)s 当前状态为“%(s)s”，不能派车，请选择其他车辆") % {
            "v": vehicle.call_sign, "s": vehicle.get_status_display()}
    who = current.dispatched_by.display_name or current.dispatched_by.username if current.dispatched_by else "—"
    return _("车辆 %(v)s 已于 %(at)s 由调度员 %(who)s 派往 %(no)s，请选择其他车辆") % {
        "v": vehicle.call_sign, "at": timezone.localtime(current.dispatched_at).strftime("%H:%M:%S"),
        "who": who, "no": current.call.call_no}


def _missions_module() -> Any:
    """The crew workflow's services (``services.missions``) when they are there."""
    try:
        return importlib.import_module("yigongti.emergency.services.missions")
    except ModuleNotFoundError as e:
        if e.name != "yigongti.emergency.services.missions":
            raise
        return None


def _free(vehicle: Vehicle, now: dt.datetime) -> Vehicle:
    """Lock the vehicle and make it free to go: refused unless available or returning (a returning vehicle's last
    mission ends now). Through ``missions.prepare_dispatch`` when the crew workflow is there."""
    prepare = getattr(_missions_module(), "prepare_dispatch", None)
    if prepare is not None:
        return prepare(vehicle, at=now)
    v = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
    if not v.active or v.status not in DISPATCHABLE:
        raise Conflict("vehicle_unavailable", _taken_message(v))
    Mission.objects.filter(vehicle=v, status=MissionStatus.ACTIVE).update(status=MissionStatus.COMPLETED)
    return v


def _start(mission: Mission, now: dt.datetime) -> None:
    """The vehicle leaves 待命 (出车): through the crew workflow's ``missions.start`` when it is there."""
    started = getattr(_missions_module(), "start", None)
    if started is not None:
        started(mission, at=now)
    else:
        Vehicle.objects.filter(pk=mission.vehicle_id).update(status=VehicleStatus.DISPATCHED, status_at=now)


def _destination(call: Call) -> Facility | None:
    """Where the call's vehicle is to take the patient, when the call says so (a transfer's receiving facility,
    else its referral's); an emergency call's destination is chosen later by the crew or the dispatcher."""
    if call.destination_id is not None:
        return call.destination
    referral = call.referral if call.referral_id is not None else None
    return referral.to_facility if referral is not None else None


def dispatch(actor: Actor, call: Call, vehicle: Vehicle, *, idempotency_key: str = "",
             candidates: Sequence[Any] | None = None) -> Mission:
    """派车: send the vehicle to the call. Exactly one of two dispatchers sending the same vehicle at once
    wins; the other gets ``Conflict`` naming the call that has it. A retry with the same idempotency key
    returns the first mission. A returning vehicle (返站) may be sent straight on; its last mission ends."""
    check(actor, "emergency.dispatch", call)
    key = (idempotency_key or "").strip()[:64]
    if done := _dispatched_with(actor.user, key):
        return done
    ranked = _ranking(call, vehicle, candidates)
    try:
        with transaction.atomic():
            locked = Call.objects.select_for_update().get(pk=call.pk)
            if done := _dispatched_with(actor.user, key):  # a retry that waited for the first attempt's lock
                return done
            if locked.status not in OPEN_STATES:
                raise Conflict("call_closed", _("呼救 %(no)s 已%(state)s，不能派车")
                               % {"no": locked.call_no, "state": locked.get_status_display()})
            if Mission.objects.filter(call=locked, vehicle_id=vehicle.pk, status=MissionStatus.ACTIVE).exists():
                raise Conflict("already_dispatched", _("车辆 %(v)s 已在执行该呼救") % {"v": vehicle.call_sign})
            now = timezone.now()
            try:
                v = _free(vehicle, now)
            except Conflict as e:  # the crew workflow's message does not say who has the vehicle: ours does
                raise Conflict("vehicle_unavailable", _taken_message(Vehicle.objects.get(pk=vehicle.pk))) from e
            mission = Mission.objects.create(
                call=locked, vehicle=v, dispatched_by=actor.user, dispatched_at=now,
                eta_s=int(ranked.eta_s) if ranked is not None and ranked.eta_s is not None else None,
                recommended_rank=getattr(ranked, "rank", None), destination=_destination(locked),
                straight_line_rank=getattr(ranked, "straight_rank", None))
            _start(mission, now)
            locked.status = CallStatus.DISPATCHED
            locked.save(update_fields=["status"])
            record_event(locked, EventKind.DISPATCH_ORDER, now, by=actor.user, mission=mission,
                         idempotency_key=key)
            audit.record(actor, "dispatch", "ems_call", locked.pk, call_no=locked.call_no, vehicle=v.call_sign,
                         mission=mission.pk, rank=mission.recommended_rank, eta_s=mission.eta_s)
    except IntegrityError:  # the one-active-mission index: a writer that did not lock got there first
        if done := _dispatched_with(actor.user, key):
            return done
        raise Conflict("vehicle_unavailable", _taken_message(Vehicle.objects.get(pk=vehicle.pk))) from None
    bump_board()
    return mission


# ---- merge and close -----------------------------------------------------------------------------------------


def merge_call(actor: Actor, duplicate: Call, into: Call) -> Call:
    """合并重复呼救: a second call about the same incident joins the first (its time points stay its own). A
    duplicate that already has a vehicle on the way cannot be merged: end that mission first."""
    check(actor, "emergency.merge_call", duplicate)
    if duplicate.pk == into.pk:
        raise InvalidInput("merge_self", _("不能将呼救与自身合并"), field="into")
    with transaction.atomic():
        first, second = sorted([duplicate.pk, into.pk])
        locked = {c.pk: c for c in Call.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")}
        dup, target = locked[duplicate.pk], locked[into.pk]
        for c in (dup, target):
            if c.status not in OPEN_STATES:
                raise Conflict("call_closed", _("呼救 %(no)s 已%(state)s，不能合并")
                               % {"no": c.call_no, "state": c.get_status_display()})
        if Mission.objects.filter(call=dup, status=MissionStatus.ACTIVE).exists():
            raise Conflict("duplicate_dispatched", _("呼救 %(no)s 已派车，不能作为重复呼救合并；请合并另一条")
                           % {"no": dup.call_no})
        now = timezone.now()
        dup.status, dup.merged_into, dup.closed_at = CallStatus.MERGED, target, now
        dup.close_reason = (_("重复呼救，已合并到 %(no)s") % {"no": target.call_no})[:120]
        dup.save(update_fields=["status", "merged_into", "closed_at", "close_reason"])
        changed = []
        for name in ("resident", "caller_name", "patient_description", "chief_complaint"):
            if not getattr(target, name) and getattr(dup, name):
                setattr(target, name, getattr(dup, name))
                changed.append(name)
        if target.node_id is None and dup.node_id is not None:
            target.lon, target.lat, target.node_id = dup.lon, dup.lat, dup.node_id
            changed += ["lon", "lat", "node"]
        if changed:
            target.save(update_fields=changed)
        Call.objects.filter(merged_into=dup).update(merged_into=target)
        audit.record(actor, "merge", "ems_call", dup.pk, into=target.pk, call_no=dup.call_no,
                     into_no=target.call_no, copied=changed)
    bump_board()
    return target


def close_call(actor: Actor, call: Call, reason: str) -> Call:
    """结束/取消呼救 with a reason: closed when a vehicle went, cancelled when none did (a hoax, the patient
    went by himself). A call whose vehicle is still on its mission cannot be closed."""
    check(actor, "emergency.close_call", call)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise InvalidInput("reason_required", _("请填写结束原因"), field="reason")
    with transaction.atomic():
        locked = Call.objects.select_for_update().get(pk=call.pk)
        if locked.status not in OPEN_STATES:
            raise Conflict("call_closed", _("呼救 %(no)s 已%(state)s") % {
                "no": locked.call_no, "state": locked.get_status_display()})
        if Mission.objects.filter(call=locked, status=MissionStatus.ACTIVE).exists():
            raise Conflict("mission_active", _("呼救 %(no)s 仍有执行中的出车任务，请待车辆完成或中止任务后再结束")
                           % {"no": locked.call_no})
        went = Mission.objects.filter(call=locked).exists()
        locked.status = CallStatus.CLOSED if went else CallStatus.CANCELLED
        locked.closed_at, locked.close_reason = timezone.now(), reason[:120]
        locked.save(update_fields=["status", "closed_at", "close_reason"])
        audit.record(actor, "close", "ems_call", locked.pk, status=locked.status, reason=reason[:120])
    bump_board()
    return locked


# ---- transfers (the green channel) ---------------------------------------------------------------------------


def _dispatchers(facility: Facility | None) -> Iterable[User]:
    qs = User.objects.filter(role=Role.DISPATCHER, is_active=True)
    if facility is not None and facility.community_id is not None:
        qs = qs.filter(facility__community_id=facility.community_id)
    return list(qs)


def create_transfer(actor: Actor, *, resident: Resident, from_facility: Facility, priority: int | str,
                    chief_complaint: str, complaint_code: str = "", referral: Any = None,
                    destination: Facility | None = None, kind: str = CallKind.TRANSFER,
                    special_needs: Sequence[str] = ()) -> Call:
    """院间转运: a call located at the sending facility (its Place on the road network), asked for by its
    doctor (or a dispatcher), for a resident in the asker's scope; the dispatchers are told at once."""
    user = actor.user
    if user is not None and user.role not in DISPATCHER_ROLES and not (
            user.role in TRANSFER_ROLES and user.facility_id == from_facility.pk):
        audit.record(actor, "denied", "ems_call", "", attempted="emergency.create_transfer")
        raise Forbidden(_("只有转出机构的医护人员或120调度员可以申请转运"), code="permission_denied")
    if kind not in (CallKind.TRANSFER, CallKind.GREEN_CHANNEL):
        raise InvalidInput("kind_invalid", _("转运类别无效"), field="kind")
    found = _resident(actor, resident)
    if found is None:
        raise InvalidInput("resident_required", _("请选择患者"), field="resident")
    resident = found
    now = timezone.now()
    to = destination or (referral.to_facility if referral is not None else None)
    call = Call(kind=kind, resident=resident, from_facility=from_facility, referral=referral, destination=to,
                caller_name=(user.display_name or user.username) if user else "", taken_by=None, rang_at=now)
    call.priority = parse_priority(priority)
    call.special_needs = parse_needs(special_needs)
    call.chief_complaint = (chief_complaint or "").strip()[:200]
    if complaint_code and complaint_code not in dict(COMPLAINTS):
        raise InvalidInput("complaint_invalid", _("主诉分类无效"), field="complaint_code")
    call.complaint_code = complaint_code
    call.address = (f"{from_facility.name}" + (f" → {to.name}" if to is not None else ""))[:120]
    call.region, call.area_code = from_facility.region, from_facility.region.code
    network = active_network()
    place = Place.objects.filter(network=network, region=from_facility.region).first() if network else None
    station = getattr(from_facility, "ems_station", None) if hasattr(from_facility, "ems_station") else None
    if station is not None and station.node_id:
        call.lon, call.lat, call.node_id = station.lon, station.lat, station.node_id
    elif place is not None:
        call.lon, call.lat, call.node_id = place.lon, place.lat, place.node_id
    with transaction.atomic():
        call = _insert(call)
        for k in (EventKind.RING, EventKind.ANSWER, EventKind.ADDRESS_CONFIRMED, EventKind.PRIORITY):
            record_event(call, k, now, by=user, source="system")
        audit.record(actor, "create", "ems_call", call.pk, call_no=call.call_no, kind=kind, resident=resident.pk,
                     from_facility=from_facility.pk, destination=to.pk if to else None,
                     referral=getattr(referral, "pk", None))
        title = _("%(kind)s：%(fac)s 申请120转运（%(p)s）") % {
            "kind": call.get_kind_display(), "fac": from_facility.name, "p": call.get_priority_display()}
        notify(_dispatchers(from_facility), "ems_transfer", title, call.chief_complaint,
               url=reverse("emergency:call", args=[call.pk]), urgent=True,
               public_title=_("120转运申请，请登录平台查看"))
    bump_board()
    return call


def get_call(pk: Any) -> Call:
    try:
        return Call.objects.get(pk=int(pk))
    except (Call.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("呼救记录不存在")) from None
