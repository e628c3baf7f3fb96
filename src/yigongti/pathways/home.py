"""Home panel: the time-critical centers' last 30 days at a glance, for the community's managers, the bureau, the city
(counts and minutes, never patients) and for the doctors and nurses of a center — each center's cases of the
last 30 days and its headline target (door-to-wire, DNT; DIDO for a township unit) with the compliance dashboard
behind it, the chain (township units → county center) and the registry export. Managers have no menu entry for
these pages (the navbar is full): this panel is the way in. Cached for a few minutes."""

from __future__ import annotations

from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor

from .models import CenterLevel

CACHE_SECONDS = 300
DAYS = 30


def _items(user) -> list:
    from yigongti.orgs.home import Item

    from .export import exportable_centers
    from .queries_dashboards import center_recent_headline, visible_centers

    centers = visible_centers(user)
    shown = [c for c in centers if c.level == CenterLevel.CENTER or c.facility_id == user.facility_id]
    items = []
    for c in shown[:6]:
        n, comp = center_recent_headline(c, DAYS)
        share = f"{round(comp.rate * 100)}%" if comp is not None and comp.rate is not None else "—"
        what = comp.label if comp is not None else ""
        tone = "" if comp is None or comp.rate is None else ("success" if comp.rate >= 0.75 else "danger")
        label = f"{c.facility.name} · {c.get_kind_display()}"
        note = _("近30天 %(n)d 例") % {"n": n} + (f" · {what}" if what else "")
        items.append(Item(label, f"{reverse('pathways:dashboard')}?center={c.pk}", share, note, tone,
                          f"home-pw-center-{c.pk}"))
    units = sum(c.level == CenterLevel.UNIT for c in centers)
    if any(c.level == CenterLevel.CENTER for c in centers):
        items.append(Item(_("救治链：胸痛救治单元 → 县胸痛中心"), reverse("pathways:chain"), units or None,
                          testid="home-pw-chain"))
    if exportable_centers(user):
        items.append(Item(_("国家胸痛/卒中数据平台上报导出"), reverse("pathways:export"), testid="home-pw-export"))
    return items


def centers_panel(actor: Actor):
    from yigongti.orgs.home import TODO, TOTALS, Panel, manages_area

    from .queries_dashboards import may_view

    user = actor.user
    if user is None or not may_view(user):
        return None
    key = f"pathways:home:{user.pk}"
    items = cache.get(key)
    if items is None:
        items = _items(user)
        cache.set(key, items, CACHE_SECONDS)
    kind = TOTALS if manages_area(user) else TODO
    return Panel("pathways.centers", _("五大救治中心质控（近30天）"), kind=kind, items=items,
                 url=reverse("pathways:dashboard"))


def register() -> None:
    from yigongti.orgs import home

    home.register("pathways.centers", centers_panel, order=40)
