"""Home panels: for a center's readers the worklist counts (open, 急诊, overdue); for ordering doctors the reports
that came back in the last days and their open orders."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.orgs.permissions import Category, can_read

from . import workflow
from .models import Order
from .queries.orders import center_counts, centers_of

NEW_DAYS = 3


def readers_panel(actor: Actor):
    from yigongti.orgs.home import Item, Panel

    user = actor.user
    if user is None:
        return None
    centers = centers_of(user)
    if not centers:
        return None
    items = []
    for c in center_counts(centers):
        note = []
        if c.emergency:
            note.append(_("急诊 %(n)d") % {"n": c.emergency})
        if c.overdue:
            note.append(_("超时 %(n)d") % {"n": c.overdue})
        items.append(Item(c.center.name, reverse("telemedicine:worklist", args=[c.center.pk]), c.open,
                          " · ".join(note), "danger" if c.emergency or c.overdue else "primary",
                          f"home-tm-center-{c.center.kind}"))
    return Panel("telemedicine.worklists", _("诊断中心待报告"), items=items, url=reverse("telemedicine:centers"))


def results_panel(actor: Actor):
    """The reports of the doctor's orders signed in the last days (newest first), and how many are still open."""
    from yigongti.orgs.home import Item, Panel

    user = actor.user
    if user is None or not can_read(user, Category.CLINICAL) or not user.facility_id:
        return None
    since = timezone.now() - dt.timedelta(days=NEW_DAYS)
    mine = Order.objects.filter(ordered_by=user)
    new = list(mine.filter(status__in=workflow.DONE, reported_at__gte=since).select_related("resident", "item")
               .order_by("-reported_at")[:5])
    waiting = mine.filter(status__in=workflow.OPEN).count()
    if not new and not waiting:
        return None
    if new:
        audit.record(actor, "view", "telemedicine_order", "", panel="home", ids=[o.pk for o in new])
    items = [Item(f"{o.resident.name} · {o.item.name}", reverse("telemedicine:order", args=[o.pk]),
                  timezone.localtime(o.reported_at).strftime("%m-%d %H:%M"), _("危急值") if o.critical else "",
                  "danger" if o.critical else "", f"home-tm-report-{o.pk}") for o in new]
    if waiting:
        items.append(Item(_("待出报告的申请"), f"{reverse('telemedicine:orders')}?status=open", waiting,
                          testid="home-tm-waiting"))
    return Panel("telemedicine.results", _("新出检查检验报告"), items=items, url=reverse("telemedicine:orders"))


def critical_panel(actor: Actor):
    """For the community's managers, the bureau and the city (counts, never patients): the last 30 days'
    critical values, those past their acknowledgement limit now, and how many were acknowledged in time, with
    the critical-value page behind them (it is not in their menu, which is full)."""
    from yigongti.orgs.home import STATS, Item, Panel
    from yigongti.orgs.permissions import has_role

    from .queries.critical import COUNT_ROLES, stats

    user = actor.user
    if user is None or not has_role(user, *COUNT_ROLES):
        return None
    s = stats(user)
    overall = s["overall"]
    url = reverse("telemedicine:critical")
    timely = f"{overall.timely * 100 // overall.notified}%" if overall.notified else "—"
    items = [Item(_("近30天危急值"), url, overall.total, testid="home-tm-critical-total"),
             Item(_("超时未确认"), url, s["overdue"], tone="danger" if s["overdue"] else "",
                  testid="home-tm-critical-overdue"),
             Item(_("及时确认"), url, timely, testid="home-tm-critical-timely"),
             Item(_("诊断设备"), reverse("telemedicine:devices"), testid="home-tm-devices")]
    return Panel("telemedicine.critical", _("危急值闭环"), kind=STATS, items=items, url=url)


def register() -> None:
    from yigongti.orgs import home

    home.register("telemedicine.worklists", readers_panel, order=16)
    home.register("telemedicine.results", results_panel, order=17)
    home.register("telemedicine.critical", critical_panel, order=18)
