"""Follow-ups of one patient written at the same moment on real connections (PostgreSQL only): the enrolment's row
lock serialises them, so the streak of uncontrolled visits counts both and the second one refers; a retry of the
same form at once makes one follow-up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from tests.cast import as_
from tests.concurrency import race
from yigongti.chronic.models import Decision, Enrolment, FollowUp
from yigongti.chronic.services import enrolment as enrol_svc
from yigongti.chronic.services import followups as svc

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer (run with DATABASE_URL=postgresql://…)")


@pytest.fixture
def enrolment(care):
    return enrol_svc.enrol(as_(care.cast.village_doctor), care.grandfather, "htn",
                           enrolled_on=timezone.localdate() - dt.timedelta(days=60))


def test_two_uncontrolled_follow_ups_at_once_make_a_streak_of_two(care, enrolment):
    day = timezone.localdate().isoformat()
    results = race([
        lambda: svc.record_follow_up(as_(care.cast.village_doctor), enrolment, {"visit_date": day, "sbp": 150,
                                                                                 "dbp": 95}),
        lambda: svc.record_follow_up(as_(care.nurse), enrolment, {"visit_date": day, "sbp": 156, "dbp": 96}),
    ])
    assert all(isinstance(r, FollowUp) for r in results), results
    assert sorted(r.decision for r in results) == sorted([Decision.ADJUST, Decision.REFER])
    assert Enrolment.objects.get(pk=enrolment.pk).uncontrolled_streak == 2


def test_the_same_form_sent_twice_at_once_makes_one_follow_up(care, enrolment):
    data = {"visit_date": timezone.localdate().isoformat(), "sbp": 130, "dbp": 80}
    actor = as_(care.cast.village_doctor)
    results = race([lambda: svc.record_follow_up(actor, enrolment, data, idempotency_key="same"),
                    lambda: svc.record_follow_up(actor, enrolment, data, idempotency_key="same")])
    assert all(isinstance(r, FollowUp) for r in results), results
    assert results[0].pk == results[1].pk and FollowUp.objects.count() == 1
