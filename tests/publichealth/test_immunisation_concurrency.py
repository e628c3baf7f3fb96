"""Two vaccination desks recording the same child's dose at the same moment: the child's row lock makes the second
see the first's dose (one dose; the same registration twice returns it, a different date is refused). Real
concurrent connections, so PostgreSQL only."""

import datetime as dt

import pytest
from django.db import connection

from tests.care import _person
from tests.cast import as_
from tests.concurrency import race as _race
from yigongti.core.errors import InvalidInput
from yigongti.core.validation import today
from yigongti.publichealth.models import VaccineDose
from yigongti.publichealth.services import immunisation as services

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so two connections cannot race "
                    "(run with DATABASE_URL=postgresql://…)")


def _dose(care, child, user, days):
    return lambda: services.record_dose(as_(user), child, {
        "vaccine": "HepB", "dose": 1, "given_on": (child.birth_date + dt.timedelta(days=days)).isoformat()})


def test_the_same_dose_from_two_desks_at_once_is_recorded_once(care):
    child = _person("陈小宝", "M", today() - dt.timedelta(days=20), care.cast.village, care.household, 71)
    results = _race([_dose(care, child, care.nurse, 0), _dose(care, child, care.cast.township_doctor, 0)])
    assert all(isinstance(r, VaccineDose) for r in results), results
    assert results[0].pk == results[1].pk and VaccineDose.objects.filter(child=child).count() == 1


def test_the_same_dose_on_two_dates_at_once_one_wins_the_other_is_refused(care):
    child = _person("陈小妹", "F", today() - dt.timedelta(days=20), care.cast.village, care.household, 72)
    results = _race([_dose(care, child, care.nurse, 0), _dose(care, child, care.cast.township_doctor, 1)])
    won = [r for r in results if isinstance(r, VaccineDose)]
    lost = [r for r in results if isinstance(r, InvalidInput)]
    assert len(won) == 1 and len(lost) == 1, results
    assert "已接种过" in lost[0].message and VaccineDose.objects.filter(child=child).count() == 1
