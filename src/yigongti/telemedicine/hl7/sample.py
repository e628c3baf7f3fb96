"""An ORU^R01 as a county LIS or an analyser sends it, built from plain values (tests, the bench, the demo,
``yigongti hl7 send`` files)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from .ack import escape
from .parse import SHANGHAI


def oru(accession: str, results: Sequence[tuple], *, control_id: str, sender: str = "LIS",
        facility: str = "COUNTYLAB", patient_id: str = "", patient_name: str = "", status: str = "F",
        at: dt.datetime | None = None, service: str = "", version: str = "2.5.1") -> str:
    """``results``: (code, value, unit[, reference range[, value type]]) tuples; NM unless told (or the value is
    not a number)."""
    when = (at or dt.datetime.now(SHANGHAI)).astimezone(SHANGHAI).strftime("%Y%m%d%H%M%S")
    segs = [f"MSH|^~\\&|{sender}|{facility}|YIGONGTI|LABCENTER|{when}||ORU^R01^ORU_R01|{control_id}|P|{version}"
            f"|||||UNICODE UTF-8",
            f"PID|1||{escape(patient_id)}^^^YGT^MR||{escape(patient_name)}",
            f"OBR|1|{accession}|{accession}|{service}|||{when}||||||||||||||||||{status}"]
    for i, r in enumerate(results, start=1):
        code, value, unit = r[0], r[1], r[2]
        ref = r[3] if len(r) > 3 else ""
        vtype = r[4] if len(r) > 4 else _type(str(value))
        segs.append(f"OBX|{i}|{vtype}|{code}^{code}^L||{escape(str(value))}|{escape(unit)}|{escape(ref)}||||{status}"
                    f"|||{when}")
    return "\r".join(segs) + "\r"


def _type(value: str) -> str:
    try:
        float(value)
        return "NM"
    except ValueError:
        return "ST"
