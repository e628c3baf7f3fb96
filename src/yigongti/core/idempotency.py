"""``Idempotency-Key`` on API writes: the first answer is stored and replayed to retries.

A village clinic's network drops the answer, the client sends the request again with the same key,
and gets the first answer back instead of a second record. The key's row is created and locked in
the same transaction as the work, so a retry arriving while the first attempt still runs waits for
it, then replays. Keys belong to the caller (session user or API token), never shared between them."""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from django.http import HttpResponse

from .models import IdempotentRequest

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _principal(request) -> str | None:
    auth = request.META.get("HTTP_AUTHORIZATION") or request.META.get("HTTP_X_API_TOKEN")
    if auth:
        return "t:" + hashlib.sha256(auth.encode()).hexdigest()[:60]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u:{user.pk}"
    return None


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.META.get("HTTP_IDEMPOTENCY_KEY", "").strip()[:100]
        if not key or request.method not in WRITE_METHODS or not request.path.startswith("/api/"):
            return self.get_response(request)
        principal = _principal(request)
        if principal is None:
            return self.get_response(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    row, _ = IdempotentRequest.objects.select_for_update().get_or_create(
                        principal=principal, key=key, defaults={"path": request.path})
            except IntegrityError:  # a concurrent first attempt inserted it; wait for its lock
                row = IdempotentRequest.objects.select_for_update().get(principal=principal, key=key)
            if row.status is not None:
                if row.path != request.path:
                    return _problem(422, "idempotency_key_reused", "这个 Idempotency-Key 已用于另一个请求")
                resp = HttpResponse(bytes(row.body), status=row.status, content_type=row.content_type)
                resp["Idempotent-Replay"] = "true"
                return resp
            response = self.get_response(request)
            if response.status_code < 500:  # a server error may succeed when retried
                row.status, row.body = response.status_code, response.content
                row.content_type = response.get("Content-Type", "")[:100]
                row.save(update_fields=["status", "body", "content_type"])
        return response


def _problem(status: int, code: str, title: str) -> HttpResponse:
    import json

    body = {"type": f"/api/v1/problems/{code}", "title": title, "status": status, "code": code}
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type="application/problem+json")
