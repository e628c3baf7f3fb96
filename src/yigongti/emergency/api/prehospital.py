"""/api/v1/emergency/prehospital/{mission}: the crew's record (vital signs, working impression, the 12-lead ECG
sent to the ECG center), the receiving hospitals ranked by capability and road time, the chosen destination."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError

from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.orgs.models import Facility

from ..services import prehospital
from ..views.prehospital import mission_for, simulator_on

router = Router(tags=["院前急救"])


class VitalsIn(Schema):
    at: dt.datetime | None = None
    sbp: int | None = None
    dbp: int | None = None
    heart_rate: int | None = None
    resp_rate: int | None = None
    spo2: int | None = None
    temperature: Decimal | None = None
    glucose: Decimal | None = None
    gcs: int | None = None
    idempotency_key: str = ""


class VitalsOut(Schema):
    id: int
    at: dt.datetime
    sbp: int | None
    dbp: int | None
    heart_rate: int | None
    resp_rate: int | None
    spo2: int | None
    temperature: Decimal | None
    glucose: Decimal | None
    gcs: int | None


class ImpressionIn(Schema):
    code: str
    text: str = ""
    icd10: str = ""


class RecordOut(Schema):
    mission: int
    resident_id: int | None
    impression: str
    impression_code: str
    icd10: str
    ecg_order_id: int | None
    vitals: list[VitalsOut]


class SimulateIn(Schema):
    simulate: str = "inferior"  # inferior | anterior | normal (only where the simulator is switched on)


class OrderOut(Schema):
    id: int
    accession_no: str
    urgency: str
    status: str
    center_id: int


class DestinationOut(Schema):
    facility_id: int
    name: str
    eta_s: float | None
    capabilities: list[str]
    meets: bool
    level: str
    reason: str


class DestinationIn(Schema):
    facility: int
    reason: str = ""


class MissionOut(Schema):
    id: int
    destination_id: int | None
    destination_reason: str


def _record_out(mission) -> dict[str, Any]:
    record = prehospital.record_of(mission) if not hasattr(mission, "record") else mission.record
    return {"mission": mission.pk, "resident_id": record.resident_id, "impression": record.impression,
            "impression_code": record.impression_code, "icd10": record.icd10, "ecg_order_id": record.ecg_order_id,
            "vitals": list(record.vitals.order_by("-at"))}


def _order_out(o) -> dict[str, Any]:
    return {"id": o.pk, "accession_no": o.accession_no, "urgency": o.urgency, "status": o.status,
            "center_id": o.center_id}


@router.get("/{mission_id}", response=RecordOut)
def get_record(request, mission_id: int):
    """The mission's pre-hospital record with its vital signs (newest first)."""
    return _record_out(mission_for(Actor.from_request(request), mission_id))


@router.post("/{mission_id}/vitals", response={201: VitalsOut})
def post_vitals(request, mission_id: int, data: VitalsIn):
    """Record one set of vital signs (``at`` defaults to now; future or before the call is refused)."""
    actor = Actor.from_request(request)
    values = data.dict(exclude={"at", "idempotency_key"})
    key = data.idempotency_key or request.headers.get("Idempotency-Key", "")
    return Status(201, prehospital.record_vitals(actor, mission_for(actor, mission_id), at=data.at,
                                                 idempotency_key=key, **values))


@router.post("/{mission_id}/impression", response=RecordOut)
def post_impression(request, mission_id: int, data: ImpressionIn):
    """The working impression (a code deciding the pathway and the receiving hospital's needed capabilities)."""
    actor = Actor.from_request(request)
    mission = mission_for(actor, mission_id)
    prehospital.set_impression(actor, mission, data.text, data.code, data.icd10)
    return _record_out(mission)


@router.post("/{mission_id}/ecg", response={201: OrderOut})
def post_ecg_simulated(request, mission_id: int, data: SimulateIn):
    """A simulated 12-lead ECG sent as an emergency ECG order (the demo; refused where the simulator is off)."""
    if not simulator_on():
        raise HttpError(404, "ECG simulator is off")
    actor = Actor.from_request(request)
    stemi = data.simulate if data.simulate in ("inferior", "anterior") else None
    return Status(201, _order_out(prehospital.attach_ecg(actor, mission_for(actor, mission_id),
                                                         recording={"stemi": stemi})))


@router.post("/{mission_id}/ecg/file", response={201: OrderOut})
def post_ecg_file(request, mission_id: int, file: File[UploadedFile], device: Form[int | None] = None):
    """Upload the electrocardiograph's file (DICOM 12-lead ECG or HL7 aECG): an emergency ECG order to the ECG
    center with this recording (a new upload replaces it until the order is reported)."""
    actor = Actor.from_request(request)
    return Status(201, _order_out(prehospital.attach_ecg(actor, mission_for(actor, mission_id), upload=file,
                                                         device=device)))


@router.get("/{mission_id}/destinations", response=list[DestinationOut])
def get_destinations(request, mission_id: int):
    """Receiving hospitals for the working impression: by capability, then by road travel time."""
    mission = mission_for(Actor.from_request(request), mission_id)
    return [{"facility_id": d.facility.pk, "name": d.facility.name, "eta_s": d.eta_s, "capabilities": d.capabilities,
             "meets": d.meets, "level": d.level, "reason": d.reason} for d in prehospital.destinations(mission)]


@router.post("/{mission_id}/destination", response=MissionOut)
def post_destination(request, mission_id: int, data: DestinationIn):
    """Choose the receiving hospital (a hospital of the community)."""
    actor = Actor.from_request(request)
    facility = Facility.objects.filter(pk=data.facility).first()
    if facility is None:
        raise InvalidInput("invalid_destination", _("送往医院不存在"), field="facility")
    m = prehospital.choose_destination(actor, mission_for(actor, mission_id), facility, data.reason)
    return {"id": m.pk, "destination_id": m.destination_id, "destination_reason": m.destination_reason}

