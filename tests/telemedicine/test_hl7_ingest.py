"""Lab results arrive as HL7 v2 ORU^R01 over a real MLLP socket and are answered with ACKs."""

import threading
from decimal import Decimal

import pytest
from click.testing import CliRunner

from tests.telemedicine.hl7_support import adult_rules, lab_order, listening
from yigongti.core.models import Notification
from yigongti.telemedicine.hl7.ack import ack_code, ack_text
from yigongti.telemedicine.hl7.mllp import MllpClient, frame
from yigongti.telemedicine.hl7.sample import oru
from yigongti.telemedicine.models import CriticalValue, Hl7Message, LabResult, MessageStatus, Order

pytestmark = pytest.mark.django_db(transaction=True)  # the listener's threads have their own connections

CHEM = [("K", "6.8", "mmol/L", "3.5-5.3"), ("NA", "139", "mmol/L"), ("GLU", "108", "mg/dL"), ("CR", "80", "umol/L")]


@pytest.fixture
def lab(centers):
    adult_rules(centers)
    return centers


def send(server, *messages):
    with MllpClient("127.0.0.1", server.port) as client:
        return [client.send(m) for m in messages]


def test_a_critical_potassium_over_mllp_is_stored_flagged_reported_and_the_doctor_is_told(lab):
    order = lab_order(lab)
    with listening() as server:
        [ack] = send(server, oru(order.accession_no, CHEM, control_id="M1"))
    assert ack_code(ack) == "AA" and "\rMSA|AA|M1|" in ack
    results = {r.analyte.code: r for r in LabResult.objects.filter(order=order).select_related("analyte")}
    assert set(results) == {"K", "NA", "GLU", "CR"}
    assert results["K"].value == Decimal("6.8") and results["K"].flag == "HH"
    assert results["GLU"].value == Decimal("5.9940") and results["GLU"].unit == "mmol/L"  # 108 mg/dL × 0.0555
    assert (results["GLU"].received_value, results["GLU"].received_unit) == ("108", "mg/dL")
    assert results["NA"].flag == "N" and results["CR"].source == "hl7"
    order.refresh_from_db()
    assert order.status == "reported" and order.reported_at and order.critical
    cv = CriticalValue.objects.get(order=order)
    assert cv.result == results["K"] and cv.notified_to == lab.cast.township_doctor
    inbox = Notification.objects.filter(recipient=lab.cast.township_doctor)
    assert inbox.filter(urgent=True).exists() and inbox.count() == 2  # the critical value and the results
    msg = Hl7Message.objects.get()
    assert (msg.status, msg.ack_code, msg.control_id, msg.order) == ("applied", "AA", "M1", order)


def test_a_duplicated_message_gets_aa_and_is_applied_once(lab):
    order = lab_order(lab)
    raw = oru(order.accession_no, CHEM, control_id="DUP-1")
    with listening() as server:
        first, again = send(server, raw, raw)
    assert ack_code(first) == ack_code(again) == "AA"
    assert "重复消息" in ack_text(again)
    assert LabResult.objects.filter(order=order).count() == 4
    assert CriticalValue.objects.filter(order=order).count() == 1
    assert Hl7Message.objects.count() == 1


