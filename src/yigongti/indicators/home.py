"""The indicators' panel of the home page (registered with ``orgs.home`` in ``apps.py``): the figures of the
reader's area that miss their target, for the roles that manage the area (the bureau, the city, a community
manager). It reads the monthly indicator facts through the dashboard's cached queries (``queries.figures``
over the facts-based indicators only), so the home page runs no aggregation over the encounters."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.orgs.home import TODO, Item, Panel, manages_area

from . import queries
from .definitions import INDICATORS, Indicator
from .templatetags.indicator_tags import figure, ind_unit, target_text

LIMIT = 8


def display_name(ind: Indicator) -> str:
    """The indicator's name in the page's language (the definitions carry both)."""
    return ind.name_en if (get_language() or "").startswith("en") and ind.name_en else ind.name


def red_indicators_panel(actor: Actor) -> Panel | None:
    """Indicators of the reader's default area and latest month that are red (then amber), worst first."""
    user = actor.user
    if user is None or not manages_area(user):
        return None
    area = queries.default_area(user)
    period = queries.default_period()
    codes = [c for c in queries.DISPLAY_ORDER if c in INDICATORS and INDICATORS[c].from_facts]
    cards = queries.figures(area, period, codes)  # the dashboard's own call: the same cached facts
    off = [c for c in cards if c.status in ("red", "amber")]
    off.sort(key=lambda c: (c.status != "red", queries.DISPLAY_ORDER.index(c.indicator.code)))
    base = reverse("indicators:dashboard")
    items = []
    for c in off[:LIMIT]:
        ind = c.indicator
        unit = ind_unit(ind)
        target = _("目标 %(t)s") % {"t": target_text(ind)}
        items.append(Item(f"{ind.code} {display_name(ind)}",
                          reverse("indicators:detail", args=[ind.code]) + f"?area={area.key}&period={period.key}",
                          f"{figure(c.value.value, ind.places)} {unit}".strip(), note=target,
                          tone="danger" if c.status == "red" else "warning", testid=f"indicator-{ind.code}"))
    red = sum(1 for c in off if c.status == "red")
    title = _("未达标指标（%(n)s）") % {"n": red}
    return Panel("indicators.red", f"{title} · {area.name} · {period.label}", TODO, items,
                 f"{base}?area={area.key}&period={period.key}", _("本期指标均已达标或暂无数据"))
