"""Placing, cancelling and moving orders through the services."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.cast import as_
from tests.telemedicine.conftest import make_order
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yigongti.core.models import Notification
from yigongti.telemedicine import workflow
from yigongti.telemedicine.models import OrderEvent, OrderStatus, Recognition
from yigongti.telemedicine.services import orders as svc

pytestmark = pytest.mark.django_db


def test_village_doctor_orders_an_ecg_with_an_accession_number_and_a_deadline(centers):
    c = centers.cast
    order = make_order(centers, "ECG12", by=c.village_doctor, resident=c.resident, urgency="emergency")
    today = timezone.localdate()
    assert order.accession_no == f"E{today:%y%m%d}00001"
    assert order.center == centers.ecg and order.kind == "ecg" and order.facility == c.village_clinic
    assert order.priority == 0 and order.status == OrderStatus.ORDERED
    assert order.due_at == order.ordered_at + timezone.timedelta(minutes=centers.ecg.tat_emergency_minutes)
    assert order.area_code == c.resident.area_code
    assert OrderEvent.objects.filter(order=order, kind="ordered").exists()
    # the center's readers hear of an emergency order at once
    assert Notification.objects.filter(recipient=centers.reader, kind=svc.EMERGENCY_KIND).exists()


def test_accession_numbers_count_up_per_kind_and_day(centers):
    c = centers.cast
    a = make_order(centers, "ECG12", by=c.village_doctor, resident=c.resident)
    b = make_order(centers, "ECG12", by=c.village_doctor, resident=c.resident)
    x = make_order(centers, "DX-CHEST", by=c.township_doctor, resident=c.resident)
    assert int(b.accession_no[-5:]) == int(a.accession_no[-5:]) + 1
    assert x.accession_no.startswith("R") and x.accession_no.endswith("00001")
    assert svc.next_accession("ecg").endswith("00003")


def test_same_idempotency_key_returns_the_first_order(centers):
    c = centers.cast
    data = {"resident": c.resident.pk, "item": centers.items["ECG12"].pk}
    first = svc.place_order(data, "k-1", actor=as_(c.village_doctor))
    again = svc.place_order(data, "k-1", actor=as_(c.village_doctor))
    assert first.pk == again.pk


def test_village_doctor_cannot_order_for_another_villages_resident(centers):
    c = centers.cast
    with pytest.raises(NotFound):
        make_order(centers, "ECG12", by=c.village_doctor, resident=c.neighbour)


def test_outsider_and_manager_cannot_order(centers):
    c = centers.cast
    with pytest.raises(NotFound):
        make_order(centers, "ECG12", by=c.outsider, resident=c.resident)
    with pytest.raises(Forbidden):
        make_order(centers, "ECG12", by=c.manager, resident=c.resident)


def test_bad_input_is_a_validation_error_not_a_crash(centers):
    c = centers.cast
    with pytest.raises(InvalidInput) as e:
        make_order(centers, "ECG12", by=c.village_doctor, resident=c.resident, urgency="asap")
    assert e.value.field == "urgency"
    with pytest.raises(InvalidInput):
        svc.place_order({"resident": c.resident.pk, "item": 999999}, actor=as_(c.village_doctor))
    with pytest.raises(InvalidInput):
        svc.place_order({"resident": "x", "item": ""}, actor=as_(c.village_doctor))
    with pytest.raises(InvalidInput) as e:
        make_order(centers, "CONS-CARD", by=c.village_doctor, resident=c.resident)
    assert e.value.code == "use_consultation"


def _reported(centers, code="DX-CHEST", by=None):
    c = centers.cast
    order = make_order(centers, code, by=by or c.township_doctor, resident=c.resident)
    svc.sign_report(order.pk, {"conclusion": "未见异常"}, actor=as_(centers.reader))
    return order


def test_a_recent_recognised_result_needs_a_reason_to_repeat(centers):
    c = centers.cast
    prior = _reported(centers)
    data = {"resident": c.resident.pk, "item": centers.items["DX-CHEST"].pk}
    with pytest.raises(InvalidInput) as e:
        svc.place_order(data, actor=as_(c.village_doctor))
    assert e.value.code == "recent_result" and "塔峰镇卫生院" in e.value.message
    order = svc.place_order({**data, "repeat_reason": "症状加重"}, actor=as_(c.village_doctor))
    rec = Recognition.objects.get()
    assert order.recognition == rec and rec.prior_order == prior and rec.decision == "repeated"


def test_full_read_cycle_notifies_the_ordering_doctor(centers):
    c = centers.cast
    order = make_order(centers, "ECG12", by=c.village_doctor, resident=c.resident)
    svc.mark_acquired(order, actor=as_(c.village_doctor))
    svc.mark_acquired(order.pk, actor=as_(c.village_doctor))  # a second upload leaves it as it is
    svc.start_reading(order.pk, actor=as_(centers.reader))
    tpl = centers.templates["正常心电图"]
    report = svc.sign_report(order.pk, {"conclusion": tpl.conclusion, "findings": tpl.findings,
                                        "template": tpl.pk, "structured": {"rate": 75}},
                             actor=as_(centers.reader))
    order.refresh_from_db()
    assert order.status == OrderStatus.REPORTED and order.reported_at and order.acquired_at and order.started_at
    assert report.reader == centers.reader and report.template == tpl and not report.critical
    note = Notification.objects.get(recipient=c.village_doctor, kind=svc.REPORT_KIND)
    assert "报告已出" in note.title and note.url.endswith(f"/{order.pk}/")
    with pytest.raises(Forbidden):  # the reader cannot review their own report
        svc.review_report(order.pk, "同意", actor=as_(centers.reader))
    svc.review_report(order.pk, "同意", actor=as_(centers.reviewer))
    order.refresh_from_db()
    assert order.status == OrderStatus.REVIEWED and order.report.reviewer == centers.reviewer
    assert list(OrderEvent.objects.filter(order=order).values_list("kind", flat=True)) == [
        "ordered", "acquired", "started", "reported", "reviewed"]


def test_signing_twice_is_a_conflict(centers):
    order = _reported(centers)
    with pytest.raises(Conflict) as e:
        svc.sign_report(order.pk, {"conclusion": "再次"}, actor=as_(centers.reader))
    assert e.value.code == "already_reported"


def test_only_the_centers_readers_report(centers):
    c = centers.cast
    order = make_order(centers, "ECG12", by=c.village_doctor, resident=c.resident)
    for who in (c.county_doctor, c.village_doctor, c.township_doctor):
        with pytest.raises(Forbidden):
            svc.sign_report(order.pk, {"conclusion": "x"}, actor=as_(who))
    with pytest.raises(InvalidInput):
        svc.sign_report(order.pk, {"conclusion": " "}, actor=as_(centers.reader))
    with pytest.raises(InvalidInput):
        svc.sign_report(order.pk, {"conclusion": "x", "critical_findings": ["NOPE"]}, actor=as_(centers.reader))


def test_cancel_needs_a_reason_and_the_ordering_facility(centers):
    c = centers.cast
    order = make_order(centers, "CBC", by=c.village_doctor, resident=c.resident)
    with pytest.raises(InvalidInput):
        svc.cancel_order(order.pk, " ", actor=as_(c.village_doctor))
    with pytest.raises(Forbidden):
        svc.cancel_order(order.pk, "开错了", actor=as_(c.other_village_doctor))
    svc.cancel_order(order.pk, "开错了", actor=as_(c.township_doctor))  # the village's township center may
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    with pytest.raises(Conflict):
        svc.mark_acquired(order.pk, actor=as_(c.village_doctor))


def test_transition_table_is_pure():
    assert workflow.check_move("ordered", "acquire") == "acquired"
    assert workflow.allowed_actions("reported") == ["review"]
    with pytest.raises(workflow.MoveNotAllowed):
        workflow.check_move("reviewed", "cancel")
    assert workflow.next_seq("E26120200041", "E261202") == 42
    assert workflow.next_seq(None, "E261202") == 1
