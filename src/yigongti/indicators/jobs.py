"""The background worker: claims due jobs from the database with a conditional UPDATE (so that two
workers never run one job), runs them, and schedules the next ones. No broker needed."""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
import traceback

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Job, JobStatus

MAX_ATTEMPTS = 3


def _refresh_facts(job: Job) -> dict:
    from .services import refresh_facts

    return refresh_facts(job.args.get("months") or None)


def _monthly_report(job: Job) -> dict:
    from .reports import write_reports
    from .services import refresh_facts

    refresh_facts()
    out = settings.DATA_DIR / "reports"
    return {"files": write_reports(job.args["period"], job.args.get("area", ""), out)}


HANDLERS = {"refresh_facts": _refresh_facts, "monthly_report": _monthly_report}


def claim(worker: str, now: dt.datetime | None = None) -> Job | None:
    """Take the oldest due job: UPDATE … WHERE status='due' only succeeds for one worker."""
    now = now or timezone.now()
    for job in Job.objects.filter(status=JobStatus.DUE, due_at__lte=now).order_by("due_at", "id")[:5]:
        won = Job.objects.filter(pk=job.pk, status=JobStatus.DUE).update(
            status=JobStatus.RUNNING, claimed_by=worker, claimed_at=now, attempts=job.attempts + 1)
        if won:
            job.refresh_from_db()
            return job
    return None


def run_one(job: Job) -> None:
    try:
        result = HANDLERS[job.kind](job)
    except Exception:
        retry = job.attempts < MAX_ATTEMPTS
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.DUE if retry else JobStatus.FAILED, error=traceback.format_exc()[-4000:],
            due_at=timezone.now() + dt.timedelta(minutes=5 * job.attempts))
        return
    Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE, result=result, finished_at=timezone.now())
    _follow_up(job)


def _follow_up(job: Job) -> None:
    """Keep the schedule going: next night's refresh, next month-end's report."""
    from .services import schedule_month_end

    with transaction.atomic():
        schedule_month_end()


def run_due(worker: str | None = None) -> int:
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    n = 0
    while (job := claim(worker)) is not None:
        run_one(job)
        n += 1
    return n


def run_worker(once: bool = False, interval: int = 30, echo=print) -> None:
    from .services import schedule_month_end

    schedule_month_end()
    echo("worker 已启动：刷新指标事实、生成月通报")
    while True:
        n = run_due()
        if n:
            echo(f"{timezone.localtime():%Y-%m-%d %H:%M:%S} 完成 {n} 个任务")
        if once:
            return
        time.sleep(interval)
