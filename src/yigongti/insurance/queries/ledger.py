"""Reads of the budget, the ledger and the reconciliations: aggregates of the fund only (no patient), for the
insurance officer, the community's managers, the bureau and the city, each for the communities in their scope.

The ledger page's figures are computed from ``LedgerEntry`` (a few hundred rows a month) and cached under the
community's ledger version (``ledger.ledger_version``), which posting a month or setting a budget moves."""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from yigongti.core.errors import Forbidden, NotFound
from yigongti.core.scoping import scope_for
from yigongti.encounters.models import FacilityLevel, InsuranceScheme
from yigongti.orgs.models import Facility, MedicalCommunity, Role
from yigongti.orgs.permissions import has_role

from .. import forecast as fc
from ..budget import prealloc_of, withholding_of
from ..ledger import ledger_version
from ..models import Budget, LedgerEntry, Reconciliation, ReconciliationLine

log = logging.getLogger(__name__)
READERS = (Role.INSURANCE_OFFICER, Role.COMMUNITY_MANAGER, Role.BUREAU, Role.CITY)
LEVELS = [FacilityLevel.COUNTY, FacilityLevel.TOWNSHIP, FacilityLevel.VILLAGE, FacilityLevel.OUT_OF_COUNTY,
          FacilityLevel.PHARMACY]
SCHEMES = [InsuranceScheme.RESIDENT, InsuranceScheme.EMPLOYEE]
TOP_GROUPS = 15
CACHE_SECONDS = 24 * 3600
CENT = Decimal("0.01")


def is_fund_reader(user) -> bool:
    return bool(user is not None and user.is_authenticated and (user.is_superuser or has_role(user, *READERS)))


def visible_communities(user):
    """The communities whose fund figures the user may read (refuses anyone else)."""
    if not is_fund_reader(user):
        raise Forbidden(_("只有医保经办、医共体管理人员、卫健局和市卫健委可以查看医保基金台账"))
    scope = scope_for(user)
    qs = MedicalCommunity.objects.select_related("region").order_by("name")
    if user.is_superuser and scope.unrestricted:
        return qs
    return qs.filter(scope.q("region__code"))


def community_for(user, pk: Any = None) -> MedicalCommunity:
    """The community the user reads: the one asked for (if in scope), else the first in scope."""
    qs = visible_communities(user)
    if pk not in (None, ""):
        try:
            c = qs.filter(pk=int(pk)).first()
        except (TypeError, ValueError):
            c = None
        if c is None:
            raise NotFound()
        return c
    c = qs.first()
    if c is None:
        raise NotFound(_("您的管辖范围内没有医共体"))
    return c


def budgets_of(community: MedicalCommunity, year: int | None = None, scheme: str | None = None):
    qs = Budget.objects.filter(community=community).select_related("created_by")
    if year:
        qs = qs.filter(year=year)
    if scheme:
        qs = qs.filter(scheme=scheme)
    return qs.order_by("-year", "scheme", "-version")


def ledger_years(community: MedicalCommunity) -> list[int]:
    years = set(LedgerEntry.objects.filter(community=community).values_list("year", flat=True).distinct())
    years |= set(Budget.objects.filter(community=community).values_list("year", flat=True).distinct())
    return sorted(years, reverse=True)


def _monthly(community: MedicalCommunity, scheme: str, years: Q) -> dict[int, list[Decimal]]:
    out: dict[int, list[Decimal]] = {}
    rows = (LedgerEntry.objects.filter(years, community=community, scheme=scheme)
            .values("year", "month").annotate(fund=Sum("fund_paid")).order_by())
    for r in rows:
        out.setdefault(r["year"], [Decimal(0)] * 12)[r["month"] - 1] = _cents(r["fund"])
    return out


def _cents(x) -> Decimal:
    """A database sum as yuan to the cent (SQLite hands back sums with trailing digits)."""
    return Decimal(x or 0).quantize(CENT)


def _group_names(codes: list[str]) -> dict[str, str]:
    from ..drg import RulePackError, pack_for
    from ..ledger import payment_version

    try:
        names = pack_for(payment_version()).drg_names
        return {c: names.get(c, "") for c in codes}
    except RulePackError:  # the pack of the payment version does not load: codes only
        log.debug("no DRG names", exc_info=True)
        return {}


def ledger_summary(community: MedicalCommunity, year: int, scheme: str) -> dict[str, Any]:
    """Every figure of the ledger page, cached under the community's ledger version."""
    key = (f"insurance:ledger-summary:{community.pk}:{year}:{scheme}:{ledger_version(community.pk)}:"
           f"{get_language() or 'zh-hans'}")  # the warning and basis are sentences in the reader's language
    found = cache.get(key)
    if found is not None:
        return found
    summary = compute_summary(community, year, scheme)
    cache.set(key, summary, CACHE_SECONDS)
    return summary


