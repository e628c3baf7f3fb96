"""The critical-value loop through its services: a lab value or a reader's finding raises it, the ordering doctor
is told, acknowledges with a read-back, acts and closes; unacknowledged it escalates up the ladder to a 120 alert."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.cast import SYSTEM, _account, as_
from tests.telemedicine.conftest import make_order
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.core.models import Job, Notification
from yigongti.orgs.models import Role
from yigongti.telemedicine import rules
from yigongti.telemedicine.models import (
    CriticalEvent,
    CriticalFinding,
    CriticalRule,
    CriticalStatus,
    CriticalValue,
    LabResult,
    ResultFlag,
)
from yigongti.telemedicine.services import critical as svc


@pytest.fixture
def table(centers):
    rules.install_defaults(centers.cast.community, actor=as_(centers.reader), start=dt.date(2020, 1, 1))
    return centers


def lab_value(centers, code, value, *, by=None, item="CHEM", urgency="routine", text=""):
    cast = centers.cast
    order = make_order(centers, item, by=by or cast.village_doctor, resident=cast.resident, urgency=urgency)
    analyte = centers.analytes[code]
    result = LabResult.objects.create(order=order, analyte=analyte, value=Decimal(value) if value else None,
                                      value_text=text, unit=analyte.unit, observed_at=timezone.now())
    return order, result


def raise_k(centers, value="2.5", **kw):
    _, result = lab_value(centers, "K", value, **kw)
    return svc.raise_lab_critical(result, actor=SYSTEM)


def test_defaults_load_for_the_analytes_the_catalogue_has(table):
    codes = set(CriticalRule.objects.values_list("analyte__code", flat=True))
    assert {"K", "NA", "GLU", "HGB", "PLT", "WBC", "CTNI"} <= codes
    assert CriticalFinding.objects.filter(code="ECG-STEMI", stemi=True).exists()
    assert CriticalFinding.objects.filter(kind="imaging", code="IMG-ICH").exists()
    assert rules.install_defaults(table.cast.community, actor=as_(table.reader)) == 0  # idempotent


def test_a_low_potassium_tells_the_ordering_village_doctor_at_once(table):
    cv = raise_k(table)
    assert cv is not None and cv.status == CriticalStatus.NOTIFIED
    assert cv.notified_to == table.cast.village_doctor and cv.description.startswith("钾 2.5 mmol/L")
    assert cv.ack_due_at == cv.detected_at + dt.timedelta(minutes=table.lab.ack_minutes)
    assert LabResult.objects.get(pk=cv.result_id).flag == ResultFlag.CRITICAL_LOW
    note = Notification.objects.get(recipient=table.cast.village_doctor, kind="critical_value")
    assert note.urgent and "李建国" in note.title
    assert list(cv.events.values_list("kind", flat=True)) == ["detected", "notified"]
    assert Job.objects.filter(kind=svc.ESCALATE_JOB, key=f"critical:{cv.pk}:0", due_at=cv.ack_due_at).exists()
    assert cv.order.critical


def test_the_outside_channel_carries_neither_name_nor_value(table, settings):
    from yigongti.core import notify

    settings.YIGONGTI_NOTIFIERS = ["yigongti.core.notify.MemoryNotifier"]
    notify.notifiers.cache_clear()
    notify.MemoryNotifier.sent.clear()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("django.db.transaction.on_commit", lambda fn, *a, **k: fn())
            raise_k(table)
        sent = [m for m in notify.MemoryNotifier.sent if m.kind == "critical_value"]
        assert sent and all("李建国" not in m.title and "2.5" not in m.title and m.urgent for m in sent)
    finally:
        notify.notifiers.cache_clear()


def test_a_normal_value_and_an_emergency_limit(table):
    _, normal = lab_value(table, "K", "4.1")
    assert svc.raise_lab_critical(normal, actor=SYSTEM) is None
    cv = raise_k(table, urgency="emergency")
    assert cv.ack_due_at == cv.detected_at + dt.timedelta(minutes=table.lab.ack_emergency_minutes)


def test_a_facility_override_applies_to_its_own_orders(table):
    cast = table.cast
    admin = _account("clinic_admin", Role.FACILITY_ADMIN, cast.township_center)
    with pytest.raises(InvalidInput):
        rules.override_rule(cast.township_center, {"analyte": "K", "low": "3.0", "high": "6.0"}, actor=as_(admin))
    rules.override_rule(cast.township_center, {"analyte": "K", "low": "3.0", "high": "6.0",
                                               "reason": "本院透析患者多，提前预警", "effective_from": "2020-01-01"},
                        actor=as_(admin))
    # the village clinic under the township inherits it: 2.9 is critical there, not under the default 2.8
    assert raise_k(table, "2.9") is not None
    _, result = lab_value(table, "K", "2.9", by=table.reader)  # ordered at the county hospital
    assert svc.raise_lab_critical(result, actor=SYSTEM) is None
    with pytest.raises(Forbidden):
        rules.override_rule(cast.other_center, {"analyte": "K", "low": "3.0", "reason": "x"}, actor=as_(admin))


def test_a_new_default_rule_ends_the_old_one(table):
    cast = table.cast
    rules.set_default_rule(cast.community, {"analyte": "K", "low": "3.0", "high": "6.0"}, actor=as_(table.reader))
    rows = CriticalRule.objects.filter(analyte__code="K", facility__isnull=True).order_by("effective_from")
    assert rows[0].effective_to == timezone.localdate() - dt.timedelta(days=1) and rows[1].effective_to is None
    with pytest.raises(Forbidden):
        rules.set_default_rule(cast.community, {"analyte": "K", "low": "3.0"}, actor=as_(cast.village_doctor))


def test_acknowledge_needs_the_value_read_back(table):
    cv = raise_k(table)
    doctor = as_(table.cast.village_doctor)
    with pytest.raises(InvalidInput):
        svc.acknowledge(cv.pk, "血钾 2.8", actor=doctor)
    cv = svc.acknowledge(cv.pk, "李建国 血钾 2.5", actor=doctor)
    assert cv.status == CriticalStatus.ACKNOWLEDGED and cv.acknowledged_by == table.cast.village_doctor
    assert cv.read_back == "李建国 血钾 2.5" and cv.acknowledged_at <= cv.ack_due_at
    with pytest.raises(Conflict):
        svc.acknowledge(cv.pk, "2.5", actor=doctor)


def test_an_outsider_cannot_acknowledge(table):
    cv = raise_k(table)
    with pytest.raises(Forbidden):
        svc.acknowledge(cv.pk, "2.5", actor=as_(table.cast.outsider))
    with pytest.raises(Forbidden):
        svc.acknowledge(cv.pk, "2.5", actor=as_(table.cast.other_village_doctor))


def test_action_then_close(table):
    cv = raise_k(table)
    doctor = as_(table.cast.village_doctor)
    with pytest.raises(Conflict):
        svc.close(cv.pk, actor=doctor)
    svc.acknowledge(cv.pk, "2.5", actor=doctor)
    with pytest.raises(InvalidInput):
        svc.record_action(cv.pk, "note", "", actor=doctor)
    cv = svc.record_action(cv.pk, "call", "电话通知患者口服补钾并来院复查", actor=doctor)
    assert cv.status == CriticalStatus.ACTIONED and cv.action_kind == "call"
    cv = svc.close(cv.pk, actor=doctor)
    assert cv.status == CriticalStatus.CLOSED and cv.closed_at is not None
    kinds = list(cv.events.values_list("kind", flat=True))
    assert kinds == ["detected", "notified", "acknowledged", "action", "closed"]


def test_unacknowledged_it_climbs_the_ladder_to_a_120_alert(table):
    cast = table.cast
    director = _account("township_director", Role.FACILITY_ADMIN, cast.township_center)
    dispatcher = _account("dispatcher_1", Role.DISPATCHER, region=cast.county)
    cv = raise_k(table)
    assert svc.escalate_due(cv.ack_due_at - dt.timedelta(seconds=1)) == 0
    t1 = cv.ack_due_at + dt.timedelta(seconds=1)
    assert svc.escalate_due(t1) == 1
    cv.refresh_from_db()
    assert (cv.level, cv.status, cv.notified_to) == (1, CriticalStatus.ESCALATED, director)  # the village's township
    assert svc.escalate_due(t1) == 0  # not due again until the next interval
    t2 = cv.ack_due_at + dt.timedelta(seconds=1)
    assert svc.escalate_due(t2) == 1
    cv.refresh_from_db()
    assert (cv.level, cv.notified_to) == (2, table.lab.duty_doctor)
    assert svc.escalate_due(cv.ack_due_at + dt.timedelta(seconds=1)) == 1
    cv.refresh_from_db()
    assert cv.level == 3 and cv.ack_due_at is None
    alert = Notification.objects.get(recipient=dispatcher, kind="critical_120")
    assert "2.5" not in alert.title and "钾" not in alert.title
    assert list(cv.events.values_list("kind", "level")) == [
        ("detected", 0), ("notified", 0), ("escalated", 1), ("escalated", 2), ("alert_120", 3)]
    # the duty doctor it was escalated to may acknowledge; then the loop goes on as usual
    cv = svc.acknowledge(cv.pk, "2.5", actor=as_(table.lab.duty_doctor))
    assert cv.status == CriticalStatus.ACKNOWLEDGED


def test_a_level_nobody_holds_is_skipped(table):
    cv = raise_k(table)  # no facility admin at the clinic or the township: straight to the county duty doctor
    svc.escalate_due(cv.ack_due_at + dt.timedelta(seconds=1))
    cv.refresh_from_db()
    assert cv.level == 2 and cv.events.filter(kind="skipped", level=1).exists()


def test_the_worker_job_escalates(table):
    from yigongti.core import jobs
    from yigongti.telemedicine import jobs as tm_jobs  # noqa: F401  (the handler; the worker discovers it)

    cv = raise_k(table)
    job = Job.objects.get(key=f"critical:{cv.pk}:0")
    assert jobs.run_due(now=job.due_at + dt.timedelta(seconds=1)) >= 1
    cv.refresh_from_db()
    assert cv.level == 2


def test_the_recurring_sweep_schedules_only_when_something_is_due(table):
    from yigongti.telemedicine import jobs as tm_jobs

    tm_jobs.schedule_sweep()
    assert not Job.objects.filter(key__startswith="critical_sweep:").exists()
    cv = raise_k(table)
    CriticalValue.objects.filter(pk=cv.pk).update(ack_due_at=timezone.now() - dt.timedelta(minutes=1))
    tm_jobs.schedule_sweep()
    assert Job.objects.filter(key__startswith="critical_sweep:").count() == 1


def _stemi(table):
    from yigongti.referrals.services import setup_center
    from yigongti.telemedicine.services.orders import mark_acquired, sign_report, start_reading

    cast = table.cast
    setup_center(cast.community, actor=SYSTEM, members=[cast.county_doctor])
    order = make_order(table, "ECG12", by=cast.village_doctor, resident=cast.resident, urgency="emergency")
    mark_acquired(order, actor=as_(cast.village_doctor))
    start_reading(order.pk, actor=as_(table.reader))
    sign_report(order.pk, {"findings": "II、III、aVF ST 段抬高", "conclusion": "急性下壁 STEMI",
                           "critical_findings": ["ECG-STEMI"]}, actor=as_(table.reader))
    return CriticalValue.objects.get(order=order)


def test_a_stemi_report_starts_the_green_channel_in_one_click(table):
    cv = _stemi(table)
    assert cv.finding.stemi and cv.notified_to == table.cast.village_doctor
    doctor = as_(table.cast.village_doctor)
    with pytest.raises(Conflict):
        svc.start_green_channel(cv.pk, actor=doctor)
    svc.acknowledge(cv.pk, "急性下壁心梗", actor=doctor)
    referral = svc.start_green_channel(cv.pk, actor=doctor)
    assert referral.urgency == "green" and referral.resident_id == table.cast.resident.pk
    cv.refresh_from_db()
    assert cv.status == CriticalStatus.ACTIONED and cv.action_kind == "referral" and cv.action_ref == str(referral.pk)
    assert svc.start_green_channel(cv.pk, actor=doctor).pk == referral.pk  # a second click: the same referral
    assert CriticalEvent.objects.filter(critical=cv, kind="action").count() == 1


def test_green_channel_only_for_stemi(table):
    cv = raise_k(table)
    svc.acknowledge(cv.pk, "2.5", actor=as_(table.cast.village_doctor))
    with pytest.raises(InvalidInput):
        svc.start_green_channel(cv.pk, actor=as_(table.cast.village_doctor))


def test_raise_finding_is_idempotent(table):
    cv = _stemi(table)
    again = svc.raise_finding(cv.order, cv.finding, actor=as_(table.reader))
    assert again.pk == cv.pk
