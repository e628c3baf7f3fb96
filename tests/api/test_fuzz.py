"""Schemathesis over /api/v1/openapi.json, in-process through the WSGI app: every operation, as a doctor and
as a community manager, with a fixed seed and a bounded number of examples. No answer may be a server error
and every status code must be documented for its operation.

Bounded to run once per CI run, in under three minutes on a 2-core machine: CI runs the suite on SQLite and
then on PostgreSQL, and the fuzz runs in the PostgreSQL pass only (the production database; ``YIGONGTI_FUZZ=1``
runs it on SQLite too). ``YIGONGTI_FUZZ_EXAMPLES`` (default 8 per operation and mode) and
``YIGONGTI_FUZZ_SEED`` make a longer or another local run."""

from __future__ import annotations

import os
import time

import pytest
from django.db import connection

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, seed  # noqa: E402
from hypothesis import settings as hsettings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import status_code_conformance  # noqa: E402

from tests.cast import SYSTEM  # noqa: E402

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

EXAMPLES = int(os.environ.get("YIGONGTI_FUZZ_EXAMPLES", "8"))
SEED = int(os.environ.get("YIGONGTI_FUZZ_SEED", "20261201"))
# Operations whose every call changes a shared row's state in a way that stops later calls from exercising
# anything (none today); kept as a named list so that excluding one is a visible decision.
SKIP: set[str] = set()


@pytest.fixture(autouse=True)
def _where():
    if connection.vendor != "postgresql" and os.environ.get("YIGONGTI_FUZZ") != "1":
        pytest.skip("the fuzz runs once per CI run, on PostgreSQL (YIGONGTI_FUZZ=1 runs it here)")


def _token(user) -> str:
    from yigongti.orgs.services import issue_token

    return issue_token(user, "fuzz", actor=SYSTEM)[1]


def _fuzz_operation(op, mode, token: str, failures: list, stats: dict, path_parameters=None) -> None:
    checks = [not_a_server_error, status_code_conformance]

    @seed(SEED)
    @hsettings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
               phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        response = case.call()
        stats["requests"] += 1
        stats["statuses"][response.status_code] = stats["statuses"].get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=checks)
        except BaseExceptionGroup as exc:  # collect instead of raising: shrinking every failure takes minutes
            kind = "server_error" if response.status_code >= 500 else "undocumented_status"
            failures.append((kind, op.label, response.status_code,
                             str(exc).splitlines()[0][:200], case.as_curl_command()[:400]))

    run()


def _known(op, known: dict) -> dict | None:
    """Path parameters naming rows that exist, so that the operation's body is exercised past its 404."""
    names = {p.name for p in op.path_parameters}
    if not names:
        return None
    prefix = next((k for k in sorted(known, key=len, reverse=True) if op.path.startswith(k)), None)
    values = dict(known.get(prefix, {})) if prefix else {}
    return {k: v for k, v in values.items() if k in names} or None


def _fuzz(schema, token: str, failures: list, stats: dict, known: dict) -> None:
    for result in schema.get_all_operations():
        op = result.ok()
        if op.label in SKIP:
            continue
        stats["operations"].add(op.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(op, mode, token, failures, stats)
        if (fixed := _known(op, known)) is not None:
            _fuzz_operation(op, GenerationMode.POSITIVE, token, failures, stats, path_parameters=fixed)


def _world(cast, client) -> dict:
    """A referral center, one referral and one encounter made through the API, and the ids the known pass uses."""
    from yigongti.orgs.models import Role
    from yigongti.orgs.services import create_account
    from yigongti.referrals.services import install_starter_rules, setup_center

    desk = create_account(username="fuzz_desk", role=Role.NURSE, password="Fuzz-desk-2026-x",
                          facility=cast.county_hospital, actor=SYSTEM)[0]
    setup_center(cast.community, members=[desk], supervisors=[], actor=SYSTEM)
    install_starter_rules(actor=SYSTEM)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {_token(cast.township_doctor)}"}
    referral = client.post("/api/v1/referrals", {
        "resident": cast.resident.pk, "direction": "up", "urgency": "green", "to_facility": cast.county_hospital.pk,
        "icd10": "I63.9", "diagnosis": "脑梗死", "reason": "突发右侧肢体无力2小时"}, content_type="application/json",
        **auth)
    assert referral.status_code == 201, referral.content
    encounter = client.post("/api/v1/encounters", {"resident": cast.resident.pk, "type": "outpatient",
                                                   "admit_date": "2026-10-08", "main_icd10": "I10"},
                            content_type="application/json", **auth)
    assert encounter.status_code == 201, encounter.content
    rid = referral.json()["id"]
    return {"/api/v1/facilities/": {"pk": cast.township_center.pk},
            "/api/v1/residents/": {"pk": cast.resident.pk},
            "/api/v1/encounters/imports/": {"kind": "settlements"},
            "/api/v1/encounters/": {"pk": encounter.json()["id"]},
            "/api/v1/indicators/ranking/": {"code": "N07"},
            "/api/v1/referrals/": {"pk": rid, "fid": 1}}


def test_api_fuzz_has_no_server_errors_and_no_undocumented_statuses(cast, client):
    from django.core.wsgi import get_wsgi_application

    known = _world(cast, client)
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list = []
    stats: dict = {"operations": set(), "requests": 0, "statuses": {}}
    started = time.monotonic()
    for user in (cast.township_doctor, cast.manager):
        _fuzz(schema, _token(user), failures, stats, known)
    seconds = time.monotonic() - started
    server = [f for f in failures if f[0] == "server_error"]
    undocumented = [f for f in failures if f[0] == "undocumented_status"]
    print(f"\nfuzz: {len(stats['operations'])} operations, {stats['requests']} requests in {seconds:.0f} s, "
          f"{len(server)} server errors, {len(undocumented)} undocumented statuses; "
          f"statuses {dict(sorted(stats['statuses'].items()))}")
    for f in failures[:40]:
        print(" ", *f)
    assert not failures, f"{len(server)} server errors, {len(undocumented)} undocumented statuses (see output)"