def compute_summary(community: MedicalCommunity, year: int, scheme: str) -> dict[str, Any]:
    """The ledger page's figures straight from the ledger (uncached)."""
    budget = budgets_of(community, year, scheme).first()
    history = _monthly(community, scheme, Q(year__lte=year))
    months = history.pop(year, [Decimal(0)] * 12)
    entries = LedgerEntry.objects.filter(community=community, year=year, scheme=scheme)
    posted = sorted(set(entries.values_list("month", flat=True).distinct()))
    to_date = sum(months, Decimal(0))
    by_level = {r["level"]: r for r in entries.values("level").annotate(fund=Sum("fund_paid"), cases=Sum("cases"))
                .order_by()}
    levels: list[dict[str, Any]] = []
    for lv in LEVELS:
        fund = _cents(by_level.get(lv.value, {}).get("fund"))
        share = float(fund / to_date) if to_date else 0.0
        levels.append({"level": lv.value, "label": lv.label, "fund": fund,
                       "cases": by_level.get(lv.value, {}).get("cases") or 0, "share": share,
                       "pct": round(share * 100, 1)})
    groups = list(entries.exclude(group="").values("group").annotate(fund=Sum("fund_paid"), cases=Sum("cases"),
                                                                       cost=Sum("total_cost"))
                  .order_by("-fund", "group")[:TOP_GROUPS])
    names = _group_names([g["group"] for g in groups])
    for g in groups:
        g["fund"], g["cost"] = _cents(g["fund"]), _cents(g["cost"])
        g["name"] = names.get(g["group"], "")
        g["share"] = float(g["fund"] / to_date) if to_date else 0.0
        g["pct"] = round(g["share"] * 100, 1)
    member_names = dict(Facility.objects.filter(community=community).values_list("pk", "name"))
    members = [{"facility": member_names.get(r["facility"], ""), "fund": _cents(r["fund"]), "cases": r["cases"]}
               for r in entries.exclude(facility=None).values("facility").annotate(fund=Sum("fund_paid"),
                                                                                   cases=Sum("cases"))
               .order_by("-fund")]
    amount = budget.amount if budget else None
    prealloc = prealloc_of(budget) if budget else [Decimal(0)] * 12
    # the month in progress is left out of the forecast: its part-month spend would read as a cheap month
    today = timezone.localdate()
    complete = [m for m in posted if (year, m) < (today.year, today.month)]
    f = fc.forecast(year, {m: months[m - 1] for m in complete}, history, amount)
    if len(complete) < len(posted):
        f = replace(f, basis=f.basis + _("；本月尚未结束，未计入预测"))
    out_fund: Decimal = next(lv["fund"] for lv in levels if lv["level"] == FacilityLevel.OUT_OF_COUNTY)
    return {
        "year": year, "scheme": scheme, "posted": posted,
        "budget": budget_dict(budget) if budget else None,
        "amount": amount, "withholding": withholding_of(budget) if budget else None,
        "to_date": to_date, "execution": float(to_date / amount) if amount else None,
        "execution_pct": round(float(to_date / amount) * 100, 1) if amount else None,
        "expected_pct": round(float(f.expected / amount) * 100, 1) if amount else None,
        "remaining": (amount - to_date) if amount is not None else None,
        "prealloc_to_date": sum((prealloc[m - 1] for m in range(1, (posted[-1] if posted else 0) + 1)), Decimal(0)),
        "months": [{"month": m, "spend": months[m - 1], "prealloc": prealloc[m - 1], "posted": m in posted,
                    "cumulative": f.path[m - 1] if f.path else Decimal(0),
                    "projected": f.projected[m - 1] if f.projected else False} for m in range(1, 13)],
        "out_of_county": out_fund, "out_of_county_share": float(out_fund / to_date) if to_date else 0.0,
        "out_of_county_pct": round(float(out_fund / to_date) * 100, 1) if to_date else 0.0,
        "levels": levels, "groups": groups, "members": members, "forecast": f, "warning": fc.warning(f),
    }


def budget_dict(b: Budget) -> dict[str, Any]:
    return {"id": b.pk, "year": b.year, "scheme": b.scheme, "scheme_label": b.get_scheme_display(),
            "version": b.version, "status": b.status, "status_label": b.get_status_display(),
            "prior_spend": b.prior_spend, "growth_rate": b.growth_rate, "amount": b.amount,
            "withholding_rate": b.withholding_rate, "monthly_prealloc": [Decimal(str(x)) for x in b.monthly_prealloc],
            "retained_share": b.retained_share, "overspend_cap": b.overspend_cap,
            "overspend_share": b.overspend_share, "out_of_county_deduction": b.out_of_county_deduction,
            "rules": b.rules, "note": b.note, "created_by": str(b.created_by or ""), "created_at": b.created_at}


def forecast_for(community: MedicalCommunity, year: int, scheme: str) -> fc.Forecast:
    return ledger_summary(community, year, scheme)["forecast"]


def reconciliations_of(community: MedicalCommunity):
    return Reconciliation.objects.filter(community=community).select_related("imported_by")


def reconciliation_for(user, pk: int) -> Reconciliation:
    rec = Reconciliation.objects.filter(pk=pk, community__in=visible_communities(user)).first()
    if rec is None:
        raise NotFound()
    return rec


def reconciliation_lines(rec: Reconciliation, kind: str = ""):
    qs = rec.lines.all().order_by("kind", "row_number", "settlement_no")
    if kind in ReconciliationLine.Kind.values:
        qs = qs.filter(kind=kind)
    return qs
