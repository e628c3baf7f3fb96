"""/api/v1/prescribing: prescriptions (create, get, list), the pharmacist's review, dispensing."""

from __future__ import annotations

from ninja import Query, Router, Schema, Status

from yigongti.core.actor import Actor

from . import queries, services
from .schemas import DispenseIn, DispensingOut, PrescriptionIn, PrescriptionOut, PrescriptionRow, ReviewIn

router = Router(tags=["处方"])


class ListQuery(Schema):
    status: str = ""
    limit: int = 100


@router.get("/prescriptions", response=list[PrescriptionRow])
def list_prescriptions(request, filters: Query[ListQuery]):
    qs = queries.prescriptions_visible_to(request.user).order_by("-prescribed_at")
    return list(qs.filter(status=filters.status) if filters.status else qs)[:max(1, min(filters.limit, 500))]


@router.post("/prescriptions", response={201: PrescriptionOut})
def create_prescription(request, payload: PrescriptionIn):
    """422 `invalid_prescription` names each bad field (`lines.0.dose` …); the result's `status` is
    `review_pending` when the rule pack holds it for a pharmacist, `submitted` when it can be dispensed."""
    data = payload.dict()
    p = services.create_prescription(Actor.from_request(request), data, submit=data.pop("submit"))
    return Status(201, p)


@router.get("/prescriptions/{int:pk}", response=PrescriptionOut)
def get_prescription(request, pk: int):
    return queries.get_prescription_for(Actor.from_request(request), pk)


@router.post("/prescriptions/{int:pk}/review", response=PrescriptionOut)
def review(request, pk: int, payload: ReviewIn):
    """409 `not_pending` when it does not wait for review; 422 `no_reason` for a rejection without a reason."""
    p = queries.get_prescription_for(Actor.from_request(request), pk)
    return services.review_prescription(Actor.from_request(request), p, **payload.dict())


@router.post("/prescriptions/{int:pk}/dispense", response={201: DispensingOut})
def dispense(request, pk: int, payload: DispenseIn):
    """422 `bad_trace_code` with the reason; 409 `out_of_stock`, `review_pending`, `already_dispensed`."""
    p = queries.get_prescription_for(Actor.from_request(request), pk)
    return Status(201, services.dispense(Actor.from_request(request), p, facility=payload.facility,
                                         trace_codes=payload.trace_codes))
