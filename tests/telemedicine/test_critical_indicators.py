"""The loop's indicators in the indicator engine (by ordering facility), and N05."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from tests.cast import SYSTEM, as_
from tests.telemedicine.test_critical import raise_k
from yigongti.indicators.definitions import INDICATORS
from yigongti.indicators.periods import Period
from yigongti.indicators.queries import Area
from yigongti.telemedicine import indicators, rules
from yigongti.telemedicine.models import Device, DeviceKind
from yigongti.telemedicine.services import critical as svc


def _period() -> Period:
    m = timezone.localdate().strftime("%Y-%m")
    return Period("month", m, m, m)


def test_the_loops_rates_for_the_county(centers):
    rules.install_defaults(centers.cast.community, actor=SYSTEM, start=dt.date(2020, 1, 1))
    doctor = as_(centers.cast.village_doctor)
    a = raise_k(centers)
    svc.acknowledge(a.pk, "2.5", actor=doctor)
    svc.record_action(a.pk, "call", "电话通知复查", actor=doctor)
    svc.close(a.pk, actor=doctor)
    b = raise_k(centers, "7.0")
    svc.escalate_due(b.ack_due_at + dt.timedelta(seconds=1))
    county = centers.cast.county
    area = Area("county", county.code, county.name, county.prefix)
    p = _period()
    assert indicators.notified(area, p).value == Decimal("100.00")
    timely = indicators.timely(area, p)
    assert (timely.numerator, timely.denominator, timely.value) == (1, 2, Decimal("50.00"))
    assert indicators.closed(area, p).value == Decimal("50.00")
    assert indicators.ack_minutes(area, p).value is not None
    far = centers.cast.far_county
    assert indicators.notified(Area("county", far.code, far.name, far.prefix), p).denominator == 0


def test_n05_is_registered_and_counts_village_ecg_machines(centers):
    assert INDICATORS["N05"].kind == "registry"
    cast = centers.cast
    county = cast.county
    area = Area("county", county.code, county.name, county.prefix)
    assert indicators.n05(area, _period()).value == Decimal("0.00")
    Device.objects.create(facility=cast.village_clinic, kind=DeviceKind.ECG, model="ECG-1200", serial="A1")
    v = indicators.n05(area, _period())
    assert (v.numerator, v.denominator, v.value) == (1, 2, Decimal("50.00"))


def test_reads_and_turnaround_of_the_centers(centers):
    from tests.telemedicine.test_critical import _stemi

    rules.install_defaults(centers.cast.community, actor=SYSTEM, start=dt.date(2020, 1, 1))
    _stemi(centers)
    township = centers.cast.township
    area = Area("township", township.code, township.name, township.prefix)
    reads = indicators.reads(area, _period())
    assert reads.value == 1 and "心电 1" in reads.extra["note"]
    tat = indicators.tat(area, _period())
    assert (tat.numerator, tat.denominator) == (1, 1) and "中位" in tat.extra["note"]
