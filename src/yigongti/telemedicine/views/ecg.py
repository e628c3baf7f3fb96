"""The ECG pages: the upload form of an order (township and village, 390 px wide), the 12-lead page (drawn in
the browser by ``static/telemedicine/ecg.js`` from the stored samples) and the samples themselves."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError
from yigongti.core.pages import domain_errors_as_pages
from yigongti.core.uploads import max_upload_bytes

from .. import ecg
from ..models import Device, DeviceKind
from ..queries import ecg as q


@login_required
@domain_errors_as_pages
def ecg_page(request: HttpRequest, pk: int) -> HttpResponse:
    recording = q.recording_for(Actor.from_request(request), pk)
    return render(request, "telemedicine/ecg/page.html", {
        "order": recording.order, "ecg": recording, "ecg_meta": q.meta(recording),
        "ecg_measurements": q.measurement_rows(recording), "ecg_st": q.st_summary(recording)})


@login_required
@domain_errors_as_pages
def ecg_samples(request: HttpRequest, pk: int) -> HttpResponse:
    recording = q.recording_for(Actor.from_request(request), pk, part="samples")
    resp = HttpResponse(q.samples_bytes(recording), content_type="application/octet-stream")
    resp["Cache-Control"] = "private, no-store"
    return resp


@login_required
@domain_errors_as_pages
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    order = q.ecg_order_for(actor, pk)
    error = ""
    if request.method == "POST":
        f = request.FILES.get("file")
        try:
            data = f.read(max_upload_bytes() + 1) if f is not None else b""
            ecg.receive_file(order.pk, data, getattr(f, "name", "") or "", actor=actor,
                             device=int(request.POST.get("device") or 0) or None)
        except (DomainError, ValueError) as e:
            error = getattr(e, "message", "") or _("设备选择无效")
        else:
            messages.success(request, _("心电图已上传，已进入心电诊断中心的待诊断列表"))
            return redirect(reverse("telemedicine:order", args=[order.pk]))
    devices = Device.objects.filter(facility_id=order.facility_id, kind=DeviceKind.ECG, active=True)
    return render(request, "telemedicine/ecg/upload.html", {"order": order, "error": error, "devices": devices},
                  status=400 if error else 200)


urlpatterns = [
    path("ecg/<int:pk>/", ecg_page, name="ecg"),
    path("ecg/<int:pk>/samples", ecg_samples, name="ecg_samples"),
    path("ecg/<int:pk>/upload/", upload, name="ecg_upload"),
]
