"""The acknowledgement of a message (original mode): AA applied, AE application error, AR rejected; MSA-3 says
why in words, and for AE/AR an ERR segment names where (ERR-2) and the table 0357 code (ERR-3)."""

from __future__ import annotations

import datetime as dt
import itertools
import os

from .parse import SHANGHAI, Header

RECEIVER_APP = "YIGONGTI"
RECEIVER_FACILITY = "LABCENTER"
_counter = itertools.count(1)
_ERROR_TEXT = {"100": "Segment sequence error", "101": "Required field missing", "102": "Data type error",
               "103": "Table value not found", "200": "Unsupported message type", "201": "Unsupported event code",
               "202": "Unsupported processing id", "203": "Unsupported version id", "204": "Unknown key identifier",
               "205": "Duplicate key identifier", "207": "Application internal error"}


def escape(text: str) -> str:
    """HL7 escapes for text placed in a field (the default encoding characters)."""
    out = (text or "").replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
    out = out.replace("&", "\\T\\").replace("~", "\\R\\")
    return out.replace("\r", " ").replace("\n", " ")


def _control_id() -> str:
    return f"A{os.getpid() % 100000:05d}{next(_counter):09d}"


def build_ack(header: Header | None, code: str, text: str = "", *, error_code: str = "", location: str = "",
              now: dt.datetime | None = None) -> str:
    """The ACK (segments separated by CR, no MLLP framing) to a message with this header (``None``: a message
    whose MSH could not be read)."""
    when = (now or dt.datetime.now(SHANGHAI)).astimezone(SHANGHAI).strftime("%Y%m%d%H%M%S")
    h = header
    version = (h.version if h and h.version else "2.5.1")
    event = (h.message_type.split("^")[1] if h and "^" in h.message_type else "R01")
    msh = "|".join(["MSH", "^~\\&", RECEIVER_APP, RECEIVER_FACILITY, escape(h.sending_application) if h else "",
                    escape(h.sending_facility) if h else "", when, "", f"ACK^{event}^ACK", _control_id(),
                    (h.processing_id if h and h.processing_id else "P"), version, "", "", "", "", "",
                    "UNICODE UTF-8"])
    segments = [msh, "|".join(["MSA", code, escape(h.control_id) if h else "", escape(text)[:200]])]
    if code != "AA":
        ecode = error_code or "207"
        segments.append("|".join(["ERR", "", _location(location), f"{ecode}^{_ERROR_TEXT.get(ecode, '')}^HL70357",
                                  "E", "", "", "", escape(text)]))
    return "\r".join(segments) + "\r"


def _location(text: str) -> str:
    """ERR-2 keeps its component separators (segment^sequence^field); anything else is escaped."""
    return "^".join(escape(part) for part in (text or "").split("^"))


def ack_code(ack: str) -> str:
    """MSA-1 of an ACK ('' when there is none)."""
    for seg in ack.replace("\n", "\r").split("\r"):
        if seg.startswith("MSA|"):
            return seg.split("|")[1]
    return ""


def ack_text(ack: str) -> str:
    for seg in ack.replace("\n", "\r").split("\r"):
        if seg.startswith("MSA|"):
            parts = seg.split("|")
            return parts[3] if len(parts) > 3 else ""
    return ""
