"""Monthly assessment (月考核): the pure scoring, the month's computation for every team, pages and API."""

import datetime as dt
from decimal import Decimal

import pytest

from tests.familydoctor.test_fulfilment import make_contract
from yigongti.chronic.models import Control, Decision, Enrolment, FollowUp
from yigongti.core.actor import Actor
from yigongti.core.errors import Forbidden
from yigongti.familydoctor import assessment as rules
from yigongti.familydoctor.models import MonthlyAssessment, TeamSession
from yigongti.familydoctor.services import fulfilment
from yigongti.familydoctor.services.assessment import collect_counts, compute_month

MAY = dt.date(2026, 5, 1)

# ---- pure -------------------------------------------------------------------------------------------


def test_score_weights_each_part_and_totals_out_of_100():
    c = rules.TeamCounts(due=10, done=8, due_in_month=4, on_time_in_month=3, managed=10, on_time_follow_up=9,
                         controlled=6, weeks=4, weeks_held=4)
    s = rules.score(c)
    assert (s.fulfilment, s.timeliness, s.outcomes, s.sessions) == (
        Decimal("32.0"), Decimal("15.0"), Decimal("22.5"), Decimal("10.0"))
    assert s.total == Decimal("79.5") and sum(rules.WEIGHTS.values()) == 100


def test_a_part_without_denominator_is_left_out_and_the_rest_rescaled():
    s = rules.score(rules.TeamCounts(due=4, done=4, weeks=4, weeks_held=2))  # no month due, no patient
    assert s.rates["timeliness"] is None and s.rates["outcomes"] is None
    assert s.total == Decimal("90.0")  # (40×1 + 10×0.5) / 50
    assert not rules.score(rules.TeamCounts()).rankable


def test_rates_are_capped_at_one():
    assert rules.score(rules.TeamCounts(weeks=4, weeks_held=6)).rates["sessions"] == 1.0


def test_rank_shares_ties_and_leaves_the_unrankable_out():
    assert rules.rank({1: Decimal(80), 2: Decimal(90), 3: Decimal(80), 4: None, 5: Decimal(70)}) == {
        2: 1, 1: 2, 3: 2, 5: 4, 4: None}


def test_118_weeks_need_eight_hours_and_count_once():
    assert rules.mondays(MAY) == [dt.date(2026, 5, d) for d in (4, 11, 18, 25)]
    assert rules.session_hours(dt.time(8), dt.time(16, 30)) == Decimal("8.5")
    sessions = [(dt.date(2026, 5, 6), Decimal(9)), (dt.date(2026, 5, 7), Decimal(9)),  # same week
                (dt.date(2026, 5, 13), Decimal("7.5")), (dt.date(2026, 5, 2), Decimal(9))]  # week of Apr 27
    assert rules.weeks_held(MAY, sessions) == 1


def test_follow_up_on_time_and_parse_month():
    end = dt.date(2026, 5, 31)
    assert rules.follow_up_on_time(dt.date(2026, 6, 1), dt.date(2025, 1, 1), end)
    assert not rules.follow_up_on_time(dt.date(2026, 5, 30), dt.date(2025, 1, 1), end)
    assert rules.follow_up_on_time(None, dt.date(2026, 5, 20), end)
    assert not rules.follow_up_on_time(None, dt.date(2026, 5, 1), end)
    assert rules.parse_month("2026-05") == MAY and rules.parse_month("", dt.date(2026, 6, 15)) == MAY
    with pytest.raises(ValueError):
        rules.parse_month("May")


# ---- the month's computation -------------------------------------------------------------------------


@pytest.fixture
def may_world(care):
    vd = care.cast.village_doctor
    grandpa = make_contract(care, care.grandfather)  # 2026: FU#1 due by 04-01
    grandma = make_contract(care, care.grandmother, start=dt.date(2025, 6, 1))  # ends 05-31: all 8 due by May
    s = care.services
    fulfilment.record_delivery(vd, grandpa, {"service": s["FU"].pk, "delivered_on": "2026-03-02"})
    for on in ("2025-07-01", "2025-10-01", "2026-01-05"):
        fulfilment.record_delivery(vd, grandma, {"service": s["FU"].pk, "delivered_on": on})
    fulfilment.record_delivery(vd, grandma, {"service": s["HC"].pk, "delivered_on": "2026-05-20"})
    fulfilment.record_delivery(vd, grandma, {"service": s["EDU"].pk, "delivered_on": "2025-08-01"})
    clinic = care.cast.village_clinic
    for resident, cond, control, visit, nxt in (
            (care.grandfather, "htn", Control.CONTROLLED, dt.date(2026, 4, 20), dt.date(2026, 7, 20)),
            (care.grandmother, "t2dm", Control.UNCONTROLLED, dt.date(2026, 2, 1), dt.date(2026, 2, 15))):
        e = Enrolment.objects.create(resident=resident, condition=cond, enrolled_on=dt.date(2026, 1, 10),
                                     facility=clinic, village=care.cast.village)
        FollowUp.objects.create(enrolment=e, resident=resident, visit_date=visit, facility=clinic, control=control,
                                decision=Decision.ROUTINE, next_visit_on=nxt)
    for day, h0, h1 in ((6, 8, 17), (13, 8, 15), (20, 8, 16)):
        TeamSession.objects.create(team=care.team, date=dt.date(2026, 5, day), starts=dt.time(h0), ends=dt.time(h1))
    return care


