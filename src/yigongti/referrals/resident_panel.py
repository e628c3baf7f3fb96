"""The resident page's "open referrals" and "follow-ups" panels (registered with ``residents.panels``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.orgs.permissions import Category, can_read
from yigongti.residents.panels import Row
from yigongti.residents.queries import qualified_facility_names

from . import workflow
from .models import FollowUp, FollowUpStatus
from .queries import referrals_visible_to


def _may(actor: Actor) -> bool:
    return actor.user is None or can_read(actor.user, Category.REFERRAL)


def open_referrals_panel(actor: Actor, resident) -> tuple[list[Row], str] | None:
    """The resident's referrals that are still open and that the reader may see, audited."""
    if not _may(actor):
        return None
    rows = list(referrals_visible_to(actor.user).filter(resident=resident, status__in=workflow.OPEN)
                .select_related("from_facility", "to_facility").order_by("-created")[:10])
    audit.record(actor, "list", "referral", "", resident=resident.pk, ids=[r.pk for r in rows], panel="open")
    names = qualified_facility_names([f for r in rows for f in (r.from_facility, r.to_facility)])
    out = []
    for r in rows:
        to = names.get(r.to_facility_id, "") if r.to_facility_id else r.to_external
        out.append(Row(r.submitted_at or r.created,
                       f"{r.get_direction_display()} · {names.get(r.from_facility_id, '')} → {to} · "
                       f"{r.diagnosis or r.icd10}",
                       reverse("referrals:detail", args=[r.pk]), r.get_status_display()))
    return out, ""


def follow_ups_panel(actor: Actor, resident) -> tuple[list[Row], str] | None:
    """Planned and missed follow-ups of the resident's referrals that the reader may see; overdue ones marked."""
    if not _may(actor):
        return None
    visible = referrals_visible_to(actor.user).filter(resident=resident)
    rows = list(FollowUp.objects.filter(referral__in=visible, status__in=[FollowUpStatus.PLANNED,
                                                                          FollowUpStatus.MISSED])
                .select_related("referral__to_facility").order_by("due_date")[:10])
    audit.record(actor, "list", "followup", "", resident=resident.pk, ids=[f.pk for f in rows], panel="follow_ups")
    today = timezone.localdate()
    names = qualified_facility_names([f.referral.to_facility for f in rows])
    out = []
    for f in rows:
        overdue = f.status == FollowUpStatus.PLANNED and f.due_date < today
        place = names.get(f.referral.to_facility_id, "") if f.referral.to_facility_id else ""
        out.append(Row(f.due_date, f"{place} · {_('转诊单')} {f.referral_id}",
                       reverse("referrals:detail", args=[f.referral_id]),
                       str(_("已逾期")) if overdue else f.get_status_display(),
                       alert=overdue or f.status == FollowUpStatus.MISSED))
    return out, ""
