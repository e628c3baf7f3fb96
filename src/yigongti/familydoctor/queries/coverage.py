"""Contract coverage (签约覆盖率) of every key population against the 100 % goal, by township, village and team, and
the list of the unsigned (who to chase). Scoped by ``core.scoping``; the aggregates are audited as a coverage view,
the unsigned list as a person-level read (``Category.PUBLIC_HEALTH``), masked. The counts need no read category
(managers and the bureau see them on the dashboard), only the scope.

Definitions: the population of a tag is the residents of the register carrying that tag (``ResidentTag``), not
merged; signed = with an active contract (``Contract.status = active``). "all" is every resident of the area.
A team's figures are those of the residents of its current villages (``TeamVillage``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput, NotFound
from yigongti.core.personal import mask_id_number
from yigongti.core.scoping import scope_for
from yigongti.familydoctor.models import Contract, Team, TeamVillage
from yigongti.orgs.models import Region
from yigongti.orgs.permissions import Category, check_read
from yigongti.residents.models import KeyPopulation, Resident, ResidentTag

ALL = "all"
GOAL = Decimal(100)  # "重点人群做到了100%签约"


def rate(signed: int, population: int) -> Decimal | None:
    if not population:
        return None
    return (Decimal(signed) * 100 / Decimal(population)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass
class Cell:
    population: int = 0
    signed: int = 0

    @property
    def unsigned(self) -> int:
        return self.population - self.signed

    @property
    def rate(self) -> Decimal | None:
        return rate(self.signed, self.population)


@dataclass
class Row:
    code: str  # region code (township / village) or team id
    name: str
    cells: dict[str, Cell] = field(default_factory=dict)  # tag (or "all") → cell
    drill: dict[str, str] = field(default_factory=dict)  # query parameters of the drill-down

    def cell(self, tag: str) -> Cell:
        return self.cells.get(tag) or Cell()


@dataclass
class Coverage:
    level: str  # township | village | team
    rows: list[Row]
    total: Row
    tags: list[tuple[str, str]]  # (value, label) of the key populations shown
    parent: Region | None = None
    team: Team | None = None


def _signed() -> Exists:
    return Exists(Contract.objects.filter(resident_id=OuterRef("pk"), status="active"))


def _residents(actor: Actor) -> QuerySet[Resident]:
    return scope_for(actor.user).filter(Resident.objects.filter(merged_into__isnull=True))


def team_villages(team: Team, on: dt.date | None = None) -> list[Region]:
    on = on or timezone.localdate()
    ids = TeamVillage.objects.filter(team=team, since__lte=on).filter(
        Q(until__isnull=True) | Q(until__gte=on)).values_list("village_id", flat=True)
    return list(Region.objects.filter(pk__in=list(ids)).order_by("code"))


def _region(code: str, field_name: str) -> Region:
    region = Region.objects.filter(code=code).first() if code and code.isdigit() else None
    if region is None:
        raise InvalidInput("invalid_region", _("区划代码无效"), field=field_name)
    return region


def _team(actor: Actor, team_id) -> Team:
    try:
        team = Team.objects.get(pk=int(team_id))
    except (Team.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("团队不存在")) from None
    villages = team_villages(team)
    scope = scope_for(actor.user)
    if not any(scope.contains(v.code) for v in villages) and not scope.unrestricted:
        raise NotFound(_("团队不存在或不在您的管辖范围内"))
    return team


def _add_into(into: dict[str, Cell], cells: dict[str, Cell]) -> None:
    """Add each key population's counts of ``cells`` into ``into``."""
    for tag, cell in cells.items():
        t = into.setdefault(tag, Cell())
        t.population += cell.population
        t.signed += cell.signed


def _by_team(actor: Actor, base: QuerySet[Resident], township: Region | None) -> Coverage:
    """One row per team: the residents (within the reader's scope) of the team's current villages."""
    on = timezone.localdate()
    links = TeamVillage.objects.filter(since__lte=on).filter(Q(until__isnull=True) | Q(until__gte=on))
    if township is not None:
        links = links.filter(village__code__startswith=township.code[:9])
    team_of = dict(links.values_list("village_id", "team_id"))
    base = base.filter(village_id__in=list(team_of))
    per_village: dict[int, dict[str, Cell]] = {}
    for row in base.values("village_id").annotate(n=Count("id"), s=Count("id", filter=Q(_signed()))):
        per_village.setdefault(row["village_id"], {})[ALL] = Cell(row["n"], row["s"])
    tag_signed = Exists(Contract.objects.filter(resident_id=OuterRef("resident_id"), status="active"))
    for row in (ResidentTag.objects.filter(resident__in=base.values("pk")).values("resident__village_id", "tag")
                .annotate(n=Count("id"), s=Count("id", filter=Q(tag_signed)))):
        per_village.setdefault(row["resident__village_id"], {})[row["tag"]] = Cell(row["n"], row["s"])
    per_team: dict[int, dict[str, Cell]] = {}
    for village_id, cells in per_village.items():
        _add_into(per_team.setdefault(team_of[village_id], {}), cells)
    names = dict(Team.objects.filter(pk__in=list(per_team)).values_list("pk", "name"))
    rows = [Row(str(pk), names.get(pk, str(pk)), per_team[pk], {"team": str(pk)})
            for pk in sorted(per_team, key=lambda k: (names.get(k, ""), k))]
    total = Row("", _("合计"))
    for r in rows:
        _add_into(total.cells, r.cells)
    audit.record(actor, "view", "fd_coverage", township.code if township else "", level="team", rows=len(rows))
    return Coverage("team", rows, total, [(v, str(label)) for v, label in KeyPopulation.choices], township)


