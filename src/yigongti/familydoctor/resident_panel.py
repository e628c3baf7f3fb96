"""The resident page's panel "家庭医生签约": the resident's contracts (team, doctor, package, dates, status) with
the sign / renew / end links the reader may use; read through ``queries.contracts`` (scoped, audited,
``Category.PUBLIC_HEALTH``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yigongti.core.actor import Actor

SHOWN = 5


def contracts_panel(actor: Actor, resident):
    from yigongti.orgs.permissions import can
    from yigongti.residents.panels import Row

    from .models import ContractStatus
    from .queries import contracts as cq
    from .services.contracts import may_renew_now

    user = actor.user
    if user is not None and not cq.can_read_ph(user):
        return None
    rows = []
    contracts = cq.history_of(actor, resident, SHOWN)
    active = next((c for c in contracts if c.status == ContractStatus.ACTIVE), None)
    for c in contracts:
        text = (f"{c.team.name} · {c.doctor.name if c.doctor else '—'} · {c.package.name} · "
                f"{c.start:%Y-%m-%d} ~ {c.end:%Y-%m-%d}")
        rows.append(Row(c.signed_on, text, reverse("familydoctor:contract", args=[c.pk]),
                        str(c.get_status_display())))
        if c.status in (ContractStatus.ACTIVE, ContractStatus.EXPIRED) and can(user, "familydoctor.renew", c) \
                and may_renew_now(c):
            rows.append(Row(None, _("续约"), reverse("familydoctor:renew", args=[c.pk]), _("可续约")))
        if c.status == ContractStatus.ACTIVE and can(user, "familydoctor.end_contract", c):
            rows.append(Row(None, _("解约"), reverse("familydoctor:end", args=[c.pk])))
    if active is None and can(user, "familydoctor.sign"):
        rows.append(Row(None, _("签约家庭医生"), reverse("familydoctor:sign") + f"?resident={resident.pk}",
                        _("未签约"), alert=True))
        if resident.household_id:
            rows.append(Row(None, _("家庭签约"), reverse("familydoctor:sign") + f"?household={resident.household_id}"))
    return rows, reverse("familydoctor:contracts") + f"?q={resident.name}"


def register() -> None:
    from yigongti.residents import panels

    panels.register("familydoctor", gettext_lazy("家庭医生签约"), order=20, rows=contracts_panel)
