"""/api/v1/familydoctor/teams: the teams the caller works for (managers: their area's), and one team with its
current members and villages."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema

from ..queries import teams as q

router = Router(tags=["家庭医生团队"])


class TeamOut(Schema):
    id: int
    code: str
    name: str
    facility_id: int
    leader_id: int | None
    community_id: int
    n_members: int
    n_villages: int
    n_contracts: int


class MemberOut(Schema):
    id: int
    staff_id: int
    name: str
    role: str
    since: dt.date
    until: dt.date | None

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.staff.name


class VillageOut(Schema):
    id: int
    village_id: int
    code: str
    name: str
    since: dt.date
    until: dt.date | None

    @staticmethod
    def resolve_code(obj) -> str:
        return obj.village.code

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.village.name


class TeamDetailOut(Schema):
    id: int
    code: str
    name: str
    facility_id: int
    leader_id: int | None
    active_contracts: int
    members: list[MemberOut]
    past_members: list[MemberOut]
    villages: list[VillageOut]


@router.get("", response=list[TeamOut])
def list_teams(request):
    return q.teams_list(request.user)


@router.get("/{int:pk}", response=TeamDetailOut)
def get_team(request, pk: int):
    team = q.get_team_for(request.user, pk)
    d = q.team_detail(team)
    return {"id": team.pk, "code": team.code, "name": team.name, "facility_id": team.facility_id,
            "leader_id": team.leader_id, "active_contracts": d["active_contracts"], "members": d["current_members"],
            "past_members": d["past_members"], "villages": d["current_villages"]}
