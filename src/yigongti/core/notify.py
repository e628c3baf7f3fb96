"""Telling people things: an in-app inbox for every account, plus pluggable outside channels.

``notify(users, kind, title, …)`` writes inbox rows and hands the message to each configured
notifier (``YIGONGTI_NOTIFIERS``: dotted paths; the demo uses the console and a file). An SMS
gateway or WeChat Work adapter is one more class with ``send(message)``; tests use a list.

Outside channels carry no person-level data: the inbox (inside the platform, behind login, scoped) has the
full title and body; a channel gets ``public_title`` (what the caller says is safe: "您有一份新的转诊单") or a
generic line for the kind, scrubbed of anything that looks like an ID number, a phone or an ICD-10 code,
and no body. A text message or a log file is not the place for a patient's name or diagnosis. The demo's
file channel is created readable by its owner only (0600) and writes the recipient's phone masked."""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import asdict, dataclass, field
from functools import cache
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


GENERIC_TITLES = {
    "referral_submitted": "您有一份新的转诊申请待处理",
    "referral_down": "您有一份下转患者待接收",
    "referral_completed": "您转出的一份转诊已完成",
    "referral_declined": "您的一份转诊申请未被接收",
    "referral_accepted": "您的一份转诊申请已被接收",
    "referral_redirected": "您的一份转诊申请已改派",
    "referral_overdue": "有转诊超时未处理",
    "referral_no_show": "您转出的一份转诊患者未到诊",
    "security_alert": "安全提醒：平台检测到异常访问",
    "audit_chain": "安全提醒：审计日志校验发现问题",
    "ems_transfer": "有一份新的120转运申请",
    "maternal_risk": "有一名较高风险孕产妇转由本院管理",
    "pathway_late": "有救治病例时间指标即将超时",
}

_ID_RE = re.compile(r"\d{17}[\dXx]|\d{15}")
_PHONE_RE = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)|0\d{2,3}-?\d{7,8}")
_ICD_RE = re.compile(r"(?<![A-Za-z0-9])[A-TV-Z]\d{2}(?:\.\d{1,4})?(?![0-9])")


def scrub(text: str) -> str:
    """Replace what looks like an ID number, a phone or an ICD-10 code (a last line of defence: callers
    pass a ``public_title`` without names or diagnoses, or get the generic line)."""
    text = _ID_RE.sub("[证件号]", text or "")
    text = _PHONE_RE.sub("[电话]", text)
    return _ICD_RE.sub("[诊断]", text)


def public_text(kind: str, public_title: str = "", urgent: bool = False) -> str:
    """The line an outside channel may carry for a message of this kind."""
    title = public_title or GENERIC_TITLES.get(kind) or "您有一条新的平台通知"
    title = scrub(title)
    title = title if "登录" in title else f"{title}，请登录平台查看"
    return f"【紧急】{title}" if urgent else title


def _masked_phone(phone: str) -> str:
    from .personal import mask_phone

    return mask_phone(phone)


class ConsoleNotifier:
    def send(self, message: Message) -> None:
        log.warning("[通知%s] %s → %s：%s", "·紧急" if message.urgent else "", message.kind, message.recipient,
                    message.title)


class FileNotifier:
    """Appends one JSON line per message (stands in for an SMS or WeChat Work gateway in the demo).

    The file is the owner's only (0600, tightened if it was created wider); the phone is written masked."""

    def __init__(self, path: str | None = None):
        self.path = path or os.path.join(settings.DATA_DIR, "notifications.jsonl")

    def send(self, message: Message) -> None:
        row = asdict(message)
        row["phone"] = _masked_phone(message.phone)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_mode & 0o077:
                os.fchmod(fd, 0o600)
            os.write(fd, (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8"))
        finally:
            os.close(fd)


class MemoryNotifier:
    """Keeps messages in a list: for tests."""

    sent: list[Message] = []

    def send(self, message: Message) -> None:
        MemoryNotifier.sent.append(message)


@cache
def notifiers() -> tuple:
    paths = getattr(settings, "YIGONGTI_NOTIFIERS", ["yigongti.core.notify.FileNotifier"])
    out = []
    for path in paths:
        module, _, name = path.rpartition(".")
        out.append(getattr(import_module(module), name)())
    return tuple(out)


def notify(users, kind: str, title: str, body: str = "", url: str = "", urgent: bool = False, *,
           public_title: str = "") -> list[Notification]:
    """Inbox rows now (full title and body); outside channels after the transaction commits (nothing is
    sent for work that rolled back), with ``public_title`` or the kind's generic line and no body."""
    users = [u for u in users if u is not None and u.is_active]
    rows = Notification.objects.bulk_create([
        Notification(recipient=u, kind=kind, title=title[:200], body=body, url=url[:300], urgent=urgent)
        for u in users])
    outside = public_text(kind, public_title, urgent)
    messages = [Message(u.username, getattr(getattr(u, "staff", None), "phone", "") or "", kind, outside, "", url,
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
