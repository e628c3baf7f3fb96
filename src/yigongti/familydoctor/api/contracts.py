"""/api/v1/familydoctor/contracts: list (scoped, filtered), sign one resident, sign a household, one contract,
renew, end — the same services as the pages. A retry with the same ``Idempotency-Key`` header (or
``idempotency_key``) signs once. The tablet signature is the SVG; a paper scan is uploaded on the page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor

from ..queries import contracts as q
from ..services import contracts as services

router = Router(tags=["家庭医生签约"])


class ContractOut(Schema):
    id: int
    number: str
    resident_id: int
    household_id: int | None
    household_batch: str
    team_id: int
    doctor_id: int | None
    package_id: int
    village_id: int | None
    signed_on: dt.date
    start: dt.date
    end: dt.date
    status: str
    renewed_from_id: int | None
    resident_fee: Decimal
    insurance_fee: Decimal
    out_of_area_reason: str
    consent_kind: str
    has_signature: bool
    ended_on: dt.date | None
    end_reason: str

    @staticmethod
    def resolve_has_signature(obj) -> bool:
        return bool(obj.consent_signature)


class ListQuery(Schema):
    team: str = ""
    village: str = Field("", description="村的 id 或 12 位区划代码")
    status: str = Field("", description="active / expired / renewed / ended")
    tag: str = Field("", description="重点人群（KeyPopulation）")
    q: str = Field("", description="姓名前缀或协议编号")


class ConsentIn(Schema):
    consent_kind: str = Field("tablet", description="paper（纸质扫描件，须先在页面上传）/ tablet（电子签名）")
    consent_signature: str = Field("", description="signature_pad 的 SVG")
    consent_file: str = ""


class SignIn(ConsentIn):
    resident: int
    team: int | None = None
    package: int | None = Field(None, description="缺省为基础包")
    doctor: int | None = None
    signed_on: dt.date | None = None
    start: dt.date | None = None
    out_of_area_reason: str = Field("", max_length=200)
    idempotency_key: str = Field("", max_length=100)


class MemberIn(Schema):
    resident: int
    package: int | None = None


class HouseholdIn(ConsentIn):
    household: int
    members: list[MemberIn]
    team: int | None = None
    doctor: int | None = None
    signed_on: dt.date | None = None
    start: dt.date | None = None
    out_of_area_reason: str = Field("", max_length=200)
    idempotency_key: str = Field("", max_length=100)


class RenewIn(ConsentIn):
    package: int | None = None
    doctor: int | None = None


class EndIn(Schema):
    reason: str = Field(description="moved / unreachable / refused / withdrew / died")
    note: str = Field("", max_length=200)
    ended_on: dt.date | None = None


def _data(payload: Schema) -> dict:
    return {k: ("" if v is None else v) for k, v in payload.dict().items()}


@router.get("", response=list[ContractOut])
def list_contracts(request, f: Query[ListQuery]):
    return q.list_for(Actor.from_request(request), q.ContractFilter(**f.dict()))[0]


@router.post("", response={201: ContractOut})
def sign(request, payload: SignIn):
    return Status(201, services.sign(request, payload.resident, _data(payload),
                                     idempotency_key=payload.idempotency_key))


@router.post("/household", response={201: list[ContractOut]})
def sign_household(request, payload: HouseholdIn):
    data = _data(payload)
    members = data.pop("members")
    return Status(201, services.sign_household(request, payload.household, members, data,
                                               idempotency_key=payload.idempotency_key))


@router.get("/{int:pk}", response=ContractOut)
def get_contract(request, pk: int):
    return q.get_for(Actor.from_request(request), pk)


@router.post("/{int:pk}/renew", response={201: ContractOut})
def renew(request, pk: int, payload: RenewIn):
    return Status(201, services.renew(request, q.get_for(Actor.from_request(request), pk), _data(payload)))


@router.post("/{int:pk}/end", response=ContractOut)
def end(request, pk: int, payload: EndIn):
    return services.end_contract(request, q.get_for(Actor.from_request(request), pk), _data(payload))
