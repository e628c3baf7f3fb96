"""Telling people things: an in-app inbox for every account, plus pluggable outside channels.

``notify(users, kind, title, …)`` writes inbox rows and hands the message to each configured
notifier (``YIGONGTI_NOTIFIERS``: dotted paths; the demo uses the console and a file). An SMS
gateway or WeChat Work adapter is one more class with ``send(message)``; tests use a list."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Notification

log = logging.getLogger("yigongti.notify")


@dataclass
class Message:
    recipient: str  # username
    phone: str
    kind: str
    title: str
    body: str = ""
    url: str = ""
    urgent: bool = False
    sent_at: str = field(default_factory=lambda: timezone.now().isoformat())


class ConsoleNotifier:
    def send(self, message: Message) -> None:
        log.warning("[通知%s] %s → %s：%s", "·紧急" if message.urgent else "", message.kind, message.recipient,
                    message.title)


class FileNotifier:
    """Appends one JSON line per message (stands in for an SMS or WeChat Work gateway in the demo)."""

    def __init__(self, path: str | None = None):
        self.path = path or os.path.join(settings.DATA_DIR, "notifications.jsonl")

    def send(self, message: Message) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(message), ensure_ascii=False) + "\n")


class MemoryNotifier:
    """Keeps messages in a list: for tests."""

    sent: list[Message] = []

    def send(self, message: Message) -> None:
        MemoryNotifier.sent.append(message)


@lru_cache(maxsize=None)
def notifiers() -> tuple:
    paths = getattr(settings, "YIGONGTI_NOTIFIERS", ["yigongti.core.notify.FileNotifier"])
    out = []
    for path in paths:
        module, _, name = path.rpartition(".")
        out.append(getattr(import_module(module), name)())
    return tuple(out)


def notify(users, kind: str, title: str, body: str = "", url: str = "", urgent: bool = False) -> list[Notification]:
    """Inbox rows now; outside channels after the transaction commits (nothing is sent for work
    that rolled back)."""
    users = [u for u in users if u is not None and u.is_active]
    rows = Notification.objects.bulk_create([
        Notification(recipient=u, kind=kind, title=title[:200], body=body, url=url[:300], urgent=urgent)
        for u in users])
    messages = [Message(u.username, getattr(getattr(u, "staff", None), "phone", "") or "", kind, title, body, url,
                        urgent) for u in users]

    def send():
        for m in messages:
            for n in notifiers():
                try:
                    n.send(m)
                except Exception:  # a failing gateway must not undo the work; the inbox has it
                    log.exception("notifier %s failed", type(n).__name__)

    transaction.on_commit(send)
    return rows


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def inbox(user):
    return Notification.objects.filter(recipient=user)


def mark_read(user, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
