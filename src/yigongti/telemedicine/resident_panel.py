"""The resident page's panel "检查检验报告" (``residents.panels``) and the reports on the resident's timeline
(``encounters.timeline`` extras); both read through ``queries.orders`` (scoped, audited), clinical roles only."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yigongti.core.actor import Actor
from yigongti.orgs.permissions import Category, can, can_read

from . import workflow
from .queries.orders import resident_orders

RECENT = 5


def _text(o) -> str:
    report = getattr(o, "report", None) if o.status in workflow.DONE else None
    conclusion = f" · {report.conclusion[:40]}" if report is not None else ""
    return f"{o.item.name} · {o.facility.name}{conclusion}"


def reports_panel(actor: Actor, resident):
    """The resident's recent orders and reports, and (for those who may) the link to order one."""
    from yigongti.residents.panels import Row

    if actor.user is not None and not can_read(actor.user, Category.CLINICAL):
        return None
    rows = [Row(o.reported_at or o.ordered_at, _text(o), reverse("telemedicine:order", args=[o.pk]),
                str(o.get_status_display()) if o.status not in workflow.DONE else
                (_("危急值") if o.critical else ""), alert=o.critical)
            for o in resident_orders(actor, resident, RECENT)]
    if actor.user is not None and can(actor.user, "telemedicine.order", resident):
        rows.insert(0, Row(None, _("＋ 开具检查检验申请"),
                           f"{reverse('telemedicine:order_new')}?resident={resident.pk}"))
    return rows, f"{reverse('telemedicine:orders')}?resident={resident.pk}&scope=facility"


def timeline_entries(actor: Actor, resident, limit: int = 50) -> list[dict]:
    """The resident's reports for the timeline: when, what, the conclusion, the link (clinical roles only)."""
    if actor.user is not None and not can_read(actor.user, Category.CLINICAL):
        return []
    return [{"when": o.reported_at, "title": f"{o.item.name}（{o.center.name}）", "facility": o.facility.name,
             "text": o.report.conclusion if hasattr(o, "report") else "", "critical": o.critical,
             "url": reverse("telemedicine:order", args=[o.pk])}
            for o in resident_orders(actor, resident, limit) if o.status in workflow.DONE]


def register() -> None:
    from yigongti.encounters import timeline
    from yigongti.residents import panels

    panels.register("telemedicine", gettext_lazy("检查检验报告"), order=40, rows=reports_panel)
    timeline.register("telemedicine", gettext_lazy("检查检验报告"), timeline_entries)
