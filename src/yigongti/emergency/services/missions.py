"""Use cases of a mission (出车任务) on the crew's side: the vehicle goes out (``start``), the crew steps it through
its statuses (``step``: one ``CallEvent`` per kind per mission), the dispatcher calls it off (``abort``), the
vehicle's terminal reports where it is (``record_position``). The only writers of a vehicle's mission status.

Each step locks the vehicle then the mission (SELECT … FOR UPDATE, always in that order, as the dispatcher's
``dispatch`` locks the vehicle first), checks the move against ``workflow.STEPS``, records the event and moves the
vehicle. A step recorded twice — the button pressed twice, two crew members pressing at once, or the phone
replaying its queue after it regained the network — returns the first event. An event time in the future or
before the call (or the dispatch, or the step before it) is refused with the reason.

Other apps follow the steps through ``AFTER_STEP`` (called after commit with the new event) or a ``post_save``
on ``CallEvent``; this module imports none of them."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput, NotFound
from yigongti.orgs.permissions import check

from .. import workflow
from ..models import (
    Call,
    CallEvent,
    EventKind,
    Mission,
    MissionStatus,
    Vehicle,
    VehiclePosition,
    VehicleStatus,
)

log = logging.getLogger(__name__)

# A phone's clock may run a little ahead of the server's: a press up to this far "in the future" is taken as now.
CLOCK_SKEW = dt.timedelta(seconds=90)
SOURCES = frozenset({"manual", "gps", "system", "replay", "telephony"})

# Subscribers told of each new crew step after commit (pathways capture, the board's push …): fn(event).
AFTER_STEP: list[Callable[[CallEvent], None]] = []


def _mission(pk: int | Mission) -> Mission:
    mission_pk = pk.pk if isinstance(pk, Mission) else pk
    mission = Mission.objects.select_related("call", "vehicle__station").filter(pk=mission_pk).first()
    if mission is None:
        raise NotFound(_("出车任务不存在"))
    return mission


def _lock(mission_pk: int, vehicle_pk: int) -> tuple[Mission, Vehicle]:
    """Lock the vehicle, then the mission (the order ``dispatch`` uses: no deadlock between them)."""
    vehicle = Vehicle.objects.select_for_update().get(pk=vehicle_pk)
    mission = Mission.objects.select_for_update(of=("self",)).select_related("call").get(pk=mission_pk)
    return mission, vehicle


def _time(at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if at is None:
        return now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + CLOCK_SKEW:
        raise InvalidInput("future_time", _("时间 %(at)s 晚于当前时间，不能记录未来的时间")
                           % {"at": timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S")}, field="at")
    return min(at, now)


def _check_order(mission: Mission, kind: str, at: dt.datetime) -> None:
    """The time is not before the call, the dispatch, or the steps recorded before this one."""
    call = mission.call
    fmt = "%H:%M:%S"
    if at < call.rang_at:
        raise InvalidInput("before_call", _("时间 %(at)s 早于呼救振铃时间 %(rang)s，请核对")
                           % {"at": timezone.localtime(at).strftime(fmt),
                              "rang": timezone.localtime(call.rang_at).strftime(fmt)}, field="at")
    if at < mission.dispatched_at:
        raise InvalidInput("before_dispatch", _("时间 %(at)s 早于派车时间 %(when)s，请核对")
                           % {"at": timezone.localtime(at).strftime(fmt),
                              "when": timezone.localtime(mission.dispatched_at).strftime(fmt)}, field="at")
    earlier = workflow.ORDER[:workflow.ORDER.index(kind)]
    last = (CallEvent.objects.filter(mission=mission, kind__in=earlier).order_by("-at").first())
    if last is not None and at < last.at:
        raise InvalidInput("before_previous_step", _("时间 %(at)s 早于已记录的“%(step)s”（%(when)s），请核对")
                           % {"at": timezone.localtime(at).strftime(fmt), "step": EventKind(last.kind).label,
                              "when": timezone.localtime(last.at).strftime(fmt)}, field="at")


def _existing(mission: Mission, kind: str, key: str) -> CallEvent | None:
    """The event this press already made: the same kind on this mission (one per kind), or the same key."""
    first = CallEvent.objects.filter(mission=mission, kind=kind).first()
    if first is not None:
        return first
    if key:
        other = CallEvent.objects.filter(mission=mission, idempotency_key=key).first()
        if other is not None:
            raise Conflict("idempotency_key_reused", _("这个幂等键已用于记录“%(step)s”，请为新的操作生成新的键")
                           % {"step": EventKind(other.kind).label})
    return None


def step(actor: Actor, mission: int | Mission, kind: str, *, at: dt.datetime | None = None,
         idempotency_key: str = "", source: str = "manual") -> CallEvent:
    """Record a crew step (车组确认、出车、到达现场、首次医疗接触、离开现场、到达医院、交接完成、恢复待命) on the
    mission, once, and move the vehicle to the status ``workflow.STEPS`` gives it; ``available`` completes the mission.

    ``at`` is when it happened (the phone's time of the press when replayed), default now. A repeat — same kind,
    or the same ``idempotency_key`` — returns the first event without changing anything."""
    if kind not in workflow.CREW_KINDS:
        raise InvalidInput("unknown_step", _("未知的车辆状态节点：%(kind)s") % {"kind": kind}, field="kind")
    if source not in SOURCES:
        raise InvalidInput("unknown_source", _("未知的记录来源：%(source)s") % {"source": source}, field="source")
    m = _mission(mission)
    check(actor, "emergency.crew_status", m)
    key = (idempotency_key or "").strip()[:64]
    done = _existing(m, kind, key)
    if done is not None:
        return done
    when = _time(at, timezone.now())
    try:
        with transaction.atomic():
            event, created = _record(actor, m, kind, when, key, source)
            if created:
                transaction.on_commit(lambda: _tell(event))
    except IntegrityError:  # a concurrent press won the insert (the constraint keeps one per kind)
        done = _existing(m, kind, key)
        if done is None:
            raise
        return done
    return event


def _record(actor: Actor, m: Mission, kind: str, when: dt.datetime, key: str,
            source: str) -> tuple[CallEvent, bool]:
    mission, vehicle = _lock(m.pk, m.vehicle_id)
    done = _existing(mission, kind, key)
    if done is not None:  # the other press committed while we waited for the lock
        return done, False
    if mission.status != MissionStatus.ACTIVE:
        raise Conflict("mission_closed", _("该出车任务已%(status)s，不能再记录状态")
                       % {"status": MissionStatus(mission.status).label})
    try:
        target = workflow.check_step(vehicle.status, kind)
    except workflow.StepNotAllowed as e:
        raise Conflict(e.code, e.message) from None
    _check_order(mission, kind, when)
    event = CallEvent.objects.create(call=mission.call, mission=mission, kind=kind, at=when, by=actor.user,
                                     source=source, idempotency_key=key)
    vehicle.status, vehicle.status_at = target, when
    vehicle.save(update_fields=["status", "status_at"])
    if workflow.STEPS[kind].completes:
        mission.status = MissionStatus.COMPLETED
        mission.save(update_fields=["status"])
    audit.record(actor, "create", "emergency_call_event", event.pk, mission=mission.pk, call=mission.call_id,
                 kind=kind, at=when, vehicle=vehicle.pk, status=target, source=source)
    return event, True


def bump_board() -> None:
    """Tell the dispatchers' live boards that a vehicle changed (the board's cheap stamp, ``services.calls``)."""
    from .calls import bump_board as bump  # calls imports this module: imported here, when first needed

    bump()


def _tell(event: CallEvent) -> None:
    bump_board()
    for fn in AFTER_STEP:
        try:
            fn(event)
        except Exception:  # a subscriber's fault must not undo the crew's step
            log.exception("emergency step subscriber %r failed for event %s", fn, event.pk)


def prepare_dispatch(vehicle: int | Vehicle, *, at: dt.datetime | None = None) -> Vehicle:
    """Lock the vehicle about to be sent and make it free: call inside the dispatch's transaction, before
    creating the Mission. Refused (Conflict) unless it is available or returning; a returning vehicle's mission
    ends now with ``available`` (source system), so the new one can start."""
    pk = vehicle.pk if isinstance(vehicle, Vehicle) else vehicle
    when = at or timezone.now()
    with transaction.atomic():  # a savepoint inside the dispatch's transaction, whose lock then holds
        v = Vehicle.objects.select_for_update().filter(pk=pk).first()
        if v is None:
            raise NotFound(_("车辆不存在"))
        if not v.active:
            raise Conflict("vehicle_inactive", _("车辆已停用，不能派车"))
        try:
            workflow.check_dispatch(v.status)
        except workflow.StepNotAllowed as e:
            raise Conflict(e.code, e.message) from None
        for old in Mission.objects.select_for_update().filter(vehicle=v, status=MissionStatus.ACTIVE):
            CallEvent.objects.get_or_create(mission=old, kind=EventKind.AVAILABLE,
                                            defaults={"call_id": old.call_id, "at": max(when, old.dispatched_at),
                                                      "source": "system"})
            old.status = MissionStatus.COMPLETED
            old.save(update_fields=["status"])
    return v


def start(mission: int | Mission, *, at: dt.datetime | None = None) -> Mission:
    """The vehicle goes out on the mission: its status becomes 出车 (dispatched). Called by the dispatch (inside its
    transaction is fine; it has checked the dispatcher's permission). Starting a started mission is a no-op."""
    m = _mission(mission)
    with transaction.atomic():
        m, vehicle = _lock(m.pk, m.vehicle_id)
        if m.status != MissionStatus.ACTIVE:
            raise Conflict("mission_closed", _("该出车任务已%(status)s") % {"status": MissionStatus(m.status).label})
        if vehicle.status == VehicleStatus.DISPATCHED or CallEvent.objects.filter(mission=m).exists():
            return m
        try:
            workflow.check_dispatch(vehicle.status)
        except workflow.StepNotAllowed as e:
            raise Conflict(e.code, e.message) from None
        vehicle.status, vehicle.status_at = VehicleStatus.DISPATCHED, at or m.dispatched_at
        vehicle.save(update_fields=["status", "status_at"])
        m.vehicle = vehicle
    return m


def abort(actor: Actor, mission: int | Mission, reason: str) -> Mission:
    """中止出车: the dispatcher calls the vehicle off (the call was cancelled, another vehicle got there first);
    the vehicle is free again. A call left with no vehicle on its way is open again (待派车): the dispatcher
    sends another or closes it."""
    m = _mission(mission)
    check(actor, "emergency.dispatch", m.call)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason_required", _("请填写中止原因"), field="reason")
    with transaction.atomic():
        m, vehicle = _lock(m.pk, m.vehicle_id)
        if m.status != MissionStatus.ACTIVE:
            raise Conflict("mission_closed", _("该出车任务已%(status)s") % {"status": MissionStatus(m.status).label})
        now = timezone.now()
        m.status, m.abort_reason = MissionStatus.ABORTED, reason[:120]
        m.save(update_fields=["status", "abort_reason"])
        if vehicle.status in workflow.ON_MISSION:
            vehicle.status, vehicle.status_at = VehicleStatus.AVAILABLE, now
            vehicle.save(update_fields=["status", "status_at"])
        if not Mission.objects.filter(call_id=m.call_id, status=MissionStatus.ACTIVE).exists():
            call = Call.objects.select_for_update().get(pk=m.call_id)
            if call.status in workflow.CALL_MOVES["stand_down"]:
                call.status = workflow.check_call_move(call.status, "stand_down")
                call.save(update_fields=["status"])
        audit.record(actor, "update", "emergency_mission", m.pk, move="abort", reason=reason[:120],
                     vehicle=vehicle.pk)
        transaction.on_commit(bump_board)
    return m


# ---- GPS ---------------------------------------------------------------------------------------------------

def _nearest_node(lon: float, lat: float) -> int | None:
    """The road node under a fix, from H1's in-memory graph when there is one (None otherwise)."""
    try:
        from ..roads.graph import road_graph
    except ImportError:
        return None
    try:
        node = road_graph().nearest(lon, lat)
    except Exception:  # no active network yet
        return None
    return int(node) if node is not None else None


def record_position(actor: Actor, vehicle: int | Vehicle, lon: float, lat: float, at: dt.datetime | None = None,
                    speed: float | None = None, *, snap: bool = True) -> VehiclePosition:
    """A GPS fix from the vehicle's terminal (or the simulator): appended to the trail; the vehicle's position
    moves only when the fix is newer than the one it has (fixes may arrive out of order after a dead zone)."""
    v = vehicle if isinstance(vehicle, Vehicle) else Vehicle.objects.select_related("station").filter(
        pk=vehicle).first()
    if v is None:
        raise NotFound(_("车辆不存在"))
    check(actor, "emergency.report_position", v)
    errors: dict[str, list[str]] = {}
    if not (isinstance(lon, int | float) and -180 <= lon <= 180):
        errors["lon"] = [_("经度应在 -180 到 180 之间")]
    if not (isinstance(lat, int | float) and -90 <= lat <= 90):
        errors["lat"] = [_("纬度应在 -90 到 90 之间")]
    if speed is not None and not (0 <= speed <= 300):
        errors["speed"] = [_("速度应在 0 到 300 公里/小时之间")]
    if errors:
        field, msgs = next(iter(errors.items()))
        raise InvalidInput("invalid_position", msgs[0], field=field, errors=errors)
    when = _time(at, timezone.now())
    node = _nearest_node(lon, lat) if snap else None
    pos = VehiclePosition.objects.create(vehicle=v, at=when, lon=lon, lat=lat, speed_kmh=speed)
    Vehicle.objects.filter(Q(position_at__isnull=True) | Q(position_at__lte=when), pk=v.pk).update(
        lon=lon, lat=lat, position_at=when, **({"node_id": node} if node is not None else {}))
    transaction.on_commit(bump_board)
    return pos
