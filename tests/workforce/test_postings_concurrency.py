"""Two postings of the same expert on the same day at two townships, at the same moment (two connections): one
posting, the other a clear Conflict — the staff row lock serialises them. PostgreSQL only."""

import pytest
from django.db import connection

from tests.cast import as_
from tests.concurrency import race
from tests.workforce.conftest import posting_data
from yigongti.core.errors import Conflict
from yigongti.workforce.models import Posting, PostingDay
from yigongti.workforce.services import postings

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so two connections cannot race "
                    "(run with DATABASE_URL=postgresql://…)")


def test_two_postings_of_one_expert_on_one_day_at_two_places_give_one(cast, wf):
    a = posting_data(cast, wf)
    b = posting_data(cast, wf, host=cast.other_center.pk)
    results = race([lambda: postings.create_posting(as_(cast.manager), a),
                    lambda: postings.create_posting(as_(cast.manager), b)])
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Posting"], results
    assert next(r for r in results if isinstance(r, Conflict)).code == "double_booked"
    assert Posting.objects.count() == 1
    assert PostingDay.objects.values("host").distinct().count() == 1
