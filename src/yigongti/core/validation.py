"""Bounds on what comes in: plausible dates, money, NUL bytes and body size, and Chinese messages for the
errors a library would otherwise word.

Every service that takes a date asks :func:`date_problem` (one range per kind of date), every API or page
request passes :class:`InputBoundsMiddleware` (no NUL byte in any query or form field or JSON string; a body
over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is 413), and the API's 422 handler words pydantic's errors with
:func:`chinese_message`."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

EARLIEST = dt.date(1900, 1, 1)
# What a plausible date is, per kind: (earliest, days after today allowed at the latest, days before today
# allowed at the earliest — used by planned dates only).
CLINICAL = "clinical"  # a visit, an admission, a discharge, a death, a settlement: 1900-01-01 … tomorrow
BIRTH = "birth"  # 1900-01-01 … today
PLANNED = "planned"  # a follow-up or an appointment (may be entered late): a year back to two years ahead
MAX_MONEY = Decimal("10000000000")  # 100 亿元: more than any one bill


def today() -> dt.date:
    return timezone.localdate()


def date_bounds(kind: str = CLINICAL) -> tuple[dt.date, dt.date]:
    t = today()
    if kind == BIRTH:
        return EARLIEST, t
    if kind == PLANNED:
        return t - dt.timedelta(days=366), t + dt.timedelta(days=731)
    return EARLIEST, t + dt.timedelta(days=1)


def date_problem(value: dt.date | dt.datetime | None, kind: str = CLINICAL, label: str = "日期") -> str | None:
    """A Chinese message when ``value`` is outside the plausible range of its kind, else None."""
    if value is None:
        return None
    day = timezone.localtime(value).date() if isinstance(value, dt.datetime) and timezone.is_aware(value) \
        else value.date() if isinstance(value, dt.datetime) else value
    lo, hi = date_bounds(kind)
    if day < lo:
        return _("%(label)s不能早于 %(date)s") % {"label": _(str(label)), "date": f"{lo:%Y-%m-%d}"}
    if day > hi:
        return _("%(label)s不能晚于 %(date)s") % {"label": _(str(label)), "date": f"{hi:%Y-%m-%d}"}
    return None


def check_date(value, errors: dict[str, list[str]], field: str, kind: str = CLINICAL, label: str = "日期") -> None:
    """Add ``field``'s message to a service's error dict when the date is implausible."""
    if (msg := date_problem(value, kind, label)) and field not in errors:
        errors[field] = [msg]


def parse_money(value) -> Decimal | None:
    """Yuan to the cent; ``ValueError`` with a Chinese message when it is not a number or is out of range."""
    if value in (None, ""):
        return None
    try:
        d = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise ValueError("金额不是数字") from None
    if not d.is_finite():
        raise ValueError("金额不是数字")
    if d < 0:
        raise ValueError("金额不能为负")
    if d >= MAX_MONEY:
        raise ValueError("金额超出范围（应小于 100 亿元）")
    return d.quantize(Decimal("0.01"))


def parse_year(text, default: int | None = None) -> int:
    """A four-digit year between 1900 and next year; ``InvalidInput`` (Chinese) otherwise."""
    from .errors import InvalidInput

    s = str(text or "").strip()
    if not s and default is not None:
        return default
    if not (s.isdigit() and len(s) == 4 and EARLIEST.year <= int(s) <= today().year + 1):
        raise InvalidInput("bad_year", _("年度应为 %(first)s–%(last)s 之间的四位数字")
                           % {"first": EARLIEST.year, "last": today().year + 1}, field="year")
    return int(s)


# --- request bounds -----------------------------------------------------------------------------------------

NUL_MESSAGE = "输入中含有不允许的控制字符（NUL）"
TIMEOUT_MESSAGE = "查询超时，请缩小范围后重试"


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def request_problem(request: HttpRequest) -> tuple[int, str, str] | None:
    """(status, code, message) when the request is refused before any view runs, else None."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    ctype = request.META.get("CONTENT_TYPE", "")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    # Uploaded files are streamed to disk and bounded by the import itself; everything else is read in memory.
    if limit and length > limit and not ctype.startswith("multipart/form-data"):
        return 413, "request_too_large", f"请求内容过大（上限 {limit // (1024 * 1024)} MB）"
    # headers too: the user agent goes into the audit log, the Idempotency-Key into its table
    if any("\x00" in v for k, v in request.META.items() if k.startswith("HTTP_") and isinstance(v, str)):
        return 400, "nul_byte", NUL_MESSAGE
    if "\x00" in request.path or any(_has_nul(k) or _has_nul(v) for k, vs in request.GET.lists() for v in [*vs, k]):
        return 422, "nul_byte", NUL_MESSAGE
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if "json" in ctype.split(";")[0]:
            try:
                data = json.loads(request.body or b"null")
                if _has_nul(data):
                    return 422, "nul_byte", NUL_MESSAGE
            except (ValueError, UnicodeDecodeError):
                return None  # the endpoint answers malformed JSON itself
            except RecursionError:
                return 400, "too_deep", "请求体嵌套层次过深"
        elif ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")) and any(
                _has_nul(k) or _has_nul(v) for k, vs in request.POST.lists() for v in [*vs, k]):
            return 422, "nul_byte", NUL_MESSAGE
    return None


