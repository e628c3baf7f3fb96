"""The worker's poll of the PACS: every pass of ``yigongti worker`` queues one ``telemedicine.sync_studies`` job
(keyed by the minute, so two workers queue it once) that brings the studies that became stable in Orthanc into
the platform (``imaging.sync_studies``). Loaded by ``imaging.register()``; nothing is queued without a PACS."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from yigongti.core.jobs import job_handler, recurring, schedule

from . import pacs

SYNC = "telemedicine.sync_studies"


@job_handler(SYNC)
def run_sync(job) -> dict:
    from .imaging import PacsUnavailable, sync_studies

    try:
        return {"studies": sync_studies()}
    except PacsUnavailable as e:  # the PACS is down: the next minute's job tries again
        return {"studies": 0, "error": e.message}


@recurring
def schedule_sync(now: dt.datetime | None = None) -> None:
    if not pacs.configured():
        return
    now = now or timezone.now()
    schedule(SYNC, now, key=now.strftime("%Y%m%d%H%M"))
