"""站点和车辆: the stations and vehicles of the community (status, crew on shift), a vehicle's detail with its status
history and crew, and — for the station's facility admin and the community's managers — the forms that keep them
(``services.fleet``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.models import Role, User
from yigongti.orgs.permissions import can

from ..models import CrewMember, CrewRole, StationKind, VehicleKind, VehicleStatus
from ..queries import fleet as q
from ..services import fleet as services


@login_required
@domain_errors_as_pages
def fleet(request):
    stations = q.fleet(request.user)
    for s in stations:
        s.may_manage = can(request.user, "emergency.manage_fleet", s)
    counts: dict[str, int] = {}
    for s in stations:
        for v in s.vehicles.all():
            counts[v.status] = counts.get(v.status, 0) + 1
    return render(request, "emergency/fleet.html", {
        "stations": stations, "counts": [(label, counts.get(value, 0)) for value, label in VehicleStatus.choices],
        "kinds": VehicleKind.choices, "equipment": services.EQUIPMENT.items()})


def _run(request, fn, ok: str) -> None:
    try:
        fn(Actor.from_request(request))
        messages.success(request, ok)
    except (InvalidInput, Conflict) as e:
        messages.error(request, e.message)


def _crew_member(vehicle, pk: str) -> CrewMember:
    member = CrewMember.objects.select_related("vehicle__station").filter(pk=pk or 0, vehicle=vehicle).first()
    if member is None:
        raise InvalidInput("unknown_crew", _("车组人员不存在"), field="member")
    return member


@login_required
@domain_errors_as_pages
def vehicle(request, pk: int):
    """The vehicle; POST ``action`` = edit | status | crew_add | crew_shift | crew_remove (keepers only)."""
    v = q.vehicle_for(request.user, pk)
    if request.method == "POST":
        action, post = request.POST.get("action", ""), request.POST
        if action == "edit":
            _run(request, lambda a: services.update_vehicle(a, v, services.VehicleInput.from_form(post)),
                 _("车辆信息已保存"))
        elif action == "status":
            _run(request, lambda a: services.set_vehicle_status(a, v, post.get("status", ""), post.get("reason", "")),
                 _("车辆状态已更新"))
        elif action == "crew_add":
            _run(request, lambda a: services.add_crew(a, v, services.CrewInput.from_form(post)), _("已加入车组"))
        elif action in ("crew_shift", "crew_remove"):
            def crew_move(a):
                member = _crew_member(v, post.get("member", ""))
                if action == "crew_remove":
                    return services.remove_crew(a, member)
                return services.set_on_shift(a, member, not member.on_shift)
            _run(request, crew_move, _("车组已更新"))
        return redirect("emergency:vehicle", pk=v.pk)
    may_manage = can(request.user, "emergency.manage_fleet", v.station)
    return render(request, "emergency/fleet_vehicle.html", {
        "v": v, "crew": q.crew_of(v), "history": q.status_history(v), "may_manage": may_manage,
        "kinds": VehicleKind.choices, "roles": CrewRole.choices, "equipment": services.EQUIPMENT.items(),
        "accounts": User.objects.filter(facility_id=v.station.facility_id, is_active=True,
                                        role__in=(Role.DOCTOR, Role.NURSE)).order_by("username")[:100]
        if may_manage else [],
        "maintenance": v.status == VehicleStatus.MAINTENANCE, "positions": v.positions.order_by("-at")[:10]})


@login_required
@domain_errors_as_pages
def station(request, pk: int):
    """The station; POST ``action`` = edit | vehicle_new (keepers only)."""
    s = q.station_for(request.user, pk)
    if request.method == "POST":
        action, post = request.POST.get("action", ""), request.POST
        if action == "edit":
            _run(request, lambda a: services.update_station(a, s, services.StationInput.from_form(post)),
                 _("站点信息已保存"))
        elif action == "vehicle_new":
            _run(request, lambda a: services.create_vehicle(a, s, services.VehicleInput.from_form(post)),
                 _("车辆已添加"))
        return redirect("emergency:station", pk=s.pk)
    return render(request, "emergency/fleet_station.html", {
        "s": s, "vehicles": s.vehicles.order_by("call_sign"),
        "may_manage": can(request.user, "emergency.manage_fleet", s), "kinds": VehicleKind.choices,
        "station_kinds": StationKind.choices, "equipment": services.EQUIPMENT.items()})


urlpatterns = [
    path("fleet/", fleet, name="fleet"),
    path("fleet/stations/<int:pk>/", station, name="station"),
    path("fleet/vehicles/<int:pk>/", vehicle, name="vehicle"),
]
