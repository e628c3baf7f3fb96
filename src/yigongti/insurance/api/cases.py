"""/api/v1/insurance/cases (结算清单 and their groups), /filings (转外就医备案) and /pay-later (先诊疗后付费):
the same queries and services as the pages. Bad input is application/problem+json naming each field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.paging import page_dict, page_field, size_field

from .. import discharges, filings, pay_later
from ..discharges import DischargeInput
from ..filings import FilingInput
from ..queries import cases as q

router = Router(tags=["结算清单与DRG分组"])
filings_router = Router(tags=["转外就医备案"])
pay_later_router = Router(tags=["先诊疗后付费"])


# ---- settlement lists ----------------------------------------------------------------------------------------

class GroupOut(Schema):
    version: str
    status: str
    mdc: str
    adrg: str
    drg: str
    trace: list[str]
    grouped_at: dt.datetime


class PaymentOut(Schema):
    method: str
    version: str
    group: str
    units: Decimal
    unit_price: Decimal
    outlier: str
    grassroots: bool
    amount: Decimal
    explanation: list[str]


class CaseOut(Schema):
    id: int
    encounter_id: int
    facility_id: int
    facility_name: str = Field(alias="facility.name")
    department: str
    patient: str = Field(alias="shown_name", description="患者姓名（非就诊机构脱敏显示）")
    scheme: str
    sex: str = Field(description="1 男 / 2 女")
    age_years: int
    age_days: int | None
    birth_weight_g: int | None
    admit_date: dt.date
    discharge_date: dt.date
    los_days: int
    discharge_mode: str
    diagnoses: list[str]
    procedures: list[str]
    ventilation_hours: int
    total_cost: Decimal
    fund_paid: Decimal
    special_review: bool
    problems: list[str] = Field(description="按付费版本阻碍入组的问题（空 = 完整）")


class CaseRowOut(CaseOut):
    group: GroupOut | None = Field(None, description="付费版本下的分组")


class CaseDetailOut(CaseOut):
    groups: list[GroupOut]
    payments: list[PaymentOut]

    @staticmethod
    def resolve_groups(obj) -> list:
        return [obj.by_version[v] for v in discharges.versions() if v in obj.by_version]

    @staticmethod
    def resolve_payments(obj) -> list:
        return q.payments_of(obj)


class CasePage(Schema):
    items: list[CaseRowOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None


class CaseQuery(Schema):
    facility: str = Field("", max_length=12, description="机构ID")
    month: str = Field("", max_length=7, description="出院月份 YYYY-MM")
    status: str = Field("", max_length=12, description="grouped 已入组 / ungroupable 无法入组 / "
                                                        "incomplete 清单不完整 / ungrouped 未分组（付费版本）")
    drg: str = Field("", max_length=6)
    page: int = page_field()
    page_size: int = size_field()


@router.get("", response=CasePage)
def list_cases(request, params: Query[CaseQuery]):
    f = q.CaseFilter.from_query(params.dict())
    return page_dict(q.case_list(Actor.from_request(request), f, params.page, params.page_size,
                                 version=discharges.payment_version()), count=False)


@router.get("/{int:pk}", response=CaseDetailOut)
def get_case(request, pk: int):
    """One settlement list with its group and trace under every version, and its payments."""
    return q.get_discharge_for(Actor.from_request(request), pk)


class CaseIn(DischargeInput):
    """The fields to change (PATCH: only those sent)."""


@router.patch("/{int:pk}", response=CaseDetailOut)
def update_case(request, pk: int, payload: CaseIn):
    """The coder completes the settlement list; it is checked and regrouped under every version."""
    actor = Actor.from_request(request)
    discharges.update_discharge(q.get_discharge_for(actor, pk), payload, actor=actor)
    return q.get_discharge_for(actor, pk)


@router.post("/{int:pk}/group", response=CaseDetailOut)
def regroup_case(request, pk: int):
    actor = Actor.from_request(request)
    discharges.regroup_discharge(q.get_discharge_for(actor, pk), actor=actor)
    return q.get_discharge_for(actor, pk)


class GroupIn(Schema):
    version: str | None = Field(None, description="只按此版本分组；缺省为全部已加载版本")
    ids: list[int] | None = Field(None, max_length=100_000, description="结算清单ID；缺省为全部")
    sync: bool = Field(False, description="先从就诊记录更新结算清单")
    year: int | None = Field(None, ge=2000, le=2100, description="sync 时只更新该年出院的清单")


class SummaryOut(Schema):
    version: str
    grouped: int
    ungroupable: int


@router.post("/group", response=list[SummaryOut])
def group_cases(request, payload: GroupIn):
    """Batch grouping (the insurance officer): every list, or ``ids``, under every version or ``version``."""
    actor = Actor.from_request(request)
    if payload.sync:
        discharges.sync_discharges(payload.year, actor=actor)
    return discharges.group_discharges(actor=actor, version=payload.version, ids=payload.ids)


# ---- out-of-county filings -----------------------------------------------------------------------------------

class FilingOut(Schema):
    id: int
    resident_id: int
    referral_id: int | None
    hospital: str
    reason: str
    valid_from: dt.date
    valid_until: dt.date
    status: str
    filed_at: dt.datetime


class FilingPage(Schema):
    items: list[FilingOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None


class FilingQuery(Schema):
    status: str = Field("", max_length=8, description="active 有效 / revoked 已撤销")
    q: str = Field("", max_length=40, description="居民姓名（前缀）")
    page: int = page_field()
    page_size: int = size_field()


class FilingIn(FilingInput):
    """From an up-referral outside the county (``referral``) or directly for a ``resident``."""


class RevokeIn(Schema):
    reason: str = Field("", max_length=200)


@filings_router.get("", response=FilingPage)
def list_filings(request, params: Query[FilingQuery]):
    f = q.FilingFilter.from_query(params.dict())
    return page_dict(q.filing_list(Actor.from_request(request), f, params.page, params.page_size), count=False)


@filings_router.post("", response={201: FilingOut})
def file_out_of_county(request, payload: FilingIn):
    return Status(201, filings.file_out_of_county(payload, actor=Actor.from_request(request)))


@filings_router.post("/{int:pk}/revoke", response=FilingOut)
def revoke_filing(request, pk: int, payload: RevokeIn):
    actor = Actor.from_request(request)
    return filings.revoke_filing(q.get_filing_for(actor, pk), actor=actor, reason=payload.reason)


# ---- pay-later -----------------------------------------------------------------------------------------------

class PayLaterOut(Schema):
    id: int
    encounter_id: int
    facility_id: int = Field(alias="encounter.facility_id")
    patient: str = Field("", alias="shown_name")
    amount_due: Decimal
    status: str = Field(description="open 待结算 / overdue 逾期（应结日期已过）/ settled 已结算")
    due_date: dt.date | None
    settled_at: dt.datetime | None
    settlement_no: str

    @staticmethod
    def resolve_status(obj) -> str:
        return pay_later.status_of(obj)


class PayLaterPage(Schema):
    items: list[PayLaterOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None


class PayLaterQuery(Schema):
    status: str = Field("unsettled", max_length=10,
                        description="unsettled 未结清 / open / overdue / settled / 空 = 全部")
    facility: str = Field("", max_length=12)
    page: int = page_field()
    page_size: int = size_field()


class OpenIn(Schema):
    encounter: int
    amount_due: str = Field("", max_length=20, description="应付金额（元）；缺省为个人自付部分")
    due_date: dt.date | None = None


class SettleIn(Schema):
    settlement_no: str = Field(max_length=40)


@pay_later_router.get("", response=PayLaterPage)
def list_pay_later(request, params: Query[PayLaterQuery]):
    f = q.PayLaterFilter.from_query(params.dict())
    return page_dict(q.pay_later_list(Actor.from_request(request), f, params.page, params.page_size), count=False)


@pay_later_router.post("", response={201: PayLaterOut})
def open_pay_later(request, payload: OpenIn):
    actor = Actor.from_request(request)
    encounter = q.encounter_for_pay_later(actor, payload.encounter)
    return Status(201, pay_later.open_pay_later(encounter, payload.dict(exclude={"encounter"}), actor=actor))


@pay_later_router.post("/{int:pk}/settle", response=PayLaterOut)
def settle_pay_later(request, pk: int, payload: SettleIn):
    actor = Actor.from_request(request)
    return pay_later.settle_pay_later(q.get_pay_later_for(actor, pk), payload.settlement_no, actor=actor)
