"""Domain errors: raised by services, turned into a Chinese message on pages and into
problem+json (RFC 9457) with a stable ``code`` in the API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy

if TYPE_CHECKING:  # (django-stubs-ext is a development dependency)
    from django_stubs_ext import StrOrPromise


# The default messages, rendered when raised (in the request's language).
NOT_FOUND = gettext_lazy("记录不存在或无权访问")
FORBIDDEN = gettext_lazy("没有权限执行此操作")


class DomainError(Exception):
    status = 400

    def __init__(self, code: str, message: StrOrPromise, field: str | None = None,
                 errors: Mapping[str, Sequence[StrOrPromise]] | None = None):
        # A lazy message (gettext_lazy) is rendered now, in the language of the request that raised it.
        text = str(message)
        rendered = {k: [str(m) for m in v] for k, v in errors.items()} if errors else {}
        super().__init__(text)
        self.code = code
        self.message = text
        self.field = field
        self.errors: dict[str, list[str]] = rendered or ({field: [text]} if field else {})


class InvalidInput(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404

    def __init__(self, message: StrOrPromise = NOT_FOUND, code: str = "not_found"):
        super().__init__(code, message)


class Forbidden(DomainError):
    status = 403

    def __init__(self, message: StrOrPromise = FORBIDDEN, code: str = "forbidden"):
        super().__init__(code, message)


class Conflict(DomainError):
    status = 409


def collect(errors: dict[str, list[str]], code: str = "invalid_input") -> None:
    """Raise one InvalidInput naming every bad field, so a form can show all of them at once."""
    if errors:
        first_field, msgs = next(iter(errors.items()))
        raise InvalidInput(code, msgs[0], field=first_field, errors=errors)
