"""The referral SLA timers, run by the worker (``jobs.py``): at the SLA moment an unanswered referral is flagged
and its people alerted. Up-referrals answer to the referral center's SLA (green 15 min, urgent 30, routine 120);
down-referrals to the receiving clinic's (``ReferralCenter.sla_down_hours``, 24 h by default)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.notify import notify

from .models import Referral, ReferralEvent, Status
from .queries import center_for, center_users, facility_doctors


def escalate_if_unanswered(pk: int, now: dt.datetime | None = None) -> bool:
    """Run by the timer at the SLA moment: if nobody has answered yet, mark the referral overdue and alert
    (an up-referral: the center's supervisors; a down-referral: the receiving clinic, the township above it,
    the sending doctor and the center's supervisors). Not a status change: the referral stays, now flagged."""
    now = now or timezone.now()
    with transaction.atomic():
        r = Referral.objects.select_for_update().filter(pk=pk).first()
        if r is None or r.status != Status.SUBMITTED or r.escalated_at is not None:
            return False
        if r.due_at and r.due_at > now:
            return False  # the timer ran early (a clock skew): the next pass will see it
        r.escalated_at = now
        r.save(update_fields=["escalated_at"])
        waited = int((now - r.submitted_at).total_seconds() // 60) if r.submitted_at else 0
        ReferralEvent.objects.create(referral=r, at=now, actor=None, action="escalate", from_status=r.status,
                                     to_status=r.status,
                                     note=f"超过响应时限未处理（已等待 {waited} 分钟），已升级"
                                          f"{'至主管' if r.center_id else '至接收机构、上级卫生院和转出医生'}")
        audit.record(Actor.system("worker"), "update", "referral", r.pk, move="escalate")
        url = reverse("referrals:detail", args=[r.pk])
        if r.center_id:
            notify(center_users(r.center_id, supervisors=True), "referral_overdue",
                   f"转诊超时未处理：{r.get_urgency_display()} {r.from_facility.name} {r.resident.name}"
                   f"（已等待 {waited} 分钟）", r.reason[:200], url, urgent=True)
        else:
            center = center_for(r.from_facility)
            to = r.to_facility
            users = facility_doctors(r.to_facility_id) + ([r.referred_by] if r.referred_by_id else [])
            if to is not None and to.parent_id:
                users += facility_doctors(to.parent_id)
            if center is not None:
                users += center_users(center.pk, supervisors=True)
            notify(list({u.pk: u for u in users}.values()), "referral_overdue",
                   f"下转超时未接收：{r.from_facility.name} → {r.to_name} {r.resident.name}"
                   f"（已等待 {waited // 60} 小时）",
                   r.reason[:200], url, urgent=True)
    return True
