"""ORU^R01 → typed results, with the reason when a message cannot be read (pure: no database).

This module knows which fields an ORU carries: MSH (sender, control id, type, processing id, version), one or more
OBR (the order: placer OBR-2 / filler OBR-3 accession number) each followed by its OBX results (OBX-2 value type,
OBX-3 code, OBX-5 value, OBX-6 unit, OBX-7 reference range, OBX-8 flags, OBX-11 status, OBX-14 observation time).
A message in the default encoding characters (``MSH|^~\\&|``, what every sender we know uses) is split here
with ``str.split`` exactly as the python ``hl7`` package splits it (nothing unescaped; the first repetition,
component, sub-component alike) in an eighth of its time; other encoding characters go to the package.

A ``Rejected`` error means the message is not one we take at all (answered AR); an ``Invalid`` one is an ORU
whose content is wrong (answered AE). Both carry the HL7 table 0357 error code and where it is (ERR-2)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import hl7

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUPPORTED_VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8")
NUMERIC_TYPES = ("NM", "SN")
TEXT_TYPES = ("ST", "TX", "FT", "CE", "CWE", "CNE", "IS")
FINAL_STATUSES = ("F", "C")  # final, corrected
ACCEPTED_STATUSES = ("F", "C", "P", "R", "")  # preliminary and "results entered" count as partial

# HL7 table 0357 (message error condition codes)
SEGMENT_SEQUENCE = "100"
REQUIRED_MISSING = "101"
DATA_TYPE = "102"
TABLE_VALUE = "103"
UNSUPPORTED_TYPE = "200"
UNSUPPORTED_EVENT = "201"
UNSUPPORTED_PROCESSING = "202"
UNSUPPORTED_VERSION = "203"
UNKNOWN_KEY = "204"
INTERNAL = "207"


class MessageError(Exception):
    """A message that cannot be applied: ``ack`` is AR (rejected) or AE (error); ``location`` is ERR-2
    (segment^sequence^field), ``hl7_code`` ERR-3 (table 0357)."""

    ack = "AE"

    def __init__(self, reason: str, hl7_code: str = INTERNAL, location: str = ""):
        super().__init__(reason)
        self.reason, self.hl7_code, self.location = reason, hl7_code, location


class Rejected(MessageError):
    ack = "AR"


class Invalid(MessageError):
    ack = "AE"


@dataclass(frozen=True)
class Header:
    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    control_id: str
    message_type: str  # "ORU^R01"
    processing_id: str
    version: str
    sent_at: dt.datetime | None


@dataclass(frozen=True)
class Observation:
    """One OBX as received: nothing converted yet (units and ranges are the catalogue's business)."""

    set_id: int
    position: int  # the OBX's segment number in the message (for ERR-2)
    value_type: str
    code: str
    name: str
    value: str
    number: Decimal | None  # the value read as a number (NM/SN), else None
    unit: str
    ref_range: str
    flags: str
    status: str
    observed_at: dt.datetime | None


@dataclass(frozen=True)
class OrderResults:
    """One OBR and its OBX results."""

    placer: str  # OBR-2
    filler: str  # OBR-3
    service_code: str  # OBR-4.1
    observed_at: dt.datetime | None  # OBR-7
    result_status: str  # OBR-25
    position: int
    observations: list[Observation] = field(default_factory=list)

    @property
    def accession_candidates(self) -> list[str]:
        return [a for a in (self.placer, self.filler) if a]


@dataclass(frozen=True)
class OruMessage:
    header: Header
    patient_id: str  # PID-3.1 (informational: the order says who the patient is)
    orders: list[OrderResults]


_TS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$")


def parse_ts(text: str) -> dt.datetime | None:
    """An HL7 TS/DTM (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ]); without a zone it is Beijing time. ``None`` for
    empty; ValueError when it is not a time."""
    text = (text or "").strip()
    if not text:
        return None
    m = _TS.match(text)
    if not m:
        raise ValueError(text)
    y, mo, d, h, mi, s, zone = m.groups()
    tz: dt.tzinfo = SHANGHAI
    if zone:
        sign = 1 if zone[0] == "+" else -1
        tz = dt.timezone(sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])))
    return dt.datetime(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(s or 0), tzinfo=tz)


def normalise(raw: str) -> str:
    """Segments separated by CR (senders use LF or CRLF too); no framing bytes, no blank lines."""
    text = raw.strip("\x0b\x1c\r\n ").replace("\r\n", "\r").replace("\n", "\r")
    return "\r".join(s for s in text.split("\r") if s.strip())


DEFAULT_ENCODING = "|^~\\&|"  # MSH-1, MSH-2 and the separator after it


class Er7(list):
    """A message in the default encoding characters: its segments, each the list of its fields as sent, numbered
    as the ``hl7`` package numbers them (``[0]`` the segment id; in MSH ``[1]`` is "|" and ``[2]`` "^~\\&")."""

    def segment(self, segment_id: str) -> list[str]:
        for seg in self:
            if seg[0] == segment_id:
                return seg
        raise KeyError(segment_id)


