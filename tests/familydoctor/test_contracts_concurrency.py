"""Two signings of the same resident at the same moment (two connections): one contract, the other a clear
Conflict — the resident row lock, with the one-active-contract constraint as the backstop. PostgreSQL only."""

import pytest
from django.db import connection

from tests.concurrency import race
from yigongti.core.errors import Conflict
from yigongti.familydoctor.models import Contract
from yigongti.familydoctor.services import contracts as svc

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><path d="M1 1 L5 5"/></svg>'
TABLET = {"consent_kind": "tablet", "consent_signature": SVG}


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so two connections cannot race "
                    "(run with DATABASE_URL=postgresql://…)")


def test_two_signs_of_the_same_resident_at_once_give_one_contract(care):
    vd, gp = care.cast.village_doctor, care.cast.township_doctor
    results = race([lambda: svc.sign(vd, care.grandfather.pk, TABLET),
                    lambda: svc.sign(gp, care.grandfather.pk, TABLET)])
    kinds = sorted(type(r).__name__ for r in results)
    assert kinds == ["Conflict", "Contract"], results
    assert next(r for r in results if isinstance(r, Conflict)).code == "already_signed"
    assert Contract.objects.filter(resident=care.grandfather).count() == 1


def test_a_household_and_a_single_signing_at_once_do_not_both_sign(care):
    vd, gp = care.cast.village_doctor, care.cast.township_doctor
    members = [{"resident": care.grandfather.pk}, {"resident": care.grandmother.pk}]
    results = race([lambda: svc.sign_household(vd, care.household.pk, members, TABLET),
                    lambda: svc.sign(gp, care.grandmother.pk, TABLET)])
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert Contract.objects.filter(resident=care.grandmother).count() == 1


def test_the_same_idempotency_key_twice_at_once_signs_once(care):
    vd = care.cast.village_doctor
    results = race([lambda: svc.sign(vd, care.grandfather.pk, TABLET, idempotency_key="same"),
                    lambda: svc.sign(vd, care.grandfather.pk, TABLET, idempotency_key="same")])
    assert all(isinstance(r, Contract) for r in results), results
    assert results[0].pk == results[1].pk and Contract.objects.count() == 1
