"""The call-center switchboard (程控交换机/呼叫中心) is outside our walls: a pluggable adapter hands each answered
call to ``receive``, which takes it (``services.calls.take_call``) with the switchboard's ring and answer times
and the seat's dispatcher, once per switchboard call id (the idempotency key), so a switchboard that repeats an
event after a network drop makes one call.

An adapter is any object with ``name`` and ``poll() -> Iterable[Ring]`` (a CTI gateway polled by the worker)
or one that calls ``receive`` itself (a webhook: ``POST /api/v1/emergency/calls/ring``). Which one runs is the
setting ``YIGONGTI_TELEPHONY``: ``"simulator"`` (the default, for the demo) or a dotted path to a class.

``Simulator`` rings plausible calls: callers' numbers drawn from the resident index (so the caller lookup finds
someone) or random mobiles, ring-to-answer delays of a few seconds (now and then a slow one, past the 10-second
target), complaints and priorities in the proportions of a county's calls."""

from __future__ import annotations

import datetime as dt
import importlib
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.orgs.models import Role, User
from yigongti.residents.models import Resident

from .models import Call
from .services import calls as services


@dataclass(frozen=True)
class Ring:
    """One answered call as a switchboard reports it."""

    call_id: str  # the switchboard's own id (unique per call)
    caller: str  # the calling number (may be hidden: "")
    rang_at: dt.datetime
    answered_at: dt.datetime
    seat: str = ""  # the dispatcher's username at the answering seat
    line: str = "120"


class Adapter(Protocol):
    name: str

    def poll(self) -> Iterable[Ring]: ...


def _seat_user(seat: str) -> User:
    users = User.objects.filter(role=Role.DISPATCHER, is_active=True)
    user = users.filter(username=seat).first() if seat else users.order_by("pk").first()
    if user is None:
        raise InvalidInput("seat_unknown", _("坐席 %(seat)s 没有对应的120调度员账号") % {"seat": seat or "—"},
                           field="seat")
    return user


def receive(ring: Ring, *, actor: Actor | None = None) -> Call:
    """Take the answered call for the dispatcher at its seat (or the acting dispatcher). A repeat of the same
    switchboard call id returns the first call."""
    if not ring.call_id:
        raise InvalidInput("call_id_required", _("缺少交换机呼叫编号"), field="call_id")
    who = actor if actor is not None and actor.user is not None else Actor.from_user(_seat_user(ring.seat))
    return services.take_call(who, caller_phone=ring.caller, rang_at=ring.rang_at, answered_at=ring.answered_at,
                              idempotency_key=f"tel:{ring.call_id}"[:64], source="telephony")


def pump(adapter: Adapter) -> list[Call]:
    """Receive every call a polled adapter has for us (for a worker job of a CTI gateway; the simulator in tests)."""
    return [receive(r) for r in adapter.poll()]


COMPLAINTS = [("chest_pain", 1, "胸痛、出汗", 14), ("stroke", 1, "突发一侧肢体无力、口角歪斜", 10),
              ("trauma", 2, "车祸外伤", 16), ("dyspnea", 2, "呼吸困难", 10), ("coma", 1, "意识不清", 6),
              ("fever", 3, "高热不退", 12), ("maternal", 2, "孕妇腹痛、阴道流血", 5), ("poisoning", 2, "误服农药", 4),
              ("other", 4, "腹痛", 23)]


class Simulator:
    """A switchboard that rings made-up calls (deterministic by seed)."""

    name = "simulator"

    def __init__(self, seed: int = 0, *, seat: str = "", known_share: float = 0.6):
        self.rng = random.Random(seed)
        self.seat = seat
        self.known_share = known_share
        self._queue: list[Ring] = []
        self._n = 0

    def _number(self) -> str:
        if self.rng.random() < self.known_share:
            phones = list(Resident.objects.exclude(phone="").order_by("pk").values_list("phone", flat=True)[:500])
            if phones:
                return self.rng.choice(phones)
        return f"1{self.rng.choice('3589')}{self.rng.randrange(10 ** 8, 10 ** 9)}"

    def next_ring(self, now: dt.datetime | None = None) -> Ring:
        now = now or timezone.now()
        self._n += 1
        wait = self.rng.choice([2, 3, 4, 5, 6, 8]) if self.rng.random() < 0.93 else self.rng.randint(11, 25)
        rang = now - dt.timedelta(seconds=wait)
        return Ring(call_id=f"sim-{int(now.timestamp())}-{self._n}-{self.rng.randrange(10 ** 6)}",
                    caller=self._number(), rang_at=rang, answered_at=now, seat=self.seat)

    def complaint(self) -> tuple[str, int, str]:
        code, priority, text, _w = self.rng.choices(COMPLAINTS, weights=[c[3] for c in COMPLAINTS])[0]
        return code, priority, text

    def queue(self, n: int = 1) -> None:
        self._queue += [self.next_ring() for _ in range(n)]

    def poll(self) -> Iterable[Ring]:
        out, self._queue = self._queue, []
        return out

    def ring(self, actor: Actor | None = None) -> Call:
        """One call rung, answered and taken now (the demo's 模拟来电 button)."""
        return receive(self.next_ring(), actor=actor)


def adapter() -> Adapter:
    """The configured switchboard adapter."""
    name = getattr(settings, "YIGONGTI_TELEPHONY", "simulator") or "simulator"
    if name == "simulator":
        return Simulator(seed=random.SystemRandom().randrange(2 ** 31))
    module, _dot, cls = name.rpartition(".")
    return getattr(importlib.import_module(module), cls)()


def simulated() -> bool:
    return (getattr(settings, "YIGONGTI_TELEPHONY", "simulator") or "simulator") == "simulator"
