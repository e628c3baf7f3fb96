"""Background work of the pathways under ``yigongti worker``: every minute while a case is open, the sweep that
tells a team its running metric is about to miss its target (``late.py``)."""

from __future__ import annotations

import logging

from django.utils import timezone

from yigongti.core.jobs import job_handler, recurring, schedule
from yigongti.core.models import Job

from . import late
from .models import Case, CaseStatus

log = logging.getLogger("yigongti.pathways.jobs")
SWEEP = "pathway_late_sweep"


@job_handler(SWEEP)
def sweep(job: Job) -> dict:
    return {"told": late.warn_running_late(max(job.due_at, timezone.now()))}


@recurring
def schedule_sweep() -> None:
    """Every pass: one sweep for this minute when some case opened in the last day is still open."""
    now = timezone.now()
    try:
        if Case.objects.filter(status=CaseStatus.OPEN, opened_at__gte=now - late.LOOKBACK).exists():
            schedule(SWEEP, now, key=f"{SWEEP}:{now:%Y%m%d%H%M}")
    except Exception:  # the worker loop must go on
        log.exception("scheduling the pathway late sweep failed")
