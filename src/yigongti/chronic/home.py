"""Home panel for the village doctor (and the township doctors, nurses and public-health staff who follow up):
the two-conditions follow-ups of their villages overdue and due this week, with the ledger behind them."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.orgs.models import Role
from yigongti.orgs.permissions import Category, can_read, has_role

ROLES = (Role.VILLAGE_DOCTOR, Role.DOCTOR, Role.NURSE, Role.PUBLIC_HEALTH)


def follow_ups_panel(actor: Actor):
    from yigongti.orgs.home import TODO, Item, Panel

    from .queries.ledger import due_this_week

    user = actor.user
    if user is None or not has_role(user, *ROLES) or not can_read(user, Category.PUBLIC_HEALTH):
        return None
    counts = due_this_week(actor)
    if not counts["overdue"] and not counts["due"]:
        return None
    url = reverse("chronic:ledger")
    items = [Item(_("两病随访已逾期"), f"{url}?status=overdue", counts["overdue"],
                  tone="danger" if counts["overdue"] else "", testid="home-chronic-overdue"),
             Item(_("本周应随访"), f"{url}?status=due", counts["due"], tone="warning" if counts["due"] else "",
                  testid="home-chronic-due")]
    return Panel("chronic.follow_ups", _("两病随访（本周）"), kind=TODO, items=items, url=url)


def register() -> None:
    from yigongti.orgs import home

    home.register("chronic.follow_ups", follow_ups_panel, order=22)
