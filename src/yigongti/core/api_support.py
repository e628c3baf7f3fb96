"""The API's shared parts: authentication, problem+json errors, pagination."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.pagination import PaginationBase
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from .errors import DomainError

PROBLEM = "application/problem+json"


def problem(api: NinjaAPI, request, status: int, code: str, title: str, detail: str = "",
            errors: dict | list | None = None):
    body: dict[str, Any] = {"type": f"/api/v1/problems/{code}", "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    resp = api.create_response(request, body, status=status)
    resp["Content-Type"] = PROBLEM
    return resp


def _validation_errors(exc: ValidationError) -> list[dict]:
    out = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "payload", "filters")]
        out.append({"field": ".".join(loc), "message": err.get("msg", "")})
    return out


def install_problem_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        return problem(api, request, exc.status, exc.code, exc.message, errors=exc.errors or None)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        return problem(api, request, 422, "validation_error", "请求参数不正确", errors=_validation_errors(exc))

    @api.exception_handler(AuthenticationError)
    def auth_error(request, exc):
        return problem(api, request, 401, "not_authenticated", "需要登录或有效的访问令牌")

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        return problem(api, request, exc.status_code, f"http_{exc.status_code}", str(exc))

    @api.exception_handler(Exception)
    def unexpected(request, exc: Exception):
        if settings.DEBUG:
            raise exc
        import logging

        logging.getLogger("yigongti.api").exception("unhandled API error")
        return problem(api, request, 500, "internal_error", "服务器内部错误")


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        from yigongti.orgs.services import user_for_token

        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class HeaderToken(APIKeyHeader):
    param_name = "X-API-Token"

    def authenticate(self, request: HttpRequest, key: str | None):
        return BearerToken().authenticate(request, key or "")


class Session(SessionAuth):
    """Browser session; CSRF is enforced by ninja for unsafe methods."""

    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        return user if user and user.is_active else None


AUTH = [BearerToken(), HeaderToken(), Session()]


class PageOut(Schema):
    page: int
    page_size: int
    has_next: bool
    count: int | None = None


class NumberedPagination(PaginationBase):
    """``?page=N&page_size=M`` (at most YIGONGTI_MAX_PAGE_SIZE); output {items, page, page_size, has_next, count}.
    Counting is skipped where it would scan a county's table; ``count`` is then null."""

    class Input(Schema):
        page: int = Field(1, ge=1)
        page_size: int = Field(settings.YIGONGTI_PAGE_SIZE, ge=1, le=settings.YIGONGTI_MAX_PAGE_SIZE)

    class Output(Schema):
        items: list[Any]
        page: int
        page_size: int
        has_next: bool
        count: int | None = None

    items_attribute = "items"

    def paginate_queryset(self, queryset, pagination: Input, **params):
        from .paging import slice_page

        page = slice_page(queryset, pagination.page, pagination.page_size)
        try:
            count = queryset.count() if page.number > 1 or page.has_next else len(page.items)
        except Exception:
            count = None
        return {"items": page.items, "page": page.number, "page_size": page.size, "has_next": page.has_next,
                "count": count}
