"""Background work of the indicators, on the core job queue (``yigongti worker``): the nightly refresh
of the monthly facts and the monthly report (月通报) written at month end."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from yigongti.core.jobs import job_handler, recurring, schedule

REFRESH = "indicators.refresh_facts"
REPORT = "indicators.monthly_report"


@job_handler(REFRESH)
def refresh_facts_job(job) -> dict:
    from .services import refresh_facts

    return refresh_facts(job.args.get("months") or None)


@job_handler(REPORT)
def monthly_report_job(job) -> dict:
    from .reports import write_reports
    from .services import refresh_facts

    refresh_facts()
    out = settings.DATA_DIR / "reports"
    return {"files": write_reports(job.args["period"], job.args.get("area", ""), out)}


def month_end(now: dt.datetime | None = None) -> dt.datetime:
    """Five past midnight on the first of next month, local time: when the month's report is due."""
    now = timezone.localtime(now or timezone.now())
    first = now.replace(day=1, hour=0, minute=5, second=0, microsecond=0)
    return first.replace(year=first.year + (first.month == 12), month=first.month % 12 + 1)


@recurring
def schedule_indicator_jobs(now: dt.datetime | None = None) -> None:
    """Tonight's refresh and this month's report, each queued once (keyed by date and month)."""
    local = timezone.localtime(now or timezone.now())
    night = (local + dt.timedelta(days=1)).replace(hour=2, minute=0, second=0, microsecond=0)
    schedule(REFRESH, night, key=night.strftime("%Y-%m-%d"))
    due = month_end(local)
    month = (due - dt.timedelta(days=2)).strftime("%Y-%m")
    schedule(REPORT, due, args={"period": month}, key=month)
