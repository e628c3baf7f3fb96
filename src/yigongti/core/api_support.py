"""The API's shared parts: authentication, problem+json errors, pagination."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.pagination import PaginationBase
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from .errors import DomainError
from .paging import page_dict, page_field, size_field, slice_page

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


# Every operation may answer these, whatever its own responses say (documented once, for all of them).
PROBLEM_RESPONSES = {
    400: "请求格式不正确（例如请求体不是 JSON）",
    401: "需要登录或有效的访问令牌",
    403: "没有权限",
    404: "记录不存在或无权访问",
    409: "与当前状态冲突（例如已被他人处理）",
    413: "请求内容过大",
    422: "输入不正确：`errors` 逐项列出字段和中文说明",
    429: "请求过于频繁，请稍后再试",
    503: "查询超时，请缩小范围后重试",
}
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "code": {"type": "string"}, "detail": {"type": "string"},
        "errors": {"oneOf": [
            {"type": "array", "items": {"type": "object", "properties": {
                "field": {"type": "string"}, "message": {"type": "string"}}}},
            {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}]},
    },
}


class ProblemAPI(NinjaAPI):
    """The NinjaAPI whose OpenAPI document lists the problem+json answers of every operation."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        ref = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for methods in schema.get("paths", {}).values():
            for op in methods.values():
                if isinstance(op, dict) and "responses" in op:
                    for status, text in PROBLEM_RESPONSES.items():
                        op["responses"].setdefault(status, {"description": text, "content": ref})
        return schema


def _validation_errors(exc: ValidationError) -> list[dict]:
    from .validation import chinese_message

    out = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "payload", "filters")]
        out.append({"field": ".".join(loc), "message": chinese_message(err)})
    return out


def install_problem_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        return problem(api, request, exc.status, exc.code, exc.message, errors=exc.errors or None)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        return problem(api, request, 422, "validation_error", _("请求参数不正确"), errors=_validation_errors(exc))

    @api.exception_handler(AuthenticationError)
    def auth_error(request, exc):
        return problem(api, request, 401, "not_authenticated", _("需要登录或有效的访问令牌"))

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        # ninja's own texts ("Cannot parse request body" …) are English; ours are Chinese
        title = str(exc)
        if not any("\u4e00" <= ch <= "\u9fff" for ch in title):
            title = {400: _("请求格式不正确"), 404: _("记录不存在或无权访问"), 405: _("不支持的请求方法"),
                     429: _("请求过于频繁，请稍后再试")}.get(exc.status_code, _("请求无法处理"))
        return problem(api, request, exc.status_code, f"http_{exc.status_code}", title)

    @api.exception_handler(RequestDataTooBig)
    def too_big(request, exc):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return problem(api, request, 413, "request_too_large",
                       _("请求内容过大（上限 %(mb)s MB）") % {"mb": limit // (1024 * 1024)})

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return problem(api, request, 404, "not_found", _("记录不存在或无权访问"))

    @api.exception_handler(DjangoPermissionDenied)
    def permission_denied(request, exc):
        return problem(api, request, 403, "forbidden", _("没有权限执行此操作"))

    @api.exception_handler(Exception)
    def unexpected(request, exc: Exception):
        if isinstance(exc, OperationalError) and "statement timeout" in str(exc):
            return problem(api, request, 503, "query_timeout", _("查询超时，请缩小范围后重试"))
        if settings.DEBUG:
            raise exc
        import logging

        logging.getLogger("yigongti.api").exception("unhandled API error")
        return problem(api, request, 500, "internal_error", _("服务器内部错误"))


# Who a bearer token belongs to: filled at start-up by the app that keeps accounts (orgs), so core imports no app.
TOKEN_AUTHENTICATORS: list[Callable[[str], Any]] = []


def register_token_authenticator(fn: Callable[[str], Any]) -> None:
    """``fn(plain_token)`` returns the active account the token belongs to, or None."""
    if fn not in TOKEN_AUTHENTICATORS:
        TOKEN_AUTHENTICATORS.append(fn)


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        for authenticate in TOKEN_AUTHENTICATORS:
            user = authenticate(token)
            if user is not None:
                request.user = user
                return user
        return None


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
        page: int = page_field()
        page_size: int = size_field()

    class Output(Schema):
        items: list[Any]
        page: int
        page_size: int
        has_next: bool
        count: int | None = None

    items_attribute = "items"

    def paginate_queryset(self, queryset: QuerySet[Any, Any], pagination: Any, request: HttpRequest,
                          **params: Any) -> dict[str, Any]:
        page = slice_page(queryset, pagination.page, pagination.page_size)
        page.count = queryset.count() if page.number > 1 or page.has_next else len(page.items)
        return page_dict(page)
