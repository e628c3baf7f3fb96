"""The 服务台账 (service ledger) of a team and village: each signed resident with the services due and done in
the current contract year. Scoped (``core.scoping`` on the resident's area), category ``PUBLIC_HEALTH``, audited.

Two queries per page whatever the number of residents: the contracts (with resident and package) and the scheduled
services grouped by contract and service (planned / done / overdue)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.core.personal import mask_id_number, mask_phone
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Region
from yigongti.orgs.permissions import Category, check_read, has_role
from yigongti.residents.models import KeyPopulation, ResidentTag, Sex

from ..models import Contract, ContractStatus, PackageService, ScheduledService, Team, TeamSession

LEDGER_LIMIT = 5000  # rows of one ledger (the largest village has ~1,500 signed residents)


def teams_visible_to(user) -> QuerySet[Team]:
    """Teams whose villages lie within the user's scope, and the teams the user is a current member of."""
    scope = scope_for(user)
    q = scope.q("villages__village__code")
    if getattr(user, "staff_id", None):
        q |= Q(members__staff_id=user.staff_id, members__until__isnull=True)
    if scope.unrestricted:
        return Team.objects.filter(active=True).order_by("code")
    ids = Team.objects.filter(q).values("pk")
    return Team.objects.filter(pk__in=ids, active=True).order_by("code")


def get_team_for(actor: Actor, pk) -> Team:
    try:
        return teams_visible_to(actor.user).select_related("facility", "leader").get(pk=int(pk))
    except (Team.DoesNotExist, ValueError, TypeError):
        audit.record(actor, "denied", "fd_team", pk)
        raise NotFound("not_found", _("团队不存在或不在您的管辖范围内")) from None


def default_team(user) -> Team | None:
    """The user's own team (a current membership) or the first visible one."""
    qs = teams_visible_to(user)
    if getattr(user, "staff_id", None):
        own = qs.filter(members__staff_id=user.staff_id, members__until__isnull=True).first()
        if own is not None:
            return own
    return qs.first()


def team_villages(team: Team, on: dt.date | None = None) -> list[Region]:
    on = on or dt.date.today()
    return list(Region.objects.filter(fd_team_links__team=team, fd_team_links__since__lte=on)
                .filter(Q(fd_team_links__until__isnull=True) | Q(fd_team_links__until__gte=on))
                .distinct().order_by("code"))


@dataclass
class Cell:
    planned: int = 0
    done: int = 0
    overdue: int = 0  # open and past due


@dataclass
class LedgerRow:
    contract_id: int
    number: str
    package: str
    start: dt.date
    end: dt.date
    doctor: str
    name: str
    sex: str
    age: int
    id_number: str  # masked
    phone: str  # masked
    village: str
    tags: list[str]
    cells: dict[int, Cell] = field(default_factory=dict)  # PackageService pk → counts
    ordered: list[Cell | None] = field(default_factory=list)  # the cells in the order of ``Ledger.services``

    @property
    def planned(self) -> int:
        return sum(c.planned for c in self.cells.values())

    @property
    def done(self) -> int:
        return sum(c.done for c in self.cells.values())

    @property
    def overdue(self) -> int:
        return sum(c.overdue for c in self.cells.values())


