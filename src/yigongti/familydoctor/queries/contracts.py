"""Scoped, audited reads of contracts. A reader sees the contracts of residents in their area (``core.scoping``)
and of the teams they belong to (a resident signed across areas); each read needs ``Category.PUBLIC_HEALTH`` and
writes one audit event."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.core.personal import mask_id_number, mask_phone
from yigongti.core.scoping import scope_for
from yigongti.orgs.permissions import Category, can, check_read
from yigongti.residents.models import Household, KeyPopulation, Resident

from ..models import Contract, ContractStatus
from .teams import teams_of_user

LIMIT = 200


def contracts_visible_to(user) -> QuerySet[Contract]:
    qs = Contract.objects.all()
    if user is None:
        return qs
    scope = scope_for(user)
    if scope.unrestricted:
        return qs
    return qs.filter(scope.q("resident__area_code") | Q(team__in=teams_of_user(user).values("pk")))


@dataclass
class ContractFilter:
    team: str = ""
    village: str = ""  # village pk or 12-digit code
    status: str = ""
    tag: str = ""
    q: str = ""  # a name prefix or a contract number

    @classmethod
    def of(cls, params) -> ContractFilter:
        return cls(**{k: str(params.get(k) or "").strip()[:40] for k in ("team", "village", "status", "tag", "q")})


def filtered(user, f: ContractFilter) -> QuerySet[Contract]:
    qs = contracts_visible_to(user)
    if f.team.isdigit():
        qs = qs.filter(team_id=int(f.team))
    if f.village:
        qs = qs.filter(village__code=f.village) if len(f.village) == 12 else (
            qs.filter(village_id=int(f.village)) if f.village.isdigit() else qs.none())
    if f.status in ContractStatus.values:
        qs = qs.filter(status=f.status)
    if f.tag in KeyPopulation.values:
        qs = qs.filter(resident__tags__tag=f.tag)
    if f.q:
        qs = qs.filter(Q(number=f.q.upper()) | Q(resident__name__startswith=f.q))
    return qs


def list_for(actor: Actor, f: ContractFilter, limit: int = LIMIT) -> tuple[list[Contract], int]:
    """(the first ``limit`` contracts matching, their total count), audited."""
    check_read(actor, Category.PUBLIC_HEALTH)
    qs = filtered(actor.user, f).distinct()
    total = qs.count()
    rows = list(qs.select_related("resident", "team", "package", "doctor", "village").order_by("-signed_on", "-id")
                [:limit])
    audit.record(actor, "view", "fd_contract", "", count=len(rows), filter=f.__dict__)
    return rows, total


def get_for(actor: Actor, pk, *, audit_read: bool = True) -> Contract:
    check_read(actor, Category.PUBLIC_HEALTH)
    try:
        c = (contracts_visible_to(actor.user).select_related("resident__village", "team__facility", "package",
                                                               "doctor", "village", "renewed_from", "household")
             .get(pk=int(pk)))
    except (Contract.DoesNotExist, ValueError, TypeError):
        audit.record(actor, "denied", "fd_contract", pk)
        raise NotFound(_("协议不存在或不在您的管辖范围内")) from None
    if audit_read:
        audit.record(actor, "view", "fd_contract", c.pk)
    return c


def history_of(actor: Actor, resident: Resident, limit: int = 10) -> list[Contract]:
    """A resident's contracts, newest first (the resident page's panel), audited; [] without the category."""
    user = actor.user
    if user is not None and not can_read_ph(user):
        return []
    rows = list(contracts_visible_to(user).filter(resident=resident).select_related("team", "package", "doctor")
                .order_by("-start", "-id")[:limit])
    if rows:
        audit.record(actor, "view", "fd_contract", "", resident=resident.pk, count=len(rows))
    return rows


def can_read_ph(user) -> bool:
    from yigongti.orgs.permissions import can_read

    return can_read(user, Category.PUBLIC_HEALTH)


def expiring(actor: Actor, days: int = 30, limit: int = 10) -> tuple[list[Contract], int]:
    """Active contracts of the user's teams ending within ``days`` (to renew), soonest first; audited."""
    today = timezone.localdate()
    qs = (Contract.objects.filter(team__in=teams_of_user(actor.user).values("pk"), status=ContractStatus.ACTIVE,
                                  end__lte=today + dt.timedelta(days=days))
          .select_related("resident", "team").order_by("end", "id"))
    total = qs.count()
    rows = list(qs[:limit])
    if rows:
        audit.record(actor, "view", "fd_contract", "", expiring=days, count=len(rows))
    return rows, total


def masked(user, resident: Resident) -> dict:
    """The resident's ID number and phone as this reader may see them."""
    full = can(user, "residents.unmask")
    return {"id_number": resident.id_number if full else mask_id_number(resident.id_number),
            "phone": resident.phone if full else mask_phone(resident.phone)}


def household_for(actor: Actor, pk) -> Household:
    check_read(actor, Category.PUBLIC_HEALTH)
    hh = Household.objects.select_related("village").filter(pk=as_int(pk)).first()
    if hh is None or (actor.user is not None and not scope_for(actor.user).contains(hh.area_code)):
        audit.record(actor, "denied", "household", pk)
        raise NotFound(_("家庭不存在或不在您的管辖范围内"))
    audit.record(actor, "view", "household", hh.pk)
    return hh


def resident_for(actor: Actor, pk) -> Resident:
    """One resident of the reader's area for the sign page (merged records left out), audited."""
    check_read(actor, Category.PUBLIC_HEALTH)
    qs = Resident.objects.filter(merged_into__isnull=True).select_related("village", "household")
    if actor.user is not None:
        qs = scope_for(actor.user).filter(qs)
    person = qs.filter(pk=as_int(pk)).first()
    if person is None:
        audit.record(actor, "denied", "resident", pk)
        raise NotFound(_("居民档案不存在或不在您的管辖范围内"))
    audit.record(actor, "view", "resident", person.pk, purpose="fd_sign")
    return person


def household_members(household: Household) -> list[Resident]:
    return list(Resident.objects.filter(household=household, merged_into__isnull=True)
                .prefetch_related("tags").order_by("birth_date"))


def active_by_resident(resident_ids) -> dict[int, Contract]:
    return {c.resident_id: c for c in Contract.objects.filter(resident_id__in=list(resident_ids),
                                                              status=ContractStatus.ACTIVE).select_related("team")}


def as_int(value) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0
