"""Reads of family-doctor teams: which team serves a village, which teams and villages a user works for, and the
teams' pages (members with history, villages, contract counts).

Teams, members and villages are organisational data (no person-level health data), so the lookups used by other
apps (``team_for_village``, ``teams_of_user``, ``villages_of_user``) are not audited; the pages' reads that list
residents' contracts live in ``queries.contracts`` and are."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core.errors import NotFound
from yigongti.orgs.models import Region, RegionLevel, Role
from yigongti.orgs.permissions import has_role

from ..models import Contract, ContractStatus, Team, TeamMember, TeamVillage

MANAGER_ROLES = (Role.COMMUNITY_MANAGER, Role.BUREAU, Role.CITY, Role.AUDITOR)


def _today(on: dt.date | None) -> dt.date:
    return on or timezone.localdate()


def current_q(on: dt.date, prefix: str = "") -> Q:
    """Rows (TeamMember / TeamVillage) in force on ``on``: since ≤ on and (no until or until ≥ on)."""
    p = f"{prefix}__" if prefix else ""
    return Q(**{f"{p}since__lte": on}) & (Q(**{f"{p}until__isnull": True}) | Q(**{f"{p}until__gte": on}))


def team_for_village(village, on: dt.date | None = None) -> Team | None:
    """The active team responsible for the village on the date (the oldest link if, exceptionally, two are)."""
    if village is None:
        return None
    village_id = village if isinstance(village, int) else village.pk
    link = (TeamVillage.objects.filter(current_q(_today(on)), village_id=village_id, team__active=True)
            .select_related("team").order_by("since", "id").first())
    return link.team if link is not None else None


def _community_id(user) -> int | None:
    facility = getattr(user, "facility", None)
    return getattr(facility, "community_id", None) if facility is not None else None


def teams_of_user(user, on: dt.date | None = None) -> QuerySet[Team]:
    """The teams the user's staff record is a current member of; for the community's managers every team of their
    community (the bureau, city and auditors: every team in their region); a facility admin: the facility's."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Team.objects.none()
    qs = Team.objects.filter(active=True)
    if has_role(user, Role.COMMUNITY_MANAGER):
        community = _community_id(user)
        return qs.filter(community_id=community) if community else qs
    if has_role(user, Role.BUREAU, Role.CITY, Role.AUDITOR):
        region = getattr(user, "region", None)
        return qs.filter(community__region__code__startswith=region.prefix) if region is not None else qs
    if has_role(user, Role.FACILITY_ADMIN) and getattr(user, "facility_id", None):
        return qs.filter(facility_id=user.facility_id)
    if getattr(user, "staff_id", None) is None:
        return Team.objects.none()
    day = _today(on)
    member_of = TeamMember.objects.filter(current_q(day), staff_id=user.staff_id).values("team_id")
    return qs.filter(pk__in=member_of)


def villages_of_user(user, on: dt.date | None = None) -> list[Region]:
    """The villages of the user's teams (links in force on the date); a village doctor also the village of their
    clinic (even before their team is set up)."""
    day = _today(on)
    ids = set(TeamVillage.objects.filter(current_q(day), team__in=teams_of_user(user, day))
              .values_list("village_id", flat=True))
    if has_role(user, Role.VILLAGE_DOCTOR):
        facility = getattr(user, "facility", None) or getattr(getattr(user, "staff", None), "work_facility", None)
        region = getattr(facility, "region", None)
        if region is not None and region.level == RegionLevel.VILLAGE:
            ids.add(region.pk)
    return list(Region.objects.filter(pk__in=ids).select_related("parent").order_by("code"))


def is_manager(user) -> bool:
    return has_role(user, *MANAGER_ROLES) or has_role(user, Role.FACILITY_ADMIN)


def _count(model, day: dt.date | None = None, **filters) -> Subquery:
    qs = model.objects.filter(team=OuterRef("pk"), **filters)
    if day is not None:
        qs = qs.filter(current_q(day))
    return Subquery(qs.order_by().values("team").annotate(n=Count("id")).values("n"), output_field=IntegerField())


def teams_list(user, on: dt.date | None = None) -> list[Team]:
    """The user's teams with their counts (current members, current villages, active contracts) for the lists:
    one query, each count a correlated subquery (no join fan-out across members × villages × contracts)."""
    day = _today(on)
    return list(
        teams_of_user(user, day).select_related("facility", "leader", "community")
        .annotate(n_members=Coalesce(_count(TeamMember, day), 0), n_villages=Coalesce(_count(TeamVillage, day), 0),
                  n_contracts=Coalesce(_count(Contract, status=ContractStatus.ACTIVE), 0))
        .order_by("code"))


def visible_teams(user) -> QuerySet[Team]:
    """Teams a user may open: their own, plus for clinicians any team of their community (a referral partner's
    team page is organisational data)."""
    if is_manager(user):
        return teams_of_user(user)
    community = _community_id(user)
    if community is None:
        return teams_of_user(user)
    return Team.objects.filter(Q(community_id=community) | Q(pk__in=teams_of_user(user).values("pk")))


def get_team_for(user, pk) -> Team:
    try:
        return visible_teams(user).select_related("facility", "leader", "community").get(pk=int(pk))
    except (Team.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("团队不存在或不在您的管辖范围内")) from None


def team_detail(team: Team, on: dt.date | None = None) -> dict:
    """A team's page: members with history (current first), villages with history, contract counts by status."""
    day = _today(on)
    members = list(team.members.select_related("staff__work_facility").order_by("until", "role", "since"))
    villages = list(team.villages.select_related("village__parent").order_by("until", "village__code"))
    counts = dict(team.contracts.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {
        "current_members": [m for m in members if m.since <= day and (m.until is None or m.until >= day)],
        "past_members": [m for m in members if not (m.since <= day and (m.until is None or m.until >= day))],
        "current_villages": [v for v in villages if v.since <= day and (v.until is None or v.until >= day)],
        "past_villages": [v for v in villages if not (v.since <= day and (v.until is None or v.until >= day))],
        "contract_counts": counts,
        "active_contracts": counts.get(ContractStatus.ACTIVE, 0),
    }
