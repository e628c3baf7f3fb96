"""The 凡晋必下 ledger: each doctor's verified grassroots days (confirmed by the host) against the requirement
(``workforce.ledger.REQUIREMENT``), with the host facilities; the candidates for a senior title and what each
lacks; mid/senior doctors who served the full year (优先聘任)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.orgs.models import Profession, Role, Staff, Title

from ..ledger import MID_SENIOR, NEXT_TITLE, Standing, standing
from ..models import PostingDay, PostingStatus
from .postings import hosts_q


@dataclass
class Row:
    staff: Staff
    standing: Standing
    hosts: list[tuple[str, int]]  # (host name, verified days)
    next_title: str

    @property
    def candidate(self) -> bool:
        return bool(self.next_title)


def _staff_q(user) -> Q:
    role = getattr(user, "role", None)
    if role == Role.COMMUNITY_MANAGER and user.facility_id and user.facility.community_id:
        return Q(work_facility__community_id=user.facility.community_id)
    if role in (Role.BUREAU, Role.CITY):
        from yigongti.core.scoping import facility_scope_q

        return facility_scope_q(user, "work_facility__region__code")
    if getattr(user, "staff_id", None):
        return Q(pk=user.staff_id)
    return Q(pk__in=[])


def ledger(actor: Actor, *, only_candidates: bool = False) -> list[Row]:
    """The doctors (physicians of county- or city-level hospitals, of intermediate title or above, or any with a
    posting day) the user may see, with their days."""
    from ..services.postings import is_expert

    user = actor.user
    days = (PostingDay.objects.filter(posting__status=PostingStatus.ACTIVE).filter(Q(staff__in=Staff.objects
            .filter(_staff_q(user)))).values("staff_id", "host__name")
            .annotate(verified=Count("id", filter=Q(confirmed_at__isnull=False)),
                      planned=Count("id", filter=Q(confirmed_at__isnull=True))).order_by())
    verified: dict[int, int] = defaultdict(int)
    planned: dict[int, int] = defaultdict(int)
    hosts: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for r in days:
        verified[r["staff_id"]] += r["verified"]
        planned[r["staff_id"]] += r["planned"]
        if r["verified"]:
            hosts[r["staff_id"]].append((r["host__name"], r["verified"]))
    staff = (Staff.objects.filter(_staff_q(user), is_active=True,
                                  profession__in=[Profession.PHYSICIAN, Profession.ASSISTANT_PHYSICIAN])
             .filter(Q(title__in=MID_SENIOR) | Q(pk__in=list(verified) + list(planned)))
             .select_related("work_facility", "establishment_facility", "department").order_by("name"))
    out = []
    for s in staff:
        if not is_expert(s):
            continue
        row = Row(s, standing(verified[s.pk], planned[s.pk]), sorted(hosts[s.pk], key=lambda h: -h[1]),
                  str(NEXT_TITLE[Title(s.title)].label) if s.title in NEXT_TITLE else "")
        if only_candidates and not row.candidate:
            continue
        out.append(row)
    out.sort(key=lambda r: (not r.candidate, r.standing.lacking == 0, -r.standing.lacking, r.staff.name))
    audit.record(actor, "view", "wf_ledger", "", n=len(out))
    return out


__all__ = ["Row", "hosts_q", "ledger"]