@dataclass
class Ledger:
    team: Team
    village: Region | None
    on: dt.date
    services: list[PackageService]
    rows: list[LedgerRow]
    truncated: bool = False

    @property
    def totals(self) -> dict[str, int]:
        return {"residents": len(self.rows), "planned": sum(r.planned for r in self.rows),
                "done": sum(r.done for r in self.rows), "overdue": sum(r.overdue for r in self.rows)}


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def ledger(actor: Actor, team: Team, *, village: Region | None = None, on: dt.date | None = None,
           limit: int = LEDGER_LIMIT, export: bool = False) -> Ledger:
    """The team's ledger (of one village if given) on ``on`` (default today): the contracts in force that day."""
    check_read(actor, Category.PUBLIC_HEALTH, team)
    on = on or dt.date.today()
    qs = (Contract.objects.filter(team=team, start__lte=on, end__gte=on)
          .exclude(status=ContractStatus.ENDED, ended_on__lt=on).order_by("village__code", "resident__name", "pk"))
    qs = scope_for(actor.user).filter(qs, "resident__area_code")
    if village is not None:
        qs = qs.filter(village=village)
    # plain values, not model instances: the largest village's 1,500 rows in a few tens of milliseconds
    contracts = list(qs.values_list("pk", "number", "package__name", "start", "end", "doctor__name", "resident_id",
                                    "resident__name", "resident__sex", "resident__birth_date", "resident__id_number",
                                    "resident__phone", "village__name")[: limit + 1])
    truncated = len(contracts) > limit
    contracts = contracts[:limit]
    ids = [c[0] for c in contracts]
    by_contract: dict[int, dict[int, Cell]] = defaultdict(dict)
    service_ids: set[int] = set()
    in_ledger = qs.values("pk") if not truncated else ids  # a subquery: no list of 1,500 parameters
    for row in (ScheduledService.objects.filter(contract__in=in_ledger)
                .values("contract_id", "service_id")
                .annotate(planned=Count("id"), done=Count("id", filter=Q(delivery__isnull=False)),
                          overdue=Count("id", filter=Q(delivery__isnull=True, due_by__lt=on)))):
        by_contract[row["contract_id"]][row["service_id"]] = Cell(row["planned"], row["done"], row["overdue"])
        service_ids.add(row["service_id"])
    tags: dict[int, list[str]] = defaultdict(list)
    tag_label = {k: str(v) for k, v in KeyPopulation.choices}
    for resident_id, tag in (ResidentTag.objects.filter(resident__fd_contracts__in=in_ledger)
                             .values_list("resident_id", "tag").distinct()):
        tags[resident_id].append(tag_label.get(tag, tag))
    sex_label = {k: str(v) for k, v in Sex.choices}
    services = list(PackageService.objects.filter(pk__in=service_ids).order_by("package__kind", "code", "pk"))
    rows = [LedgerRow(pk, number, package, start, end, doctor or "", name, sex_label.get(sex, sex),
                      _age(birth, on), mask_id_number(id_number), mask_phone(phone), village_name or "",
                      sorted(tags.get(resident_id, [])), by_contract.get(pk, {}))
            for (pk, number, package, start, end, doctor, resident_id, name, sex, birth, id_number, phone,
                 village_name) in contracts]
    for r in rows:
        r.ordered = [r.cells.get(svc.pk) for svc in services]
    audit.record(actor, "export" if export else "list", "fd_ledger", team.pk, village=getattr(village, "pk", None),
                 rows=len(rows), on=str(on))
    return Ledger(team, village, on, services, rows, truncated)


def sessions_of(actor: Actor, team: Team, *, since: dt.date | None = None, until: dt.date | None = None):
    """The team's 118 sessions, newest first, each with the number of services done in it (team-level: no
    resident in it, so the managers see them too; the team itself was fetched within the reader's scope)."""
    qs = TeamSession.objects.filter(team=team)
    if since:
        qs = qs.filter(date__gte=since)
    if until:
        qs = qs.filter(date__lte=until)
    return (qs.select_related("village", "place").prefetch_related("present")
            .annotate(services_done=Count("deliveries")).order_by("-date"))


def is_manager_view(user) -> bool:
    return has_role(user, "community_manager", "bureau", "city", "facility_admin")


def contract_for(actor: Actor, pk) -> Contract:
    """One contract whose resident lies within the user's scope (a member of its team may always open it),
    audited; out of scope and missing look the same (404)."""
    check_read(actor, Category.PUBLIC_HEALTH)
    user = actor.user
    try:
        contract = Contract.objects.select_related("resident", "team", "package", "village", "doctor").get(pk=int(pk))
    except (Contract.DoesNotExist, ValueError, TypeError):
        contract = None
    member = contract is not None and getattr(user, "staff_id", None) and contract.team.members.filter(
        staff_id=user.staff_id, until__isnull=True).exists()
    if contract is None or not (member or scope_for(user).contains(contract.resident.area_code)):
        audit.record(actor, "denied", "fd_contract", pk)
        raise NotFound("not_found", _("签约协议不存在或不在您的管辖范围内"))
    audit.record(actor, "view", "fd_contract", contract.pk, resident=contract.resident_id)
    return contract


def contract_schedule(contract: Contract) -> list[ScheduledService]:
    return list(ScheduledService.objects.filter(contract=contract)
                .select_related("service", "delivery", "delivery__by", "delivery__session").order_by("due_by", "seq"))


def recent_deliveries(contract: Contract, limit: int = 50):
    from ..models import ServiceDelivery

    return list(ServiceDelivery.objects.filter(contract=contract)
                .select_related("service", "by", "facility", "session").order_by("-delivered_on", "-id")[:limit])
