"""The insurance app's panel of the home page (registered with ``orgs.home`` in ``apps.py``).

The insurance officer (and the community's managers, who read the fund's aggregates) sees the year's budget
execution so far against the time elapsed, the forecast's warning when the budget will not hold, the ledger's
in-county share (N08, linked to the indicator, whose engine gives the same figure) and the number of discharges
whose settlement list (结算清单) still has problems that block grouping. Aggregates only: no patient is named, so
nothing here is audited."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.orgs.home import TODO, Item, Panel
from yigongti.orgs.models import Role
from yigongti.orgs.permissions import Category, can_read, has_role

from . import indicators
from .models import Discharge, LedgerEntry
from .queries.cases import INCOMPLETE

READERS = (Role.INSURANCE_OFFICER, Role.COMMUNITY_MANAGER)


def _community(user):
    from yigongti.indicators.queries import community_of, default_area

    area = default_area(user)
    return community_of(area) if area.kind in indicators.FUND_AREAS else None


def _wan(x: Decimal) -> str:
    return f"{(Decimal(x) / 10000).quantize(Decimal('0.1')):,}"


def fund_panel(actor: Actor) -> Panel | None:
    """预算执行、预测预警、待完善结算清单 of the reader's community for the current year."""
    user = actor.user
    if user is None or not (user.is_superuser or has_role(user, *READERS)):
        return None
    community = _community(user)
    if community is None:
        return None
    year = timezone.localdate().year
    ledger = reverse("insurance:ledger") + f"?year={year}"
    items: list[Item] = []
    budgets = indicators.current_budgets(community, year)
    amount = sum((b.amount for b in budgets), Decimal(0))
    spent = LedgerEntry.objects.filter(community=community, year=year).values_list("fund_paid", flat=True)
    spend = sum(spent, Decimal(0))
    if amount:
        share = (spend / amount * 100).quantize(Decimal("0.1"))
        done = indicators.posted(community, [(year, m) for m in range(1, 13)])
        pace = (Decimal(len(done)) / 12 * 100).quantize(Decimal("0.1"))
        items.append(Item(_("预算执行（%(y)s 年）") % {"y": year}, ledger, f"{share}%",
                          note=_("已支出 %(s)s 万元 / 预算 %(a)s 万元 · 时间进度 %(p)s%%")
                          % {"s": _wan(spend), "a": _wan(amount), "p": pace},
                          tone="danger" if share > pace + 5 else ("warning" if share > pace else "success"),
                          testid="insurance-execution", bar=min(100, int(share))))
        fc = indicators.year_forecast(community, year)
        if fc is not None:
            gap = fc.expected - fc.budget
            if fc.runs_out_month:
                items.append(Item(_("预测：%(m)s 月用完预算") % {"m": fc.runs_out_month}, ledger,
                                  _("缺口 %(g)s 万元") % {"g": _wan(gap)}, tone="danger",
                                  testid="insurance-forecast"))
            else:
                items.append(Item(_("预测：全年预算可保持"), ledger, _("结余 %(g)s 万元") % {"g": _wan(-gap)},
                                  tone="success", testid="insurance-forecast"))
    else:
        items.append(Item(_("%(y)s 年预算尚未设定") % {"y": year}, reverse("insurance:budget"), tone="warning",
                          testid="insurance-no-budget"))
    posted = indicators.posted(community, [(year, m) for m in range(1, 13)])
    n08 = indicators.ledger_in_county_share(community, posted) if posted else None
    if n08 is not None:  # N08 from the ledger: the indicators engine gives the same figure
        items.append(Item(_("县域内基金支出占比（N08）"), reverse("indicators:detail", args=["N08"])
                          + f"?period={year}-{posted[-1][1]:02d}-ytd", f"{n08}%", note=_("台账口径，不含定点药店"),
                          tone="success" if n08 >= 80 else "warning", testid="insurance-n08"))
    members = Discharge.objects.filter(facility__community=community, discharge_date__year=year)
    open_lists = members.exclude(problems=[]).count() if can_read(user, Category.SETTLEMENT) else 0
    if open_lists:  # only for a reader of the settlement lists (the managers read the fund, not the lists)
        items.append(Item(_("待完善的结算清单"), reverse("insurance:cases") + f"?status={INCOMPLETE}", open_lists,
                          note=_("缺项导致无法入组"), tone="warning", testid="insurance-incomplete"))
    return Panel("insurance.fund", _("医保基金 · %(c)s") % {"c": community.name}, TODO, items, ledger,
                 _("暂无待办"))


def register() -> None:
    from yigongti.orgs import home

    home.register("insurance.fund", fund_panel, order=15)
