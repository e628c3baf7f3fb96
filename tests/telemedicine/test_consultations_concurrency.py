"""Races on a consultation and on a specimen between real connections (PostgreSQL only): the specialist answering
while the requester cancels — one wins; two nurses registering a specimen of the same order at once — the
containers are numbered -1 and -2; two technicians receiving the same specimen — one wins."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from tests.cast import _account, as_
from tests.concurrency import race
from tests.telemedicine.conftest import make_order
from yigongti.core.errors import Conflict
from yigongti.orgs.models import Profession, Role
from yigongti.telemedicine import consultations, pathology
from yigongti.telemedicine.models import CenterMember, Consultation, OrderEvent, Specimen

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so two connections cannot race "
                    "(run with DATABASE_URL=postgresql://…)")


def test_answer_and_cancel_at_once_one_wins(centers):
    c = centers.cast
    con = consultations.request_consultation({"resident": c.resident.pk, "question": "会诊"},
                                             actor=as_(c.township_doctor))
    consultations.schedule_consultation(con.pk, {"specialist": c.county_doctor.pk, "scheduled_at": (
        timezone.now() + dt.timedelta(hours=1)).isoformat()}, actor=as_(centers.reader))
    results = race([lambda: consultations.answer_consultation(con.pk, "意见", actor=as_(c.county_doctor)),
                    lambda: consultations.cancel_consultation(con.pk, "不需要了", actor=as_(c.township_doctor))])
    won = [x for x in results if isinstance(x, Consultation)]
    lost = [x for x in results if isinstance(x, Conflict)]
    assert len(won) == 1 and len(lost) == 1, results
    assert Consultation.objects.get(pk=con.pk).status == won[0].status


def test_two_specimens_at_once_are_numbered_in_turn_and_received_once(centers):
    c = centers.cast
    tech = _account("path_tech", Role.NURSE, c.county_hospital, profession=Profession.TECHNICIAN)
    CenterMember.objects.create(center=centers.pathology, user=tech)
    order = make_order(centers, "PATH-BIOPSY", by=c.township_doctor, resident=c.resident)
    doctor = as_(c.township_doctor)
    made = race([lambda: pathology.register_specimen(order.pk, {"specimen_type": "组织 A"}, actor=doctor),
                 lambda: pathology.register_specimen(order.pk, {"specimen_type": "组织 B"}, actor=doctor)])
    assert all(isinstance(x, Specimen) for x in made), made
    assert sorted(s.specimen_no[-2:] for s in made) == ["-1", "-2"]
    first = made[0]
    got = race([lambda: pathology.move_specimen(first.pk, "receive", actor=as_(tech)),
                lambda: pathology.move_specimen(first.pk, "receive", actor=as_(centers.reader))])
    assert sum(isinstance(x, Specimen) for x in got) == 1 and sum(isinstance(x, Conflict) for x in got) == 1, got
    assert OrderEvent.objects.filter(order=order, kind="specimen_received").count() == 1
