"""Every performance page and API GET, as every role, in Chinese and English: never a server error, only our own
answers (the whole project's walk is tests/test_every_page.py; this one is the app's quick version)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.cast import PASSWORD, SYSTEM
from tests.performance.world import LAST_MONTH, performance_world
from tests.twofactor import pass_two_factor
from yigongti.orgs.models import Role
from yigongti.orgs.services import create_account
from yigongti.performance.views import urlpatterns

pytestmark = pytest.mark.django_db


def _urls(params) -> list[str]:
    out = []
    for p in urlpatterns:
        kwargs = {k: params.get(("performance", p.name, k), params.get(("performance", None, k)))
                  for k in p.pattern.converters}
        out.append(reverse(f"performance:{p.name}", kwargs=kwargs))
    run = params["api", "/api/v1/performance/scores/{pk}/facilities/{facility_id}", "pk"]
    fid = params["api", "/api/v1/performance/scores/{pk}/facilities/{facility_id}", "facility_id"]
    return [*out, "/performance/?year=abc", "/performance/scores/?month=2026-13",
            "/api/v1/performance/payroll/summary", f"/api/v1/performance/scores?month={LAST_MONTH:%Y-%m}",
            "/api/v1/performance/scores?month=bad", f"/api/v1/performance/scores/{run}/facilities/{fid}"]


def test_every_performance_page_as_every_role(cast):
    params = performance_world(cast)
    users = {"city": cast.city, "bureau": cast.bureau, "manager": cast.manager, "doctor": cast.township_doctor,
             "village_doctor": cast.village_doctor, "auditor": cast.auditor, "outsider": cast.outsider}
    for role in (Role.FACILITY_ADMIN, Role.NURSE, Role.PHARMACIST, Role.PUBLIC_HEALTH):
        users[role] = create_account(username=f"walk_{role}", role=role, password=PASSWORD, actor=SYSTEM,
                                     facility=cast.township_center)[0]
    users["insurance"] = create_account(username="walk_ins", role=Role.INSURANCE_OFFICER, password=PASSWORD,
                                        actor=SYSTEM, region=cast.county)[0]
    failures = []
    urls = _urls(params)
    for name, user in [*users.items(), ("anonymous", None)]:
        for lang in ("zh-hans", "en"):
            c = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=lang)
            if user is not None:
                c.force_login(user)
                pass_two_factor(c, user)
            for url in urls:
                r = c.get(url)
                ok = {200, 302, 400, 403, 404, 405, 422} | ({401} if user is None else set())
                if r.status_code not in ok:
                    failures.append((name, lang, url, r.status_code))
                elif (url.startswith("/api/") and r.status_code >= 400 and r.status_code != 401
                      and not r["Content-Type"].startswith("application/problem+json")):
                    failures.append((name, lang, url, "not problem+json"))
    assert failures == []
