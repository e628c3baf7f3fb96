"""Searching the audit log (auditors only; enforced by the callers' permission check)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from . import audit
from .models import AuditEvent
from .paging import Page, slice_page

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class AuditFilter:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def search_events(who, f: AuditFilter, page: int = 1, size: int = 50) -> Page:
    """A page of the log; reading the log is itself recorded (it says who saw whom)."""
    qs = AuditEvent.objects.order_by("-seq")
    if f.actor:
        qs = qs.filter(actor=f.actor)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.object_type:
        qs = qs.filter(object_type=f.object_type)
    if f.object_id:
        qs = qs.filter(object_id=f.object_id)
    if f.date_from:
        qs = qs.filter(at__gte=dt.datetime.combine(f.date_from, dt.time.min, SHANGHAI))
    if f.date_to:
        qs = qs.filter(at__lt=dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time.min, SHANGHAI))
    result = slice_page(qs, page, size)
    audit.record(who, "list", "audit_event", "", query={k: str(v) for k, v in f.__dict__.items() if v},
                 page=result.number)
    return result
