"""Sending the login code by text message, through a pluggable sender (``YIGONGTI_SMS_SENDER``: a dotted path to a
class with ``send(phone, text)``), as ``core.notify``'s channels are plugged: a county's SMS gateway is one more
class. The demo and the tests use ``FileSmsSender``: one JSON line per message in the data directory, readable by
its owner only (0600), the phone masked; the text is the code and nothing else (no name, no diagnosis)."""

from __future__ import annotations

import json
import os
import re
from functools import cache
from importlib import import_module
from typing import Protocol

from django.conf import settings
from django.utils import timezone

from yigongti.core.personal import mask_phone

DEFAULT_SENDER = "yigongti.ihospital.sms.FileSmsSender"


class Sender(Protocol):
    def send(self, phone: str, text: str) -> None: ...


def outbox_path() -> str:
    return str(getattr(settings, "YIGONGTI_SMS_OUTBOX", "") or os.path.join(settings.DATA_DIR, "sms_outbox.jsonl"))


class FileSmsSender:
    """Appends ``{"phone": "138****1234", "text": …, "at": …}`` to the outbox (0600)."""

    def send(self, phone: str, text: str) -> None:
        row = {"phone": mask_phone(phone), "text": text, "at": timezone.now().isoformat()}
        fd = os.open(outbox_path(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_mode & 0o077:
                os.fchmod(fd, 0o600)
            os.write(fd, (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8"))
        finally:
            os.close(fd)


class MemorySmsSender:
    """Keeps (phone, text) in a list: for tests."""

    sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        MemorySmsSender.sent.append((phone, text))


@cache
def _sender_class(path: str) -> type:
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)


def sender() -> Sender:
    return _sender_class(getattr(settings, "YIGONGTI_SMS_SENDER", "") or DEFAULT_SENDER)()


def last_code_in_outbox(phone: str) -> str | None:
    """The last code the file sender wrote for this phone (tests and the demo's walkthrough)."""
    try:
        with open(outbox_path(), encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
    except FileNotFoundError:
        return None
    masked = mask_phone(phone)
    for row in reversed(rows):
        found = re.search(r"(?<!\d)\d{6}(?!\d)", row.get("text", "")) if row.get("phone") == masked else None
        if found:
            return found.group(0)
    return None
