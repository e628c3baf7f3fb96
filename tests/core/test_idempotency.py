import datetime as dt

from tests.cast import SYSTEM
from yigongti.core.idcard import make_id_number
from yigongti.orgs.services import issue_token
from yigongti.residents.models import Resident


def _payload(cast):
    return {"name": "赵春花", "id_number": make_id_number("431127", dt.date(1972, 8, 8), 40, "F"),
            "village": cast.village.code}


def test_a_retried_registration_returns_the_first_answer_and_creates_one_record(cast, client, login):
    login(cast.village_doctor)
    first = client.post("/api/v1/residents", _payload(cast), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="reg-0001")
    again = client.post("/api/v1/residents", _payload(cast), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="reg-0001")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replay"] == "true"
    assert Resident.objects.filter(name="赵春花").count() == 1


def test_without_a_key_a_retry_is_judged_on_its_own(cast, client, login):
    login(cast.village_doctor)
    client.post("/api/v1/residents", _payload(cast), content_type="application/json")
    again = client.post("/api/v1/residents", _payload(cast), content_type="application/json")
    assert again.status_code == 409 and "Idempotent-Replay" not in again  # refused as a duplicate, not replayed
    assert Resident.objects.filter(name="赵春花").count() == 1


def test_keys_belong_to_their_caller_and_their_request(cast, client, login):
    _tok, plain = issue_token(cast.village_doctor, "app", actor=SYSTEM)
    r = client.post("/api/v1/residents", _payload(cast), content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {plain}", HTTP_IDEMPOTENCY_KEY="k1")
    assert r.status_code == 201
    other = client.patch(f"/api/v1/residents/{r.json()['id']}", {"phone": "13900000000"},
                         content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plain}",
                         HTTP_IDEMPOTENCY_KEY="k1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
