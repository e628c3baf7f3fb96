"""A web request's query is bounded by PostgreSQL's statement_timeout (the worker and the command line are
not), and a query cut off by it is answered 503 with a Chinese message, not 500."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from django.db import connection

pytestmark = pytest.mark.postgres_only


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("statement_timeout is PostgreSQL's (run with DATABASE_URL=postgresql://…)")


SHOW = ("import os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'yigongti.settings'); {setup}; "
        "from django.db import connection; c = connection.cursor(); c.execute('SHOW statement_timeout'); "
        "print(c.fetchone()[0])")


def _timeout_in_subprocess(setup: str, **env) -> str:
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + connection.settings_dict["NAME"]).geturl()
    out = subprocess.run([sys.executable, "-c", SHOW.format(setup=setup)], capture_output=True, text=True,
                         env={**os.environ, "DATABASE_URL": url, **env}, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.django_db
def test_the_web_process_bounds_every_query_and_the_command_line_does_not():
    os.environ.pop("YIGONGTI_PROCESS", None)
    assert _timeout_in_subprocess("import yigongti.wsgi") == "15s"
    assert _timeout_in_subprocess("import yigongti.wsgi", YIGONGTI_STATEMENT_TIMEOUT_MS="2500") == "2500ms"
    assert _timeout_in_subprocess("import django; django.setup()") == "0"


def _slow(*args, **kwargs):
    with connection.cursor() as c:
        c.execute("SET statement_timeout = 50")
        try:
            c.execute("SELECT pg_sleep(2)")
        finally:
            c.execute("SET statement_timeout = 0")


@pytest.mark.django_db(transaction=True)
def test_a_query_cut_off_by_the_timeout_is_a_503_problem(cast, client, login, monkeypatch):
    from yigongti.orgs import api as orgs_api

    monkeypatch.setattr(orgs_api.queries, "facilities_visible_to", _slow)
    login(cast.manager)
    resp = client.get("/api/v1/facilities")
    assert resp.status_code == 503
    assert resp.json()["code"] == "query_timeout" and "超时" in resp.json()["title"]


@pytest.mark.django_db(transaction=True)
def test_a_page_whose_query_is_cut_off_says_so(cast, client, login, monkeypatch):
    from yigongti.orgs import views as orgs_views

    monkeypatch.setattr(orgs_views.queries, "staff_visible_to", _slow)
    login(cast.manager)
    resp = client.get("/orgs/staff/")
    assert resp.status_code == 503 and "查询超时" in resp.content.decode()
