"""Two referral-center staff accepting the same referral at the same moment: exactly one succeeds, the other
is told who took it. Real concurrent connections, so PostgreSQL only."""

import time

import pytest
from django.db import connection

from tests.cast import as_
from tests.concurrency import race as _race
from tests.referrals.conftest import up
from yigongti.core.errors import Conflict
from yigongti.referrals import services, workflow
from yigongti.referrals.models import Referral, ReferralEvent

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so two connections cannot race "
                    "(run with DATABASE_URL=postgresql://…)")


def test_two_center_staff_accepting_at_once_exactly_one_wins_and_the_other_is_told_who(ref, monkeypatch):
    r = up(ref)
    slow = workflow.check_move

    def check_slowly(*args, **kwargs):  # hold the row lock long enough for the other to queue behind it
        time.sleep(0.3)
        return slow(*args, **kwargs)

    monkeypatch.setattr(services.workflow, "check_move", check_slowly)
    results = _race([lambda: services.accept_referral(r.pk, actor=as_(ref.desk)),
                     lambda: services.accept_referral(r.pk, actor=as_(ref.desk2))])
    won = [x for x in results if isinstance(x, Referral)]
    lost = [x for x in results if isinstance(x, Conflict)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].code == "already_answered" and won[0].answered_by.username in lost[0].message
    assert ReferralEvent.objects.filter(referral_id=r.pk, action="accept").count() == 1
    assert Referral.objects.get(pk=r.pk).answered_by_id == won[0].answered_by_id


def test_accept_and_decline_at_once_leave_one_answer(ref):
    r = up(ref)
    results = _race([lambda: services.accept_referral(r.pk, actor=as_(ref.desk)),
                     lambda: services.decline_referral(r.pk, reason="无床位", actor=as_(ref.desk2))])
    assert sum(isinstance(x, Referral) for x in results) == 1
    assert sum(isinstance(x, Conflict) for x in results) == 1
    assert ReferralEvent.objects.filter(referral_id=r.pk, action__in=["accept", "decline"]).count() == 1


def test_a_retried_submission_racing_the_first_creates_one_referral(ref):
    results = _race([lambda: up(ref, key="flaky-net-1"), lambda: up(ref, key="flaky-net-1")])
    assert all(isinstance(x, Referral) for x in results), results
    assert results[0].pk == results[1].pk and Referral.objects.filter(idempotency_key="flaky-net-1").count() == 1
