"""The resident page's panel "两病管理": the resident's hypertension / diabetes management (control, last and next
visit, overdue in red), or, for a doctor of the area, the way to enrol a resident of 35+ not managed yet."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yigongti.core.actor import Actor
from yigongti.orgs.permissions import Category, can, can_read

from .models import Enrolment, EnrolmentStatus
from .services.enrolment import age_on


def chronic_panel(actor: Actor, resident):
    from yigongti.residents.panels import Row

    user = actor.user
    if user is None or not can_read(user, Category.PUBLIC_HEALTH):
        return None
    today = timezone.localdate()
    rows = []
    for e in Enrolment.objects.filter(resident=resident).order_by("status", "condition"):
        url = reverse("chronic:patient", args=[e.pk])
        if e.status != EnrolmentStatus.MANAGED:
            rows.append(Row(e.ended_on, _("%(c)s：已结案（%(r)s）") % {"c": e.get_condition_display(),
                                                                  "r": e.get_end_reason_display()}, url))
            continue
        last = (f"{e.last_sbp}/{e.last_dbp}" if e.last_sbp else "") + (f" {e.last_fbg} mmol/L" if e.last_fbg else "")
        text = _("%(c)s：%(ctrl)s %(last)s · 下次随访 %(next)s") % {
            "c": e.get_condition_display(), "ctrl": e.get_last_control_display() or _("未随访"), "last": last,
            "next": e.next_due.isoformat() if e.next_due else "—"}
        overdue = e.next_due is not None and e.next_due < today
        rows.append(Row(e.last_visit_on, text, url, badge=_("已逾期") if overdue else "", alert=overdue))
    if not rows:
        if age_on(resident.birth_date, today) < 35 or not can(user, "chronic.enrol", resident):
            return None
        rows.append(Row(None, _("未纳入两病管理：纳入管理"), f"{reverse('chronic:enrol')}?resident={resident.pk}"))
    return rows, reverse("chronic:patients")


def register() -> None:
    from yigongti.residents import panels

    panels.register("chronic.enrolment", gettext_lazy("两病管理"), order=22, rows=chronic_panel)
