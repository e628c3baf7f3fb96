"""The internet hospital's indicators (``indicators.registry``), from its live tables, attributed to the answering
facility (an area's figures are those of the consultations its facilities answered).

* IH_CONSULTS 在线复诊人次: online follow-up consultations requested in the period.
* IH_RESPONSE_MIN 在线复诊响应时间中位数: median minutes from the request to the doctor's first reply (or acceptance).
* IH_DELIVERY_H 处方药品配送时长中位数: median hours from dispensing to delivery (at the clinic or home)."""

from __future__ import annotations

import datetime as dt
import statistics
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils import timezone

from yigongti.indicators.definitions import Indicator, Value

from .models import Delivery, OnlineConsultation

D_IH = "互联网医院"
SOURCE = "《互联网诊疗监管细则（试行）》（国卫办医发〔2022〕2号）"

IH_CONSULTS = Indicator(
    "IH_CONSULTS", "在线复诊人次", "Online follow-up consultations", D_IH, "registry", unit="人次",
    unit_en="consultations", scale=1, source=SOURCE, live_only=True,
    definition="本期居民申请的互联网医院在线复诊人次（按接诊机构）",
    definition_en="Online follow-up consultations residents requested in the period (by answering facility)")
IH_RESPONSE_MIN = Indicator(
    "IH_RESPONSE_MIN", "在线复诊响应时间中位数", "Median minutes to the doctor's first response", D_IH, "registry",
    unit="分钟", unit_en="minutes", scale=1, direction="lower", target=Decimal(120), source=SOURCE, live_only=True,
    definition="本期在线复诊从居民申请到医生首次回复（或接诊）的时间（分钟）的中位数",
    definition_en="Median minutes from a resident's request to the doctor's first reply (or acceptance), "
                  "for the consultations requested in the period")
IH_DELIVERY_H = Indicator(
    "IH_DELIVERY_H", "处方药品配送时长中位数", "Median hours from dispensing to delivery", D_IH, "registry",
    unit="小时", unit_en="hours", scale=1, direction="lower", target=Decimal(48), source=SOURCE, live_only=True,
    definition="本期送达的在线处方药品从发药到送达村卫生室或居民家中的时间（小时）的中位数",
    definition_en="Median hours from dispensing to delivery (at the village clinic or the home) of the online "
                  "prescriptions delivered in the period")
INDICATORS = [IH_CONSULTS, IH_RESPONSE_MIN, IH_DELIVERY_H]


def _area_q(area, field: str = "facility") -> Q:
    if area.kind == "facility":
        return Q(**{f"{field}__code": area.facility_key})
    return Q(**{f"{field}__region__code__startswith": area.prefix})


def _bounds(period) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(period.start, dt.time(), tz), dt.datetime.combine(period.stop, dt.time(), tz)


def _median(values: list[float]) -> Decimal | None:
    if not values:
        return None
    return Decimal(str(statistics.median(values))).quantize(Decimal("0.1"), ROUND_HALF_UP)


def consults(area, period) -> Value:
    start, stop = _bounds(period)
    n = OnlineConsultation.objects.filter(_area_q(area), requested_at__gte=start, requested_at__lt=stop).count()
    return Value(IH_CONSULTS, Decimal(n), None, Decimal(n))


def response_minutes(area, period) -> Value:
    start, stop = _bounds(period)
    rows = OnlineConsultation.objects.filter(_area_q(area), requested_at__gte=start, requested_at__lt=stop).filter(
        Q(first_reply_at__isnull=False) | Q(accepted_at__isnull=False)).values_list(
        "requested_at", "first_reply_at", "accepted_at")
    minutes = [((min(t for t in (r, a) if t is not None)) - q).total_seconds() / 60 for q, r, a in rows]
    return Value(IH_RESPONSE_MIN, Decimal(len(minutes)), None, _median(minutes))


def delivery_hours(area, period) -> Value:
    start, stop = _bounds(period)
    rows = Delivery.objects.filter(_area_q(area, "consultation__facility"), delivered_at__gte=start,
                                   delivered_at__lt=stop, dispensed_at__isnull=False).values_list(
        "dispensed_at", "delivered_at")
    hours = [(d - s).total_seconds() / 3600 for s, d in rows if s is not None and d is not None]
    return Value(IH_DELIVERY_H, Decimal(len(hours)), None, _median(hours))


def register() -> None:
    from yigongti.indicators import registry

    registry.register(IH_CONSULTS, consults)
    registry.register(IH_RESPONSE_MIN, response_minutes)
    registry.register(IH_DELIVERY_H, delivery_hours)
