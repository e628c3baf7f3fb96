"""/api/v1/pathways/green-channel: the one-button green channel (一键呼叫) for a resident, and one press."""

from __future__ import annotations

from typing import Any

from ninja import Router, Schema, Status

from yigongti.core.actor import Actor

from .. import green_channel as gc

router = Router(tags=["一键呼叫"])


class PressIn(Schema):
    kind: str = "chest_pain"  # chest_pain | stroke
    note: str = ""
    ecg_order: int | None = None
    idempotency_key: str = ""


class PressOut(Schema):
    referral_id: int | None
    call_id: int
    call_no: str
    alert_id: int | None
    facility_id: int | None
    case_id: int | None
    case_no: str
    ecg_order_id: int | None


def _out(b: gc.GreenChannel) -> dict[str, Any]:
    return {"referral_id": b.referral.pk if b.referral else None, "call_id": b.call.pk, "call_no": b.call.call_no,
            "alert_id": b.alert.pk if b.alert else None, "facility_id": b.alert.facility_id if b.alert else None,
            "case_id": b.case.pk if b.case else None, "case_no": b.case.case_no if b.case else "",
            "ecg_order_id": b.alert.ecg_order_id if b.alert else None}


@router.post("/{resident_id}", response={201: PressOut})
def press(request, resident_id: int, data: PressIn):
    """Press the button: green-channel up-referral, 120 transfer, the county team's alert with the ECG and the
    pathway case together; pressing again while it is under way returns the same (Idempotency-Key honoured)."""
    actor = Actor.from_request(request)
    key = data.idempotency_key or request.headers.get("Idempotency-Key", "")
    return Status(201, _out(gc.press(actor, resident_id, kind=data.kind, note=data.note,
                                     ecg_order=data.ecg_order, idempotency_key=key)))


@router.get("/calls/{call_id}", response=PressOut)
def get_press(request, call_id: int):
    return _out(gc.bundle_for(Actor.from_request(request), call_id))
