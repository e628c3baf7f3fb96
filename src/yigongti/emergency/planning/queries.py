"""Who sees which station plans: the planners (bureau, city, community managers — ``emergency.plan_stations``)
whose region scope holds the plan's county (the county of its road network)."""

from __future__ import annotations

from django.db.models import QuerySet

from yigongti.core.actor import Actor
from yigongti.core.errors import Forbidden, NotFound
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import RegionLevel
from yigongti.orgs.permissions import can

from ..models import Place, RoadNetwork, StationPlan


def network_area(network: RoadNetwork | int) -> str:
    """The 12-digit code of the network's county (its county Place, else the county of its places)."""
    net_id = network if isinstance(network, int) else network.pk
    code = (Place.objects.filter(network_id=net_id, region__level=RegionLevel.COUNTY)
            .values_list("region__code", flat=True).first())
    if code:
        return code
    any_code = Place.objects.filter(network_id=net_id).values_list("region__code", flat=True).first()
    return f"{any_code[:6]}000000" if any_code else ""


def may_plan(user, network: RoadNetwork | None) -> bool:
    if not can(user, "emergency.plan_stations", network):
        return False
    return network is None or scope_for(user).contains(network_area(network))


def plans_visible_to(user, *, limit: int = 50) -> list[StationPlan]:
    if not can(user, "emergency.plan_stations"):
        raise Forbidden()
    scope = scope_for(user)
    areas: dict[int, str] = {}
    out = []
    for plan in StationPlan.objects.select_related("network", "created_by").defer("result")[: limit * 2]:
        if plan.network_id not in areas:
            areas[plan.network_id] = network_area(plan.network_id)
        if scope.contains(areas[plan.network_id]):
            out.append(plan)
    return out[:limit]


def plans_qs() -> QuerySet[StationPlan]:
    return StationPlan.objects.select_related("network", "created_by")


def get_plan(actor: Actor, pk: int) -> StationPlan:
    """A plan the actor may see, or NotFound (Forbidden for those who plan nothing)."""
    user = actor.user
    if not can(user, "emergency.plan_stations"):
        raise Forbidden()
    plan = plans_qs().filter(pk=pk).first()
    if plan is None or not scope_for(user).contains(network_area(plan.network_id)):
        raise NotFound()
    return plan
