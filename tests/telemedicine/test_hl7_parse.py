"""Reading ORU^R01 messages and writing ACKs, without a database."""

import datetime as dt
from decimal import Decimal

import pytest

from yigongti.telemedicine.hl7 import parse
from yigongti.telemedicine.hl7.ack import ack_code, ack_text, build_ack, escape
from yigongti.telemedicine.hl7.commands import split_messages
from yigongti.telemedicine.hl7.mllp import END, START, FrameReader, frame
from yigongti.telemedicine.hl7.sample import oru
from yigongti.telemedicine.lab import flag_for, next_status, unit_factor

MSG = oru("L26120100001", [("K", "6.8", "mmol/L", "3.5-5.3"), ("NA", "140", "mmol/L")], control_id="C1",
          patient_name="王小明")


def test_an_oru_reads_into_its_order_and_typed_results():
    m = parse.parse_oru(MSG)
    assert (m.header.sending_application, m.header.sending_facility, m.header.control_id) == ("LIS", "COUNTYLAB", "C1")
    assert m.header.message_type == "ORU^R01"
    [order] = m.orders
    assert order.accession_candidates == ["L26120100001", "L26120100001"]
    k, na = order.observations
    assert (k.code, k.number, k.unit, k.ref_range, k.status) == ("K", Decimal("6.8"), "mmol/L", "3.5-5.3", "F")
    assert na.number == Decimal("140") and na.observed_at.tzinfo is not None


def test_line_feeds_and_mllp_bytes_around_a_message_are_tolerated():
    m = parse.parse_oru("\x0b" + MSG.replace("\r", "\r\n") + "\x1c\r")
    assert len(m.orders[0].observations) == 2


@pytest.mark.parametrize("raw,ack,code", [
    ("hello", "AR", "101"),
    (MSG.replace("ORU^R01^ORU_R01", "ADT^A01"), "AR", "200"),
    (MSG.replace("ORU^R01^ORU_R01", "ORU^R30"), "AR", "201"),
    (MSG.replace("|C1|", "||"), "AR", "101"),
    (MSG.replace("|2.5.1|", "|9.9|"), "AR", "203"),
    (MSG.replace("|6.8|", "|6,8|"), "AE", "102"),
    (MSG.replace("OBR|1|L26120100001|L26120100001|", "OBR|1|||"), "AE", "101"),
    ("\r".join(s for s in MSG.split("\r") if not s.startswith("OBR")), "AE", "100"),
    ("\r".join(s for s in MSG.split("\r") if not s.startswith("OBX")), "AE", "101"),
    (MSG.replace("|NM|", "|ZZ|", 1), "AE", "103"),
])
def test_a_bad_message_is_refused_with_the_reason_and_table_0357_code(raw, ack, code):
    with pytest.raises(parse.MessageError) as e:
        parse.parse_oru(raw)
    assert (e.value.ack, e.value.hl7_code) == (ack, code) and e.value.reason


def test_hl7_times_are_beijing_time_unless_they_say_otherwise():
    assert parse.parse_ts("20261201083000") == dt.datetime(2026, 12, 1, 8, 30, tzinfo=parse.SHANGHAI)
    assert parse.parse_ts("202612010830+0000").utcoffset() == dt.timedelta(0)
    assert parse.parse_ts("") is None
    with pytest.raises(ValueError):
        parse.parse_ts("yesterday")


def test_reference_ranges_as_analysers_send_them():
    assert parse.parse_range("3.5-5.3") == (Decimal("3.5"), Decimal("5.3"))
    assert parse.parse_range("<0.04") == (None, Decimal("0.04"))
    assert parse.parse_range("阴性") == (None, None)


def test_the_ack_echoes_the_control_id_and_names_the_error():
    h = parse.read_header(MSG)
    ok = build_ack(h, "AA")
    assert ok.startswith("MSH|^~\\&|YIGONGTI|LABCENTER|LIS|COUNTYLAB|") and "|ACK^R01^ACK|" in ok
    assert "\rMSA|AA|C1|" in ok and "ERR" not in ok
    bad = build_ack(h, "AE", "未知的检验指标编码：X|Y", error_code="103", location="OBX^4^3")
    assert ack_code(bad) == "AE" and ack_text(bad) == "未知的检验指标编码：X\\F\\Y"
    assert "\rERR||OBX^4^3|103^Table value not found^HL70357|E|" in bad
    assert ack_code(build_ack(None, "AR", "不是 HL7")) == "AR"
    assert escape("a^b&c~d\\e") == "a\\S\\b\\T\\c\\R\\d\\E\\e"


def test_frames_are_found_however_the_stream_is_cut():
    reader = FrameReader()
    data = b"noise" + frame("MSH|1") + frame("MSH|2") + frame("MSH|3")
    got = []
    for i in range(0, len(data), 3):  # three bytes at a time
        got += list(reader.feed(data[i:i + 3]))
    assert got == [b"MSH|1", b"MSH|2", b"MSH|3"]
    assert list(reader.feed(START + b"MSH|4" + END)) == [] and list(reader.feed(b"\r")) == [b"MSH|4"]


def test_a_file_of_messages_splits_at_each_msh():
    assert len(split_messages(MSG + "\n\n" + MSG.replace("\r", "\n"))) == 2


def test_units_convert_by_the_catalogue_factors_and_unknown_units_are_refused():
    factors = {"mg/dL": 0.0555, "10^3/uL": 1}
    assert unit_factor("mmol/L", "mmol/L", factors) == 1
    assert unit_factor("MG/DL", "mmol/L", factors) == Decimal("0.0555")
    assert unit_factor("10*3/uL", "10^9/L", factors) == 1
    assert unit_factor("g/L", "mmol/L", factors) is None
    assert unit_factor("", "mmol/L", factors) is None


def test_flags_against_the_reference_range():
    assert flag_for(Decimal("6.8"), Decimal("3.5"), Decimal("5.3")) == "H"
    assert flag_for(Decimal("3.0"), Decimal("3.5"), None) == "L"
    assert flag_for(Decimal("4"), None, None) == "N"
    assert flag_for(None, None, None, "A") == "A"


def test_final_results_report_the_order_and_preliminary_ones_start_it():
    assert next_status("ordered", ["F", "C"]) == "sign"
    assert next_status("acquired", ["F", "P"]) == "start"
    assert next_status("in_progress", ["P"]) is None
    assert next_status("reported", ["C"]) is None
