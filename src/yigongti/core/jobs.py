"""Background work without a broker: jobs are rows, ``yigongti worker`` claims due ones with a
conditional UPDATE (two workers never run one job), runs the registered handler, retries failures.

Apps declare handlers in their ``jobs.py`` with ``@job_handler("kind")``; the worker imports every
installed app's ``jobs`` module. A handler may return a dict (kept as the result) and may schedule
follow-up work with ``schedule``."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import socket
import time
import traceback
from collections.abc import Callable

from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Job, JobStatus

MAX_ATTEMPTS = 3
HANDLERS: dict[str, Callable[[Job], dict | None]] = {}
# Called at worker start and after every pass: each may (idempotently) schedule recurring jobs.
SCHEDULERS: list[Callable[[], None]] = []


def job_handler(kind: str):
    def register(fn):
        HANDLERS[kind] = fn
        return fn

    return register


def recurring(fn):
    SCHEDULERS.append(fn)
    return fn


def discover() -> None:
    for config in apps.get_app_configs():
        if config.name.startswith("yigongti."):
            try:
                importlib.import_module(f"{config.name}.jobs")
            except ModuleNotFoundError as e:
                if e.name != f"{config.name}.jobs":
                    raise


def schedule(kind: str, due_at: dt.datetime | None = None, args: dict | None = None, key: str = "") -> Job | None:
    """Add a job; with a ``key``, a job of that kind and key is added only once (returns None then)."""
    try:
        with transaction.atomic():
            return Job.objects.create(kind=kind, key=key, args=args or {}, due_at=due_at or timezone.now())
    except IntegrityError:
        return None


def claim(worker: str, now: dt.datetime | None = None) -> Job | None:
    """Take the oldest due job: ``UPDATE … WHERE status='due'`` succeeds for one worker only."""
    now = now or timezone.now()
    for job in Job.objects.filter(status=JobStatus.DUE, due_at__lte=now).order_by("due_at", "id")[:5]:
        won = Job.objects.filter(pk=job.pk, status=JobStatus.DUE).update(
            status=JobStatus.RUNNING, claimed_by=worker[:60], claimed_at=now, attempts=job.attempts + 1)
        if won:
            job.refresh_from_db()
            return job
    return None


def run_one(job: Job, now: dt.datetime | None = None) -> bool:
    handler = HANDLERS.get(job.kind)
    try:
        if handler is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        result = handler(job) or {}
    except Exception:
        retry = job.attempts < MAX_ATTEMPTS
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.DUE if retry else JobStatus.FAILED, error=traceback.format_exc()[-4000:],
            due_at=(now or timezone.now()) + dt.timedelta(minutes=5 * job.attempts))
        return False
    Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE, result=result, finished_at=timezone.now())
    return True


def run_due(worker: str | None = None, now: dt.datetime | None = None) -> int:
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    n = 0
    while (job := claim(worker, now)) is not None:
        run_one(job, now)
        n += 1
    return n


def run_worker(once: bool = False, interval: int = 30, echo=print) -> None:
    discover()
    echo(f"worker 已启动，任务类型：{', '.join(sorted(HANDLERS)) or '无'}")
    while True:
        for fn in SCHEDULERS:
            fn()
        n = run_due()
        if n:
            echo(f"{timezone.localtime():%Y-%m-%d %H:%M:%S} 完成 {n} 个任务")
        if once:
            return
        time.sleep(interval)
