"""The vehicle's statuses and the call's states as plain data and functions (no database).

A mission steps its vehicle through the statuses; each step records one ``CallEvent`` of its kind, once::

    待命 available ─(dispatch)→ 出车 dispatched ─crew_ack, wheels_rolling→ 出车
         出车 ─on_scene→ 到达现场 ─fmc→ 到达现场 ─leave_scene→ 转运 ─arrive_hospital→ 到院 ─handover→ 返站
         返站 / 到院 / 到达现场 (treated on scene, no transport) ─available→ 待命 (the mission is completed)
    待命 ⇄ 维修 maintenance (the fleet's keepers, never during a mission)

A returning vehicle (返站) may be sent again before it is back: its mission then ends with ``available`` at the
moment of the new dispatch (``services.missions.prepare_dispatch``).

The call: 受理中 open → 已派车 dispatched → 已结束 closed; open/dispatched → 已合并 merged / 已取消 cancelled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import CallStatus, EventKind, VehicleStatus

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

V = VehicleStatus
E = EventKind


class Step(NamedTuple):
    """One crew step: from which vehicle statuses it may be recorded, the status it leads to, the button's text
    (``button``: kept stable, the browser tests press it), whether it ends the mission."""

    starts: frozenset[str]
    target: str
    button: StrOrPromise
    completes: bool = False


# The crew's steps in the order of a mission (the page offers the first one not yet recorded that the vehicle's
# status allows; fmc and the transport steps may be skipped when the patient is treated on scene).
STEPS: dict[str, Step] = {
    E.CREW_ACK: Step(frozenset({V.DISPATCHED}), V.DISPATCHED, gettext_lazy("确认接单")),
    E.WHEELS_ROLLING: Step(frozenset({V.DISPATCHED}), V.DISPATCHED, gettext_lazy("出车")),
    E.ON_SCENE: Step(frozenset({V.DISPATCHED}), V.ON_SCENE, gettext_lazy("到达现场")),
    E.FMC: Step(frozenset({V.ON_SCENE}), V.ON_SCENE, gettext_lazy("接触患者")),
    E.LEAVE_SCENE: Step(frozenset({V.ON_SCENE}), V.TRANSPORTING, gettext_lazy("离开现场")),
    E.ARRIVE_HOSPITAL: Step(frozenset({V.TRANSPORTING}), V.AT_HOSPITAL, gettext_lazy("到达医院")),
    E.HANDOVER: Step(frozenset({V.AT_HOSPITAL}), V.RETURNING, gettext_lazy("交接完成")),
    E.AVAILABLE: Step(frozenset({V.RETURNING, V.AT_HOSPITAL, V.ON_SCENE}), V.AVAILABLE, gettext_lazy("恢复待命"),
                      completes=True),
}
ORDER: tuple[str, ...] = tuple(STEPS)
# The steps a crew member presses; the call's own time points (ring … dispatch_order) are the dispatcher's.
CREW_KINDS = frozenset(STEPS)
CALL_KINDS = frozenset({E.RING, E.ANSWER, E.ADDRESS_CONFIRMED, E.PRIORITY, E.DISPATCH_ORDER})

# A vehicle may be sent from these (a returning one is offered too, flagged).
DISPATCHABLE = frozenset({V.AVAILABLE, V.RETURNING})
# A vehicle on a mission (not to be put in maintenance, not "free").
ON_MISSION = frozenset({V.DISPATCHED, V.ON_SCENE, V.TRANSPORTING, V.AT_HOSPITAL, V.RETURNING})
# The fleet's keepers may set these by hand (never while the vehicle is on a mission).
MANUAL: dict[str, frozenset[str]] = {V.AVAILABLE: frozenset({V.MAINTENANCE}), V.MAINTENANCE: frozenset({V.AVAILABLE})}

# The call's states.
CALL_OPEN = frozenset({CallStatus.OPEN, CallStatus.DISPATCHED})
CALL_CLOSED = frozenset({CallStatus.CLOSED, CallStatus.MERGED, CallStatus.CANCELLED})
CALL_MOVES: dict[str, frozenset[str]] = {
    "dispatch": frozenset({CallStatus.OPEN, CallStatus.DISPATCHED}),  # a second vehicle may be sent
    "merge": CALL_OPEN,
    "close": CALL_OPEN,
    "cancel": CALL_OPEN,
    "stand_down": frozenset({CallStatus.DISPATCHED}),  # its last vehicle on the way was called off: 待派车 again
}
CALL_TARGET = {"dispatch": CallStatus.DISPATCHED, "merge": CallStatus.MERGED, "close": CallStatus.CLOSED,
               "cancel": CallStatus.CANCELLED, "stand_down": CallStatus.OPEN}


class StepNotAllowed(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def check_step(status: str, kind: str) -> str:
    """The vehicle status ``kind`` leads to from ``status``, or StepNotAllowed with a message a crew can act on."""
    step = STEPS.get(kind)
    if step is None:
        raise StepNotAllowed("unknown_step", _("未知的车辆状态节点：%(kind)s") % {"kind": kind})
    if status in step.starts:
        return step.target
    raise StepNotAllowed("step_not_allowed", _("车辆当前状态为“%(status)s”，不能记录“%(step)s”")
                         % {"status": VehicleStatus(status).label, "step": EventKind(kind).label})


def next_steps(status: str, done: set[str] | frozenset[str]) -> list[str]:
    """The steps the crew may record now, in the mission's order: not recorded yet, allowed from ``status``, and
    not before a step already recorded (``done``)."""
    last = max((ORDER.index(k) for k in done if k in STEPS), default=-1)
    return [k for i, k in enumerate(ORDER) if i > last and k not in done and status in STEPS[k].starts]


def next_step(status: str, done: set[str] | frozenset[str]) -> str | None:
    """The ONE step the crew's big button offers (the first of ``next_steps``), ``None`` when nothing is left."""
    steps = next_steps(status, done)
    return steps[0] if steps else None


