"""Reads of the year-end settlement: which communities a user may see, the year's figures (from the posted
ledger, or straight from the settlements when the ledger of the year is not fully posted), the preview of a
close and the closed settlements. Aggregates of the fund only (no person), for the insurance officer, the
community's managers, the bureau and the city, each within their region."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Case, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.carelevel import IN_COUNTY_LEVELS
from yigongti.core.errors import Forbidden, NotFound
from yigongti.core.scoping import scope_for
from yigongti.encounters.models import FacilityLevel, InsuranceScheme, InsuranceSettlement, SettlementType
from yigongti.orgs.models import Facility, MedicalCommunity, Role
from yigongti.orgs.permissions import has_role

from ..models import Budget, BudgetStatus, LedgerEntry, MemberAllocation, YearSettlement
from ..settlement import Member, Outcome, Rules, Spend, compute_settlement

READERS = (Role.INSURANCE_OFFICER, Role.COMMUNITY_MANAGER, Role.BUREAU, Role.CITY)
SCHEMES = (InsuranceScheme.RESIDENT, InsuranceScheme.EMPLOYEE)
OUT = FacilityLevel.OUT_OF_COUNTY.value


def may_read(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and (user.is_superuser or has_role(user, *READERS)))


def visible_communities(actor: Actor) -> QuerySet[MedicalCommunity]:
    """The communities whose fund the actor may read: those whose county lies in the actor's region."""
    if actor.user is None:
        return MedicalCommunity.objects.select_related("region").order_by("pk")
    if not may_read(actor.user):
        return MedicalCommunity.objects.none()
    scope = scope_for(actor.user)
    return scope.filter(MedicalCommunity.objects.select_related("region"), "region__code").order_by("pk")


def check_reader(actor: Actor) -> None:
    """Forbidden for a role that reads no fund figures."""
    if actor.user is not None and not may_read(actor.user):
        raise Forbidden(_("只有医保经办人员、医共体管理人员、卫健局或市卫健委可以查看年度清算"))


def community_for(actor: Actor, community_id: Any = None) -> MedicalCommunity:
    """The community asked for (or the first visible), Forbidden for a role that reads no fund, NotFound for one
    outside the actor's region."""
    check_reader(actor)
    qs = visible_communities(actor)
    if community_id not in (None, ""):
        try:
            community = qs.filter(pk=int(community_id)).first()
        except (TypeError, ValueError):
            community = None
    else:
        community = qs.first()
    if community is None:
        raise NotFound(_("没有可查看的医共体"))
    return community


def county_of(community: MedicalCommunity) -> str:
    return community.region.code[:6]


def budget_of(community: MedicalCommunity, year: int, scheme: str) -> Budget | None:
    """The year's budget of a scheme (its highest version)."""
    return Budget.objects.filter(community=community, year=year, scheme=scheme).order_by("-version").first()


def year_budgets(community: MedicalCommunity) -> list[Budget]:
    """The current version of every year and scheme, newest year first."""
    seen, out = set(), []
    for b in Budget.objects.filter(community=community).order_by("-year", "scheme", "-version"):
        if (b.year, b.scheme) not in seen:
            seen.add((b.year, b.scheme))
            out.append(b)
    return out


# ---- the year's figures -----------------------------------------------------------------------------------


@dataclass
class YearFigures:
    spend: Spend
    members: list[Member]
    source: str  # "ledger" or "settlements"
    notes: list[str] = field(default_factory=list)


LEVEL_ORDER = {"county": 0, "township": 1, "village": 2}


def members_of(community: MedicalCommunity) -> list[Facility]:
    """The community's member facilities: the county level first, then the townships, then the villages."""
    members = Facility.objects.filter(community=community).select_related("region")
    return sorted(members, key=lambda f: (LEVEL_ORDER.get(f.care_level.value, 3), f.code))


def member_stubs(community: MedicalCommunity) -> list[Member]:
    """The members without figures (enough to read a close form)."""
    return [Member(f.pk, f.code, f.name) for f in members_of(community)]


def year_figures(community: MedicalCommunity, year: int, scheme: str, *, posted_only: bool = False) -> YearFigures:
    """The fund's spend of the year and scheme and each member's figures: from the ledger when all twelve months
    of the year are posted, else straight from the settlements (``settlement_figures``), saying so.

    ``posted_only`` (the preview on a page, which must not aggregate a county's year of settlements in the
    request): the ledger's posted months whenever there are some, saying which."""
    posted = sorted(set(LedgerEntry.objects.filter(community=community, year=year)
                        .values_list("month", flat=True).distinct()))
    if posted == list(range(1, 13)):
        return ledger_figures(community, year, scheme)
    if posted and posted_only:
        figures = ledger_figures(community, year, scheme)
        figures.notes = [_("预览按基金台账已过账的 %(months)s 月计算，未过账月份未计入；清算时按医保结算明细计算全年")
                         % {"months": "、".join(str(m) for m in posted)}]
        return figures
    figures = settlement_figures(community, year, scheme)
    if posted:
        figures.notes.append(_("基金台账本年度仅过账 %(months)s 月，按医保结算明细直接计算")
                             % {"months": "、".join(str(m) for m in posted)})
    else:
        figures.notes.append(_("基金台账本年度未过账，按医保结算明细直接计算"))
    return figures


def _members(community: MedicalCommunity, rows: dict[int, dict[str, Any]]) -> list[Member]:
    out = []
    for f in members_of(community):
        r = rows.get(f.pk, {})
        out.append(Member(f.pk, f.code, f.name, int(r.get("outpatient") or 0), int(r.get("inpatient") or 0),
                          Decimal(r.get("fund") or 0)))
    return out


