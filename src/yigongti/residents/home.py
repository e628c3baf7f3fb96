"""The resident index's panels of the home page (registered with ``orgs.home`` in ``apps.py``): how many
residents the reader serves, their key populations, and for the roles that manage the area the age structure.
Counts only (cached per scope by ``queries``), never a person: nothing to audit."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.orgs.home import STATS, TOTALS, Item, Panel, manages_area
from yigongti.orgs.permissions import Category, can_read

from . import queries


def _reader(actor: Actor):
    user = actor.user
    if user is None or not can_read(user, Category.DEMOGRAPHICS):
        return None
    return user


def resident_stats_panel(actor: Actor) -> Panel | None:
    user = _reader(actor)
    if user is None:
        return None
    return Panel("residents.total", _("居民"), STATS, [
        Item(_("管辖范围内居民"), reverse("residents:list"), queries.residents_in_scope_count(user),
             testid="resident-total")])


def key_populations_panel(actor: Actor) -> Panel | None:
    user = _reader(actor)
    if user is None:
        return None
    rows = queries.key_population_counts(user)
    top = max((n for _c, _l, n in rows), default=0) or 1
    url = reverse("residents:list")
    items = [Item(label, f"{url}?tag={code}", n, bar=round(100 * n / top), testid=f"tag-{code}")
             for code, label, n in rows]
    return Panel("residents.key_populations", _("重点人群"), TOTALS, items, url)


def age_bands_panel(actor: Actor) -> Panel | None:
    """The age structure of the managed area (bureau, city, community manager only)."""
    user = _reader(actor)
    if user is None or not manages_area(user):
        return None
    rows = queries.age_band_counts(user)
    top = max((n for _l, n in rows), default=0) or 1
    items = [Item(_("%(band)s 岁") % {"band": label}, "", n, bar=round(100 * n / top)) for label, n in rows]
    return Panel("residents.ages", _("年龄构成"), TOTALS, items)
