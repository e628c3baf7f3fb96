"""A critical value that arrives in a batch leaves the rows it leaves when it arrives alone: the flagged result,
the critical value with its events, the doctor's urgent inbox row and the marked report, the escalation job, the
audit events — in the batch's own transaction instead of a message of its own after it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from tests.telemedicine.hl7_support import adult_rules, lab_order
from yigongti.core.models import AuditEvent, Job, Notification
from yigongti.telemedicine.hl7 import batch
from yigongti.telemedicine.hl7.ack import ack_code
from yigongti.telemedicine.hl7.ingest import ingest
from yigongti.telemedicine.hl7.sample import oru
from yigongti.telemedicine.models import CriticalRule, CriticalValue, LabResult, Order

pytestmark = pytest.mark.django_db(transaction=True)

PLAIN = [("K", "4.1", "mmol/L"), ("NA", "139", "mmol/L"), ("GLU", "108", "mg/dL"), ("CR", "80", "umol/L")]
TWO_CRITICAL = [("K", "6.9", "mmol/L"), ("NA", "139", "mmol/L"), ("GLU", "450", "mg/dL"), ("CR", "80", "umol/L")]


@pytest.fixture
def lab(centers):
    adult_rules(centers)
    return centers


@pytest.fixture
def singles(monkeypatch):
    seen: list[str] = []
    single = batch.ingest

    def counting(raw, peer=""):
        seen.append(raw)
        return single(raw, peer)

    monkeypatch.setattr(batch, "ingest", counting)
    return seen


def left_behind(order: Order) -> dict:
    """Everything a message left about this order, without ids, times and the accession number."""
    order.refresh_from_db()
    no = order.accession_no

    def plain(text: str) -> str:
        return text.replace(no, "<no>").replace(f"/{order.pk}/", "/<pk>/")

    values = list(CriticalValue.objects.filter(order=order).order_by("pk"))
    cv_ids = {str(cv.pk) for cv in values}
    audits = [(a.action, a.object_type, a.actor, a.ip, {k: v for k, v in a.detail.items() if k not in ("order",)})
              for a in AuditEvent.objects.order_by("seq")
              if (a.object_type == "lab_result" and a.object_id == str(order.pk))
              or (a.object_type == "critical_value" and a.object_id in cv_ids)]
    return {
        "order": (order.status, order.critical, order.started_at is not None, order.reported_at is not None),
        "results": sorted((r.analyte.code, r.value, r.value_text, r.unit, r.received_value, r.received_unit,
                           r.ref_low, r.ref_high, r.flag, r.source) for r in LabResult.objects.filter(order=order)),
        "critical": [(cv.kind, cv.description, cv.status, cv.level, cv.result.analyte.code, cv.rule_id,
                      cv.resident_id, cv.facility_id, cv.area_code, cv.notified_to_id, cv.reported_by_id,
                      cv.ack_due_at - cv.detected_at, cv.notified_at == cv.detected_at,
                      [(e.kind, e.level, e.to_id, e.by_id, e.note) for e in cv.events.order_by("pk")])
                     for cv in values],
        "events": [(e.kind, e.note, e.by_id) for e in order.events.order_by("pk") if e.kind != "ordered"],
        "inbox": sorted((n.recipient_id, n.kind, plain(n.title), plain(n.body), n.urgent)
                        for n in Notification.objects.filter(Q(title__contains=no) | Q(body__contains=no))),
        "jobs": sorted((j.kind, j.args["level"], j.status) for j in Job.objects.filter(
            kind="telemedicine.escalate", args__critical__in=[int(i) for i in cv_ids])),
        "audit": audits,
    }


def test_a_critical_value_in_a_batch_leaves_what_it_leaves_alone(lab, singles):
    alone, together, plain = lab_order(lab), lab_order(lab), lab_order(lab)
    assert ack_code(ingest(oru(alone.accession_no, TWO_CRITICAL, control_id="ALONE"), "10.0.0.9:4000")) == "AA"
    singles.clear()

    acks = batch.ingest_many([(oru(plain.accession_no, PLAIN, control_id="PLAIN"), "10.0.0.9:4000"),
                              (oru(together.accession_no, TWO_CRITICAL, control_id="TOGETHER"), "10.0.0.9:4000")])

    assert [ack_code(a) for a in acks] == ["AA", "AA"]
    if connection.vendor == "postgresql":
        assert singles == []
    expected = left_behind(alone)
    assert left_behind(together) == expected
    assert expected["order"] == ("reported", True, True, True)
    assert [c[4] for c in expected["critical"]] == ["K", "GLU"]
    assert {r[0]: r[8] for r in expected["results"]} == {"K": "HH", "NA": "N", "GLU": "HH", "CR": "N"}
    assert sum(n[4] for n in expected["inbox"]) == 2 and any("【危急值】" in n[2] for n in expected["inbox"])
    assert left_behind(plain)["critical"] == [] and not Order.objects.get(pk=plain.pk).critical


def test_a_first_only_rule_counts_a_value_raised_earlier_in_the_same_batch(lab, singles):
    CriticalRule.objects.filter(analyte__code="K").update(first_only=True)
    first, second = lab_order(lab), lab_order(lab)
    critical_k = [("K", "6.9", "mmol/L"), ("NA", "139", "mmol/L")]

    acks = batch.ingest_many([(oru(first.accession_no, critical_k, control_id="K1"), ""),
                              (oru(second.accession_no, critical_k, control_id="K2"), "")])

    assert [ack_code(a) for a in acks] == ["AA", "AA"]
    assert CriticalValue.objects.get().order_id == first.pk
    assert LabResult.objects.get(order=second, analyte__code="K").flag == "H"
    assert not Order.objects.get(pk=second.pk).critical


def test_a_patient_group_rule_reads_the_orders_encounter_department_in_the_batch(lab, singles):
    """A rule for anticoagulated patients (the order's clinical question names warfarin) applies in a batch."""
    CriticalRule.objects.create(community=lab.cast.community, analyte=lab.analytes["K"], unit="mmol/L",
                                low=Decimal("3.0"), patient_group="抗凝治疗", effective_from=dt.date(2020, 1, 1),
                                source="测试")
    order = lab_order(lab)
    Order.objects.filter(pk=order.pk).update(clinical_question="华法林抗凝，INR监测")
    other = lab_order(lab)
    low_k = [("K", "2.9", "mmol/L"), ("NA", "139", "mmol/L")]

    batch.ingest_many([(oru(order.accession_no, low_k, control_id="G1"), ""),
                       (oru(other.accession_no, low_k, control_id="G2"), "")])

    assert list(CriticalValue.objects.values_list("order_id", flat=True)) == [order.pk]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_a_batchs_statements_do_not_grow_with_its_messages(lab, singles):
    """Nothing of an order is read lazily one order at a time (a deferred column would do that)."""
    orders = [lab_order(lab) for _ in range(10)]
    batch.ingest_many([(oru(orders[0].accession_no, PLAIN, control_id="WARM"), "")])  # the catalogue cache

    def statements(chunk, tag):
        items = [(oru(o.accession_no, PLAIN, control_id=f"{tag}{i}"), "") for i, o in enumerate(chunk[1:])]
        items.append((oru(chunk[0].accession_no, TWO_CRITICAL, control_id=f"{tag}-C"), ""))
        with CaptureQueriesContext(connection) as q:
            assert {ack_code(a) for a in batch.ingest_many(items)} == {"AA"}
        return len(q)

    assert statements(orders[1:3], "S") == statements(orders[3:10], "L")
    assert singles == []
