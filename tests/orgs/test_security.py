from django.test import Client

from tests.cast import PASSWORD, SYSTEM
from yigongti.core.models import AuditEvent
from yigongti.orgs.services import issue_token, revoke_token


def test_passwords_are_hashed_with_argon2(cast):
    assert cast.village_doctor.password.startswith("argon2")


def test_repeated_failed_logins_lock_the_account(cast):
    c = Client()
    for _ in range(5):
        c.post("/login/", {"username": "village_doctor", "password": "wrong-password"})
    r = c.post("/login/", {"username": "village_doctor", "password": PASSWORD})
    assert r.status_code in (403, 429)
    assert "锁定" in r.content.decode()
    assert AuditEvent.objects.filter(action="login_failed").count() >= 5


def test_a_successful_login_is_audited(cast):
    c = Client()
    r = c.post("/login/", {"username": "bureau", "password": PASSWORD})
    assert r.status_code == 302
    assert AuditEvent.objects.filter(action="login", actor="bureau").exists()


def test_pages_carry_security_headers(cast, client):
    r = client.get("/login/")
    assert "default-src 'self'" in r["Content-Security-Policy"]
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["X-Frame-Options"] == "DENY"


def test_logins_need_a_csrf_token():
    c = Client(enforce_csrf_checks=True)
    assert c.post("/login/", {"username": "x", "password": "y"}).status_code == 403


def test_personal_access_tokens_authenticate_the_api_until_revoked(cast):
    tok, plain = issue_token(cast.township_doctor, "HIS", actor=SYSTEM)
    c = Client()
    r = c.get(f"/api/v1/residents/{cast.resident.pk}", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert r.status_code == 200 and r.json()["name"] == "李建国"
    assert c.get(f"/api/v1/residents/{cast.neighbour.pk}", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 404
    revoke_token(tok, actor=SYSTEM)
    assert c.get("/api/v1/residents", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 401
    assert c.get("/api/v1/residents", HTTP_AUTHORIZATION="Bearer ygt_forged").status_code == 401


def test_the_api_docs_are_served(cast, client):
    assert client.get("/api/v1/docs").status_code == 200
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/residents" in schema["paths"]
