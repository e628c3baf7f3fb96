"""The planners' home panel (bureau, city, community managers): the latest station plan's coverage within the
planning threshold today and with its best proposal, and the way to the planning pages. Registered by
``register()`` (listed in the app's ``registry.MODULES`` as ``planning.home``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor

from . import queries as q


def planning_panel(actor: Actor):
    from yigongti.orgs.home import TOTALS, Item, Panel

    user = actor.user
    if user is None or not q.may_plan(user, None):
        return None
    plans = [p for p in q.plans_visible_to(user, limit=10) if p.status == "done"]
    items = []
    if plans:
        plan = q.plans_qs().get(pk=plans[0].pk)
        r = plan.result
        t = str(r.get("threshold_min", 15))
        today = r["today"]["coverage"]["share"][t] * 100
        items.append(Item(_("现状%(t)s分钟覆盖率") % {"t": t}, reverse("emergency:plan", args=[plan.pk]),
                          f"{today:.0f}%", plan.name, "", "home-em-plan-today"))
        if r["scenarios"]:
            best = max(r["scenarios"], key=lambda s: s["coverage"]["covered"][t])
            share = best["coverage"]["share"][t] * 100
            items.append(Item(_(best["label"]), reverse("emergency:plan", args=[plan.pk]), f"{share:.0f}%",
                              "、".join(r["sites"][j]["name"] for j in best["solution"]["added"]), "success",
                              "home-em-plan-best"))
    from ..models import RoadNetwork, Station, Vehicle

    network = RoadNetwork.objects.filter(active=True).order_by("-created_at").first()
    if network is not None:
        items.append(Item(_("县域路网"), reverse("emergency:roads"), str(network.nodes.count()), _("路网节点"), "",
                          "home-em-roads"))
    items.append(Item(_("急救站点与车辆"), reverse("emergency:fleet"),
                      str(Vehicle.objects.filter(active=True).count()),
                      _("%(n)d 个站点") % {"n": Station.objects.filter(active=True).count()}, "", "home-em-fleet"))
    return Panel("emergency.planning", _("急救站点规划"), kind=TOTALS, items=items,
                 url=reverse("emergency:planning"), empty=_("还没有站点规划：按人口和路网计算站点覆盖与选址"))


def register() -> None:
    from yigongti.orgs import home

    home.register("emergency.planning", planning_panel, order=260)
