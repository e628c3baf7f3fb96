"""What the crew's phone page reads: the vehicles the user rides, their current missions, the steps recorded and
the one to press next, and the patient summary the crew may see.

The mission grants its crew the patient's emergency summary (name, sex, age, allergies and chronic conditions),
whatever the crew's own region scope: access by the object, audited on each full page (not on each button)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.encounters.models import Diagnosis, Encounter
from yigongti.orgs.permissions import Category, can, check_read
from yigongti.residents.models import ResidentTag

from .. import workflow
from ..models import CallEvent, EventKind, Mission, MissionStatus, Vehicle, VehicleStatus

MAX_DIAGNOSES = 200


def crew_vehicles(user) -> QuerySet[Vehicle]:
    """The vehicles this user crews: a seat on shift, or any vehicle of a station at the user's facility."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Vehicle.objects.none()
    q = Q(crew__user_id=user.pk, crew__on_shift=True)
    if user.facility_id:
        q |= Q(station__facility_id=user.facility_id)
    return Vehicle.objects.filter(q, active=True).distinct()


def current_missions(actor: Actor) -> list[Mission]:
    """The active missions of the user's vehicles, the user's own seat first, newest dispatch first."""
    user = actor.user
    ids = list(crew_vehicles(user).values_list("pk", flat=True))
    rows = list(Mission.objects.filter(vehicle_id__in=ids, status=MissionStatus.ACTIVE)
                .select_related("call__region", "call__landmark", "vehicle__station", "destination")
                .order_by("-dispatched_at"))
    seated = set(Vehicle.objects.filter(crew__user_id=user.pk, crew__on_shift=True).values_list("pk", flat=True)) \
        if user is not None else set()
    rows = [m for m in rows if user is None or can(user, "emergency.crew_status", m)]  # a station's admin: none
    rows.sort(key=lambda m: m.vehicle_id not in seated)  # stable: the seat's missions first
    return rows


def recent_missions(actor: Actor, hours: int = 24) -> list[Mission]:
    ids = crew_vehicles(actor.user).values_list("pk", flat=True)
    since = timezone.now() - dt.timedelta(hours=hours)
    return list(Mission.objects.filter(vehicle_id__in=ids, dispatched_at__gte=since)
                .exclude(status=MissionStatus.ACTIVE).select_related("call", "vehicle")
                .order_by("-dispatched_at")[:10])


def mission_for_crew(actor: Actor, pk: int) -> Mission:
    """The mission, when the user may step it (its crew, or a dispatcher); NotFound otherwise."""
    mission = (Mission.objects.select_related("call__region", "call__landmark", "call__resident",
                                              "vehicle__station", "destination").filter(pk=pk).first())
    if mission is None or (actor.user is not None and not can(actor.user, "emergency.crew_status", mission)):
        raise NotFound(_("出车任务不存在或您不是该车组成员"))
    return mission


@dataclass
class StepRow:
    kind: str
    label: str
    at: dt.datetime | None
    source: str = ""


@dataclass
class Panel:
    """The part of the page a button press redraws: the vehicle's status, the steps, the ONE next step."""

    mission: Mission
    status: str
    status_label: str
    steps: list[StepRow]
    next_kind: str | None
    next_label: str
    others: list[tuple[str, str]] = field(default_factory=list)  # other steps allowed now (treated on scene …)
    # the steps ahead (kind, button, the status it leads to), for the phone's offline queue
    plan: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.mission.status == MissionStatus.ACTIVE

    @property
    def plan_json(self) -> str:
        return json.dumps(self.plan, ensure_ascii=False)


def panel(mission: Mission) -> Panel:
    vehicle = Vehicle.objects.only("status").get(pk=mission.vehicle_id)
    events = {e.kind: e for e in CallEvent.objects.filter(mission=mission)}
    done = set(events)
    rows = [StepRow(k, str(EventKind(k).label), events[k].at if k in events else None,
                    events[k].source if k in events else "") for k in workflow.ORDER]
    active = mission.status == MissionStatus.ACTIVE
    nexts = workflow.next_steps(vehicle.status, done) if active else []
    plan, status, ahead = [], vehicle.status, set(done)
    while active and (k := workflow.next_step(status, ahead)) is not None:
        status = workflow.STEPS[k].target
        plan.append((k, str(workflow.STEPS[k].button), str(VehicleStatus(status).label)))
        ahead.add(k)
    first = nexts[0] if nexts else None
    return Panel(mission, vehicle.status, str(vehicle.get_status_display()), rows, first,
                 str(workflow.STEPS[first].button) if first else "",
                 [(k, str(workflow.STEPS[k].button)) for k in nexts[1:]], plan)


@dataclass
class PatientSummary:
    name: str
    sex: str
    age: int | None
    allergies: list[str]
    chronic: list[str]


def patient_summary(actor: Actor, mission: Mission) -> PatientSummary | None:
    """The patient as the crew may see them (audited); None when the call names nobody from the index."""
    resident = mission.call.resident
    if resident is None:
        return None
    check_read(actor, Category.EMERGENCY, resident)
    from .lookup import summarise  # the dispatcher's rules for what counts as an allergy or a chronic condition

    codes = list(Encounter.objects.filter(resident=resident).exclude(main_icd10="").order_by("-admit_date")
                 .values_list("main_icd10", "main_diagnosis")[:MAX_DIAGNOSES])
    codes += list(Diagnosis.objects.filter(encounter__resident=resident).values_list("icd10", "name")[:MAX_DIAGNOSES])
    tags = sorted(ResidentTag.objects.filter(resident=resident).values_list("tag", flat=True))
    allergies, chronic = summarise(codes, tags)
    audit.record(actor, "read", "resident", resident.pk, via="emergency_mission", mission=mission.pk,
                 what="emergency_summary")
    return PatientSummary(resident.name, resident.get_sex_display(), resident.age_on(timezone.localdate()),
                          allergies, chronic)


def crew_state(actor: Actor) -> str:
    """A short fingerprint of what the crew page shows: the page polls it and reloads only when it changed (a new
    mission, a mission called off, a step recorded by someone else — the dispatcher on the crew's behalf)."""
    missions = current_missions(actor)
    ids = [m.pk for m in missions]
    last = (CallEvent.objects.filter(mission_id__in=ids).exclude(by_id=actor.user_id).order_by("-pk")
            .values_list("pk", flat=True).first())
    return f"{','.join(map(str, ids))}:{last or 0}"
