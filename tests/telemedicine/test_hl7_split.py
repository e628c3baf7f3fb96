"""The light ER7 split gives what the ``hl7`` package gives: the same results, the same refusals."""

import random

import pytest

from tests.telemedicine.test_hl7_parse import MSG
from yigongti.telemedicine.hl7 import parse
from yigongti.telemedicine.hl7.sample import oru


def outcome(msg) -> tuple:
    """What ``parse_oru`` makes of an already split message: the header and orders, or the refusal."""
    try:
        header = parse.header_of(msg)
    except Exception as e:  # what the package raises must be raised alike
        return ("header", type(e).__name__)
    try:
        return ("ok", header, parse.parse_oru(msg))
    except parse.MessageError as e:
        return (type(e).__name__, header, e.reason, e.hl7_code, e.location)


def both(raw: str) -> tuple[tuple, tuple]:
    try:
        light = parse.read(raw)
    except parse.MessageError as e:
        with pytest.raises(parse.MessageError) as full:
            parse.read_full(raw)
        return (e.ack, e.reason), (full.value.ack, full.value.reason)
    return outcome(light), outcome(parse.read_full(raw))


BAD = [
    "hello", "MSH|", MSG.replace("ORU^R01^ORU_R01", "ADT^A01"), MSG.replace("ORU^R01^ORU_R01", "ORU^R30"),
    MSG.replace("|C1|", "||"), MSG.replace("|2.5.1|", "|9.9|"), MSG.replace("|6.8|", "|6,8|"),
    MSG.replace("OBR|1|L26120100001|L26120100001|", "OBR|1|||"),
    "\r".join(s for s in MSG.split("\r") if not s.startswith("OBR")),
    "\r".join(s for s in MSG.split("\r") if not s.startswith("OBX")), MSG.replace("|NM|", "|ZZ|", 1),
    MSG.replace("|F|", "|Q|", 1), MSG.replace("|NM|", "|SN|", 1).replace("|6.8|", "|>^6.8|"),
    MSG.replace("|NM|", "|NM|", 1).replace("|6.8|", "|NaN|"), MSG.replace("|mmol/L|", "|mmol/L~mg/dL|", 1),
]
GOOD = [
    MSG, MSG.replace("\r", "\n"), MSG.replace("\r", "\r\n"), "\x0b" + MSG + "\x1c\r", " \t" + MSG, MSG + " \t\x1c",
    oru("A1", [("K", "4.1", "mmol/L", "3.5-5.3"), ("CTNI", "阳性", "", "", "ST"), ("PLT", "12", "10^9/L")],
        control_id="X^Y~Z&W", sender="LIS&1", facility="LAB^2", patient_id="P\\F\\1", patient_name="李&雷"),
    oru("A2", [("GLU", "=5.5", "mmol/L", "", "SN"), ("NA", "", "mmol/L")], control_id="E1", status="D"),
    MSG.replace("OBX|1|NM|K^K^L|", "OBX|x|NM|K&sub^钾~K2^L|").replace("|F|||", "|f~P|||"),
    MSG.replace("|UNICODE UTF-8", "|UNICODE UTF-8\rMSH|^~\\&|SECOND\rZZZ\rOBX"),
    MSG.replace("MSH|^~\\&|", "MSH#^~\\&#").replace("|", "#"),  # other separators: both go to the package
    MSG.replace("MSH|^~\\&|", "MSH|^~\\&#|"),
]


@pytest.mark.parametrize("raw", GOOD + BAD)
def test_the_light_split_reads_every_sample_as_the_hl7_package_does(raw):
    light, full = both(raw)
    assert light == full


def test_random_damage_is_read_or_refused_alike():
    rng = random.Random(7)
    samples = [*GOOD, *BAD, oru("A3", [("K", "2.1", "mmol/L"), ("HGB", "40", "g/L", "110-150")], control_id="R")]
    alphabet = "|^~&\\\r\n \t0123456789.-+<>=ABCDEFGHIJKLMNOPQRSTUVWXYZ阳性"
    for _ in range(3000):
        raw = list(rng.choice(samples))
        for _k in range(rng.randint(1, 6)):
            i = rng.randrange(len(raw) + 1)
            op = rng.random()
            if op < 0.4 and i < len(raw):
                raw[i] = rng.choice(alphabet)
            elif op < 0.7 or i == len(raw):
                raw.insert(i, rng.choice(alphabet))
            else:
                del raw[i]
        text = "".join(raw)
        light, full = both(text)
        assert light == full, text


def test_a_default_message_is_split_without_the_package():
    assert isinstance(parse.read(MSG), parse.Er7)
    assert not isinstance(parse.read(MSG.replace("MSH|^~\\&|", "MSH#^~\\&#").replace("|", "#")), parse.Er7)
