"""Background work of the critical-value loop under ``yigongti worker``: each value's acknowledgement timer
(a job due at its limit, per level) and, every pass, a sweep of whatever is overdue (a timer lost or a worker that
was down). Both escalate by the same locked, conditional step, so two workers never escalate a value twice."""

from __future__ import annotations

import logging

from django.utils import timezone

from yigongti.core.jobs import job_handler, recurring, schedule
from yigongti.core.models import Job

from . import critical as rules
from .models import CriticalValue
from .services import critical as services

log = logging.getLogger("yigongti.telemedicine.jobs")


@job_handler(services.ESCALATE_JOB)
def escalate(job: Job) -> dict:
    """One value's timer (``args.critical``), or a sweep of all overdue values (no args)."""
    now = max(job.due_at, timezone.now())
    if "critical" in job.args:
        return {"escalated": int(services.escalate_one(int(job.args["critical"]), now))}
    return {"escalated": services.escalate_due(now)}


@recurring
def schedule_sweep() -> None:
    """Every pass: when some value is overdue, one sweep job for this minute (a cheap indexed query otherwise)."""
    now = timezone.now()
    try:
        if CriticalValue.objects.filter(status__in=rules.UNACKNOWLEDGED, ack_due_at__lte=now).exists():
            schedule(services.ESCALATE_JOB, now, key=f"critical_sweep:{now:%Y%m%d%H%M}")
    except Exception:  # the worker loop must go on
        log.exception("scheduling the critical-value sweep failed")
