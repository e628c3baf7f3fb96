"""The distribution app's indicators (``indicators.registry``), computed from its live tables and attributed to the
ordering (registering) facility:

* DIST_SHORT_HOURS 缺药登记答复时间中位数: median hours registered → answered, of shortages registered in the period.
* DIST_SHORT_TIMELY 缺药登记按时答复率: shortages answered within their limit ÷ shortages registered whose limit
  has passed or that were answered × 100%.
* DIST_LEAD_HOURS 村卫生室请领配送时长中位数: median hours an order took from submitted to received, of orders
  received in the period."""

from __future__ import annotations

import datetime as dt
import statistics
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils import timezone

from yigongti.indicators.definitions import Indicator, Value

from .models import ANSWER_HOURS, OrderStatus, Shortage, ShortageStatus, VillageOrder

D_DIST = "药品配送"
SOURCE = "《关于推进紧密型县域医疗卫生共同体建设的指导意见》：基层缺药登记、药品统一配送"

INDICATORS = [
    Indicator("DIST_SHORT_HOURS", "缺药登记答复时间中位数", "Median hours to answer a shortage", D_DIST, "registry",
              unit="小时", unit_en="hours", scale=1, direction="lower", target=Decimal(ANSWER_HOURS), source=SOURCE,
              live_only=True,
              definition="本期登记的缺药（缺药登记）从登记到配送中心答复（调拨、采购、替代）的小时数的中位数（按登记机构）",
              definition_en="Median hours from a shortage's registration to the distribution center's answer "
                            "(transfer, procurement, substitute), of shortages registered in the period"),
    Indicator("DIST_SHORT_TIMELY", "缺药登记按时答复率", "Shortages answered in time", D_DIST, "registry",
              target=Decimal(90), source=SOURCE, live_only=True,
              definition=f"在答复时限（{ANSWER_HOURS}小时）内答复的缺药登记数 ÷ "
                         "本期登记且已答复或已超时的缺药登记数 × 100%",
              definition_en=f"Shortages answered within the limit ({ANSWER_HOURS} hours) ÷ shortages registered in "
                            "the period that were answered or are past their limit × 100%"),
    Indicator("DIST_LEAD_HOURS", "村卫生室请领配送时长中位数", "Median order lead time", D_DIST, "registry",
              unit="小时", unit_en="hours", scale=1, direction="lower", source=SOURCE, live_only=True,
              definition="本期签收的请领单从提交到签收的小时数的中位数（按请领机构）",
              definition_en="Median hours from an order's submission to its receipt at the clinic, of orders "
                            "received in the period (by ordering facility)"),
]
BY_CODE = {i.code: i for i in INDICATORS}


def _q(x: float) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _area_q(area) -> Q:
    if area.kind == "facility":
        return Q(facility__code=area.facility_key)
    return Q(facility__region__code__startswith=area.prefix)


def _bounds(period) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(period.start, dt.time(), tz), dt.datetime.combine(period.stop, dt.time(), tz)


def _median(code: str, hours: list[float]) -> Value:
    ind = BY_CODE[code]
    if not hours:
        return Value(ind, None, None, None, extra={"note": "本期无数据"})
    m = _q(statistics.median(hours))
    return Value(ind, m, Decimal(len(hours)), m, extra={"note": f"{len(hours)} 例"})


def shortage_hours(area, period) -> Value:
    start, stop = _bounds(period)
    rows = Shortage.objects.filter(_area_q(area), registered_at__gte=start, registered_at__lt=stop,
                                   status=ShortageStatus.ANSWERED).values_list("registered_at", "answered_at")
    return _median("DIST_SHORT_HOURS", [(b - a).total_seconds() / 3600 for a, b in rows if a and b])


def shortage_timely(area, period) -> Value:
    start, stop = _bounds(period)
    now = timezone.now()
    rows = Shortage.objects.filter(_area_q(area), registered_at__gte=start, registered_at__lt=stop) \
        .values_list("status", "answered_at", "due_at")
    den = [r for r in rows if r[0] == ShortageStatus.ANSWERED or r[2] < now]
    num = sum(1 for s, answered, due in den if answered is not None and answered <= due)
    ind = BY_CODE["DIST_SHORT_TIMELY"]
    if not den:
        return Value(ind, Decimal(0), Decimal(0), None, extra={"note": "本期无数据"})
    return Value(ind, Decimal(num), Decimal(len(den)), _q(num * 100 / len(den)),
                 extra={"note": f"超时未答复 {sum(1 for r in den if r[1] is None)} 例"})


def lead_hours(area, period) -> Value:
    start, stop = _bounds(period)
    rows = VillageOrder.objects.filter(_area_q(area), received_at__gte=start, received_at__lt=stop,
                                       status__in=[OrderStatus.RECEIVED, OrderStatus.PARTLY_RECEIVED],
                                       submitted_at__isnull=False).values_list("submitted_at", "received_at")
    return _median("DIST_LEAD_HOURS", [(b - a).total_seconds() / 3600 for a, b in rows if a and b])


FIGURES = {"DIST_SHORT_HOURS": shortage_hours, "DIST_SHORT_TIMELY": shortage_timely, "DIST_LEAD_HOURS": lead_hours}


def register() -> None:
    from yigongti.indicators import registry

    for ind in INDICATORS:
        registry.register(ind, FIGURES[ind.code])
