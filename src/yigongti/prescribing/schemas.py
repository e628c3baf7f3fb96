"""The prescriptions API's typed shapes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class LineIn(Schema):
    item: int = Field(..., description="pharmacy.Item id")
    dose: Decimal = Field(..., description="per time, in `unit`")
    unit: str = Field("", max_length=8, description="mg, g, 片 … (default the item's smallest unit)")
    frequency: str = Field(..., description="qd bid tid qid qn q12h q8h q6h prn once …")
    route: str = Field("po", max_length=8)
    days: int
    quantity: int | None = Field(None, description="package units; computed from dose × frequency × days when "
                                                    "the dose is in the item's smallest unit")


class PrescriptionIn(Schema):
    resident: int
    facility: int | None = Field(None, description="default: the caller's facility")
    encounter: int | None = None
    source: str = Field("", description="encounter / resident / ihospital")
    source_ref: str = Field("", max_length=40, description="e.g. consultation:12")
    kind: str = Field("", description="normal / emergency / pediatric / chronic (default by age)")
    diagnoses: list[str] = Field(..., description="ICD-10 codes")
    weight_kg: Decimal | None = None
    pregnant: bool = False
    days_reason: str = Field("", max_length=200)
    lines: list[LineIn]
    submit: bool = True


class LineOut(Schema):
    seq: int
    item_id: int
    item_name: str = Field(..., alias="item.generic_name")
    dose: Decimal
    unit: str
    frequency: str
    route: str
    days: int
    quantity: int


class FindingOut(Schema):
    rule: str
    kind: str
    severity: int
    message: str
    line: int | None = None


class PrescriptionOut(Schema):
    id: int
    resident_id: int
    facility_id: int
    encounter_id: int | None
    source: str
    source_ref: str
    kind: str
    status: str
    risk: int
    diagnoses: list[str]
    findings: list[FindingOut]
    amount: Decimal
    prescribed_at: dt.datetime
    dispensed_at: dt.datetime | None
    lines: list[LineOut]

    @staticmethod
    def resolve_lines(obj):
        return list(obj.lines.select_related("item"))


class PrescriptionRow(Schema):
    id: int
    resident_id: int
    facility_id: int
    kind: str
    status: str
    risk: int
    prescribed_at: dt.datetime


class ReviewIn(Schema):
    decision: str = Field(..., description="approve / reject")
    reason: str = Field("", max_length=300)


class DispenseIn(Schema):
    facility: int | None = Field(None, description="where stock is taken (default the prescription's facility)")
    trace_codes: list[str] = Field(default_factory=list, description="the 20-digit 追溯码 of the boxes scanned")


class DispensedLineOut(Schema):
    item_id: int = Field(..., alias="line.item_id")
    lot: str = Field(..., alias="lot.number")
    quantity: int
    trace_codes: list[str]

    @staticmethod
    def resolve_trace_codes(obj):
        return [c.trace.code for c in obj.codes.select_related("trace")]


class DispensingOut(Schema):
    id: int
    prescription_id: int
    facility_id: int
    at: dt.datetime
    lines: list[DispensedLineOut]

    @staticmethod
    def resolve_lines(obj):
        return list(obj.lines.select_related("lot", "line"))