def test_counts_behind_the_scores(may_world):
    care = may_world
    c = collect_counts(MAY, [care.team, care.other_team])[care.team.pk]
    assert (c.due, c.done, c.due_in_month, c.on_time_in_month) == (9, 6, 4, 1)
    assert (c.managed, c.on_time_follow_up, c.controlled) == (2, 1, 1)
    assert (c.weeks, c.weeks_held, c.sessions) == (4, 2, 3)


def test_compute_month_scores_ranks_and_replaces(may_world):
    care = may_world
    rows = compute_month(care.cast.manager, MAY)
    mine = next(r for r in rows if r.team == care.team)
    other = next(r for r in rows if r.team == care.other_team)
    assert mine.fulfilment == Decimal("26.7") and mine.timeliness == Decimal("5.0")
    assert mine.outcomes == Decimal("15.0") and mine.sessions == Decimal("5.0") and mine.total == Decimal("51.7")
    assert mine.rank == 1 and other.rank == 2 and other.total == 0
    assert mine.details["counts"]["done"] == 6 and mine.details["rates"]["control"] == 0.5
    compute_month(Actor.system("worker"), MAY)
    assert MonthlyAssessment.objects.filter(month=MAY).count() == 2


def test_only_managers_and_the_bureau_compute(care):
    with pytest.raises(Forbidden):
        compute_month(care.cast.village_doctor, MAY)
    assert compute_month(care.cast.bureau, MAY)


def test_last_years_contract_is_last_years_assessment(care):
    make_contract(care, care.grandmother, start=dt.date(2025, 1, 1))  # ended 2025-12-31
    assert collect_counts(MAY, [care.team])[care.team.pk].due == 0
    assert collect_counts(dt.date(2025, 12, 1), [care.team])[care.team.pk].due == 8


def test_an_ended_contracts_later_services_do_not_count(care):
    c = make_contract(care, care.grandfather)
    c.status, c.ended_on, c.end_reason = "ended", dt.date(2026, 2, 1), "moved"
    c.save()
    assert collect_counts(MAY, [care.team])[care.team.pk].due == 0


# ---- pages and API ---------------------------------------------------------------------------------


def test_assessment_pages_show_the_ranking(may_world, client, login):
    care = may_world
    login(care.cast.manager)
    r = client.post("/familydoctor/assessment/compute/", {"month": "2026-05"})
    assert r.status_code == 302
    page = client.get("/familydoctor/assessment/", {"month": "2026-05"}).content.decode()
    assert care.team.name in page and "51.7" in page
    team = client.get(f"/familydoctor/assessment/teams/{care.team.pk}/", {"month": "2026-05"}).content.decode()
    assert "6" in team and "assessment-team-table" in team
    year = client.get("/familydoctor/ranking/", {"year": 2026}).content.decode()
    assert "ranking-row" in year and "51.7" in year
    assert client.get("/familydoctor/assessment/", {"month": "May"}).status_code == 400


def test_assessment_api(may_world, client, login):
    care = may_world
    login(care.cast.village_doctor)
    r = client.post("/api/v1/familydoctor/assessment/compute", {"month": "2026-05"}, content_type="application/json")
    assert r.status_code == 403
    login(care.cast.bureau)
    r = client.post("/api/v1/familydoctor/assessment/compute", {"month": "2026-05"}, content_type="application/json")
    assert r.status_code == 200 and r.json()[0]["rank"] == 1
    listed = client.get("/api/v1/familydoctor/assessment", {"month": "2026-05"}).json()
    assert [x["team_id"] for x in listed] == [care.team.pk, care.other_team.pk]
    assert client.get("/api/v1/familydoctor/assessment/ranking", {"year": 2026}).json()[0]["mean"] == "51.7"
    assert client.get("/api/v1/familydoctor/assessment", {"month": "x"}).status_code == 422


def test_home_panel_shows_last_months_top_and_bottom(may_world, client, login):
    care = may_world
    compute_month(care.cast.manager, MAY)
    login(care.cast.manager)
    page = client.get("/").content.decode()
    assert "home-familydoctor-assessment" in page and care.team.name in page
