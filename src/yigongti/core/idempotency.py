"""``Idempotency-Key`` on API writes: the first answer is stored and replayed to retries.

A village clinic's network drops the answer, the client sends the request again with the same key,
and gets the first answer back instead of a second record. The key's row is created and locked in
the same transaction as the work, so a retry arriving while the first attempt still runs waits for
it, then replays. Keys belong to the caller (session user or API token), never shared between them.
The same key sent with another request (another path, query or body) is refused with 422, never answered
with the first request's reply."""

from __future__ import annotations

import contextlib
import hashlib
import json

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


def request_hash(request) -> str:
    """sha256 of what the request asks: method, path, query and body (JSON compared by content, uploads by
    their fields and files' bytes, so a retry that re-encodes the same request matches)."""
    h = hashlib.sha256()
    h.update(f"{request.method} {request.path}?{sorted(request.GET.lists())}\n".encode())
    ctype = request.META.get("CONTENT_TYPE", "")
    if ctype.startswith("multipart/form-data"):
        h.update(json.dumps(sorted(request.POST.lists()), ensure_ascii=False).encode())
        for name, files in sorted(request.FILES.lists()):
            for f in files:
                h.update(f"\n{name}:{f.name}:{f.size}\n".encode())
                for chunk in f.chunks():
                    h.update(chunk)
                f.seek(0)
        return h.hexdigest()
    body = request.body
    if ctype.startswith("application/json"):
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            body = json.dumps(json.loads(body or b"null"), sort_keys=True, ensure_ascii=False).encode()
    h.update(body)
    return h.hexdigest()


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
        fingerprint = request_hash(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    row, _ = IdempotentRequest.objects.select_for_update().get_or_create(
                        principal=principal, key=key, defaults={"path": request.path[:300],
                                                                "request_hash": fingerprint})
            except IntegrityError:  # a concurrent first attempt inserted it; wait for its lock
                row = IdempotentRequest.objects.select_for_update().get(principal=principal, key=key)
            if row.status is not None:
                if row.path != request.path[:300] or (row.request_hash and row.request_hash != fingerprint):
                    return _problem(422, "idempotency_key_reused",
                                    "这个 Idempotency-Key 已用于另一个请求（地址或内容不同），请为新请求生成新的键")
                resp = HttpResponse(bytes(row.body), status=row.status, content_type=row.content_type)
                resp["Idempotent-Replay"] = "true"
                return resp
            response = self.get_response(request)
            if response.status_code < 500:  # a server error may succeed when retried
                row.status, row.body = response.status_code, response.content
                row.content_type = response.get("Content-Type", "")[:100]
                row.path, row.request_hash = request.path[:300], fingerprint
                row.save(update_fields=["status", "body", "content_type", "path", "request_hash"])
        return response


def _problem(status: int, code: str, title: str) -> HttpResponse:
    body = {"type": f"/api/v1/problems/{code}", "title": title, "status": status, "code": code}
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type="application/problem+json")
