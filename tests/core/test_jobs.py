import datetime as dt

from django.utils import timezone

from yigongti.core import jobs
from yigongti.core.models import Job


def test_a_due_job_runs_once_and_a_keyed_job_is_scheduled_once(db):
    ran = []
    jobs.job_handler("test.echo")(lambda job: ran.append(job.args["n"]) or {"ok": True})
    assert jobs.schedule("test.echo", args={"n": 1}, key="a") is not None
    assert jobs.schedule("test.echo", args={"n": 2}, key="a") is None
    assert jobs.run_due() == 1 and ran == [1]
    assert Job.objects.get().status == "done" and jobs.run_due() == 0


def test_a_job_due_later_waits_and_a_failing_one_is_retried(db):
    jobs.job_handler("test.fail")(lambda job: 1 / 0)
    later = timezone.now() + dt.timedelta(hours=1)
    jobs.schedule("test.fail", due_at=later)
    assert jobs.run_due() == 0
    assert jobs.run_due(now=later) == 1
    job = Job.objects.get()
    assert job.status == "due" and job.attempts == 1 and "ZeroDivisionError" in job.error


def test_two_workers_never_claim_the_same_job(db):
    jobs.schedule("test.x")
    first = jobs.claim("w1")
    assert first is not None and jobs.claim("w2") is None