def coverage(actor: Actor, *, township: str = "", village: str = "", team=None, by_team: bool = False) -> Coverage:
    """Coverage per key population: by township (no filter), by village (``township``), one village
    (``village``) or a team's villages (``team``); with ``by_team`` one row per team (of the ``township`` if given).
    Counts only, within the user's scope: managers and the bureau see them too (the unsigned list, person-level,
    needs ``Category.PUBLIC_HEALTH``)."""
    base = _residents(actor)
    if by_team and not team and not village:
        return _by_team(actor, base, _region(township, "township") if township else None)
    parent, the_team = None, None
    if team:
        the_team = _team(actor, team)
        villages = team_villages(the_team)
        base = base.filter(village_id__in=[v.pk for v in villages])
        level, width = "village", 12
    elif village:
        parent = _region(village, "village")
        base = base.filter(area_code=parent.code)
        level, width = "village", 12
    elif township:
        parent = _region(township, "township")
        base = base.filter(area_code__startswith=parent.code[:9])
        level, width = "village", 12
    else:
        level, width = "township", 9
    cells: dict[str, dict[str, Cell]] = {}
    signed = _signed()
    for row in (base.annotate(area=Substr("area_code", 1, width)).values("area")
                .annotate(n=Count("id"), s=Count("id", filter=Q(signed)))):
        cells.setdefault(row["area"], {})[ALL] = Cell(row["n"], row["s"])
    tag_signed = Exists(Contract.objects.filter(resident_id=OuterRef("resident_id"), status="active"))
    tags = ResidentTag.objects.filter(resident__in=base.values("pk"))
    for row in (tags.annotate(area=Substr("resident__area_code", 1, width)).values("area", "tag")
                .annotate(n=Count("id"), s=Count("id", filter=Q(tag_signed)))):
        cells.setdefault(row["area"], {})[row["tag"]] = Cell(row["n"], row["s"])
    codes = sorted(cells)
    full = [(c + "0" * 12)[:12] for c in codes]
    names = dict(Region.objects.filter(code__in=full).values_list("code", "name"))
    rows = []
    for c, f in zip(codes, full, strict=True):
        drill = {"township": f} if level == "township" else {"village": f}
        rows.append(Row(f, names.get(f, f), cells[c], drill))
    total = Row("", _("合计"))
    for r in rows:
        _add_into(total.cells, r.cells)
    shown = [(v, str(label)) for v, label in KeyPopulation.choices]
    audit.record(actor, "view", "fd_coverage", the_team.pk if the_team else (parent.code if parent else ""),
                 level=level, rows=len(rows))
    return Coverage(level, rows, total, shown, parent, the_team)


@dataclass
class Unsigned:
    pk: int
    name: str
    sex: str
    age: int
    id_number: str  # masked
    village: str
    tags: list[str]
    last_contract_end: dt.date | None


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def unsigned(actor: Actor, *, tag: str, village: str = "", team=None, limit: int = 500) -> list[Unsigned]:
    """The residents of a key population without an active contract in a village (or a team's villages)."""
    check_read(actor, Category.PUBLIC_HEALTH)
    if tag != ALL and tag not in KeyPopulation.values:
        raise InvalidInput("invalid_tag", _("请选择重点人群"), field="tag")
    qs = _residents(actor)
    if team:
        qs = qs.filter(village_id__in=[v.pk for v in team_villages(_team(actor, team))])
    elif village:
        qs = qs.filter(area_code=_region(village, "village").code)
    else:
        raise InvalidInput("invalid_village", _("请选择村或团队"), field="village")
    if tag != ALL:
        qs = qs.filter(tags__tag=tag)
    qs = qs.exclude(_signed()).select_related("village").prefetch_related("tags").order_by("village__code", "name",
                                                                                         "pk")
    today = timezone.localdate()
    rows = list(qs[:limit])
    ends = dict(Contract.objects.filter(resident__in=rows).exclude(status="active").order_by("resident_id", "end")
                .values_list("resident_id", "end"))
    out = [Unsigned(r.pk, r.name, r.get_sex_display(), _age(r.birth_date, today), mask_id_number(r.id_number),
                    r.village.name if r.village else "", [t.get_tag_display() for t in r.tags.all()], ends.get(r.pk))
           for r in rows]
    audit.record(actor, "list", "fd_unsigned", village or (team or ""), tag=tag, count=len(out))
    return out


def township_summary(actor: Actor, township: Region) -> Row | None:
    """The one township's key-population coverage (the home panel)."""
    cov = coverage(actor, township=township.code)
    return cov.total if cov.rows else None
