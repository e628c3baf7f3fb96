"""超时提醒: a running metric at 80 % of its target tells the team that can still make it, once per case and metric;
a finished metric, a closed case or an old record tells no one."""

import datetime as dt

from django.utils import timezone

from tests.cast import as_
from yigongti.core.jobs import SCHEDULERS
from yigongti.core.models import Job, Notification
from yigongti.pathways import jobs, late, services
from yigongti.pathways.metrics import Metric
from yigongti.pathways.models import LateAlert


def ago(minutes: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=minutes)


def test_due_picks_running_metrics_at_four_fifths_of_their_target_not_warned_yet():
    d2w = Metric("d2w", "D2W", 72.0, 90, None, running=True, start="door", end="wire")
    early = Metric("dnt", "DNT", 47.0, 60, None, running=True, start="door", end="needle")
    done = Metric("fmc_to_ecg", "FMC", 30.0, 10, False, start="fmc", end="first_ecg")
    untargeted = Metric("onset_to_door", "O2D", 300.0, None, None, running=True, start="onset", end="door")
    assert [m.code for m in late.due([d2w, early, done, untargeted], set())] == ["d2w"]
    assert late.due([d2w], {"d2w"}) == []


def test_a_stemi_running_late_tells_the_county_team_once_and_stops_when_the_wire_crosses(ems):
    c = ems.cast
    case = services.open_case(as_(c.county_doctor), c.resident, "chest_pain", facility=c.county_hospital,
                              arrival_mode="self", subtype="stemi", at=ago(80))
    services.record_event(as_(c.county_doctor), case, "door", at=ago(78))
    assert late.warn_running_late() == 1
    alert = LateAlert.objects.get(case=case)
    assert alert.metric == "d2w" and 77 < alert.minutes < 79 and alert.target_min == 90
    note = Notification.objects.get(recipient=c.county_doctor, kind=late.KIND)
    assert note.urgent and case.case_no in note.title and "剩余 12 分钟" in note.title
    assert not Notification.objects.filter(recipient=c.township_doctor, kind=late.KIND).exists()
    assert late.warn_running_late() == 0  # told once
    services.record_event(as_(c.county_doctor), case, "wire", at=ago(1))
    assert late.warn_running_late(timezone.now() + dt.timedelta(hours=1)) == 0


def test_door_in_door_out_is_told_to_the_transferring_township(ems):
    c = ems.cast
    case = services.open_case(as_(c.township_doctor), c.resident, "chest_pain", facility=c.county_hospital,
                              first_facility=c.township_center, arrival_mode="transfer", subtype="nstemi",
                              at=ago(40))
    services.record_event(as_(c.township_doctor), case, "first_door", at=ago(35))
    late.warn_running_late()
    note = Notification.objects.get(recipient=c.township_doctor, kind=late.KIND)
    assert "已超时 5 分钟" in note.title
    assert LateAlert.objects.filter(case=case, metric="dido").exists()


def test_closed_cases_and_records_left_open_for_days_tell_no_one(ems):
    c = ems.cast
    old = services.open_case(as_(c.county_doctor), c.resident, "stroke", facility=c.county_hospital,
                             arrival_mode="self", subtype="ischaemic", at=ago(60 * 30))
    services.record_event(as_(c.county_doctor), old, "door", at=ago(60 * 30))
    assert late.warn_running_late() == 0 and not LateAlert.objects.exists()


def test_the_worker_sweeps_once_a_minute_while_a_recent_case_is_open(ems):
    assert jobs.schedule_sweep in SCHEDULERS
    jobs.schedule_sweep()
    assert not Job.objects.filter(kind=jobs.SWEEP).exists()  # nothing open: no job
    c = ems.cast
    services.open_case(as_(c.county_doctor), c.resident, "trauma", facility=c.county_hospital, arrival_mode="self",
                       at=ago(5))
    jobs.schedule_sweep()
    jobs.schedule_sweep()
    assert Job.objects.filter(kind=jobs.SWEEP).count() in (1, 2)  # one per minute (a minute may turn between)
    job = Job.objects.filter(kind=jobs.SWEEP).first()
    assert jobs.sweep(job) == {"told": 0}


def test_the_alert_goes_to_those_on_the_case_and_to_the_whole_team_only_when_nobody_is(ems):
    from yigongti.orgs.models import Role, User

    c = ems.cast
    colleague = User.objects.create(username="county_nurse_2", role=Role.NURSE, facility=c.county_hospital)
    mine = services.open_case(as_(c.county_doctor), c.resident, "stroke", facility=c.county_hospital,
                              arrival_mode="self", subtype="ischaemic", at=ago(55))
    services.record_event(as_(c.county_doctor), mine, "door", at=ago(50))
    late.warn_running_late()
    assert Notification.objects.filter(recipient=c.county_doctor, kind=late.KIND).exists()
    assert not Notification.objects.filter(recipient=colleague, kind=late.KIND).exists()
    theirs = services.open_case(as_(c.township_doctor), c.neighbour, "stroke", facility=c.county_hospital,
                                first_facility=c.township_center, arrival_mode="transfer", subtype="ischaemic",
                                at=ago(55))
    services.record_event(as_(c.township_doctor), theirs, "door", at=ago(50))
    late.warn_running_late()
    assert LateAlert.objects.filter(case=theirs, metric="dnt").exists()
    assert Notification.objects.filter(recipient=colleague, kind=late.KIND).exists()


def test_the_case_page_says_when_the_team_was_told(ems, client, login):
    c = ems.cast
    case = services.open_case(as_(c.county_doctor), c.resident, "chest_pain", facility=c.county_hospital,
                              arrival_mode="self", subtype="stemi", at=ago(80))
    services.record_event(as_(c.county_doctor), case, "door", at=ago(78))
    login(c.county_doctor)
    assert 'data-testid="late-alert-d2w"' not in client.get(f"/pathways/cases/{case.pk}/").content.decode()
    late.warn_running_late()
    told = timezone.localtime(LateAlert.objects.get(case=case).at).strftime("%H:%M")
    html = client.get(f"/pathways/cases/{case.pk}/").content.decode()
    assert 'data-testid="late-alert-d2w"' in html and f"已于 {told} 提醒团队" in html
    assert 'data-testid="late-alert-dnt"' not in html
