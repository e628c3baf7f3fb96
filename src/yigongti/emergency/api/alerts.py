"""/api/v1/emergency/alerts: the pre-arrival alerts to the reader's hospital, one alert, sending one for a mission,
acknowledging one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.orgs.models import Facility

from ..models import PreArrivalAlert
from ..services import alerts
from ..views.prehospital import mission_for

router = Router(tags=["预警"])


class AlertOut(Schema):
    id: int
    call_no: str
    mission_id: int | None
    vehicle: str
    facility_id: int
    pathway: str
    impression: str
    eta_at: dt.datetime | None
    ecg_order_id: int | None
    case_id: int | None
    sent_at: dt.datetime
    acknowledged_at: dt.datetime | None


class SendIn(Schema):
    mission: int
    facility: int | None = None


def _out(a: PreArrivalAlert) -> dict[str, Any]:
    case = alerts.case_of(a)
    return {"id": a.pk, "call_no": a.call.call_no if a.call is not None else "", "mission_id": a.mission_id,
            "vehicle": a.mission.vehicle.call_sign if a.mission is not None else "", "facility_id": a.facility_id,
            "pathway": a.pathway, "impression": a.impression, "eta_at": a.eta_at, "ecg_order_id": a.ecg_order_id,
            "case_id": case.pk if case else None, "sent_at": a.sent_at, "acknowledged_at": a.acknowledged_at}


@router.get("", response=list[AlertOut])
def list_alerts(request):
    """The last 24 hours' alerts to the reader's hospital, not yet acknowledged first."""
    return [_out(a) for a in alerts.incoming(Actor.from_request(request))]


@router.get("/{alert_id}", response=AlertOut)
def get_alert(request, alert_id: int):
    return _out(alerts.alert_for(Actor.from_request(request), alert_id))


@router.post("", response={201: AlertOut})
def send(request, data: SendIn):
    """Send the mission's pre-arrival alert (to ``facility``, else to its destination or the best one)."""
    actor = Actor.from_request(request)
    facility = None
    if data.facility is not None:
        facility = Facility.objects.filter(pk=data.facility).first()
        if facility is None:
            raise InvalidInput("invalid_destination", _("接收医院不存在"), field="facility")
    return Status(201, _out(alerts.send_alert(actor, mission_for(actor, data.mission), facility=facility)))


@router.post("/{alert_id}/ack", response=AlertOut)
def ack(request, alert_id: int):
    """A doctor or nurse of the receiving hospital acknowledges (once)."""
    actor = Actor.from_request(request)
    return _out(alerts.ack_alert(actor, alerts.alert_for(actor, alert_id)))
