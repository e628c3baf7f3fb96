"""Searching the audit log (auditors only; enforced by the callers' permission check)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

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


def search_events(f: AuditFilter, page: int = 1, size: int = 50) -> Page:
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
    return slice_page(qs, page, size)
