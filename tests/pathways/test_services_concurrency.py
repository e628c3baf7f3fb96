"""Pathway writes at the same moment on real connections (PostgreSQL only): the alert and the green channel
opening one patient's case make one case; a button tapped on two phones records one time point; two corrections
of one point: one wins, the other is told."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from tests.cast import SYSTEM, as_
from tests.concurrency import race
from yigongti.core.errors import Conflict
from yigongti.pathways import services
from yigongti.pathways.models import Case, CaseEvent

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer (run with DATABASE_URL=postgresql://…)")


def test_opening_one_patients_case_at_once_makes_one_case(ems):
    c = ems.cast
    who = [SYSTEM, as_(c.county_doctor), as_(c.township_doctor)]
    results = race([lambda a=a: services.open_case(a, c.resident, "chest_pain", facility=c.county_hospital,
                                                   first_facility=c.township_center, arrival_mode="transfer")
                    for a in who])
    assert all(isinstance(r, Case) for r in results), results
    assert len({r.pk for r in results}) == 1 and Case.objects.count() == 1


def test_a_point_pressed_on_two_phones_at_once_is_recorded_once(ems):
    c = ems.cast
    case = services.open_case(as_(c.county_doctor), c.resident, "stroke", facility=c.county_hospital)
    results = race([lambda a=a: services.record_event(a, case, "door")
                    for a in (as_(c.county_doctor), as_(c.county_doctor), SYSTEM)])
    assert all(isinstance(r, CaseEvent) for r in results), results
    assert len({r.pk for r in results}) == 1 and CaseEvent.objects.filter(case=case).count() == 1


def test_two_corrections_of_one_point_at_once(ems):
    c = ems.cast
    case = services.open_case(as_(c.county_doctor), c.resident, "stroke", facility=c.county_hospital)
    door = services.record_event(as_(c.county_doctor), case, "door", at=timezone.now() - dt.timedelta(minutes=30))
    at = timezone.now() - dt.timedelta(minutes=40)
    results = race([lambda r=r: services.correct_event(as_(c.county_doctor), door, at=at, reason=r)
                    for r in ("挂号时间为准", "监控时间为准")])
    assert sum(isinstance(r, CaseEvent) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert CaseEvent.objects.filter(case=case, code="door", active=True).count() == 1
