"""Home panel of the family-doctor app: for team members their team's contracts expiring within 30 days (to
renew); for managers and the bureau the number of teams and of active contracts in their area."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor

from .models import ContractStatus

DAYS = 30
SHOWN = 5


def contracts_panel(actor: Actor):
    from yigongti.orgs.home import Item, Panel
    from yigongti.orgs.permissions import Category, can_read

    from .queries import contracts as cq
    from .queries import teams as tq

    user = actor.user
    if user is None or not user.is_authenticated:
        return None
    if tq.is_manager(user):
        teams = tq.teams_of_user(user)
        n = teams.aggregate(t=Count("id", distinct=True),
                            c=Count("contracts", filter=Q(contracts__status=ContractStatus.ACTIVE)))
        if not n["t"]:
            return None
        return Panel("familydoctor.teams", _("家庭医生团队"), items=[
            Item(_("团队数"), reverse("familydoctor:teams"), n["t"], testid="home-fd-team-count"),
            Item(_("履约中协议"), reverse("familydoctor:contracts") + "?status=active", n["c"],
                 testid="home-fd-contract-count")], url=reverse("familydoctor:home"))
    if not can_read(user, Category.PUBLIC_HEALTH) or not tq.teams_of_user(user).exists():
        return None
    rows, total = cq.expiring(actor, DAYS, SHOWN)
    items = [Item(f"{c.resident.name} · {c.number}", reverse("familydoctor:renew", args=[c.pk]),
                  c.end.isoformat(), _("到期"), "warning", f"home-fd-expiring-{c.pk}") for c in rows]
    return Panel("familydoctor.expiring", _("30天内到期的签约（%(n)s）") % {"n": total}, items=items,
                 url=reverse("familydoctor:contracts") + "?status=active", empty=_("没有30天内到期的签约"))


def register() -> None:
    from yigongti.orgs import home

    home.register("familydoctor.contracts", contracts_panel, order=30)
