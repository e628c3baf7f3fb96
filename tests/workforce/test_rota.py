"""The solvers on plain data, then the rota's use cases: generate, edit by hand, publish."""

import datetime as dt

import pytest

from tests.cast import as_
from yigongti.core.errors import Conflict
from yigongti.workforce import rota as solver
from yigongti.workforce.models import Posting, RotaStatus
from yigongti.workforce.services import postings, rota

DEC = dt.date(2026, 12, 1)


def test_working_days_are_monday_to_friday():
    days = solver.working_days(DEC)
    assert len(days) == 23 and all(d.weekday() < 5 for d in days)


def _check(plan, needs, experts):
    seen = set()
    ex = {e.id: e for e in experts}
    for e, _n, d in plan.assignments:
        assert (e, d) not in seen  # one place a day
        seen.add((e, d))
        assert d not in ex[e].unavailable
    for e in experts:
        assert plan.loads.get(e.id, 0) <= e.cap
    for n in needs:
        got = [a for a in plan.assignments if a[1] == n.id]
        assert len(got) <= n.days and len({a[2] for a in got}) == len(got)


def test_cp_sat_meets_at_least_what_greedy_meets_and_keeps_every_rule():
    days = solver.working_days(DEC)
    experts = [solver.Expert(1, "内科", cap=3), solver.Expert(2, "内科", cap=10, unavailable=frozenset(days[:5])),
               solver.Expert(3, "外科", cap=4)]
    # greedy gives the big request the flexible expert first; the small one then lacks
    needs = [solver.Need(10, 1, "clinic", "", 12), solver.Need(11, 2, "clinic", "外科", 4),
             solver.Need(12, 3, "clinic", "内科", 6)]
    g, c = solver.greedy(needs, experts, days), solver.solve(needs, experts, days, seconds=5)
    _check(g, needs, experts)
    _check(c, needs, experts)
    assert c.met >= g.met and c.share <= 1


def test_busy_days_are_never_assigned():
    days = solver.working_days(DEC)
    busy = {(1, d) for d in days[:10]}
    plan = solver.solve([solver.Need(1, 1, "clinic", "", 20)], [solver.Expert(1, "", cap=20)], days, busy, seconds=2)
    assert plan.met == 13 and all(d not in days[:10] for _e, _n, d in plan.assignments)


@pytest.fixture
def requests_filed(cast, wf):
    postings.file_request(as_(wf.admin), {"host": cast.township_center.pk, "month": "2026-12", "days": 4,
                                          "specialty": "内科"})
    postings.file_request(as_(cast.manager), {"host": cast.other_center.pk, "month": "2026-12", "days": 3})


def test_generate_then_publish_makes_postings_without_double_booking(cast, wf, requests_filed):
    r = rota.generate_rota(as_(cast.manager), cast.community, {"month": "2026-12"})
    assert r.status == RotaStatus.DRAFT and r.requested_days == 7
    assert r.entries.count() == 7  # two experts, enough days
    made = rota.publish_rota(as_(cast.manager), r)
    assert sum(p.days.count() for p in made) == 7
    assert all(p.rota_id == r.pk for p in Posting.objects.all())
    with pytest.raises(Conflict):
        rota.remove_entry(as_(cast.manager), r.entries.first())


def test_manager_edits_the_draft_by_hand_and_a_clash_is_refused(cast, wf, requests_filed):
    r = rota.generate_rota(as_(cast.manager), cast.community, {"month": "2026-12", "solver": "greedy"})
    e = r.entries.filter(staff=wf.expert).first()
    other_req = r.entries.exclude(request=e.request).first().request
    with pytest.raises(Conflict) as err:
        rota.add_entry(as_(cast.manager), r, {"staff": wf.expert.pk, "request": other_req.pk, "day": e.day})
    assert err.value.code == "double_booked"
    rota.remove_entry(as_(cast.manager), e)
    added = rota.add_entry(as_(cast.manager), r, {"staff": wf.expert.pk, "request": other_req.pk, "day": e.day})
    assert added.by_hand


def test_publishing_refuses_a_day_booked_elsewhere_meanwhile(cast, wf, requests_filed):
    r = rota.generate_rota(as_(cast.manager), cast.community, {"month": "2026-12"})
    e = r.entries.filter(staff=wf.expert).exclude(request__host=cast.other_center).first()
    postings.create_posting(as_(cast.manager), {"staff": wf.expert.pk, "host": cast.other_center.pk,
                                                "kind": "lecture", "start": e.day, "end": e.day})
    with pytest.raises(Conflict):
        rota.publish_rota(as_(cast.manager), r)
    r.refresh_from_db()
    assert r.status == RotaStatus.DRAFT


def test_an_experts_availability_keeps_the_rota_off_their_days(cast, wf, requests_filed, login, client):
    login(cast.manager)
    r = client.post("/workforce/rota/", {"action": "availability", "staff": wf.expert.pk, "month": "2026-12",
                                         "cap_days": "1", "unavailable": "2026-12-01,2026-12-02"})
    assert r.status_code == 302
    r = client.post("/workforce/rota/", {"action": "availability", "staff": wf.expert.pk, "month": "2026-12",
                                         "cap_days": "99"})
    assert r.status_code == 200 and "须在 0 到 31 之间" in r.content.decode()
    plan = rota.generate_rota(as_(cast.manager), cast.community, {"month": "2026-12"})
    mine = list(plan.entries.filter(staff=wf.expert))
    assert len(mine) <= 1 and all(e.day.day > 2 for e in mine)
