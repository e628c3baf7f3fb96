"""The receiving hospital's pre-arrival alerts (预警): the list (live: HTMX polls the rows every 10 s, the newest
unacknowledged first) and one alert with the ECG link, the ETA, the pathway case and the acknowledge button."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.pages import domain_errors_as_pages, hx_or_full
from yigongti.orgs.permissions import can

from ..models import PrehospitalRecord
from ..services import alerts

POLL_SECONDS = 10


@login_required
@domain_errors_as_pages
def alert_list(request: HttpRequest) -> HttpResponse:
    rows = alerts.incoming(Actor.from_request(request))
    return hx_or_full(request, "emergency/alerts.html", "emergency/_alert_rows.html", {
        "alerts": rows, "now": timezone.now(), "poll": POLL_SECONDS,
        "waiting": sum(a.acknowledged_at is None for a in rows)})


@login_required
@domain_errors_as_pages
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    alert = alerts.alert_for(actor, pk)
    record = (PrehospitalRecord.objects.filter(mission_id=alert.mission_id).select_related("resident").first()
              if alert.mission_id else None)
    return render(request, "emergency/alert.html", {
        "alert": alert, "call": alert.call, "record": record, "case": alerts.case_of(alert),
        "vitals": list(record.vitals.order_by("-at")[:3]) if record else [],
        "may_ack": alert.acknowledged_at is None and can(actor.user, "emergency.ack_alert", alert),
        "now": timezone.now()})


@login_required
@require_POST
@domain_errors_as_pages
def alert_ack(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    alerts.ack_alert(actor, alerts.alert_for(actor, pk))
    messages.success(request, _("已确认预警，患者到达前请做好接诊准备"))
    return redirect(reverse("emergency:alert", args=[pk]))


urlpatterns = [
    path("alerts/", alert_list, name="alerts"),
    path("alerts/<int:pk>/", alert_detail, name="alert"),
    path("alerts/<int:pk>/ack", alert_ack, name="alert_ack"),
]
