"""Reads for payment, DIP, efficiency and simulation: the year's cases as columns (for the services and the
simulation), and the scoped aggregate reads of the pages and the API.

Who reads: the insurance officer, the community's managers, the bureau and the city (aggregates of the fund:
groups, facilities, departments — never a patient). A manager sees the members of their community; the
officer, the bureau and the city the communities of their region."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.db.models import FloatField, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from yigongti.core.actor import Actor
from yigongti.core.carelevel import care_level
from yigongti.core.errors import Forbidden, InvalidInput, NotFound
from yigongti.orgs.models import Facility, MedicalCommunity, Role

from ..models import (
    CaseGroup,
    DipGroup,
    DipLevelFactor,
    DipPointValue,
    Discharge,
    DrgRate,
    DrgWeight,
    GroupStatus,
    Simulation,
)

READERS = {Role.INSURANCE_OFFICER, Role.COMMUNITY_MANAGER, Role.BUREAU, Role.CITY}

def can_view(user) -> bool:
    """Whether the user reads the fund's aggregates (payment, efficiency, DIP, simulations)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or getattr(user, "role", "") in READERS)


def check_view(actor: Actor) -> None:
    if actor.user is None and actor.username != "anonymous":
        return
    if not can_view(actor.user):
        raise Forbidden(_("只有医保经办人员、医共体管理人员、卫健局或市卫健委可以查看医保支付数据"))


def communities_of(actor: Actor) -> QuerySet[MedicalCommunity]:
    """The communities whose fund the actor reads."""
    check_view(actor)
    user = actor.user
    qs = MedicalCommunity.objects.all()
    if user is None or user.is_superuser:
        return qs
    if user.role == Role.COMMUNITY_MANAGER:
        community = user.facility.community_id if user.facility_id else None
        return qs.filter(pk=community) if community else qs.none()
    if user.region_id:
        return qs.filter(region__code__startswith=user.region.prefix)
    if user.facility_id and user.facility.community_id:
        return qs.filter(pk=user.facility.community_id)
    return qs.none()


def member_facilities(actor: Actor) -> QuerySet[Facility]:
    return Facility.objects.filter(community__in=communities_of(actor))


def payment_version() -> str:
    """The version the community pays on (see ``rulepacks.payment_version``)."""
    from ..rulepacks import payment_version as registered

    return registered()


def year_range(year: int) -> tuple[dt.date, dt.date]:
    if not 2000 <= year <= 2100:
        raise InvalidInput("invalid_year", _("年度应在 2000 到 2100 之间"), field="year")
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


@dataclass
class YearCases:
    """The discharges of a year as columns (one position per discharge), with their group under ``version``."""

    version: str
    ids: list[int] = field(default_factory=list)
    facility: list[int] = field(default_factory=list)
    level: list[str] = field(default_factory=list)  # county / township / village
    department: list[str] = field(default_factory=list)
    scheme: list[str] = field(default_factory=list)
    cost: list[Decimal] = field(default_factory=list)
    fund: list[Decimal] = field(default_factory=list)
    los: list[int] = field(default_factory=list)
    special: list[bool] = field(default_factory=list)
    diagnosis: list[str] = field(default_factory=list)  # main diagnosis ("" when not loaded)
    procedure: list[str] = field(default_factory=list)  # main procedure
    grouped: list[bool] = field(default_factory=list)
    drg: list[str] = field(default_factory=list)
    adrg: list[str] = field(default_factory=list)
    mdc: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


def load_year(year: int, version: str, *, facilities: QuerySet[Facility] | None = None,
              codes: bool = False, ids: Iterable[int] | None = None) -> YearCases:
    """Every discharge of the year (by discharge date) at ``facilities`` (default: every community member),
    or only ``ids`` among them, with its group under ``version`` (none: ungrouped). ``codes`` also loads the
    main diagnosis and procedure (DIP needs them; the simulation does not)."""
    first, last = year_range(year)
    facilities = facilities if facilities is not None else Facility.objects.filter(community__isnull=False)
    qs = Discharge.objects.filter(discharge_date__range=(first, last), facility__in=facilities).order_by("pk")
    cg = CaseGroup.objects.filter(version=version, discharge__discharge_date__range=(first, last),
                                  discharge__facility__in=facilities)
    if ids is not None:
        ids = list(ids)
        qs, cg = qs.filter(pk__in=ids), cg.filter(discharge_id__in=ids)
    cols = ["pk", "facility_id", "facility__type", "department", "scheme", "total_cost", "fund_paid", "los_days",
            "special_review"] + (["diagnoses", "procedures"] if codes else [])
    groups = {d: (s == GroupStatus.GROUPED, drg, adrg, mdc)
              for d, drg, adrg, mdc, s in cg.values_list("discharge_id", "drg", "adrg", "mdc", "status")}
    out = YearCases(version)
    levels: dict[str, str] = {}
    none = (False, "", "", "")
    for row in qs.values_list(*cols).iterator(chunk_size=5000):
        pk, fac, ftype, dept, scheme, cost, fund, los, special = row[:9]
        out.ids.append(pk)
        out.facility.append(fac)
        lv = levels.get(ftype)
        if lv is None:
            lv = levels[ftype] = care_level(ftype).value
        out.level.append(lv)
        out.department.append(dept or "")
        out.scheme.append(scheme or "")
        out.cost.append(cost or Decimal(0))
        out.fund.append(fund or Decimal(0))
        out.los.append(los or 0)
        out.special.append(bool(special))
        if codes:
            diags, procs = row[9] or [], row[10] or []
            out.diagnosis.append(str(diags[0]).strip().upper() if diags else "")
            out.procedure.append(str(procs[0]).strip() if procs else "")
        g = groups.get(pk, none)
        out.grouped.append(g[0])
        out.drg.append(g[1] if g[0] else "")
        out.adrg.append(g[2] if g[0] else "")
        out.mdc.append(g[3] if g[0] else "")
    return out


