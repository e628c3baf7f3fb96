"""Computing the monthly assessment (月考核) of every team and its rank (月通报).

``compute_month`` gathers each team's counts with a few grouped queries (no per-team loop over rows: the
scheduled services are counted in SQL grouped by team, the managed patients read once with their last follow-up as
a subquery, the month's sessions read once), scores them with the pure ``familydoctor.assessment`` and writes one
``MonthlyAssessment`` per team (update or create: recomputing a month replaces it), with the counts behind each
score in ``details``. The managers and the bureau compute it from the page; the worker on the 1st of each month
(``familydoctor.jobs``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery

from yigongti.chronic.models import Enrolment, EnrolmentStatus, FollowUp
from yigongti.core import audit
from yigongti.core.actor import Actor, actor_of
from yigongti.orgs.permissions import check

from .. import assessment as rules
from ..models import MonthlyAssessment, ScheduledService, Team, TeamSession, TeamVillage


def _teams(community=None):
    qs = Team.objects.filter(active=True)
    return qs.filter(community=community) if community is not None else qs


def collect_counts(month: dt.date, teams) -> dict[int, rules.TeamCounts]:
    first, last = rules.month_bounds(month)
    team_ids = [t.pk for t in teams]
    counts = {pk: rules.TeamCounts(weeks=len(rules.mondays(first))) for pk in team_ids}
    # scheduled services of the contract years in force in the month: due by the month's end, within the contract
    # (an ended contract's later slots do not count; last year's contracts are last year's assessment)
    slots = (ScheduledService.objects
             .filter(contract__team_id__in=team_ids, contract__start__lte=last, contract__end__gte=first,
                     due_by__lte=last)
             .filter(Q(contract__ended_on__isnull=True) | Q(contract__ended_on__gte=F("due_by")))
             .values("contract__team_id")
             .annotate(due=Count("id"),
                       done=Count("id", filter=Q(delivery__delivered_on__lte=last)),
                       due_in_month=Count("id", filter=Q(due_by__gte=first)),
                       on_time=Count("id", filter=Q(due_by__gte=first,
                                                    delivery__delivered_on__lte=F("due_by")))))
    for row in slots:
        c = counts[row["contract__team_id"]]
        c.due, c.done, c.due_in_month, c.on_time_in_month = row["due"], row["done"], row["due_in_month"], row["on_time"]
    # managed chronic patients in the team's villages at the month's end
    village_team = dict(TeamVillage.objects.filter(team_id__in=team_ids, since__lte=last)
                        .filter(Q(until__isnull=True) | Q(until__gte=last)).values_list("village_id", "team_id"))
    last_fu = FollowUp.objects.filter(enrolment=OuterRef("pk"), visit_date__lte=last).order_by("-visit_date", "-id")
    year_fu = last_fu.filter(visit_date__gt=last - dt.timedelta(days=365))
    rows = (Enrolment.objects.filter(village_id__in=list(village_team), enrolled_on__lte=last)
            .filter(Q(status=EnrolmentStatus.MANAGED) | Q(ended_on__gt=last))
            .annotate(next_visit=Subquery(last_fu.values("next_visit_on")[:1]),
                      control=Subquery(year_fu.values("control")[:1]))
            .values_list("village_id", "enrolled_on", "next_visit", "control"))
    for village_id, enrolled_on, next_visit, control in rows.iterator(chunk_size=5000):
        c = counts[village_team[village_id]]
        c.managed += 1
        c.on_time_follow_up += rules.follow_up_on_time(next_visit, enrolled_on, last)
        c.controlled += control == "controlled"
    # 118 sessions of the month
    per_team: dict[int, list] = defaultdict(list)
    for team_id, day, starts, ends in (TeamSession.objects.filter(team_id__in=team_ids, date__range=(first, last))
                                       .values_list("team_id", "date", "starts", "ends")):
        hours = rules.session_hours(starts, ends)
        per_team[team_id].append((day, hours))
        counts[team_id].sessions += 1
        counts[team_id].session_hours += hours
    for team_id, sessions in per_team.items():
        counts[team_id].weeks_held = rules.weeks_held(first, sessions)
    return counts


def compute_month(actor: Actor | object, month: dt.date, *, community=None) -> list[MonthlyAssessment]:
    """Score every active team (of ``community`` if given) for the month and rank them; returns the rows."""
    actor = actor_of(actor)
    check(actor, "familydoctor.assess", month)
    first, _last = rules.month_bounds(month)
    teams = list(_teams(community))
    counts = collect_counts(first, teams)
    scores = {pk: rules.score(c) for pk, c in counts.items()}
    ranks = rules.rank({pk: (s.total if s.rankable else None) for pk, s in scores.items()})
    out = []
    with transaction.atomic():
        for team in teams:
            s, c = scores[team.pk], counts[team.pk]
            row, _created = MonthlyAssessment.objects.update_or_create(
                team=team, month=first,
                defaults={"fulfilment": s.fulfilment, "timeliness": s.timeliness, "outcomes": s.outcomes,
                              "sessions": s.sessions, "total": s.total, "rank": ranks.get(team.pk),
                              "details": {"counts": c.as_dict(), "rates": s.rates, "edition": rules.EDITION,
                                       "weights": {k: str(v) for k, v in rules.WEIGHTS.items()}}})
            out.append(row)
        audit.record(actor, "update", "fd_assessment", f"{first:%Y-%m}",
                     teams=len(teams), community=getattr(community, "pk", None))
    return sorted(out, key=lambda r: (r.rank is None, r.rank or 0, r.team.code))
