"""Home panel: the key-population contract coverage of the user's area (a township's for its health center, the
county's by township for managers and the bureau; a village doctor's village) against the 100 % goal, each line
linking to the coverage page and its drill-down. Counts only; cached for a few minutes."""

from __future__ import annotations

from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor

CACHE_SECONDS = 300
SHOWN = ("elderly", "child", "maternal", "htn", "t2dm", "tuopin")


def _tone(rate) -> str:
    if rate is None:
        return ""
    return "success" if rate >= 95 else ("warning" if rate >= 85 else "danger")


def _items(actor: Actor) -> list:
    from yigongti.orgs.home import Item

    from .queries import coverage as q

    cov = q.coverage(actor)
    url = reverse("familydoctor:coverage")
    if len(cov.rows) == 1:  # one township: go straight to its villages
        url += "?" + "&".join(f"{k}={v}" for k, v in cov.rows[0].drill.items())
    labels = dict(cov.tags)
    items = []
    for tag in SHOWN:
        c = cov.total.cells.get(tag)
        if c is None or not c.population:
            continue
        items.append(Item(str(labels.get(tag, tag)), url, f"{c.rate}%",
                          _("已签 %(s)d / %(n)d 人，未签 %(u)d 人") % {"s": c.signed, "n": c.population,
                                                                     "u": c.unsigned},
                          _tone(c.rate), f"home-fd-coverage-{tag}", bar=int(c.rate or 0)))
    c = cov.total.cells.get(q.ALL)
    if c is not None and c.population:
        items.append(Item(_("全人群签约率"), url, f"{c.rate}%", _("已签 %(s)d / %(n)d 人") % {
            "s": c.signed, "n": c.population}, "", "home-fd-coverage-all", bar=int(c.rate or 0)))
    return items


def coverage_panel(actor: Actor):
    from yigongti.core.scoping import scope_for
    from yigongti.orgs.home import STATS, TOTALS, Panel, manages_area
    from yigongti.orgs.permissions import Category, can_read

    user = actor.user
    if user is None or scope_for(user).empty or not (manages_area(user) or can_read(user, Category.PUBLIC_HEALTH)):
        return None
    key = f"familydoctor:home_coverage:{user.pk}:{get_language()}"  # the labels are in the reader's language
    items = cache.get(key)
    if items is None:
        items = _items(actor)
        cache.set(key, items, CACHE_SECONDS)
    if not items:
        return None
    return Panel("familydoctor.coverage", _("重点人群签约覆盖（目标100%）"),
                 kind=TOTALS if manages_area(user) else STATS, items=items, url=reverse("familydoctor:coverage"))


def register() -> None:
    from yigongti.orgs import home

    home.register("familydoctor.coverage", coverage_panel, order=32)