@dataclass
class DipCases:
    """The year's discharges for DIP scoring: costs as a float array, the rest as columns."""

    ids: list[int]
    level: list[str]
    scheme: np.ndarray  # str
    cost: np.ndarray  # float yuan
    diagnosis: list[str]  # main diagnosis, upper case ("" none)
    procedure: list[str]  # main procedure ("" none)


def dip_cases(year: int, *, ids: Iterable[int] | None = None) -> DipCases:
    """Every discharge of the year at a community member (or ``ids`` among them) in one lean query: the
    first diagnosis and procedure read out of the JSON lists and the cost cast to float in SQL."""
    first, last = year_range(year)
    qs = Discharge.objects.filter(discharge_date__range=(first, last), facility__community__isnull=False)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    rows = list(qs.annotate(c=Cast("total_cost", FloatField()), dx=KT("diagnoses__0"), px=KT("procedures__0"))
                .values_list("pk", "facility__type", "scheme", "c", "dx", "px").order_by("pk"))
    levels: dict[str, str] = {}
    for t in {r[1] for r in rows}:
        levels[t] = care_level(t).value
    return DipCases(ids=[r[0] for r in rows], level=[levels[r[1]] for r in rows],
                    scheme=np.array([r[2] or "" for r in rows], dtype=object),
                    cost=np.fromiter((r[3] or 0.0 for r in rows), np.float64, len(rows)),
                    diagnosis=[(r[4] or "").strip().upper() for r in rows],
                    procedure=[(r[5] or "").strip() for r in rows])


# ---- the pages' reads ------------------------------------------------------------------------------------


def rates_of(actor: Actor, year: int) -> list[DrgRate]:
    check_view(actor)
    return list(DrgRate.objects.filter(year=year).order_by("scheme", "level"))


def weights_of(actor: Actor, year: int, version: str, q: str = "") -> QuerySet[DrgWeight]:
    check_view(actor)
    qs = DrgWeight.objects.filter(year=year, version=version).order_by("drg")
    if q:
        q = q.strip()[:20]
        qs = qs.filter(drg__istartswith=q) | qs.filter(name__contains=q)
    return qs


def dip_groups_of(actor: Actor, year: int, kind: str = "") -> QuerySet[DipGroup]:
    check_view(actor)
    qs = DipGroup.objects.filter(year=year).order_by("-cases", "code")
    return qs.filter(kind=kind) if kind in ("core", "combined") else qs


def point_values_of(actor: Actor, year: int) -> list[DipPointValue]:
    check_view(actor)
    return list(DipPointValue.objects.filter(year=year).order_by("scheme"))


def level_factors_of(actor: Actor, year: int) -> list[dict]:
    """The year's DIP 医疗机构等级系数 per care level (stored rows, else the defaults)."""
    from ..dip import DEFAULT_FACTORS

    check_view(actor)
    stored = {f.level: f for f in DipLevelFactor.objects.filter(year=year)}
    out = []
    for level, default in DEFAULT_FACTORS.items():
        f = stored.get(level)
        out.append({"level": level, "factor": f.factor if f else default, "source": f.source if f else "default",
                    "cases": f.cases if f else 0, "raw_ratio": f.raw_ratio if f else None})
    return out


def simulations_of(actor: Actor, year: int | None = None) -> QuerySet[Simulation]:
    check_view(actor)
    qs = Simulation.objects.select_related("created_by")
    user = actor.user
    if user is not None and not user.is_superuser and user.role == Role.COMMUNITY_MANAGER:
        qs = qs.filter(created_by__facility__community_id=user.facility.community_id if user.facility_id else None)
    return qs.filter(year=year) if year else qs


def get_simulation_for(actor: Actor, pk: int) -> Simulation:
    sim = simulations_of(actor).filter(pk=pk).first()
    if sim is None:
        raise NotFound()
    return sim


def years_with_cases() -> list[int]:
    dates = Discharge.objects.dates("discharge_date", "year", order="DESC")
    return [d.year for d in dates]
