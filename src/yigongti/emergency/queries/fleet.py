"""What the fleet pages read: the stations and vehicles a user may see (the user's community; the bureau's and
the city's region), a vehicle with its crew and its status history (from the missions' steps and the hand-set
statuses in the audit trail). No person-level data: no audit of these reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from yigongti.core.errors import Forbidden, NotFound
from yigongti.core.models import AuditEvent
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role

from .. import workflow
from ..models import CallEvent, CrewMember, EventKind, Mission, Station, Vehicle, VehicleStatus

READERS = (Role.DISPATCHER, Role.DOCTOR, Role.NURSE, Role.FACILITY_ADMIN, Role.COMMUNITY_MANAGER, Role.BUREAU,
           Role.CITY)
HISTORY = 60


def may_see_fleet(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and (has_role(user, *READERS) or user.is_superuser))


def stations_for(user) -> QuerySet[Station]:
    """The stations the user may see: those of the user's community (or, without one, within the user's region)."""
    if not may_see_fleet(user):
        raise Forbidden(_("您的角色不能查看急救站点和车辆"))
    qs = Station.objects.select_related("facility__region")
    if user.is_superuser and not user.facility_id and not user.region_id:
        return qs
    community = user.facility.community_id if user.facility_id else None
    if community is not None:
        return qs.filter(Q(community_id=community) | Q(facility__community_id=community))
    return qs.filter(scope_for(user).q("facility__region__code"))


def fleet(user) -> list[Station]:
    vehicles = Vehicle.objects.order_by("call_sign").prefetch_related(
        Prefetch("crew", queryset=CrewMember.objects.filter(on_shift=True).order_by("role", "name")))
    return list(stations_for(user).order_by("kind", "name").prefetch_related(Prefetch("vehicles", queryset=vehicles)))


def station_for(user, pk: int) -> Station:
    station = stations_for(user).filter(pk=pk).first()
    if station is None:
        raise NotFound(_("站点不存在或无权访问"))
    return station


def vehicle_for(user, pk: int) -> Vehicle:
    vehicle = (Vehicle.objects.select_related("station__facility").filter(pk=pk, station__in=stations_for(user))
               .first())
    if vehicle is None:
        raise NotFound(_("车辆不存在或无权访问"))
    return vehicle


def vehicles_for(user) -> QuerySet[Vehicle]:
    return Vehicle.objects.filter(station__in=stations_for(user)).select_related("station").order_by("call_sign")


@dataclass
class StatusRow:
    at: dt.datetime
    status: str
    label: str
    what: str  # the step, or 调度派车 / 手动设置
    call_no: str = ""
    mission_id: int | None = None
    by: str = ""
    reason: str = ""


def status_history(vehicle: Vehicle, limit: int = HISTORY) -> list[StatusRow]:
    """The vehicle's statuses over time, newest first: each dispatch (出车), each crew step (the status it led
    to), each hand-set change (维修 in and out) with its reason."""
    labels = dict(VehicleStatus.choices)
    rows: list[StatusRow] = []
    for m in (Mission.objects.filter(vehicle=vehicle).select_related("call", "dispatched_by")
              .order_by("-dispatched_at")[:limit]):
        rows.append(StatusRow(m.dispatched_at, VehicleStatus.DISPATCHED, str(labels[VehicleStatus.DISPATCHED]),
                              _("调度派车"), m.call.call_no, m.pk, str(m.dispatched_by or "")))
        if m.abort_reason:
            rows.append(StatusRow(m.dispatched_at, VehicleStatus.AVAILABLE, str(labels[VehicleStatus.AVAILABLE]),
                                  _("任务中止"), m.call.call_no, m.pk, "", m.abort_reason))
    events = (CallEvent.objects.filter(mission__vehicle=vehicle, kind__in=workflow.CREW_KINDS)
              .select_related("mission__call", "by").order_by("-at")[:limit * 4])
    sources = {"gps": _("定位"), "system": _("系统")}
    for e in events:
        status = workflow.status_after(e.kind)
        rows.append(StatusRow(e.at, status, str(labels[status]), str(EventKind(e.kind).label),
                              e.mission.call.call_no if e.mission else "", e.mission_id,
                              str(e.by or sources.get(e.source, ""))))
    for a in (AuditEvent.objects.filter(object_type="emergency_vehicle", object_id=str(vehicle.pk),
                                        detail__move="status").order_by("-seq")[:limit]):
        status = a.detail.get("status", "")
        rows.append(StatusRow(a.at, status, str(labels.get(status, status)), _("手动设置"), "", None, a.actor,
                              a.detail.get("reason", "")))
    rows.sort(key=lambda r: r.at, reverse=True)
    return rows[:limit]


def crew_of(vehicle: Vehicle) -> list[CrewMember]:
    return list(CrewMember.objects.filter(vehicle=vehicle).select_related("user").order_by("-on_shift", "role"))
