"""An active session's idle expiry is renewed, but its row is written at most once a minute."""

import time
from unittest import mock

import pytest
from django.contrib.sessions.models import Session

pytestmark = pytest.mark.django_db


def _expiry(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_requests_within_a_minute_do_not_rewrite_the_session(cast, login):
    c = login(cast.county_doctor)
    c.get("/")
    first = _expiry(c)
    c.get("/")
    c.get("/")
    assert _expiry(c) == first


def test_a_request_after_a_minute_renews_the_idle_expiry(cast, login):
    c = login(cast.county_doctor)
    c.get("/")
    first = _expiry(c)
    later = time.time() + 61
    with mock.patch("time.time", return_value=later):
        c.get("/")
    assert _expiry(c) > first
