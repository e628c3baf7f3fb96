"""Home panel for the community's managers, the bureau and the city (and a facility admin of a township that runs
teams): the last assessed month's best and worst family-doctor teams (月通报), with the link to the full ranking.
Team figures only, never residents; cached for a few minutes."""

from __future__ import annotations

from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor

CACHE_SECONDS = 300
SHOW = 3


def _items(actor: Actor) -> tuple[str, list]:
    from yigongti.orgs.home import Item

    from .queries.assessment import top_and_bottom

    month, top, bottom = top_and_bottom(actor, SHOW)
    if month is None:
        return "", []
    url = f"{reverse('familydoctor:assessment')}?month={month:%Y-%m}"
    items = [Item(f"{r.rank}. {r.team.name}", f"{reverse('familydoctor:assessment_team', args=[r.team.pk])}"
                  f"?month={month:%Y-%m}", r.total, _("前列"), "success", f"home-fd-top-{r.team.pk}") for r in top]
    items += [Item(f"{r.rank}. {r.team.name}", f"{reverse('familydoctor:assessment_team', args=[r.team.pk])}"
                   f"?month={month:%Y-%m}", r.total, _("靠后"), "danger", f"home-fd-bottom-{r.team.pk}")
              for r in bottom]
    return url, items


def ranking_panel(actor: Actor):
    from yigongti.orgs.home import TOTALS, Panel, manages_area

    user = actor.user
    if user is None or not (manages_area(user) or getattr(user, "role", "") == "facility_admin"):
        return None
    key = f"familydoctor:home_assessment:{user.pk}:{get_language()}"  # the labels are in the reader's language
    cached = cache.get(key)
    if cached is None:
        cached = _items(actor)
        cache.set(key, cached, CACHE_SECONDS)
    url, items = cached
    return Panel("familydoctor.assessment", _("家庭医生团队月考核"), kind=TOTALS, items=items,
                 url=url or reverse("familydoctor:assessment"), empty=_("尚未计算月考核。"))


def register() -> None:
    from yigongti.orgs import home

    home.register("familydoctor.assessment", ranking_panel, order=45)
