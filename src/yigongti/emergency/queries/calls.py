"""Who sees which 120 call, one call with its time points, the call history.

Dispatchers see the calls of their county (and calls not yet located); a crew the calls its vehicles were sent
to; a sending facility's staff the transfers it asked for; managers and the bureau the calls within their scope.
A call names a person: each read is audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.core.paging import Page, slice_page
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role

from ..models import Call, CallEvent, CallStatus, EventKind, Mission, MissionStatus

CREW_ROLES = (Role.DOCTOR, Role.NURSE)


def calls_visible_to(user) -> QuerySet[Call]:
    qs = Call.objects.all()
    if user is None:
        return qs
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    scope = scope_for(user)
    if has_role(user, Role.DISPATCHER):
        return qs if scope.unrestricted else qs.filter(scope.q() | Q(area_code=""))
    q = Q(pk__in=[])
    if has_role(user, *CREW_ROLES, Role.VILLAGE_DOCTOR) and user.facility_id:
        q |= Q(from_facility_id=user.facility_id) | Q(destination_id=user.facility_id)
        q |= Q(missions__vehicle__station__facility_id=user.facility_id)
        q |= Q(missions__vehicle__crew__user_id=user.pk)
    if has_role(user, Role.BUREAU, Role.COMMUNITY_MANAGER, Role.CITY):
        q |= scope.q()
    return qs.filter(q).distinct()


def get_call_for(actor: Actor, pk) -> Call:
    """One call the user may see (audited); another's or a missing one is the same 404."""
    try:
        call = (calls_visible_to(actor.user)
                .select_related("resident", "region", "landmark", "taken_by", "merged_into", "from_facility",
                                "destination")
                .get(pk=int(pk)))
    except (Call.DoesNotExist, TypeError, ValueError):
        audit.record(actor, "denied", "ems_call", pk)
        raise NotFound(_("呼救记录不存在或无权访问")) from None
    audit.record(actor, "view", "ems_call", call.pk, resident=call.resident_id)
    return call


@dataclass
class TimelineRow:
    kind: str
    label: str
    at: dt.datetime
    offset_s: int  # since the ring
    vehicle: str
    by: str
    source: str


def timeline(call: Call) -> list[TimelineRow]:
    """The call's time points in order, with the vehicle's for each mission."""
    events = list(CallEvent.objects.filter(call=call).select_related("mission__vehicle", "by").order_by("at", "pk"))
    labels = dict(EventKind.choices)
    return [TimelineRow(e.kind, str(labels.get(e.kind, e.kind)), e.at, int((e.at - call.rang_at).total_seconds()),
                        e.mission.vehicle.call_sign if e.mission is not None else "",
                        (e.by.display_name or e.by.username) if e.by is not None else e.source, e.source)
            for e in events]


def missions_of(call: Call) -> list[Mission]:
    return list(call.missions.select_related("vehicle__station", "dispatched_by", "destination")
                .order_by("dispatched_at"))


def merge_candidates(actor: Actor, call: Call, hours: int = 3) -> list[Call]:
    """Open calls of the last hours that may be about the same incident: the same number, the same place, or
    nearby, newest first (the dispatcher decides)."""
    since = call.rang_at - dt.timedelta(hours=hours)
    qs = (calls_visible_to(actor.user).filter(status__in=(CallStatus.OPEN, CallStatus.DISPATCHED),
                                              rang_at__gte=since).exclude(pk=call.pk))
    near = Q(caller_phone=call.caller_phone) if call.caller_phone else Q(pk__in=[])
    if call.area_code:
        near |= Q(area_code=call.area_code)
    if call.lon is not None and call.lat is not None:
        near |= Q(lon__range=(call.lon - 0.02, call.lon + 0.02), lat__range=(call.lat - 0.02, call.lat + 0.02))
    likely = list(qs.filter(near).order_by("-rang_at")[:10])
    others = list(qs.exclude(pk__in=[c.pk for c in likely]).order_by("-rang_at")[:10])
    return likely + others


