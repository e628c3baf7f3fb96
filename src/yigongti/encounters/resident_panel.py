"""The resident page's "recent encounters" panel (registered with ``residents.panels`` at start-up)."""

from __future__ import annotations

from django.urls import reverse

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.orgs.permissions import Category, can_read
from yigongti.residents.panels import Row
from yigongti.residents.queries import qualified_facility_names

from .queries import encounters_visible_to

RECENT = 5


def recent_encounters_panel(actor: Actor, resident) -> tuple[list[Row], str] | None:
    """The resident's last encounters the reader may see (clinical roles only), audited."""
    if actor.user is not None and not can_read(actor.user, Category.CLINICAL):
        return None
    rows = list(encounters_visible_to(actor.user).filter(resident=resident).select_related("facility")
                .order_by("-admit_date", "-id")[:RECENT])
    audit.record(actor, "list", "encounter", "", resident=resident.pk, ids=[e.pk for e in rows], panel="recent")
    names = qualified_facility_names([e.facility for e in rows])
    return ([Row(e.admit_date,
                 f"{names.get(e.facility_id, e.facility.name)} · {e.get_type_display()} · "
                 f"{e.main_diagnosis or e.main_icd10 or '—'}",
                 reverse("encounters:detail", args=[e.pk])) for e in rows],
            reverse("encounters:timeline", args=[resident.pk]))