def _er7(text: str) -> Er7:
    segments = Er7()
    for seg in text.split("\r"):
        fields = seg.split("|")
        if seg.startswith("MSH"):  # the hl7 package numbers MSH-1 (the field separator) as a field
            fields = ["MSH", "|", *fields[1:]] if len(seg) > 3 else ["MSH"]
        segments.append(fields)
    return segments


def _er7_text(fields: list[str], n: int, rep: int, comp: int) -> str:
    """``_text`` of a field as sent: the first sub-component of the component of the repetition, stripped."""
    if n >= len(fields):
        return ""
    value = fields[n]
    if "~" not in value and "^" not in value and "&" not in value:
        return value.strip() if rep == 1 and comp == 1 else ""
    reps = value.split("~")
    if rep > len(reps):
        return ""
    r = reps[rep - 1]
    if "^" not in r and "&" not in r:
        return r.strip() if comp == 1 else ""
    comps = r.split("^")
    if comp > len(comps):
        return ""
    return comps[comp - 1].split("&", 1)[0].strip()


def _text(seg, n: int, rep: int = 1, comp: int = 1) -> str:
    if not isinstance(seg, hl7.Segment):
        return _er7_text(seg, n, rep, comp)
    try:
        value = seg(n)
    except IndexError:
        return ""
    if isinstance(value, str):
        return value.strip() if comp == 1 and rep == 1 else ""
    try:
        r = value(rep)
        if isinstance(r, str):
            return r.strip() if comp == 1 else ""
        c = r(comp)
        return str(c).strip() if isinstance(c, str) else str(c(1)).strip()
    except IndexError:
        return ""


def _field(seg, n: int) -> str:
    """The whole field as sent (components joined)."""
    if not isinstance(seg, hl7.Segment):
        return seg[n].strip() if n < len(seg) else ""
    try:
        return str(seg(n)).strip()
    except IndexError:
        return ""


def _message(raw: str, *, full: bool = False) -> hl7.Message | Er7:
    text = normalise(raw)
    if not text.startswith("MSH"):
        raise Rejected("消息不以 MSH 段开头，不是 HL7 v2 消息", REQUIRED_MISSING, "MSH^1")
    if len(text) < 8:
        raise Rejected("MSH 段不完整", REQUIRED_MISSING, "MSH^1")
    if not full and text[3:9] == DEFAULT_ENCODING:
        return _er7(text.strip())  # the hl7 package strips the text too
    try:
        return hl7.parse(text)
    except Exception as e:  # the parser's own errors on a damaged message
        raise Rejected(f"消息无法解析：{e}", SEGMENT_SEQUENCE, "MSH^1") from None


def header_of(msg: hl7.Message | Er7) -> Header:
    msh = msg.segment("MSH")
    try:
        sent = parse_ts(_text(msh, 7))
    except ValueError:
        sent = None
    mtype = "^".join(p for p in (_text(msh, 9, 1, 1), _text(msh, 9, 1, 2)) if p)
    return Header(sending_application=_text(msh, 3)[:60], sending_facility=_text(msh, 4)[:60],
                  receiving_application=_text(msh, 5), receiving_facility=_text(msh, 6),
                  control_id=_text(msh, 10)[:64], message_type=mtype[:20], processing_id=_text(msh, 11),
                  version=_text(msh, 12), sent_at=sent)


def read_header(raw: str) -> Header:
    """The MSH alone (what an ACK needs and what dedup keys on); Rejected when there is none."""
    return header_of(_message(raw))


def read(raw: str) -> hl7.Message | Er7:
    """The message split into segments (Rejected when it is not HL7 v2)."""
    return _message(raw)


def read_full(raw: str) -> hl7.Message:
    """The message split by the ``hl7`` package whatever its encoding characters (what ``read`` must equal)."""
    msg = _message(raw, full=True)
    assert isinstance(msg, hl7.Message)
    return msg