def test_the_same_message_on_two_connections_at_once_is_applied_once(lab):
    order = lab_order(lab)
    raw = oru(order.accession_no, CHEM, control_id="RACE-1")
    acks = []
    with listening() as server:
        threads = [threading.Thread(target=lambda: acks.extend(send(server, raw))) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert [ack_code(a) for a in acks] == ["AA"] * 4
    assert CriticalValue.objects.filter(order=order).count() == 1 and Hl7Message.objects.count() == 1


def test_an_unknown_accession_is_answered_ae_and_queued_then_fixed_and_replayed(lab):
    from tests.cast import as_
    from yigongti.telemedicine import lab as service

    order = lab_order(lab)
    wrong = oru("L99999999999", CHEM, control_id="M2")
    with listening() as server:
        [ack] = send(server, wrong)
    assert ack_code(ack) == "AE" and "L99999999999" in ack_text(ack) and "|204^" in ack
    queued = Hl7Message.objects.get(status="error")
    assert "未找到申请单" in queued.error and queued.raw == wrong
    assert not LabResult.objects.exists()
    replayed = service.replay_message(queued.pk, wrong.replace("L99999999999", order.accession_no),
                                      actor=as_(lab.reader))
    assert replayed.status == "applied" and replayed.replay_of == queued and replayed.order == order
    queued.refresh_from_db()
    assert queued.status == MessageStatus.REPLAYED and queued.replayed_by == lab.reader
    assert LabResult.objects.filter(order=order).count() == 4


@pytest.mark.parametrize("results,reason,where", [
    ([*CHEM[:1], ("XYZ", "1", "mmol/L")], "未知的检验指标编码：XYZ", "OBX^5^3"),
    ([*CHEM[:1], ("GLU", "5", "g/L")], "无法换算", "OBX^5^6"),
    ([*CHEM[:1], ("GLU", "5", "")], "缺少单位", "OBX^5^6"),
    ([*CHEM[:1], ("WBC", "5", "10^9/L")], "不属于申请项目", "OBX^5^3"),
])
def test_bad_content_is_answered_ae_with_where_and_nothing_is_half_applied(lab, results, reason, where):
    order = lab_order(lab)
    with listening() as server:
        [ack] = send(server, oru(order.accession_no, results, control_id="BAD"))
    assert ack_code(ack) == "AE" and reason in ack_text(ack) and f"ERR||{where}|" in ack
    assert not LabResult.objects.exists() and not CriticalValue.objects.exists()  # the valid K was not kept
    order.refresh_from_db()
    assert order.status == "ordered"
    assert Hl7Message.objects.get().status == "error"


def test_what_is_not_an_oru_is_rejected_ar_and_still_kept(lab):
    with listening() as server:
        not_hl7, adt = send(server, "hello world", oru("L1", CHEM, control_id="A1").replace("ORU^R01", "ADT^A01"))
    assert ack_code(not_hl7) == "AR" and ack_code(adt) == "AR" and "ADT\\S\\A01" in ack_text(adt)
    assert Hl7Message.objects.filter(status="error", ack_code="AR").count() == 2


def test_a_sender_retrying_a_failed_message_after_the_order_exists_gets_aa(lab):
    order = lab_order(lab)
    raw = oru(order.accession_no, CHEM, control_id="RETRY")
    Order.objects.filter(pk=order.pk).update(accession_no="L00000000000")
    with listening() as server:
        [first] = send(server, raw)
        Order.objects.filter(pk=order.pk).update(accession_no=order.accession_no)
        [second] = send(server, raw)
    assert (ack_code(first), ack_code(second)) == ("AE", "AA")
    assert Hl7Message.objects.get().status == "applied"  # the queued copy, now applied (one row)


def test_preliminary_results_start_the_order_and_final_ones_report_it(lab):
    order = lab_order(lab)
    with listening() as server:
        send(server, oru(order.accession_no, CHEM[1:2], control_id="P1", status="P"))
        order.refresh_from_db()
        assert order.status == "in_progress"
        send(server, oru(order.accession_no, CHEM[1:], control_id="F1"))
    order.refresh_from_db()
    assert order.status == "reported" and LabResult.objects.filter(order=order).count() == 3


def test_many_connections_and_frames_cut_anywhere(lab):
    orders = [lab_order(lab) for _ in range(6)]
    acks: dict[int, list[str]] = {}

    def sender(i):
        with MllpClient("127.0.0.1", server.port) as client:
            data = frame(oru(orders[i].accession_no, CHEM[1:], control_id=f"CUT-{i}"))
            for j in range(0, len(data), 7):  # seven bytes at a time
                client.sock.sendall(data[j:j + 7])
            acks[i] = [client.receive()]
            acks[i].append(client.send(oru(orders[i].accession_no, CHEM[1:2], control_id=f"CUT-{i}-b")))

    with listening() as server:
        threads = [threading.Thread(target=sender, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(ack_code(a) for v in acks.values() for a in v) == ["AA"] * 12
    assert Hl7Message.objects.filter(status="applied").count() == 12


def test_the_send_command_sends_a_file_and_prints_each_ack(lab, tmp_path):
    from yigongti.telemedicine.hl7.commands import send as send_command

    order = lab_order(lab)
    f = tmp_path / "results.hl7"
    f.write_text(oru(order.accession_no, CHEM, control_id="F-1").replace("\r", "\n") + "\n"
                 + oru("L404", CHEM, control_id="F-2").replace("\r", "\n"), encoding="utf-8")
    with listening() as server:
        out = CliRunner().invoke(send_command, [str(f), "--port", str(server.port)])
    assert out.exit_code == 1  # one was not accepted
    lines = out.output.strip().splitlines()
    assert lines[0] == "AA\t" and lines[1].startswith("AE\t")
