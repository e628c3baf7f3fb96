"""/api/v1/chronic/medicines: a managed patient's regular medicines (list, add, stop) and the village's monthly
delivery list (JSON or Excel)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status

from yigongti.core import exports
from yigongti.core.actor import Actor

from ..queries import ledger as lq
from ..queries import medicines as q
from ..services import medicines as services

router = Router(tags=["长期用药"])


class MedicineOut(Schema):
    id: int
    enrolment_id: int
    drug_code: str
    name: str
    strength: str
    dose: str
    frequency: str
    units_per_day: Decimal
    unit: str
    since: dt.date
    until: dt.date | None


class MedicineListOut(Schema):
    enrolment_id: int
    current: list[MedicineOut]
    stopped: list[MedicineOut]


class MedicineIn(Schema):
    patient: int = Field(description="慢病管理记录（enrolment）ID")
    name: str = Field(..., max_length=60)
    strength: str = Field("", max_length=30)
    dose: str = Field("", max_length=20, description="每次用量；常用药品可留空取常用值")
    frequency: str = Field("", max_length=20, description="qd / bid / tid …")
    units_per_day: Decimal | None = Field(None, description="每日用量（最小包装单位），默认按用法")
    unit: str = Field("", max_length=8)
    since: dt.date | None = None
    until: dt.date | None = None
    drug_code: str = Field("", max_length=23)


class StopIn(Schema):
    until: dt.date | None = Field(None, description="停用日期（默认今天）")


@router.get("", response=MedicineListOut)
def list_medicines(request, patient: int):
    """A managed patient's regular medicines, in use and stopped."""
    e = q.enrolment_for(Actor.from_request(request), patient)
    current, stopped = q.medicines_of(e)
    return {"enrolment_id": e.pk, "current": current, "stopped": stopped}


@router.post("", response={201: MedicineOut})
def add_medicine(request, payload: MedicineIn):
    """Add a regular medicine (409 ``medicine_in_use`` if the same drug is already in use)."""
    actor = Actor.from_request(request)
    e = q.enrolment_for(actor, payload.patient)
    return Status(201, services.add_medicine(actor, e, payload.dict(exclude={"patient"})))


@router.post("/{medicine_id}/stop", response=MedicineOut)
def stop_medicine(request, medicine_id: int, payload: StopIn):
    actor = Actor.from_request(request)
    return services.stop_medicine(actor, q.medicine_for(actor, medicine_id), on=payload.until)


class DeliveryQuery(Schema):
    village: str = Field("", max_length=12, description="村（12位区划代码；默认为本人负责的第一个村）")
    month: str = Field("", max_length=7, description="YYYY-MM（默认本月）")
    format: str = Field("json", pattern="^(json|xlsx)$")


class LineOut(Schema):
    enrolment_id: int
    resident_id: int
    name: str
    condition: str
    drug: str
    strength: str
    dose: str
    frequency: str
    units_per_day: Decimal
    unit: str
    days: int
    quantity: int


class TotalOut(Schema):
    drug: str
    strength: str
    unit: str
    patients: int
    quantity: int


class DeliveryOut(Schema):
    village: str
    month: str
    patients: int
    lines: list[LineOut]
    totals: list[TotalOut]


@router.get("/delivery", response={200: DeliveryOut})
def delivery(request, params: Query[DeliveryQuery]):
    """The village's monthly delivery list: per patient and totals per drug; ``format=xlsx`` for Excel."""
    actor = Actor.from_request(request)
    village = lq.default_village(actor, params.village) or lq.village_for(actor, params.village)
    d = q.delivery_for(actor, village, q.parse_month(params.month))
    if params.format == "xlsx":
        resp = HttpResponse(q.delivery_xlsx(d), content_type=exports.XLSX_TYPE)
        resp["Content-Disposition"] = exports.content_disposition(q.delivery_filename(d))
        return resp
    return {"village": village.code, "month": d.month_label, "patients": d.patients, "lines": d.lines,
            "totals": d.totals}
