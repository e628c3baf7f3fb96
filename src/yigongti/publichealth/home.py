"""Home panel "公共卫生": for the clinicians and public-health staff of an area, the vaccine doses overdue and the
65+ (and managed chronic patients) without this year's health check, each linking to its list; for the managers
the same figures as area totals. Built from the cached overview (``queries.overview``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.validation import today

from .queries import overview as q


def panel(actor: Actor):
    from yigongti.orgs.home import STATS, TODO, Item, Panel

    user = actor.user
    if user is None or not q.may_see_overview(user):
        return None
    o = q.overview(actor, on=today())
    people = q.may_see_people(user)
    vaccines = o.vaccines if o.vaccines is not None else o.due_of("vaccine")
    unchecked = o.elderly - o.elderly_checked
    items = [
        Item(_("预防接种逾期剂次"), reverse("publichealth:immunisation") + "?overdue=1" if people else "",
             vaccines.get("overdue", 0), _("应种 %(n)s 剂次") % {"n": vaccines.get("due", 0)},
             "danger" if vaccines.get("overdue") else "", "home-ph-vaccine-overdue"),
        Item(_("65岁及以上本年未体检"), reverse("publichealth:checks") + "?tab=todo&who=elderly" if people else "",
             unchecked, _("体检率 %(r)s%%") % {"r": o.elderly_rate if o.elderly_rate is not None else "—"},
             "warning" if unchecked else "", "home-ph-elderly-unchecked"),
    ]
    return Panel("publichealth.overview", _("公共卫生"), kind=TODO if people else STATS, items=items,
                 url=reverse("publichealth:home"))


def register() -> None:
    from yigongti.orgs import home

    home.register("publichealth.overview", panel, order=40)
