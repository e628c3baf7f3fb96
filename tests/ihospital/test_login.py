"""Resident login by phone + name + one-time code: codes hashed, expiring, single use, rate-limited, audited, and
the same answer whether or not a phone is registered."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat

import pytest
from django.utils import timezone

from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.core.models import AuditEvent
from yigongti.core.ratelimit import RateLimited
from yigongti.ihospital import services
from yigongti.ihospital.models import LoginCode
from yigongti.ihospital.sms import FileSmsSender, MemorySmsSender, last_code_in_outbox

PHONE = "13874601234"  # cast.resident 李建国
ACTOR = Actor(None, None, "anonymous", "resident", None, "10.0.0.9", "test")


def _send(django_capture_on_commit_callbacks, phone=PHONE, actor=ACTOR, now=None):
    with django_capture_on_commit_callbacks(execute=True):
        services.request_login_code(phone, actor=actor, now=now)
    return MemorySmsSender.sent[-1][1] if MemorySmsSender.sent else None


def _code(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())[:6]


def test_a_registered_resident_logs_in_with_the_code_once(cast, django_capture_on_commit_callbacks):
    text = _send(django_capture_on_commit_callbacks)
    assert MemorySmsSender.sent[-1][0] == PHONE
    assert "李建国" not in text and "I10" not in text
    code = _code(text)
    row = LoginCode.objects.get(phone=PHONE)
    assert code not in row.digest and len(row.digest) == 64  # hashed
    resident = services.verify_login_code("+86 138 7460 1234", "李建国", code, actor=ACTOR)
    assert resident.pk == cast.resident.pk
    assert AuditEvent.objects.filter(action="login", object_type="ihospital_resident",
                                     object_id=str(resident.pk)).exists()
    with pytest.raises(InvalidInput) as e:  # single use
        services.verify_login_code(PHONE, "李建国", code, actor=ACTOR)
    assert e.value.code == "bad_code"


def test_an_unregistered_phone_gets_the_same_answer_and_no_text(cast, django_capture_on_commit_callbacks):
    services.request_login_code("13900001111", actor=ACTOR)
    assert MemorySmsSender.sent == []
    with pytest.raises(InvalidInput):
        services.verify_login_code("13900001111", "张三", "000000", actor=ACTOR)


def test_the_name_must_be_the_residents_own(cast, django_capture_on_commit_callbacks):
    code = _code(_send(django_capture_on_commit_callbacks))
    with pytest.raises(InvalidInput) as e:
        services.verify_login_code(PHONE, "王秀英", code, actor=ACTOR)
    assert e.value.code == "name_mismatch"
    assert AuditEvent.objects.filter(action="login_failed", detail__reason="name_mismatch").exists()


def test_a_code_expires_after_five_minutes(cast, django_capture_on_commit_callbacks):
    old = timezone.now() - dt.timedelta(minutes=6)
    code = _code(_send(django_capture_on_commit_callbacks, now=old))
    with pytest.raises(InvalidInput):
        services.verify_login_code(PHONE, "李建国", code, actor=ACTOR)


def test_five_wrong_codes_spend_the_code(cast, django_capture_on_commit_callbacks):
    code = _code(_send(django_capture_on_commit_callbacks))
    wrong = "000000" if code != "000000" else "111111"
    for _i in range(services.MAX_ATTEMPTS):
        with pytest.raises(InvalidInput):
            services.verify_login_code(PHONE, "李建国", wrong, actor=ACTOR)
    with pytest.raises(InvalidInput):  # the right code no longer opens it
        services.verify_login_code(PHONE, "李建国", code, actor=ACTOR)


def test_codes_are_rate_limited_per_phone_and_per_address(cast, django_capture_on_commit_callbacks):
    _send(django_capture_on_commit_callbacks)
    with pytest.raises(RateLimited):  # one a minute
        services.request_login_code(PHONE, actor=ACTOR)
    base = timezone.now()
    for i in range(1, 5):
        services.request_login_code(PHONE, actor=ACTOR, now=base + dt.timedelta(minutes=2 * i))
    with pytest.raises(RateLimited):  # five an hour
        services.request_login_code(PHONE, actor=ACTOR, now=base + dt.timedelta(minutes=12))
    assert AuditEvent.objects.filter(action="denied", object_id="ihospital_code_phone").exists()
    other = Actor(None, None, "anonymous", "resident", None, "10.0.0.77", "test")
    for i in range(services.IP_LIMIT[0]):
        services.request_login_code(f"1390000{i:04d}", actor=other)
    with pytest.raises(RateLimited):
        services.request_login_code("13911112222", actor=other)


def test_the_file_sender_is_private_and_keeps_no_phone(settings, tmp_path):
    settings.YIGONGTI_SMS_OUTBOX = str(tmp_path / "outbox.jsonl")
    FileSmsSender().send(PHONE, "验证码 123456")
    mode = stat.S_IMODE(os.stat(settings.YIGONGTI_SMS_OUTBOX).st_mode)
    assert mode == 0o600
    with open(settings.YIGONGTI_SMS_OUTBOX, encoding="utf-8") as fh:
        row = json.loads(fh.read())
    assert row["phone"] == "138****1234"
    assert last_code_in_outbox(PHONE) == "123456"


def test_the_login_page_sends_and_checks_the_code(cast, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/ihospital/m/login/", {"phone": PHONE, "name": "李建国", "action": "send"})
    assert r.status_code == 200
    code = _code(MemorySmsSender.sent[-1][1])
    r = client.post("/ihospital/m/login/", {"phone": PHONE, "name": "李建国", "code": code, "action": "verify"})
    assert r.status_code == 302 and r["Location"] == "/ihospital/m/"
    r = client.get("/ihospital/m/")
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    assert "原发性高血压" not in r.content.decode()  # the cast has no visit yet: no eligible diagnosis
    assert "线上仅提供复诊服务" in r.content.decode()
    r = client.post("/ihospital/m/login/", {"phone": "12", "action": "send"})
    assert r.status_code == 422 and "11 位手机号码" in r.content.decode()


def test_the_resident_pages_need_the_resident_session(cast, client, login):
    assert client.get("/ihospital/m/").status_code == 302
    login(cast.village_doctor)  # a staff login is not a resident session
    r = client.get("/ihospital/m/")
    assert r.status_code == 302 and r["Location"].startswith("/ihospital/m/login/")