class InputBoundsMiddleware:
    """Refuse NUL bytes and oversized bodies before a view sees them: problem+json under /api/, an error
    page elsewhere. PostgreSQL cannot store a NUL in text, so without this each one became a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
        from django.http.multipartparser import MultiPartParserError

        try:
            refused = request_problem(request)
        except RequestDataTooBig:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            refused = 413, "request_too_large", f"请求内容过大（上限 {limit // (1024 * 1024)} MB）"
        except (SuspiciousOperation, MultiPartParserError):  # too many fields, a broken multipart body
            refused = 400, "bad_request", "请求格式不正确（字段过多或上传内容不完整）"
        if refused is None:
            return self.get_response(request)
        status, code, message = refused
        if request.path.startswith("/api/"):
            return problem_response(status, code, message)
        from django.shortcuts import render

        return render(request, "error.html", {"status": status, "message": message}, status=status)

    def process_exception(self, request, exception):
        """A page whose query the statement timeout cut off says so (503), instead of a bare 500."""
        from django.db import OperationalError

        if isinstance(exception, OperationalError) and "statement timeout" in str(exception):
            from django.shortcuts import render

            return render(request, "error.html", {"status": 503, "message": TIMEOUT_MESSAGE}, status=503)
        return None


def problem_response(status: int, code: str, title: str, errors=None) -> HttpResponse:
    body: dict = {"type": f"/api/v1/problems/{code}", "title": title, "status": status, "code": code}
    if errors:
        body["errors"] = errors
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status,
                        content_type="application/problem+json")


# --- Chinese messages for validation errors -------------------------------------------------------------------

_BY_TYPE = {
    "missing": "必填",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_inexact": "日期不应包含时间",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式应为 YYYY-MM-DDTHH:MM",
    "datetime_from_date_parsing": "时间格式应为 YYYY-MM-DDTHH:MM",
    "datetime_type": "时间格式应为 YYYY-MM-DDTHH:MM",
    "datetime_object_invalid": "时间无效",
    "time_parsing": "时间格式应为 HH:MM",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "int_parsing_size": "数字过大",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "finite_number": "应为有限的数字",
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "decimal_max_digits": "数字位数过多",
    "decimal_max_places": "小数位数过多",
    "decimal_whole_digits": "整数部分位数过多",
    "decimal_not_finite": "应为有限的数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文本",
    "string_unicode": "文本编码无效（应为 UTF-8）",
    "string_too_short": "内容过短",
    "string_too_long": "内容过长",
    "string_pattern_mismatch": "格式不正确",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "json_invalid": "请求体不是有效的 JSON",
    "json_type": "请求体不是有效的 JSON",
    "enum": "取值无效",
    "literal_error": "取值无效",
    "uuid_parsing": "格式不正确",
    "extra_forbidden": "不允许的字段",
    "value_error": "取值无效",
    "url_parsing": "网址格式不正确",
    "too_long": "项目过多",
    "too_short": "项目过少",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "multiple_of": "应为 {multiple_of} 的倍数",
    "none_required": "应为空",
}


def chinese_message(err: dict) -> str:
    """Our wording of one pydantic/ninja error; a service's own Chinese ValueError message is kept."""
    etype = err.get("type", "")
    ctx = err.get("ctx") or {}
    if etype == "value_error" and isinstance(ctx.get("error"), ValueError):
        own = str(ctx["error"])
        if any("\u4e00" <= ch <= "\u9fff" for ch in own):
            return own
    # The table's Chinese texts are msgids too (django.po): looked up here, in the request's language.
    if etype in ("string_too_long", "too_long") and "max_length" in ctx:
        unit = _("个字符") if etype == "string_too_long" else _("项")
        return _("%(what)s（最多 %(n)s %(unit)s）") % {"what": _(_BY_TYPE[etype]), "n": ctx["max_length"], "unit": unit}
    if etype in ("string_too_short", "too_short") and "min_length" in ctx:
        unit = _("个字符") if etype == "string_too_short" else _("项")
        return _("%(what)s（至少 %(n)s %(unit)s）") % {"what": _(_BY_TYPE[etype]), "n": ctx["min_length"], "unit": unit}
    template = _BY_TYPE.get(etype)
    if template is None:
        return _("取值无效")
    template = _(template)
    try:
        return template.format(**{k: v for k, v in ctx.items() if isinstance(v, (int, float, str, Decimal))})
    except (KeyError, IndexError):
        return template.split("{")[0] or _("取值无效")
