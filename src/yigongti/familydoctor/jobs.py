"""Background work of the family-doctor app on the core job queue (``yigongti worker``; ``core.jobs.discover``
imports this module, and ``registry.MODULES`` lists it too): the nightly rebuild of the due lists
(``familydoctor.due.recompute``, the due engine, after the lapsed contracts
are marked 已到期) and on the 1st of each month the assessment of last month
(月考核, ``services.assessment.compute_month``). Each job is queued once, keyed by its night or month."""

from __future__ import annotations

import datetime as dt
import importlib
import logging

from django.utils import timezone

from yigongti.core.actor import Actor
from yigongti.core.jobs import job_handler, recurring, schedule

log = logging.getLogger(__name__)

DUE_RECOMPUTE = "familydoctor.due_recompute"
ASSESS_MONTH = "familydoctor.assess_month"
DUE_HOUR = 1  # 01:30 local: after the day's work, before the village doctors open their day lists
ASSESS_HOUR = 3  # 03:00 on the 1st: after the night's due rebuild


@job_handler(DUE_RECOMPUTE)
def due_recompute_job(job) -> dict:
    """Mark the contracts whose term ended as 已到期, then rebuild every DueItem (the due engine; skipped, not
    failed, while the engine is not installed)."""
    from .services.contracts import expire_lapsed

    today = dt.date.fromisoformat(job.args["today"]) if job.args.get("today") else None
    expired = expire_lapsed(today)
    try:
        due = importlib.import_module("yigongti.familydoctor.due")
    except ModuleNotFoundError as e:
        if e.name != "yigongti.familydoctor.due":
            raise
        return {"skipped": "familydoctor.due missing"}
    recompute = getattr(due, "recompute", None)
    if recompute is None:
        return {"skipped": "familydoctor.due.recompute missing"}
    return {"expired": expired, "counts": recompute(today)}


@job_handler(ASSESS_MONTH)
def assess_month_job(job) -> dict:
    from .assessment import parse_month
    from .services.assessment import compute_month

    month = parse_month(job.args.get("month"))
    rows = compute_month(Actor.system("worker"), month)
    return {"month": f"{month:%Y-%m}", "teams": len(rows)}


def next_night(now: dt.datetime | None = None) -> dt.datetime:
    local = timezone.localtime(now or timezone.now())
    night = local.replace(hour=DUE_HOUR, minute=30, second=0, microsecond=0)
    return night if night > local else night + dt.timedelta(days=1)


def next_first(now: dt.datetime | None = None) -> dt.datetime:
    """03:00 on the first of next month (or of this month, when it is the 1st before 03:00)."""
    local = timezone.localtime(now or timezone.now())
    this = local.replace(day=1, hour=ASSESS_HOUR, minute=0, second=0, microsecond=0)
    if this > local:
        return this
    return this.replace(year=this.year + (this.month == 12), month=this.month % 12 + 1)


@recurring
def schedule_family_doctor_jobs(now: dt.datetime | None = None) -> None:
    """Tonight's due rebuild and next 1st's assessment of the month before, each queued once."""
    night = next_night(now)
    schedule(DUE_RECOMPUTE, night, key=night.strftime("%Y-%m-%d"))
    first = next_first(now)
    month = (first.date() - dt.timedelta(days=1)).strftime("%Y-%m")
    schedule(ASSESS_MONTH, first, args={"month": month}, key=month)


def register() -> None:
    """Nothing beyond importing (the handlers and the scheduler register at import)."""
