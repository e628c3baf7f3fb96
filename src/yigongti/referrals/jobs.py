"""Background work of referrals: the SLA timer of each submitted referral, and a daily sweep that closes
referrals nobody answered or whose patient never came."""

from __future__ import annotations

from django.utils import timezone

from yigongti.core.jobs import job_handler, recurring, schedule
from yigongti.core.models import Job

from . import services, sla


@job_handler(services.ESCALATE_JOB)
def escalate(job: Job) -> dict:
    """The SLA timer of an up- or down-referral."""
    return {"escalated": sla.escalate_if_unanswered(int(job.args["referral"]), now=job.due_at)}


@job_handler("referral_expire")
def expire(job: Job) -> dict:
    return {"expired": services.expire_stale()}


@recurring
def schedule_daily_sweep() -> None:
    today = timezone.localdate()
    schedule("referral_expire", key=f"referral_expire:{today.isoformat()}")
