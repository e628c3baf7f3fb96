"""Group commit: the messages that arrive together are applied in one transaction, and each still gets the ACK
and leaves the rows it would have alone (a duplicate, a critical value, bad content, a second message for one
order, preliminary results go singly after the batch)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from tests.telemedicine.hl7_support import adult_rules, lab_order, listening
from yigongti.core.models import AuditEvent, Notification
from yigongti.telemedicine.hl7 import batch
from yigongti.telemedicine.hl7.ack import ack_code, ack_text
from yigongti.telemedicine.hl7.mllp import MllpClient
from yigongti.telemedicine.hl7.sample import oru
from yigongti.telemedicine.models import CriticalValue, Hl7Message, LabResult, MessageStatus, Order
from yigongti.telemedicine.services.orders import REPORT_KIND

pytestmark = pytest.mark.django_db(transaction=True)

PLAIN = [("K", "4.1", "mmol/L"), ("NA", "139", "mmol/L"), ("GLU", "108", "mg/dL"), ("CR", "80", "umol/L")]
CRITICAL = [("K", "6.9", "mmol/L"), ("NA", "139", "mmol/L"), ("GLU", "5.0", "mmol/L"), ("CR", "80", "umol/L")]


@pytest.fixture
def lab(centers):
    adult_rules(centers)
    return centers


@pytest.fixture
def singles(monkeypatch):
    """The indexes of the messages that went through the one-at-a-time path."""
    seen: list[str] = []
    single = batch.ingest

    def counting(raw, peer=""):
        seen.append(raw)
        return single(raw, peer)

    monkeypatch.setattr(batch, "ingest", counting)
    return seen


def test_a_batch_answers_and_stores_each_message_as_if_it_came_alone(lab, singles):
    orders = [lab_order(lab) for _ in range(6)]
    plain = [oru(o.accession_no, PLAIN, control_id=f"B{i}") for i, o in enumerate(orders[:4])]
    critical = oru(orders[4].accession_no, CRITICAL, control_id="B-CRIT")
    duplicate = plain[0]
    unknown = oru("NO-SUCH-ORDER", PLAIN, control_id="B-UNKNOWN")
    second = oru(orders[0].accession_no, PLAIN, control_id="B-SECOND")  # a correction of the first, same batch
    preliminary = oru(orders[5].accession_no, PLAIN, control_id="B-PRELIM", status="P")
    items = [(m, "10.0.0.9:4000") for m in [*plain, critical, duplicate, unknown, second, preliminary]]

    acks = batch.ingest_many(items)

    assert [ack_code(a) for a in acks] == ["AA"] * 4 + ["AA", "AA", "AE", "AA", "AA"]
    assert all(f"\rMSA|AA|B{i}|" in acks[i] for i in range(4))
    assert "重复消息" in ack_text(acks[5]) and "NO-SUCH-ORDER" in ack_text(acks[6])
    for o in orders[:5]:
        o.refresh_from_db()
        assert o.status == "reported" and o.reported_at is not None
    assert Order.objects.get(pk=orders[5].pk).status == "in_progress"
    glu = LabResult.objects.get(order=orders[1], analyte__code="GLU")
    assert (glu.value, glu.unit, glu.received_value, glu.flag) == (Decimal("5.9940"), "mmol/L", "108", "N")
    assert LabResult.objects.filter(order__in=orders[:5]).count() == 20  # the correction updated, added none
    assert LabResult.objects.filter(order=orders[0]).first().message.control_id == "B-SECOND"
    cv = CriticalValue.objects.get()
    assert cv.order_id == orders[4].pk and cv.result.flag == "HH"
    assert Hl7Message.objects.filter(status=MessageStatus.APPLIED).count() == 7
    queued = Hl7Message.objects.get(status=MessageStatus.ERROR)
    assert queued.control_id == "B-UNKNOWN" and queued.ack_code == "AE"
    doctor = lab.cast.township_doctor
    assert Notification.objects.filter(recipient=doctor, kind=REPORT_KIND).count() == 6  # and the correction
    assert Notification.objects.filter(recipient=doctor, urgent=True).count() == 1
    applied = AuditEvent.objects.filter(object_type="hl7_message", action="create")
    assert applied.count() == 8  # seven applied, one queued
    assert AuditEvent.objects.filter(object_type="lab_result").count() >= 7
    if connection.vendor == "postgresql":  # the plain four and the critical one went together; four singly
        assert len(singles) == 4
    else:  # SQLite has no catalogue cache: every message singly
        assert len(singles) == len(items)


def test_when_the_batch_fails_every_message_is_applied_singly(lab, singles, monkeypatch):
    orders = [lab_order(lab) for _ in range(3)]

    def broken(planned, now):
        raise RuntimeError("disk full")

    monkeypatch.setattr(batch, "_write", broken)
    acks = batch.ingest_many([(oru(o.accession_no, PLAIN, control_id=f"F{i}"), "") for i, o in enumerate(orders)])
    assert [ack_code(a) for a in acks] == ["AA"] * 3
    assert LabResult.objects.filter(order__in=orders).count() == 12 and len(singles) == 3
    assert Hl7Message.objects.count() == 3


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_many_connections_at_once_all_get_aa_and_the_batches_grow(lab, monkeypatch):
    sizes: list[int] = []
    real = batch.ingest_many

    def recording(items):
        sizes.append(len(items))
        return real(items)

    monkeypatch.setattr(batch, "ingest_many", recording)
    orders = [lab_order(lab) for _ in range(48)]
    acks: list[str] = []
    lock = threading.Lock()
    with listening() as server:
        def sender(k):
            with MllpClient("127.0.0.1", server.port) as client:
                for j in range(6):
                    a = client.send(oru(orders[k * 6 + j].accession_no, PLAIN, control_id=f"C{k}-{j}"))
                    with lock:
                        acks.append(a)
        threads = [threading.Thread(target=sender, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(acks) == 48 and all(ack_code(a) == "AA" for a in acks)
    assert LabResult.objects.filter(order__in=orders).count() == 48 * 4
    assert Order.objects.filter(pk__in=[o.pk for o in orders], status="reported").count() == 48
    assert max(sizes) > 1 and sum(sizes) == 48
