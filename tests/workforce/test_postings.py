import datetime as dt

import pytest

from tests.cast import as_
from tests.workforce.conftest import MONDAY, posting_data
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.core.models import AuditEvent
from yigongti.workforce.models import PostingDay, PostingStatus
from yigongti.workforce.services import postings


def test_manager_posts_an_expert_for_the_weekdays_of_a_week(cast, wf):
    p = postings.create_posting(as_(cast.manager), posting_data(cast, wf))
    assert [d.day for d in p.days.all()] == [MONDAY + dt.timedelta(days=i) for i in range(5)]
    assert AuditEvent.objects.filter(object_type="wf_posting", object_id=str(p.pk), action="create").exists()


def test_same_expert_same_day_at_another_place_is_refused(cast, wf):
    postings.create_posting(as_(cast.manager), posting_data(cast, wf))
    with pytest.raises(Conflict) as e:
        postings.create_posting(as_(cast.manager), posting_data(cast, wf, host=cast.other_center.pk,
                                                                start=(MONDAY + dt.timedelta(days=4)).isoformat(),
                                                                end=(MONDAY + dt.timedelta(days=8)).isoformat()))
    assert e.value.code == "double_booked" and "塔峰镇卫生院" in e.value.message
    assert PostingDay.objects.filter(host=cast.other_center).count() == 0


def test_same_place_twice_the_same_day_is_allowed_a_lecture_after_the_clinic(cast, wf):
    postings.create_posting(as_(cast.manager), posting_data(cast, wf))
    postings.create_posting(as_(cast.manager), posting_data(cast, wf, kind="lecture", end=MONDAY.isoformat()))


def test_a_cancelled_posting_frees_its_days(cast, wf):
    p = postings.create_posting(as_(cast.manager), posting_data(cast, wf))
    postings.cancel_posting(as_(cast.manager), p)
    assert p.__class__.objects.get(pk=p.pk).status == PostingStatus.CANCELLED
    postings.create_posting(as_(cast.manager), posting_data(cast, wf, host=cast.other_center.pk))


def test_bad_input_names_each_field_in_chinese(cast, wf):
    with pytest.raises(InvalidInput) as e:
        postings.create_posting(as_(cast.manager), {"staff": cast.township_doctor.staff.pk,
                                                    "host": cast.county_hospital.pk, "kind": "x",
                                                    "start": "2026-12-09", "end": "2026-12-01"})
    assert set(e.value.errors) == {"staff", "host", "kind", "end"}
    assert e.value.errors["staff"] == ["下沉专家须是县级或市级医院的人员"]


def test_only_the_communitys_manager_plans(cast, wf):
    with pytest.raises(Forbidden):
        postings.create_posting(as_(cast.county_doctor), posting_data(cast, wf))
    assert AuditEvent.objects.filter(action="denied", detail__attempted="workforce.plan").exists()


def test_township_admin_files_a_request_for_its_own_center_only(cast, wf):
    r = postings.file_request(as_(wf.admin), {"host": cast.township_center.pk, "month": "2026-12", "days": "8",
                                              "specialty": "内科"})
    assert (r.month, r.days) == (dt.date(2026, 12, 1), 8)
    with pytest.raises(Forbidden):
        postings.file_request(as_(wf.admin), {"host": cast.other_center.pk, "month": "2026-12", "days": "8"})
    with pytest.raises(InvalidInput) as e:
        postings.file_request(as_(wf.admin), {"host": cast.township_center.pk, "month": "12月", "days": "40"})
    assert set(e.value.errors) == {"month", "days"}
