"""familydoctor.jobs: the nightly due rebuild and the assessment of last month on the 1st, queued once each."""

import datetime as dt

from django.utils import timezone

from yigongti.core.jobs import HANDLERS, SCHEDULERS, run_due
from yigongti.core.models import Job, JobStatus
from yigongti.familydoctor import jobs
from yigongti.familydoctor.models import MonthlyAssessment


def test_jobs_are_registered():
    assert jobs.DUE_RECOMPUTE in HANDLERS and jobs.ASSESS_MONTH in HANDLERS
    assert jobs.schedule_family_doctor_jobs in SCHEDULERS


def test_scheduler_queues_tonight_and_the_next_first_once(db):
    now = timezone.make_aware(dt.datetime(2026, 6, 15, 14, 0))
    jobs.schedule_family_doctor_jobs(now)
    jobs.schedule_family_doctor_jobs(now)
    due = Job.objects.get(kind=jobs.DUE_RECOMPUTE)
    assess = Job.objects.get(kind=jobs.ASSESS_MONTH)
    assert timezone.localtime(due.due_at).replace(tzinfo=None) == dt.datetime(2026, 6, 16, 1, 30)
    assert timezone.localtime(assess.due_at).replace(tzinfo=None) == dt.datetime(2026, 7, 1, 3, 0)
    assert assess.args == {"month": "2026-06"}


def test_on_the_first_before_three_the_job_is_for_the_month_just_ended(db):
    jobs.schedule_family_doctor_jobs(timezone.make_aware(dt.datetime(2026, 7, 1, 0, 30)))
    assert Job.objects.get(kind=jobs.ASSESS_MONTH).args == {"month": "2026-06"}


def test_the_worker_runs_both(care):
    now = timezone.now()
    Job.objects.create(kind=jobs.ASSESS_MONTH, args={"month": "2026-05"}, due_at=now)
    Job.objects.create(kind=jobs.DUE_RECOMPUTE, args={"today": "2026-06-15"}, due_at=now)
    assert run_due("test", now) == 2
    assert set(Job.objects.values_list("status", flat=True)) == {JobStatus.DONE}, list(Job.objects.values("error"))
    assert MonthlyAssessment.objects.filter(month=dt.date(2026, 5, 1)).count() == 2
    assert "counts" in Job.objects.get(kind=jobs.DUE_RECOMPUTE).result
