"""An Idempotency-Key names one request: a retry of it is replayed, another request under the same key is
refused (422) instead of silently answered with the first request's reply."""

from __future__ import annotations

import datetime as dt
import json

from yigongti.core.idcard import make_id_number
from yigongti.core.models import IdempotentRequest
from yigongti.residents.models import Resident


def _payload(cast, name="赵春花", seq=40):
    return {"name": name, "id_number": make_id_number("431127", dt.date(1972, 8, 8), seq, "F"),
            "village": cast.village.code}


def test_the_same_key_with_another_body_is_refused_and_creates_nothing(cast, client, login):
    login(cast.village_doctor)
    first = client.post("/api/v1/residents", _payload(cast), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="reg-42")
    assert first.status_code == 201
    other = client.post("/api/v1/residents", _payload(cast, "钱夏雨", 41), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="reg-42")
    assert other.status_code == 422
    assert other["Content-Type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key_reused" and "内容不同" in other.json()["title"]
    assert not Resident.objects.filter(name="钱夏雨").exists()
    assert "Idempotent-Replay" not in other


def test_a_retry_that_reencodes_the_same_json_is_still_a_replay(cast, client, login):
    login(cast.village_doctor)
    body = _payload(cast)
    first = client.post("/api/v1/residents", json.dumps(body), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="reg-43")
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2, ensure_ascii=False)
    again = client.post("/api/v1/residents", reordered, content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="reg-43")
    assert again.status_code == 201 and again["Idempotent-Replay"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Resident.objects.filter(name="赵春花").count() == 1


def test_the_same_key_with_another_query_string_is_refused(cast, client, login):
    login(cast.village_doctor)
    client.post("/api/v1/residents?x=1", _payload(cast), content_type="application/json",
                HTTP_IDEMPOTENCY_KEY="reg-44")
    other = client.post("/api/v1/residents?x=2", _payload(cast), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="reg-44")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


def test_the_stored_key_keeps_a_hash_of_the_request_not_its_body(cast, client, login):
    login(cast.village_doctor)
    client.post("/api/v1/residents", _payload(cast), content_type="application/json", HTTP_IDEMPOTENCY_KEY="reg-45")
    row = IdempotentRequest.objects.get(key="reg-45")
    assert len(row.request_hash) == 64 and "赵春花" not in row.request_hash
