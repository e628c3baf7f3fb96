"""一键呼叫: the confirm page of the one-button green channel for a resident (390 px: the doctor chooses chest pain
or stroke, sees the ECG that will go with it, adds a line) and the press, which lands on the pathway case."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.permissions import check

from .. import green_channel as gc


@login_required
@domain_errors_as_pages
def green_channel(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    resident = gc.resident_in_scope(actor, pk)
    check(actor, "pathways.green_channel", resident)
    error, status = "", 200
    if request.method == "POST":
        try:
            done = gc.press(actor, resident, kind=request.POST.get("kind", ""), note=request.POST.get("note", ""),
                            ecg_order=request.POST.get("ecg_order") or None,
                            idempotency_key=request.POST.get("key", ""))
        except DomainError as e:
            if e.status in (403, 404):
                raise
            error, status = e.message, 400
        else:
            messages.success(request, _("一键呼叫已启动：绿色通道转诊、120转运和%(f)s的预警已同时发出")
                             % {"f": done.alert.facility.name})
            return redirect(reverse("pathways:green_channel_done", args=[done.call.pk]))
    audit.record(actor, "view", "resident", resident.pk, page="green_channel")
    return render(request, "pathways/green_channel.html", {
        "resident": resident, "kinds": [(k, v[0]) for k, v in gc.KINDS.items()], "error": error,
        "ecg": gc.ecg_for(resident, None), "under_way": {k: gc.open_press(actor, resident, k) for k in gc.KINDS},
        "key": request.POST.get("key", "") or gc.new_key()}, status=status)


@login_required
@domain_errors_as_pages
def green_channel_done(request: HttpRequest, pk: int) -> HttpResponse:
    """What the press started, with its links (the referral, the 120 call's state, the alert, the case)."""
    actor = Actor.from_request(request)
    bundle = gc.bundle_for(actor, pk)
    return render(request, "pathways/green_channel_done.html", {"gc": bundle})


urlpatterns = [
    path("green-channel/<int:pk>/", green_channel, name="green_channel"),
    path("green-channel/calls/<int:pk>/", green_channel_done, name="green_channel_done"),
]
