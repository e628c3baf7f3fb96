"""The resident page's panel "120呼救记录" (``residents.panels``) and the calls on the resident's timeline: the
resident's 120 calls, newest first, for the roles that may read the emergency summary (``Category.EMERGENCY``),
within the reader's scope (``core.scoping``), each read audited."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.scoping import scope_for
from yigongti.orgs.permissions import Category, can_read

from .models import Call, CallStatus

RECENT = 5


def _url(name: str, *args) -> str:
    try:
        return reverse(f"emergency:{name}", args=args)
    except NoReverseMatch:  # the call pages are another part of the app; the panel works without them
        return ""


def resident_calls(actor: Actor, resident, limit: int = 20) -> list[Call]:
    """The resident's 120 calls (merged duplicates left out), newest first, with their missions; scoped to the
    reader and audited. Empty for a role that may not read the emergency summary."""
    user = actor.user
    if user is not None and not can_read(user, Category.EMERGENCY):
        return []
    qs = Call.objects.filter(resident=resident).exclude(status=CallStatus.MERGED)
    if user is not None:
        qs = scope_for(user).filter(qs, "resident__area_code")
    rows = list(qs.select_related("region").prefetch_related("missions__vehicle", "missions__destination")
                .order_by("-rang_at", "-id")[:limit])
    if rows:
        audit.record(actor, "view", "emergency_call", "", resident=resident.pk, count=len(rows))
    return rows


def _text(c: Call) -> str:
    missions = list(c.missions.all())
    where = ""
    if missions and missions[-1].destination is not None:
        where = f" → {missions[-1].destination.name}"
    vehicle = f" · {missions[0].vehicle.call_sign}" if missions else ""
    return f"{c.call_no} · {c.get_priority_display()} · {c.chief_complaint[:30]}{vehicle}{where}"


def calls_panel(actor: Actor, resident):
    from yigongti.residents.panels import Row

    if actor.user is not None and not can_read(actor.user, Category.EMERGENCY):
        return None
    rows = [Row(c.rang_at, _text(c), _url("call", c.pk),
                "" if c.status == CallStatus.CLOSED else str(c.get_status_display()),
                alert=c.status in (CallStatus.OPEN, CallStatus.DISPATCHED))
            for c in resident_calls(actor, resident, RECENT)]
    more = _url("calls")
    return rows, f"{more}?resident={resident.pk}" if more else ""


def timeline_entries(actor: Actor, resident, limit: int = 50) -> list[dict]:
    """The resident's 120 calls for the timeline: when, what, where the ambulance took them."""
    return [{"when": c.rang_at, "title": f"120呼救 {c.call_no}（{c.get_priority_display()}）",
             "facility": ", ".join(m.destination.name for m in c.missions.all() if m.destination is not None),
             "text": c.chief_complaint, "critical": c.priority == 1, "url": _url("call", c.pk)}
            for c in resident_calls(actor, resident, limit)]


def register() -> None:
    from yigongti.encounters import timeline
    from yigongti.residents import panels

    panels.register("emergency", gettext_lazy("120呼救记录"), order=45, rows=calls_panel)
    timeline.register("emergency", gettext_lazy("120呼救记录"), timeline_entries)
