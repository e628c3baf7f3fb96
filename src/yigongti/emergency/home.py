"""Home panel for the clinicians of a receiving hospital: the 120 pre-arrival alerts of the last hours (the ones
not yet acknowledged in red, with their ETA), and the link to the live alert list."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor

from .services import alerts

SHOWN = 5


def alerts_panel(actor: Actor):
    from yigongti.orgs.home import Item, Panel

    user = actor.user
    if user is None or not alerts.receives_alerts(user):
        return None
    rows = alerts.incoming(actor, limit=SHOWN)
    items = []
    for a in rows:
        call = a.call
        resident = call.resident if call is not None else None
        who = resident.name if resident is not None else (
            call.patient_description if call is not None else "") or _("身份未明患者")
        eta = timezone.localtime(a.eta_at).strftime("%H:%M") if a.eta_at else ""
        note = _("预计 %(t)s 到达") % {"t": eta} if eta and a.acknowledged_at is None else (
            _("已确认") if a.acknowledged_at else "")
        items.append(Item(f"{who} · {a.impression or (call.chief_complaint if call is not None else '')}",
                          reverse("emergency:alert", args=[a.pk]), eta or None, note,
                          "danger" if a.acknowledged_at is None else "", f"home-ems-alert-{a.pk}"))
    return Panel("emergency.alerts", _("120院前预警"), items=items, url=reverse("emergency:alerts"),
                 empty=_("近24小时没有送往本院的预警"))


def register() -> None:
    from yigongti.orgs import home

    home.register("emergency.alerts", alerts_panel, order=5)
