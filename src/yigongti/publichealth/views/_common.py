"""What the public-health pages share: the area filter's choices (townships and villages of the reader's scope)."""

from __future__ import annotations

from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Region, RegionLevel

MAX_VILLAGES = 400


def area_choices(user, township: str = "") -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(townships, villages) of the user's scope; the villages of the chosen township, or all of a small scope."""
    scope = scope_for(user)
    towns = list(scope.filter(Region.objects.filter(level=RegionLevel.TOWNSHIP), "code").order_by("code")
                 .values_list("code", "name")[:MAX_VILLAGES])
    villages = scope.filter(Region.objects.filter(level=RegionLevel.VILLAGE), "code")
    if township and township.isdigit() and len(township) == 12:
        villages = villages.filter(code__startswith=township[:9])
    rows = list(villages.order_by("code").values_list("code", "name")[:MAX_VILLAGES + 1])
    return towns, rows if len(rows) <= MAX_VILLAGES else []
