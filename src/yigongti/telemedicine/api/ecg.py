"""/api/v1/telemedicine/ecg: an ECG order's recording (metadata and automatic measurements), its samples
(base64 of int16 little-endian, lead after lead, with the gain), and the upload of the device's file."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from ninja import File, Form, Router, Schema, Status, UploadedFile

from yigongti.core.actor import Actor
from yigongti.core.uploads import max_upload_bytes

from .. import ecg
from ..models import EcgRecording
from ..queries import ecg as q

router = Router(tags=["心电"])


class RecordingOut(Schema):
    order: int
    accession_no: str
    source_format: str
    sample_rate: int
    n_samples: int
    leads: list[str]
    microvolts_per_unit: float
    acquired_at: dt.datetime
    measurements: dict[str, Any]


class SamplesOut(Schema):
    leads: list[str]
    sample_rate: int
    n_samples: int
    microvolts_per_unit: float
    encoding: str = "int16le-base64"
    data: str


def _out(r: EcgRecording) -> dict[str, Any]:
    return {"order": r.order_id, "accession_no": r.order.accession_no, "source_format": r.source_format,
            "sample_rate": r.sample_rate, "n_samples": r.n_samples, "leads": r.leads,
            "microvolts_per_unit": r.microvolts_per_unit, "acquired_at": r.acquired_at,
            "measurements": r.measurements}


@router.get("/{order_id}", response=RecordingOut)
def get_recording(request, order_id: int):
    """The recording of an ECG order; the measurements are automatic (assistance, not the diagnosis)."""
    return _out(q.recording_for(Actor.from_request(request), order_id, part="api", samples=False))


@router.get("/{order_id}/samples", response=SamplesOut)
def get_samples(request, order_id: int):
    """The 12 leads' samples: µV = value × microvolts_per_unit; row after row in the order of ``leads``."""
    r = q.recording_for(Actor.from_request(request), order_id, part="api_samples")
    return {"leads": r.leads, "sample_rate": r.sample_rate, "n_samples": r.n_samples,
            "microvolts_per_unit": r.microvolts_per_unit, "data": base64.b64encode(q.samples_bytes(r)).decode()}


@router.post("/{order_id}/file", response={201: RecordingOut})
def upload_file(request, order_id: int, file: File[UploadedFile], device: Form[int | None] = None):
    """Upload the electrocardiograph's file (DICOM 12-lead ECG waveform or HL7 aECG XML) for an ECG order."""
    data = file.read(max_upload_bytes() + 1)
    return Status(201, _out(ecg.receive_file(order_id, data, file.name or "", actor=Actor.from_request(request),
                                             device=device)))
