"""/api/v1/familydoctor/fulfilment: the same use cases as the 履约 pages — record a delivered service, the service
ledger of a team (and village), the team's 118 sessions. A replay with the same ``Idempotency-Key`` header records
once (core.idempotency)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput

from ..assessment import session_hours
from ..models import ServiceDelivery, TeamSession
from ..queries import ledger as q
from ..services import fulfilment, sessions

router = Router(tags=["家庭医生履约"])


class DeliveryIn(Schema):
    contract: int
    service: int = Field(description="服务项目（本协议服务包的 PackageService id）")
    delivered_on: dt.date
    by: int | None = Field(None, description="服务人（团队成员的 Staff id）；缺省为当前用户")
    place: str = Field("", max_length=60)
    facility: int | None = None
    session: int | None = Field(None, description="118服务日 id（须与服务日期同一天）")
    note: str = Field("", max_length=300)


class DeliveryOut(Schema):
    id: int
    contract_id: int
    service_id: int
    service: str
    delivered_on: dt.date
    by_id: int | None
    place: str
    session_id: int | None
    source: str
    scheduled_id: int | None

    @staticmethod
    def resolve_service(obj: ServiceDelivery) -> str:
        return obj.service.name

    @staticmethod
    def resolve_scheduled_id(obj: ServiceDelivery) -> int | None:
        slot = getattr(obj, "scheduled", None)
        return slot.pk if slot is not None else None


class CellOut(Schema):
    service_id: int
    planned: int
    done: int
    overdue: int


class LedgerRowOut(Schema):
    contract_id: int
    contract_number: str
    name: str
    sex: str
    age: int
    id_number: str = Field(description="已脱敏")
    village: str
    tags: list[str]
    package: str
    start: dt.date
    end: dt.date
    planned: int
    done: int
    overdue: int
    services: list[CellOut]


class ServiceOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    times_per_year: int


class LedgerOut(Schema):
    team_id: int
    village_code: str | None
    on: dt.date
    services: list[ServiceOut]
    rows: list[LedgerRowOut]
    truncated: bool


class LedgerQuery(Schema):
    team: int | None = Field(None, description="团队 id；缺省为本人所在团队")
    village: str = Field("", max_length=12, description="村（12位区划代码）")


class SessionIn(Schema):
    team: int
    date: dt.date
    starts: dt.time
    ends: dt.time
    village: int | None = None
    place: int | None = None
    present: list[int] = Field(default_factory=list, description="到场成员 Staff id；缺省为当前用户")
    note: str = Field("", max_length=300)


class SessionOut(Schema):
    id: int
    team_id: int
    date: dt.date
    starts: dt.time
    ends: dt.time
    hours: float
    village_id: int | None
    present: list[int]
    services_done: int

    @staticmethod
    def resolve_hours(obj: TeamSession) -> float:
        return float(session_hours(obj.starts, obj.ends))

    @staticmethod
    def resolve_present(obj: TeamSession) -> list[int]:
        return [s.pk for s in obj.present.all()]

    @staticmethod
    def resolve_services_done(obj: TeamSession) -> int:
        n = getattr(obj, "services_done", None)
        return n if n is not None else obj.deliveries.count()


@router.post("/deliveries", response={201: DeliveryOut})
def record_delivery(request, payload: DeliveryIn):
    actor = Actor.from_request(request)
    contract = q.contract_for(actor, payload.contract)
    return Status(201, fulfilment.record_delivery(actor, contract, payload.dict(exclude={"contract"})))


def _team(actor: Actor, team_id: int | None):
    team = q.get_team_for(actor, team_id) if team_id else q.default_team(actor.user)
    if team is None:
        raise InvalidInput("no_team", _("请选择团队"), field="team")
    return team


@router.get("/ledger", response=LedgerOut)
def get_ledger(request, params: Query[LedgerQuery]):
    actor = Actor.from_request(request)
    team = _team(actor, params.team)
    village = next((v for v in q.team_villages(team) if v.code == params.village), None) if params.village else None
    if params.village and village is None:
        raise InvalidInput("invalid_village", _("该村不是本团队的责任村"), field="village")
    data = q.ledger(actor, team, village=village)
    return {"team_id": team.pk, "village_code": village.code if village else None, "on": data.on,
            "services": data.services, "truncated": data.truncated,
            "rows": [{"contract_id": r.contract_id, "contract_number": r.number, "name": r.name,
                      "sex": r.sex, "age": r.age, "id_number": r.id_number, "village": r.village, "tags": r.tags,
                      "package": r.package, "start": r.start, "end": r.end,
                      "planned": r.planned, "done": r.done, "overdue": r.overdue,
                      "services": [{"service_id": k, **c.__dict__} for k, c in r.cells.items()]}
                     for r in data.rows]}


@router.get("/sessions", response=list[SessionOut])
def list_sessions(request, team: int | None = None):
    actor = Actor.from_request(request)
    return list(q.sessions_of(actor, _team(actor, team))[:200])


@router.post("/sessions", response={201: SessionOut})
def log_session(request, payload: SessionIn):
    actor = Actor.from_request(request)
    team = q.get_team_for(actor, payload.team)
    return Status(201, sessions.log_session(actor, team, payload.dict(exclude={"team"})))
