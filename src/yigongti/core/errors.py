"""Domain errors: raised by services, turned into a Chinese message on pages and into
problem+json (RFC 9457) with a stable ``code`` in the API."""

from __future__ import annotations


class DomainError(Exception):
    status = 400

    def __init__(self, code: str, message: str, field: str | None = None,
                 errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.errors = errors or ({field: [message]} if field else {})


class InvalidInput(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404

    def __init__(self, message: str = "记录不存在或无权访问", code: str = "not_found"):
        super().__init__(code, message)


class Forbidden(DomainError):
    status = 403

    def __init__(self, message: str = "没有权限执行此操作", code: str = "forbidden"):
        super().__init__(code, message)


class Conflict(DomainError):
    status = 409


def collect(errors: dict[str, list[str]], code: str = "invalid_input") -> None:
    """Raise one InvalidInput naming every bad field, so a form can show all of them at once."""
    if errors:
        first_field, msgs = next(iter(errors.items()))
        raise InvalidInput(code, msgs[0], field=first_field, errors=errors)
