"""What the HL7 tests share: a real MLLP listener on a port of H3's range (26000–26099), the critical-value rules
of the lab tests, a lab order."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from decimal import Decimal

from tests.telemedicine.conftest import make_order

_ports = itertools.count(26000)


@contextlib.contextmanager
def listening():
    """``yigongti hl7 listen``'s server in a thread; stopped (and its port freed) when the block ends."""
    from yigongti.telemedicine.hl7.commands import make_server

    last: OSError | None = None
    for _ in range(100):
        port = 26000 + next(_ports) % 100
        try:
            server = make_server("127.0.0.1", port)
            break
        except OSError as e:  # in use: the next one
            last = e
    else:
        raise RuntimeError(f"no free port in 26000–26099: {last}")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def adult_rules(centers) -> None:
    """The county lab center's adult rules for K, GLU, PLT and cTnI (a positive qualitative result)."""
    from yigongti.telemedicine.models import CriticalRule

    for code, unit, low, high in (("K", "mmol/L", "2.8", "6.2"), ("GLU", "mmol/L", "2.8", "22.2"),
                                  ("PLT", "10^9/L", "30", None), ("HGB", "g/L", "50", None)):
        CriticalRule.objects.create(community=centers.cast.community, analyte=centers.analytes[code], unit=unit,
                                    low=Decimal(low), high=Decimal(high) if high else None,
                                    effective_from=dt.date(2020, 1, 1), source="测试")


def lab_order(centers, item: str = "CHEM", urgency: str = "routine"):
    cast = centers.cast
    return make_order(centers, item, by=cast.township_doctor, resident=cast.resident, urgency=urgency)
