import datetime as dt

import pytest
from django.utils import timezone

from tests.cast import as_
from tests.workforce.conftest import posting_data
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.workforce.attendance import distance_m
from yigongti.workforce.ledger import REQUIREMENT
from yigongti.workforce.queries.ledger import ledger
from yigongti.workforce.services import attendance, postings


def test_distance_is_about_111_km_a_degree_of_latitude():
    assert round(distance_m(112.0, 25.0, 112.0, 26.0) / 1000) == 111


@pytest.fixture
def today_day(cast, wf):
    today = timezone.localdate()
    p = postings.create_posting(as_(cast.manager), posting_data(cast, wf, start=today, end=today,
                                                                weekdays="0,1,2,3,4,5,6"))
    return p.days.get()


def test_expert_checks_in_near_the_host_and_the_township_confirms(cast, wf, today_day):
    d = attendance.check_in(as_(cast.county_doctor), today_day, {"lon": "112.1905", "lat": "25.3702"})
    assert d.checked_in_at and not d.flagged and d.distance_m < 100
    d = attendance.confirm_day(as_(wf.admin), d)
    assert d.confirmed_by == wf.admin
    row = next(r for r in ledger(as_(cast.manager)) if r.staff == wf.expert)
    assert row.standing.verified == 1 and row.standing.lacking == REQUIREMENT.days - 1
    assert row.next_title == "副高级" and row.hosts == [("塔峰镇卫生院", 1)]


def test_a_check_in_far_from_the_host_is_flagged_not_silently_accepted(cast, wf, today_day):
    d = attendance.check_in(as_(cast.county_doctor), today_day, {"lon": 112.30, "lat": 25.37})
    assert d.flagged and d.distance_m > 10_000


def test_without_position_the_check_in_is_recorded_unflagged(cast, wf, today_day):
    d = attendance.check_in(as_(cast.county_doctor), today_day, {})
    assert d.checked_in_at and d.distance_m is None and not d.flagged


def test_only_the_expert_checks_in_only_today_and_once(cast, wf, today_day):
    with pytest.raises(Forbidden):
        attendance.check_in(as_(cast.township_doctor), today_day, {})
    with pytest.raises(InvalidInput):
        attendance.check_in(as_(cast.county_doctor), today_day, {"lon": "东经", "lat": "25"})
    attendance.check_in(as_(cast.county_doctor), today_day, {})
    with pytest.raises(Conflict):
        attendance.check_in(as_(cast.county_doctor), today_day, {})
    past = postings.create_posting(as_(cast.manager), posting_data(
        cast, wf, start=timezone.localdate() - dt.timedelta(days=7), end=timezone.localdate() - dt.timedelta(days=7),
        weekdays="0,1,2,3,4,5,6")).days.get()
    with pytest.raises(InvalidInput) as e:
        attendance.check_in(as_(cast.county_doctor), past, {})
    assert e.value.code == "not_today"


def test_the_expert_cannot_confirm_their_own_day_nor_another_township(cast, wf, today_day):
    attendance.check_in(as_(cast.county_doctor), today_day, {})
    with pytest.raises(Forbidden):
        attendance.confirm_day(as_(cast.county_doctor), today_day)
    with pytest.raises(Forbidden):
        attendance.confirm_day(as_(cast.other_village_doctor), today_day)


def test_a_day_not_checked_in_cannot_be_confirmed(cast, wf, today_day):
    with pytest.raises(Conflict):
        attendance.confirm_day(as_(wf.admin), today_day)


def test_a_county_doctor_neither_sees_nor_confirms_the_townships_postings(cast, wf, today_day):
    from yigongti.core.errors import NotFound
    from yigongti.workforce.queries.postings import get_day_for, postings_visible_to

    attendance.check_in(as_(cast.county_doctor), today_day, {})
    other = postings.create_posting(as_(cast.manager), posting_data(cast, wf, staff=wf.second.pk))
    assert list(postings_visible_to(cast.county_doctor)) == [today_day.posting]  # their own only
    with pytest.raises(NotFound):
        get_day_for(cast.county_doctor, other.days.first().pk)
    assert other in postings_visible_to(wf.admin)
    from yigongti.orgs.permissions import can

    assert not can(cast.manager, "workforce.confirm", today_day)
    assert can(wf.admin, "workforce.confirm", today_day)