def parse_oru(raw: str | hl7.Message | Er7) -> OruMessage:
    """The whole ORU^R01, checked; raises Rejected (AR) or Invalid (AE) with the first reason found."""
    msg = raw if isinstance(raw, hl7.Message | Er7) else _message(raw)
    h = header_of(msg)
    if not h.control_id:
        raise Rejected("缺少消息控制号（MSH-10）", REQUIRED_MISSING, "MSH^1^10")
    if not h.message_type.startswith("ORU"):
        raise Rejected(f"不支持的消息类型 {h.message_type or '（空）'}，只接收 ORU^R01", UNSUPPORTED_TYPE, "MSH^1^9")
    if h.message_type not in ("ORU", "ORU^R01"):
        raise Rejected(f"不支持的事件 {h.message_type}，只接收 ORU^R01", UNSUPPORTED_EVENT, "MSH^1^9")
    if h.processing_id[:1] not in ("P", "T", "D", ""):
        raise Rejected(f"处理标识 MSH-11 无效：{h.processing_id}", UNSUPPORTED_PROCESSING, "MSH^1^11")
    if h.version and h.version not in SUPPORTED_VERSIONS:
        raise Rejected(f"不支持的 HL7 版本 {h.version}", UNSUPPORTED_VERSION, "MSH^1^12")

    patient_id = ""
    orders: list[OrderResults] = []
    current: OrderResults | None = None
    for position, seg in enumerate(msg, start=1):
        sid = str(seg[0]).strip()
        if sid == "PID":
            patient_id = _text(seg, 3)
        elif sid == "OBR":
            current = _obr(seg, position)
            orders.append(current)
        elif sid == "OBX":
            if current is None:
                raise Invalid("OBX 段出现在 OBR 段之前", SEGMENT_SEQUENCE, f"OBX^{position}")
            current.observations.append(_obx(seg, position, current))
    if not orders:
        raise Invalid("消息中没有 OBR 段（申请单）", REQUIRED_MISSING, "OBR^1")
    for o in orders:
        if not o.observations:
            raise Invalid(f"申请单 {o.placer or o.filler} 没有 OBX 结果", REQUIRED_MISSING, f"OBR^{o.position}")
    return OruMessage(h, patient_id, orders)


def _obr(seg, position: int) -> OrderResults:
    placer, filler = _text(seg, 2)[:20], _text(seg, 3)[:20]
    if not placer and not filler:
        raise Invalid("OBR 段缺少申请单号（OBR-2/OBR-3）", REQUIRED_MISSING, f"OBR^{position}^2")
    try:
        when = parse_ts(_text(seg, 7))
    except ValueError:
        raise Invalid(f"OBR-7 采集时间格式错误：{_text(seg, 7)}", DATA_TYPE, f"OBR^{position}^7") from None
    return OrderResults(placer, filler, _text(seg, 4), when, _text(seg, 25), position)


def _obx(seg, position: int, obr: OrderResults) -> Observation:
    where = f"OBX^{position}"
    vtype = _text(seg, 2).upper()
    code = _text(seg, 3, 1, 1)
    if not code:
        raise Invalid("OBX-3 缺少检验指标编码", REQUIRED_MISSING, f"{where}^3")
    value = _text(seg, 5) if vtype not in ("SN",) else _field(seg, 5).replace("^", "")
    status = _text(seg, 11).upper()
    if status not in ACCEPTED_STATUSES and status not in ("D", "X", "W", "I"):
        raise Invalid(f"OBX-11 结果状态无效：{status}", TABLE_VALUE, f"{where}^11")
    number = None
    if vtype in NUMERIC_TYPES:
        try:
            number = Decimal(value.lstrip("=").strip()) if value else None
        except InvalidOperation:
            raise Invalid(f"指标 {code} 的结果“{value}”不是数值", DATA_TYPE, f"{where}^5") from None
        if number is not None and not number.is_finite():
            raise Invalid(f"指标 {code} 的结果“{value}”不是数值", DATA_TYPE, f"{where}^5")
    elif vtype not in TEXT_TYPES:
        raise Invalid(f"指标 {code} 的结果类型 OBX-2“{vtype or '（空）'}”不支持", TABLE_VALUE, f"{where}^2")
    if not value and status not in ("D", "X", "W", "I"):
        raise Invalid(f"指标 {code} 没有结果值（OBX-5）", REQUIRED_MISSING, f"{where}^5")
    try:
        when = parse_ts(_text(seg, 14)) or obr.observed_at
    except ValueError:
        raise Invalid(f"OBX-14 检测时间格式错误：{_text(seg, 14)}", DATA_TYPE, f"{where}^14") from None
    try:
        set_id = int(_text(seg, 1) or 0)
    except ValueError:
        set_id = 0
    return Observation(set_id=set_id, position=position, value_type=vtype, code=code[:30],
                       name=_text(seg, 3, 1, 2), value=value[:60], number=number, unit=_text(seg, 6)[:20],
                       ref_range=_text(seg, 7), flags=_text(seg, 8), status=status, observed_at=when)


_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[-–~]\s*(-?\d+(?:\.\d+)?)\s*$")


def parse_range(text: str) -> tuple[Decimal | None, Decimal | None]:
    """A reference range as analysers send it ("3.5-5.5", "<5", ">10"); (None, None) when unreadable."""
    text = (text or "").strip()
    if m := _RANGE.match(text):
        return Decimal(m.group(1)), Decimal(m.group(2))
    try:
        if text.startswith("<"):
            return None, Decimal(text.lstrip("<=").strip())
        if text.startswith(">"):
            return Decimal(text.lstrip(">=").strip()), None
    except InvalidOperation:
        pass
    return None, None
