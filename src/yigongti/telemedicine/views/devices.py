"""Pages of the device registry: the list with its filter and the registration form (facility admins), and one
device's edit page with retire/reinstate. Thin adapters over ``devices`` and ``queries.devices``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError
from yigongti.core.pages import domain_errors_as_pages, paginate_params
from yigongti.orgs.permissions import can

from .. import devices
from ..models import DeviceKind
from ..queries import devices as queries

FIELDS = ("facility", "kind", "modality", "manufacturer", "model", "serial", "ae_title", "analyser_id",
          "installed_on")


def _facilities(user) -> list:
    """The facilities the user may register devices for (own, and a township's village clinics)."""
    return [f for f in queries.facilities_visible_to(user).order_by("code")
            if can(user, "telemedicine.register_device", f)]


@login_required
@domain_errors_as_pages
def device_list(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    errors: dict = {}
    values = {k: request.POST.get(k, "") for k in FIELDS} if request.method == "POST" else {"kind": "ecg"}
    if request.method == "POST":
        try:
            device = devices.register_device(values, actor=actor)
            messages.success(request, _("已登记设备：%(d)s") % {"d": device})
            return redirect("telemedicine:devices")
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = e.errors or {"all": [e.message]}
    f = queries.DeviceFilter.from_query(request.GET)
    return render(request, "telemedicine/devices/list.html", {
        "page": queries.list_devices(request.user, f, paginate_params(request)), "f": f, "kinds": DeviceKind.choices,
        "counts": queries.counts_by_kind(request.user), "facilities": queries.facilities_visible_to(request.user)
        .order_by("code"), "own": _facilities(request.user), "values": values, "errors": errors,
        "may_register": can(request.user, "telemedicine.register_device"), "modalities": devices.MODALITIES})


@login_required
@domain_errors_as_pages
def device_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    device = queries.get_device_for(request.user, pk)
    errors: dict = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in FIELDS}
        try:
            devices.update_device(device.pk, values, actor=actor)
            messages.success(request, _("已保存"))
            return redirect("telemedicine:devices")
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = e.errors or {"all": [e.message]}
    else:
        values = {k: getattr(device, k) or "" for k in FIELDS if k not in ("facility", "installed_on")}
        values["installed_on"] = device.installed_on.isoformat() if device.installed_on else ""
    return render(request, "telemedicine/devices/edit.html", {
        "device": device, "values": values, "errors": errors, "kinds": DeviceKind.choices,
        "may_edit": can(request.user, "telemedicine.register_device", device.facility)})


@login_required
@require_POST
@domain_errors_as_pages
def device_active(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    device = queries.get_device_for(request.user, pk)
    try:
        devices.set_device_active(device.pk, request.POST.get("active") == "1", actor=actor,
                                  reason=request.POST.get("reason", ""))
        messages.success(request, _("已保存"))
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return redirect("telemedicine:devices")


urlpatterns = [
    path("devices/", device_list, name="devices"),
    path("devices/<int:pk>/", device_edit, name="device"),
    path("devices/<int:pk>/active/", device_active, name="device_active"),
]