@dataclass
class CallFilter:
    status: str = ""  # open (open + dispatched) | closed | merged | cancelled | ""
    priority: str = ""
    kind: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""  # a call number or the caller's number

    @classmethod
    def from_query(cls, data) -> CallFilter:
        def day(v):
            try:
                return dt.date.fromisoformat(v) if v else None
            except ValueError:
                return None
        return cls(status=data.get("status", "") or "", priority=str(data.get("priority", "") or ""),
                   kind=data.get("kind", "") or "", date_from=day(data.get("date_from")),
                   date_to=day(data.get("date_to")), q=(data.get("q", "") or "").strip()[:20])


def filtered_calls(user, f: CallFilter) -> QuerySet[Call]:
    qs = calls_visible_to(user)
    if f.status == "open":
        qs = qs.filter(status__in=(CallStatus.OPEN, CallStatus.DISPATCHED))
    elif f.status in CallStatus.values:
        qs = qs.filter(status=f.status)
    if f.priority.isdigit():
        qs = qs.filter(priority=int(f.priority))
    if f.kind:
        qs = qs.filter(kind=f.kind)
    tz = timezone.get_current_timezone()
    if f.date_from:
        qs = qs.filter(rang_at__gte=dt.datetime.combine(f.date_from, dt.time.min, tz))
    if f.date_to:
        qs = qs.filter(rang_at__lt=dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time.min, tz))
    if f.q:
        qs = qs.filter(Q(call_no__icontains=f.q) | Q(caller_phone=f.q))
    return qs


def history(actor: Actor, f: CallFilter, page: int = 1, size: int = 25) -> Page:
    """One page of calls, newest first, the ids shown audited."""
    qs = (filtered_calls(actor.user, f).select_related("resident", "region", "taken_by")
          .order_by("-rang_at", "-pk"))
    result = slice_page(qs, page, size)
    ids = [c.pk for c in result.items]
    vehicles: dict[int, list[str]] = {}
    for call_id, sign in Mission.objects.filter(call_id__in=ids).values_list("call_id", "vehicle__call_sign"):
        vehicles.setdefault(call_id, []).append(sign)
    for c in result.items:
        c.vehicle_signs = vehicles.get(c.pk, [])
    audit.record(actor, "list", "ems_call", "", query={k: str(v) for k, v in f.__dict__.items() if v},
                 page=result.number, ids=ids)
    return result


def active_missions(call: Call) -> list[Mission]:
    return list(call.missions.filter(status=MissionStatus.ACTIVE).select_related("vehicle"))


def region_choices(user) -> list[tuple[str, str]]:
    """The townships and villages a call can be placed in (the dispatcher's county), as (code, 乡镇·村)."""
    from yigongti.orgs.models import Region

    scope = scope_for(user)
    qs = Region.objects.filter(level__in=("township", "village")).select_related("parent").order_by("code")
    if not scope.unrestricted:
        qs = qs.filter(scope.q("code"))
    return [(r.code, f"{r.parent.name}·{r.name}" if r.level == "village" and r.parent else r.name)
            for r in qs[:2000]]


def landmark_names() -> list[str]:
    from ..models import Landmark
    from ..services.calls import active_network

    network = active_network()
    if network is None:
        return []
    return list(Landmark.objects.filter(network=network).order_by("name").values_list("name", flat=True)[:1000])


def dispatchable_vehicles() -> list:
    """Every vehicle that may be sent now (the manual choice beside the recommendation)."""
    from ..models import Vehicle
    from ..workflow import DISPATCHABLE

    return list(Vehicle.objects.filter(active=True, status__in=DISPATCHABLE).select_related("station")
                .order_by("station__name", "call_sign"))


def form_values(call: Call) -> dict:
    """The correction form's initial values from the call."""
    where = "coords" if call.lon is not None and call.landmark_id is None and call.region_id is None else \
        "landmark" if call.landmark_id else "region" if call.region_id else "unknown"
    landmark = call.landmark.name if call.landmark is not None else ""
    return {"where": where, "region": call.area_code, "landmark": landmark,
            "lon": "" if call.lon is None else call.lon, "lat": "" if call.lat is None else call.lat,
            "address": call.address, "priority": str(call.priority), "chief_complaint": call.chief_complaint,
            "complaint_code": call.complaint_code, "special_needs": list(call.special_needs or []),
            "caller_name": call.caller_name, "patient_description": call.patient_description}
