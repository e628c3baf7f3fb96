"""Background work of the internet hospital under ``yigongti worker``: online follow-up requests that no doctor
accepted within ``workflow.EXPIRE_HOURS`` expire (``services.expire_overdue``: one conditional update, so two
workers never expire a request twice). Scheduled at most once an hour, and only when such a request exists."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from yigongti.core.jobs import job_handler, recurring, schedule
from yigongti.core.models import Job

from . import services
from . import workflow as wf
from .models import OnlineConsultation
from .workflow import Status

log = logging.getLogger("yigongti.ihospital.jobs")
EXPIRE_JOB = "ihospital.expire"


@job_handler(EXPIRE_JOB)
def expire(job: Job) -> dict:
    return {"expired": services.expire_overdue(max(job.due_at, timezone.now()))}


@recurring
def schedule_expiry() -> None:
    """Every pass: when some request is overdue, one expiry job for this hour (a cheap indexed query otherwise)."""
    now = timezone.now()
    try:
        cutoff = now - dt.timedelta(hours=wf.EXPIRE_HOURS)
        if OnlineConsultation.objects.filter(status=Status.REQUESTED, requested_at__lte=cutoff).exists():
            schedule(EXPIRE_JOB, now, key=f"ihospital_expire:{now:%Y%m%d%H}")
    except Exception:  # the worker loop must go on
        log.exception("scheduling the online-consultation expiry failed")
