from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class EncounterOut(Schema):
    id: int
    resident_id: int | None
    residence_county: str
    facility_code: str = Field(alias="facility.code")
    facility_name: str = Field(alias="facility.name")
    type: str
    admit_date: dt.date
    discharge_date: dt.date | None
    main_icd10: str
    main_diagnosis: str
    tcm: bool
    surgery: bool
    total_cost: Decimal | None
    drug_cost: Decimal | None
    material_cost: Decimal | None
    exam_cost: Decimal | None
    other_cost: Decimal | None
    insurance_paid: Decimal | None
    self_pay: Decimal | None
    scheme: str
    referred_from_id: int | None


class EncounterPage(Schema):
    items: list[EncounterOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None = None


class EncounterIn(Schema):
    resident: int
    type: str = Field(description="outpatient | emergency | inpatient")
    admit_date: dt.date = Field(description="就诊/入院日期，1900-01-01 至明天")
    discharge_date: dt.date | None = Field(None, description="出院日期（住院），不早于入院日期，不晚于明天")
    main_icd10: str = ""
    main_diagnosis: str = ""
    tcm: bool = False
    surgery: bool = False
    total_cost: Decimal | None = None
    drug_cost: Decimal | None = None
    material_cost: Decimal | None = None
    exam_cost: Decimal | None = None
    other_cost: Decimal | None = None
    insurance_paid: Decimal | None = None
    self_pay: Decimal | None = None
    scheme: str = "resident"


class RowErrorOut(Schema):
    row: int
    field: str
    label: str = ""  # the column's Chinese name, as in the template
    message: str


class ImportReportOut(Schema):
    kind: str
    total: int
    imported: int
    rejected: int
    errors: list[RowErrorOut]
