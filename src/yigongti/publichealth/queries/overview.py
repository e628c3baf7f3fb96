"""The public-health overview of the reader's area (公共卫生概览): aggregates only, no person shown.

Definitions (docs/publichealth.md, "Health checks"):

- **population**: the residents of the register in the reader's scope (``core.scoping``), merged duplicates left
  out — the register is the only population count the system holds;
- **健康档案建档率** (health-record coverage): residents whose register entry is a complete record — an ID number,
  a household and a village — ÷ the population;
- **档案动态使用率** (records in use): residents with at least one service recorded in the last 12 months (an
  encounter, a health check, a chronic follow-up, a maternal or child visit, a vaccine dose) ÷ the population;
- **65+ health-check coverage**: residents 65+ on 31 December with a check this calendar year ÷ residents 65+;
  the same for the managed chronic patients;
- **due counts**: the due items of the area by kind (``familydoctor.DueItem``, as of their last recompute), the
  immunisation doses computed now from the doses on record when the area is small enough.

Figures are cached per scope for ``TTL`` seconds: the county's counts scan the register."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, Exists, Max, OuterRef, Q

from yigongti.core.actor import Actor
from yigongti.core.errors import Forbidden
from yigongti.core.scoping import scope_for
from yigongti.orgs.permissions import Category, can_read
from yigongti.residents.models import Resident

from ..models import ChildVisit, HealthCheck, MaternalVisit, Pregnancy, PregnancyStatus, VaccineDose
from . import checks, immunisation

TTL = 300
MANAGING_ROLES = frozenset({"bureau", "city", "community_manager"})


def may_see_overview(user) -> bool:
    if user is None:
        return True
    return can_read(user, Category.PUBLIC_HEALTH) or bool(getattr(user, "is_superuser", False)) or getattr(
        user, "role", "") in MANAGING_ROLES


def may_see_people(user) -> bool:
    return user is None or can_read(user, Category.PUBLIC_HEALTH)


@dataclass
class Overview:
    on: dt.date
    population: int = 0
    complete_records: int = 0
    active_records: int = 0
    elderly: int = 0
    elderly_checked: int = 0
    chronic: int = 0
    chronic_checked: int = 0
    pregnancies: int = 0
    children: int = 0
    due: dict[str, dict[str, int]] = field(default_factory=dict)
    due_computed_at: dt.datetime | None = None
    vaccines: dict[str, int] | None = None

    @staticmethod
    def rate(num: int, den: int) -> float | None:
        return round(100.0 * num / den, 1) if den else None

    @property
    def record_rate(self) -> float | None:
        return self.rate(self.complete_records, self.population)

    @property
    def active_rate(self) -> float | None:
        return self.rate(self.active_records, self.population)

    @property
    def elderly_rate(self) -> float | None:
        return self.rate(self.elderly_checked, self.elderly)

    @property
    def chronic_rate(self) -> float | None:
        return self.rate(self.chronic_checked, self.chronic)

    def due_of(self, kind: str) -> dict[str, int]:
        return self.due.get(kind, {"due": 0, "overdue": 0})


def _active_q(since: dt.date):
    from yigongti.chronic.models import FollowUp
    from yigongti.encounters.models import Encounter

    pk = OuterRef("pk")
    return (Exists(Encounter.objects.filter(resident=pk, admit_date__gte=since))
            | Exists(HealthCheck.objects.filter(resident=pk, date__gte=since))
            | Exists(FollowUp.objects.filter(resident=pk, visit_date__gte=since))
            | Exists(MaternalVisit.objects.filter(pregnancy__resident=pk, date__gte=since))
            | Exists(ChildVisit.objects.filter(child=pk, date__gte=since))
            | Exists(VaccineDose.objects.filter(child=pk, given_on__gte=since)))


def _due_counts(user, on: dt.date) -> tuple[dict[str, dict[str, int]], dt.datetime | None]:
    from yigongti.familydoctor.models import DueItem

    qs = DueItem.objects.all()
    if user is not None:
        qs = scope_for(user).filter(qs, "area_code")
    out: dict[str, dict[str, int]] = {}
    for row in qs.values("kind").annotate(n=Count("id"), late=Count("id", filter=Q(due_by__lt=on))):
        out[row["kind"]] = {"due": row["n"], "overdue": row["late"]}
    return out, qs.aggregate(at=Max("computed_at"))["at"]


def compute(user, on: dt.date) -> Overview:
    residents = Resident.objects.filter(merged_into__isnull=True)
    if user is not None:
        residents = scope_for(user).filter(residents)
    since = on - dt.timedelta(days=365)
    totals = residents.aggregate(
        population=Count("id"),
        complete=Count("id", filter=Q(id_number__isnull=False, household__isnull=False, village__isnull=False)))
    cov = checks.coverage(user, year=on.year)
    pregnancies = Pregnancy.objects.exclude(status=PregnancyStatus.CLOSED)
    if user is not None:
        pregnancies = scope_for(user).filter(pregnancies, "resident__area_code")
    due, at = _due_counts(user, on)
    return Overview(
        on=on, population=totals["population"], complete_records=totals["complete"],
        active_records=residents.filter(_active_q(since)).count(),
        elderly=cov["elderly"], elderly_checked=cov["elderly_checked"], chronic=cov["chronic"],
        chronic_checked=cov["chronic_checked"], pregnancies=pregnancies.count(),
        children=immunisation.children_visible_to(user, on).count(), due=due, due_computed_at=at,
        vaccines=immunisation.counts(user, on=on))


def _key(user, on: dt.date) -> str:
    prefixes = scope_for(user).prefixes if user is not None else None
    scope = "*" if prefixes is None else ",".join(sorted(prefixes))
    return f"publichealth:overview:{on.isoformat()}:{scope}"


def overview(actor: Actor, *, on: dt.date, fresh: bool = False) -> Overview:
    """The overview of the actor's area (cached per scope for ``TTL`` seconds unless ``fresh``)."""
    user = actor.user
    if not may_see_overview(user):
        raise Forbidden(code="permission_denied")
    key = _key(user, on)
    got = None if fresh else cache.get(key)
    if got is None:
        got = compute(user, on)
        cache.set(key, got, TTL)
    return got
