"""Two clinicians acknowledging the same critical value at the same moment (the village doctor and the county
duty doctor it was escalated to): one wins, the other is told it is already acknowledged; two workers escalating
at once move it one level. Real concurrent connections, so PostgreSQL only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from tests.cast import SYSTEM, _account, as_
from tests.concurrency import race
from tests.telemedicine.test_critical import raise_k
from yigongti.core.errors import Conflict
from yigongti.orgs.models import Role
from yigongti.telemedicine import rules
from yigongti.telemedicine.models import CriticalEvent, CriticalStatus, CriticalValue
from yigongti.telemedicine.services import critical as svc

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so two connections cannot race "
                    "(run with DATABASE_URL=postgresql://…)")


def test_two_acknowledgements_at_once_one_wins(centers):
    rules.install_defaults(centers.cast.community, actor=SYSTEM, start=dt.date(2020, 1, 1))
    cv = raise_k(centers)
    svc.escalate_due(cv.ack_due_at + dt.timedelta(seconds=1))  # now the county duty doctor was told too
    results = race([lambda: svc.acknowledge(cv.pk, "钾 2.5", actor=as_(centers.cast.village_doctor)),
                    lambda: svc.acknowledge(cv.pk, "K 2.5", actor=as_(centers.lab.duty_doctor))])
    won = [x for x in results if isinstance(x, CriticalValue)]
    lost = [x for x in results if isinstance(x, Conflict)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].code == "already_acknowledged"
    fresh = CriticalValue.objects.get(pk=cv.pk)
    assert fresh.status == CriticalStatus.ACKNOWLEDGED and fresh.acknowledged_by_id == won[0].acknowledged_by_id
    assert CriticalEvent.objects.filter(critical_id=cv.pk, kind="acknowledged").count() == 1


def test_two_workers_escalating_at_once_move_it_one_level(centers):
    rules.install_defaults(centers.cast.community, actor=SYSTEM, start=dt.date(2020, 1, 1))
    _account("township_director", Role.FACILITY_ADMIN, centers.cast.township_center)
    cv = raise_k(centers)
    at = cv.ack_due_at + dt.timedelta(seconds=1)
    results = race([lambda: svc.escalate_one(cv.pk, at), lambda: svc.escalate_one(cv.pk, at)])
    assert sorted(results) == [False, True], results
    assert CriticalValue.objects.get(pk=cv.pk).level == 1
    assert CriticalEvent.objects.filter(critical_id=cv.pk, kind="escalated").count() == 1
