"""The same regular medicine added twice at the same moment (a double tap on a slow village connection, two
doctors): exactly one row, the other told it is in use (PostgreSQL only: real concurrent connections)."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.cast import as_
from tests.concurrency import race
from yigongti.chronic.models import RegularMedicine
from yigongti.chronic.services import medicines as services
from yigongti.core.errors import Conflict

from .test_ledger import enrol

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer (run with DATABASE_URL=postgresql://…)")


def test_two_adds_of_the_same_drug_at_once_make_one_row(care):
    e = enrol(care, care.grandfather)
    results = race([lambda: services.add_medicine(as_(care.cast.village_doctor), e, {"name": "氨氯地平片"}),
                    lambda: services.add_medicine(as_(care.cast.township_doctor), e, {"name": "氨氯地平片"})])
    made = [r for r in results if isinstance(r, RegularMedicine)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(made) == 1 and len(refused) == 1, results
    assert refused[0].code == "medicine_in_use"
    assert RegularMedicine.objects.filter(enrolment=e, until__isnull=True).count() == 1
