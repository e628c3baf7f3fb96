"""SLA timers: a green-channel referral alerts the center at once and must be answered in 15 minutes, a routine
one in 2 hours; the timer on the task queue escalates an unanswered referral to the supervisor."""

import datetime as dt

from tests.cast import as_
from tests.referrals.conftest import up
from yigongti.core.jobs import run_due
from yigongti.core.models import Job
from yigongti.referrals import services
from yigongti.referrals.models import Referral, ReferralEvent


def test_a_green_channel_referral_alerts_every_center_member_at_once_as_urgent(
        ref, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = up(ref)
    assert r.due_at - r.submitted_at == dt.timedelta(minutes=15)
    inbox = {n.recipient.username: n for n in ref.desk.notifications.model.objects.filter(kind="referral_submitted")}
    assert set(inbox) == {"center_desk", "center_desk2", "center_boss"} and all(n.urgent for n in inbox.values())
    assert {m.recipient for m in sent if m.kind == "referral_submitted"} == set(inbox) and all(m.urgent for m in sent)


def test_routine_referrals_get_two_hours_and_the_sla_is_configurable(ref):
    r = up(ref, urgency="routine", routine_reason="症状已缓解 24 小时，家属要求普通转诊")
    assert r.due_at - r.submitted_at == dt.timedelta(hours=2)
    ref.center.sla_green_minutes = 10
    ref.center.save()
    assert up(ref).due_at - Referral.objects.order_by("-id").first().submitted_at == dt.timedelta(minutes=10)


def test_an_unanswered_green_referral_escalates_to_the_supervisor_after_15_minutes(ref, sent):
    r = up(ref)
    assert Job.objects.filter(kind="referral_escalate", key=f"referral:{r.pk}").count() == 1
    assert run_due(now=r.submitted_at + dt.timedelta(minutes=14)) == 0  # not yet due
    assert run_due(now=r.submitted_at + dt.timedelta(minutes=16)) == 1
    r.refresh_from_db()
    assert r.escalated_at is not None and r.is_overdue and r.status == "submitted"
    alert = ref.supervisor.notifications.get(kind="referral_overdue")
    assert alert.urgent and "李建国" in alert.title
    assert not ref.desk.notifications.filter(kind="referral_overdue").exists()
    assert ReferralEvent.objects.filter(referral=r, action="escalate").exists()


def test_a_referral_answered_in_time_is_not_escalated(ref):
    r = up(ref)
    services.accept_referral(r.pk, actor=as_(ref.desk))
    run_due(now=r.submitted_at + dt.timedelta(minutes=20))
    r.refresh_from_db()
    assert r.escalated_at is None and not ref.supervisor.notifications.filter(kind="referral_overdue").exists()
    assert Job.objects.get(kind="referral_escalate").result == {"escalated": False}


def test_the_overdue_referral_shows_in_the_centers_overdue_tab(ref, client, login):
    r = up(ref)
    run_due(now=r.submitted_at + dt.timedelta(minutes=16))
    login(ref.desk)
    page = client.get("/referrals/center/?tab=overdue").content.decode()
    assert f'data-referral="{r.pk}"' in page and "超时" in page


def test_the_daily_sweep_closes_referrals_nobody_answered_in_three_days(ref):
    r = up(ref, urgency="routine", routine_reason="症状已缓解 24 小时，家属要求普通转诊")
    assert services.expire_stale(now=r.submitted_at + dt.timedelta(hours=73)) == 1
    r.refresh_from_db()
    assert r.status == "expired" and r.closed_at is not None