def ledger_figures(community: MedicalCommunity, year: int, scheme: str) -> YearFigures:
    qs = LedgerEntry.objects.filter(community=community, year=year, scheme=scheme)
    totals = qs.aggregate(total=Sum("fund_paid"), out=Sum("fund_paid", filter=Q(level=OUT)))
    rows: dict[int, dict[str, Any]] = {}
    for r in (qs.filter(facility__isnull=False).values("facility_id")
              .annotate(outpatient=Sum("cases", filter=Q(settlement_type=SettlementType.OUTPATIENT)),
                        inpatient=Sum("cases", filter=Q(settlement_type=SettlementType.INPATIENT)),
                        fund=Sum("fund_paid")).order_by()):
        rows[r["facility_id"]] = r
    spend = Spend(Decimal(totals["total"] or 0), Decimal(totals["out"] or 0))
    return YearFigures(spend, _members(community, rows), "ledger",
                       [_("数据来源：基金台账（%(y)s 年 1–12 月已过账）") % {"y": year}])


def settlement_figures(community: MedicalCommunity, year: int, scheme: str) -> YearFigures:
    """The year's figures straight from ``InsuranceSettlement``, by the ledger's own rules: the county's insureds
    (``residence_county``), settled in the year; a reversal (冲销) subtracts its amounts and one case; care is
    outside the county unless it is a pharmacy purchase or at a county/township/village facility of the
    insured's own county; a member's figures are the in-county settlements carrying its code."""
    qs = InsuranceSettlement.objects.filter(residence_county=county_of(community), scheme=scheme,
                                            settle_date__gte=dt.date(year, 1, 1),
                                            settle_date__lt=dt.date(year + 1, 1, 1))
    in_county = Q(facility_level__in=IN_COUNTY_LEVELS) & Q(facility_county=F("residence_county"))
    outside = ~Q(type=SettlementType.PHARMACY) & ~in_county
    totals = qs.aggregate(total=Sum("fund_paid"), out=Sum("fund_paid", filter=outside))
    one = Case(When(reverses_no="", then=Value(1)), default=Value(-1), output_field=IntegerField())
    codes = {f.code: f.pk for f in members_of(community)}
    rows: dict[int, dict[str, Any]] = {}
    for r in (qs.filter(in_county, ~Q(type=SettlementType.PHARMACY), facility_code__in=list(codes))
              .values("facility_code")
              .annotate(outpatient=Sum(one, filter=Q(type=SettlementType.OUTPATIENT)),
                        inpatient=Sum(one, filter=Q(type=SettlementType.INPATIENT)), fund=Sum("fund_paid"))
              .order_by()):
        rows[codes[r["facility_code"]]] = r
    spend = Spend(Decimal(totals["total"] or 0), Decimal(totals["out"] or 0))
    return YearFigures(spend, _members(community, rows), "settlements")


# ---- preview and results ----------------------------------------------------------------------------------


@dataclass
class Preview:
    budget: Budget
    figures: YearFigures
    rules: Rules
    outcome: Outcome

    @property
    def explanation(self) -> list[str]:
        return [*self.figures.notes, *self.outcome.explanation]


def preview(budget: Budget) -> Preview:
    """What closing the budget's year would give with today's figures (nothing is written): the ledger's posted
    months when there are some (see ``year_figures``)."""
    figures = year_figures(budget.community, budget.year, budget.scheme, posted_only=True)
    rules = Rules.of_budget(budget)
    return Preview(budget, figures, rules, compute_settlement(budget.amount, figures.spend, rules))


def settlement_of(budget: Budget) -> YearSettlement | None:
    """The settlement of the budget's year and scheme (of whichever version was closed)."""
    return (YearSettlement.objects.select_related("budget", "budget__community", "closed_by")
            .filter(budget__community_id=budget.community_id, budget__year=budget.year,
                    budget__scheme=budget.scheme).first())


def get_settlement_for(actor: Actor, pk: int) -> YearSettlement:
    """A closed settlement the actor may read (NotFound otherwise, as for one that does not exist)."""
    s = (YearSettlement.objects.select_related("budget", "budget__community", "budget__community__region",
                                               "closed_by").filter(pk=pk).first())
    if s is None or not visible_communities(actor).filter(pk=s.budget.community_id).exists():
        check_reader(actor)
        raise NotFound()
    return s


def allocations_of(settlement: YearSettlement) -> list[MemberAllocation]:
    """The allocations in the members' order (county level first)."""
    rows = settlement.allocations.select_related("facility")
    return sorted(rows, key=lambda a: (LEVEL_ORDER.get(a.facility.care_level.value, 3), a.facility.code))


def allocation_for(settlement: YearSettlement, facility_id: int) -> MemberAllocation:
    a = settlement.allocations.select_related("facility").filter(facility_id=facility_id).first()
    if a is None:
        raise NotFound(_("该机构不是本次清算的成员单位"))
    return a


def closed_settlements(actor: Actor, year: int | None = None, scheme: str = "") -> QuerySet[YearSettlement]:
    qs = YearSettlement.objects.select_related("budget", "budget__community").filter(
        budget__community__in=visible_communities(actor), budget__status=BudgetStatus.CLOSED)
    if year:
        qs = qs.filter(budget__year=year)
    if scheme:
        qs = qs.filter(budget__scheme=scheme)
    return qs.order_by("-budget__year", "budget__scheme")
