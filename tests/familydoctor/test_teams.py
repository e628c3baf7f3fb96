"""familydoctor.queries.teams and services.teams: who serves which village, the user's teams and villages, and
keeping the membership / village history; the team pages and API."""

import datetime as dt

import pytest

from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.familydoctor.models import MemberRole, Team, TeamMember, TeamVillage
from yigongti.familydoctor.queries import teams as q
from yigongti.familydoctor.services import teams as svc


def test_team_for_village_respects_dates(care):
    v = care.cast.village
    assert q.team_for_village(v) == care.team
    assert q.team_for_village(v, dt.date(2024, 12, 31)) is None  # before the link's since
    TeamVillage.objects.filter(team=care.team).update(until=dt.date(2025, 6, 30))
    assert q.team_for_village(v, dt.date(2025, 6, 30)) == care.team
    assert q.team_for_village(v, dt.date(2025, 7, 1)) is None
    assert q.team_for_village(None) is None


def test_teams_and_villages_of_users(care):
    c = care.cast
    assert list(q.teams_of_user(c.village_doctor)) == [care.team]
    assert list(q.teams_of_user(c.other_village_doctor)) == [care.other_team]
    assert set(q.teams_of_user(c.manager)) == {care.team, care.other_team}
    assert [v.pk for v in q.villages_of_user(c.village_doctor)] == [c.village.pk]
    assert set(q.villages_of_user(c.manager)) == {c.village, c.other_village}
    TeamMember.objects.filter(staff=c.village_doctor.staff).update(until=dt.date(2025, 12, 31))
    assert list(q.teams_of_user(c.village_doctor)) == []
    # a village doctor still sees the village of their own clinic
    assert [v.pk for v in q.villages_of_user(c.village_doctor)] == [c.village.pk]


def test_manager_adds_and_ends_members_keeping_history(care):
    c = care.cast
    m = svc.add_member(c.manager, care.other_team, {"staff": c.township_doctor.staff.pk,
                                                    "role": MemberRole.GENERAL_PRACTITIONER, "since": "2026-01-01"})
    assert care.other_team in q.teams_of_user(c.township_doctor)
    with pytest.raises(Conflict):
        svc.add_member(c.manager, care.other_team, {"staff": c.township_doctor.staff.pk, "role": "gp"})
    with pytest.raises(InvalidInput) as e:
        svc.add_member(c.manager, care.other_team, {"staff": c.county_doctor.staff.pk, "role": "boss"})
    assert e.value.field == "role"
    svc.end_member(c.manager, m, {"until": "2026-02-01"})
    m.refresh_from_db()
    assert m.until == dt.date(2026, 2, 1) and TeamMember.objects.filter(pk=m.pk).exists()
    d = q.team_detail(care.other_team)
    assert m in d["past_members"] and m not in d["current_members"]


def test_only_managers_keep_teams(care):
    with pytest.raises(Forbidden):
        svc.add_member(care.cast.village_doctor, care.team, {"staff": care.cast.county_doctor.staff.pk,
                                                             "role": "specialist"})


def test_village_served_by_one_team_at_a_time(care):
    c = care.cast
    with pytest.raises(Conflict) as e:
        svc.add_village(c.manager, care.other_team, {"village": c.village.pk})
    assert e.value.field == "village"
    link = TeamVillage.objects.get(team=care.team, village=c.village)
    svc.end_village(c.manager, link, {"until": "2026-03-31"})
    new = svc.add_village(c.manager, care.other_team, {"village": c.village.pk, "since": "2026-04-01"})
    assert q.team_for_village(c.village, dt.date(2026, 4, 2)) == care.other_team
    assert q.team_for_village(c.village, dt.date(2026, 3, 1)) == care.team
    assert new.since == dt.date(2026, 4, 1)


def test_team_pages(care, client, login):
    login(care.cast.manager)
    r = client.get("/familydoctor/teams/")
    assert r.status_code == 200 and "塔峰镇家庭医生团队一" in r.content.decode()
    r = client.get(f"/familydoctor/teams/{care.team.pk}/")
    body = r.content.decode()
    assert r.status_code == 200 and 'data-testid="team-add-member"' in body and "大塘村" in body
    r = client.post(f"/familydoctor/teams/{care.team.pk}/", {"action": "add_member", "role": "gp",
                                                            "staff": care.cast.other_village_doctor.staff.pk})
    assert r.status_code == 302
    assert care.team.members.filter(staff=care.cast.other_village_doctor.staff).exists()
    r = client.get("/familydoctor/")
    assert r.status_code == 200 and "塔峰镇家庭医生团队一" in r.content.decode()


def test_member_sees_team_without_manage_forms(care, client, login):
    login(care.cast.village_doctor)
    r = client.get(f"/familydoctor/teams/{care.team.pk}/")
    assert r.status_code == 200 and 'data-testid="team-add-member"' not in r.content.decode()
    r = client.post(f"/familydoctor/teams/{care.team.pk}/", {"action": "add_village",
                                                            "village": care.cast.other_village.pk})
    assert not TeamVillage.objects.filter(team=care.team, village=care.cast.other_village).exists()


def test_teams_api(care, client, login):
    login(care.cast.village_doctor)
    rows = client.get("/api/v1/familydoctor/teams").json()
    assert [t["code"] for t in rows] == ["FD-TF-01"] and rows[0]["n_members"] == 5
    d = client.get(f"/api/v1/familydoctor/teams/{care.team.pk}").json()
    assert {m["role"] for m in d["members"]} >= {"gp", "village_doctor"}
    assert [v["code"] for v in d["villages"]] == [care.cast.village.code]
    login(care.cast.outsider)
    assert client.get(f"/api/v1/familydoctor/teams/{care.team.pk}").status_code == 404
    assert Team.objects.count() == 2
