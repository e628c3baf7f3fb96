"""The resident page's panel "处方" (``residents.panels``): the resident's recent prescriptions (scoped through
``queries.prescriptions_visible_to``, the read audited) and, for a doctor who may prescribe at their facility,
the link that opens the prescription form for this resident."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.orgs.permissions import can

from . import queries
from .models import Status

RECENT = 5


def prescriptions_panel(actor: Actor, resident):
    from yigongti.residents.panels import Row

    user = actor.user
    if user is not None and user.role not in queries.READERS:
        return None
    found = list(queries.prescriptions_visible_to(user).filter(resident=resident)
                 .select_related("facility").order_by("-prescribed_at")[:RECENT]) if user is not None else []
    if found:
        audit.record(actor, "view", "prescription_list", resident.pk, n=len(found))
    rows = [Row(p.prescribed_at, f"{p.get_kind_display()} · {p.facility.short_name or p.facility.name}",
                reverse("prescribing:detail", args=[p.pk]), str(p.get_status_display()),
                alert=p.status == Status.REVIEW_PENDING) for p in found]
    if user is not None and user.facility_id and can(user, "prescribing.prescribe", user.facility):
        from yigongti.encounters.models import Encounter

        new = f"{reverse('prescribing:new')}?resident={resident.pk}"
        # the visit the doctor is seeing the resident for: its diagnoses fill the form
        visit = (Encounter.objects.filter(resident=resident, facility_id=user.facility_id,
                                          type__in=["outpatient", "emergency"])
                 .order_by("-admit_date", "-pk").values_list("pk", "admit_date", "main_diagnosis").first())
        if visit is not None:
            rows.insert(0, Row(visit[1], _("＋ 按本次就诊开处方（%(d)s）") % {"d": visit[2] or visit[1]},
                               f"{new}&encounter={visit[0]}"))
        rows.insert(0, Row(None, _("＋ 开处方"), new))
    return rows, ""


def register() -> None:
    from yigongti.residents import panels

    panels.register("prescriptions", gettext_lazy("处方"), order=35, rows=prescriptions_panel)