def status_after(kind: str) -> str:
    """The vehicle status a recorded step left the vehicle in (for the status history)."""
    return STEPS[kind].target if kind in STEPS else ""


def can_dispatch(status: str) -> bool:
    return status in DISPATCHABLE


def check_dispatch(status: str) -> None:
    if status not in DISPATCHABLE:
        raise StepNotAllowed("vehicle_busy", _("车辆当前状态为“%(status)s”，不能派车")
                             % {"status": VehicleStatus(status).label})


def check_manual(status: str, target: str) -> str:
    """A hand-set status (maintenance in and out) from ``status``, or StepNotAllowed."""
    if target not in VehicleStatus.values:
        raise StepNotAllowed("unknown_status", _("未知的车辆状态：%(status)s") % {"status": target})
    if status == target:
        return target
    if target in MANUAL.get(status, frozenset()):
        return target
    if status in ON_MISSION:
        raise StepNotAllowed("on_mission", _("车辆正在执行任务（%(status)s），不能改为“%(target)s”")
                             % {"status": VehicleStatus(status).label, "target": VehicleStatus(target).label})
    raise StepNotAllowed("status_not_allowed", _("车辆状态不能从“%(status)s”改为“%(target)s”")
                         % {"status": VehicleStatus(status).label, "target": VehicleStatus(target).label})


def check_call_move(status: str, move: str) -> str:
    """The call state ``move`` leads to from ``status``, or StepNotAllowed."""
    if move not in CALL_MOVES:
        raise StepNotAllowed("unknown_move", _("未知的呼救操作：%(move)s") % {"move": move})
    if status in CALL_MOVES[move]:
        return CALL_TARGET[move]
    raise StepNotAllowed("call_closed", _("呼救当前状态为“%(status)s”，不能再操作")
                         % {"status": CallStatus(status).label})
