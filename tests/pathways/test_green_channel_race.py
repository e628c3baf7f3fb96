"""Two presses of the one button at the same moment (a double tap that reached the server twice, the township and
the village doctor for the same patient), on real concurrent connections (PostgreSQL only): one referral, one 120
call, one alert, one case."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.cast import SYSTEM, _account, as_
from tests.concurrency import race
from tests.emergency.test_prehospital import use_road
from yigongti.emergency.models import Call, PreArrivalAlert
from yigongti.orgs.models import Role
from yigongti.pathways import green_channel as gc
from yigongti.pathways.models import Case
from yigongti.referrals.models import Referral

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer (run with DATABASE_URL=postgresql://…)")
    settings.DATA_DIR = tmp_path


@pytest.fixture
def county(ems, monkeypatch):
    from yigongti.referrals.services import install_starter_rules, setup_center

    use_road(ems, monkeypatch)
    setup_center(ems.cast.community, members=[_account("race_desk", Role.NURSE, ems.cast.county_hospital)],
                 actor=SYSTEM)
    install_starter_rules(actor=SYSTEM)
    return ems


def test_two_taps_at_once_make_one_of_each(county):
    c = county.cast
    results = race([lambda: gc.press(as_(c.township_doctor), c.resident, kind="chest_pain", idempotency_key="tap")
                    for _ in range(3)])
    assert all(isinstance(r, gc.GreenChannel) for r in results), results
    assert len({r.call.pk for r in results}) == 1
    assert (Referral.objects.count(), Call.objects.count(), PreArrivalAlert.objects.count(), Case.objects.count()) \
        == (1, 1, 1, 1)


def test_two_doctors_at_once_for_the_same_patient_start_one_transfer(county):
    c = county.cast
    results = race([lambda: gc.press(as_(c.township_doctor), c.resident, kind="chest_pain"),
                    lambda: gc.press(as_(c.village_doctor), c.resident, kind="chest_pain")])
    assert all(isinstance(r, gc.GreenChannel) for r in results), results
    assert len({r.call.pk for r in results}) == 1 and len({r.case.pk for r in results}) == 1
    assert (Referral.objects.count(), Call.objects.count(), PreArrivalAlert.objects.count(), Case.objects.count()) \
        == (1, 1, 1, 1)
