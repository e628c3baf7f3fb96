"""The pharmacy's indicators (``indicators.registry``), from its live tables, by the facility's location:

* PH_VBP_DONE 集采约定采购量完成率: for the agreements whose period overlaps the reporting period, the packages
  received against them (receipts from the agreement's start to the end of the period) ÷ their agreed volumes
  × 100% (a community-level figure: the distribution center buys for the county; none below the county).
* PH_ESSENTIAL 基本药物使用金额占比: the value (catalogue price × packages) of 国家基本药物 dispensed or issued
  (ledger lines 处方发药 and 科室领用, net of none) at the area's facilities in the period ÷ the value of all
  drugs (western, patent, herbal; not consumables) dispensed or issued there × 100%.
* PH_VILLAGE50 村卫生室药品品种达标率: village clinics with ≥ 50 kinds in unexpired stock ÷ village clinics ×
  100% (a point-in-time figure, today's stock).
* PH_STOCKOUT 缺货率: a facility's items with a stock limit (minimum > 0) that have no unexpired stock ÷ those
  items × 100% (point in time; lower is better).
* PH_NEAR_EXPIRY 近效期药品金额: the value of unexpired lots expiring within 90 days (point in time, yuan)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from yigongti.core.carelevel import CareLevel, type_q
from yigongti.indicators.definitions import Indicator, Value
from yigongti.orgs.models import Facility

from .models import Agreement, ItemKind, Movement, MovementKind, ReceiptLine, StockBalance, StockLimit
from .queries import NEAR_EXPIRY_DAYS, VILLAGE_GOAL

D_PH = "药品耗材"
SOURCE = "国家卫生健康委等《关于做好县域医共体药品耗材统一管理的通知》；国家基本药物制度；村卫生室药品配备50种以上"

INDICATORS = [
    Indicator("PH_VBP_DONE", "集采约定采购量完成率", "VBP agreed-volume completion", D_PH, "registry",
              target=Decimal(100), source=SOURCE, live_only=True,
              definition="协议期与统计期重叠的集采协议，自协议期起至统计期末的到货量 ÷ 约定采购量 × 100%（医共体层级）",
              definition_en="For the VBP agreements whose period overlaps the reporting period: packages received "
                            "from the agreement's start to the period's end ÷ agreed volume × 100% (community "
                            "level)"),
    Indicator("PH_ESSENTIAL", "基本药物使用金额占比", "Essential medicines share of value dispensed", D_PH,
              "registry", target=Decimal(50), source=SOURCE, live_only=True,
              definition="统计期内本区域机构处方发药和科室领用的国家基本药物金额（目录价 × 包装数）÷ 同期全部药品"
                         "（西药、中成药、中药饮片，不含耗材）发药和领用金额 × 100%",
              definition_en="Value (catalogue price × packages) of national essential medicines dispensed or issued "
                            "at the area's facilities in the period ÷ value of all drugs (western, patent, herbal; "
                            "not consumables) dispensed or issued × 100%"),
    Indicator("PH_VILLAGE50", "村卫生室药品品种达标率", "Village clinics stocking 50+ kinds", D_PH, "registry",
              target=Decimal(100), source=SOURCE, live_only=True,
              definition="在库（未过期）药品耗材品种数达到 50 种及以上的村卫生室数 ÷ 村卫生室数 × 100%（时点数）",
              definition_en="Village clinics with 50 or more kinds in unexpired stock ÷ village clinics × 100% "
                            "(point in time)"),
    Indicator("PH_STOCKOUT", "缺货率", "Stock-out rate", D_PH, "registry", direction="lower", target=Decimal(5),
              source=SOURCE, live_only=True,
              definition="设有库存下限（> 0）而无未过期库存的机构-品种数 ÷ 设有库存下限的机构-品种数 × 100%（时点数）",
              definition_en="Facility-items with a minimum stock (> 0) and no unexpired stock ÷ facility-items with "
                            "a minimum × 100% (point in time)"),
    Indicator("PH_NEAR_EXPIRY", "近效期药品金额", "Value of stock expiring within 90 days", D_PH, "registry",
              unit="元", unit_en="yuan", scale=1, direction="lower", source=SOURCE, live_only=True, money=True,
              definition="本区域机构 90 天内到期的未过期批次库存金额（目录价 × 数量，时点数）",
              definition_en="Value (catalogue price × quantity) of unexpired lots expiring within 90 days at the "
                            "area's facilities (point in time)"),
]
BY_CODE = {i.code: i for i in INDICATORS}


def _area_q(area, field: str = "facility") -> Q:
    if area.kind == "facility":
        return Q(**{f"{field}__code": area.facility_key})
    return Q(**{f"{field}__region__code__startswith": area.prefix})


def _pct(num, den, ind) -> Value:
    num, den = Decimal(num or 0), Decimal(den or 0)
    value = None if not den else (num / den * ind.scale).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return Value(ind, num, den, value)


def vbp_done(area, period) -> Value:
    ind = BY_CODE["PH_VBP_DONE"]
    if area.kind in ("facility", "township", "village"):
        return Value(ind, None, None, None)
    agreements = Agreement.objects.filter(community__region__code__startswith=area.prefix[:6],
                                          starts_on__lt=period.stop, ends_on__gte=period.start)
    agreed = agreements.aggregate(n=Sum("agreed_quantity"))["n"] or 0
    got = ReceiptLine.objects.filter(order_line__agreement__in=agreements, receipt__received_on__lt=period.stop) \
        .aggregate(n=Sum("quantity"))["n"] or 0
    return _pct(got, agreed, ind)


def essential_share(area, period) -> Value:
    ind = BY_CODE["PH_ESSENTIAL"]
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(period.start, dt.time(), tz)
    stop = dt.datetime.combine(period.stop, dt.time(), tz)
    value = ExpressionWrapper(-F("quantity") * F("item__price"), output_field=DecimalField(max_digits=16,
                                                                                           decimal_places=2))
    rows = (Movement.objects.filter(_area_q(area), kind__in=[MovementKind.DISPENSE, MovementKind.ISSUE],
                                    at__gte=start, at__lt=stop)
            .exclude(item__kind=ItemKind.CONSUMABLE)
            .aggregate(total=Sum(value), essential=Sum(value, filter=Q(item__essential=True))))
    return _pct(rows["essential"], rows["total"], ind)


def village50(area, period) -> Value:
    ind = BY_CODE["PH_VILLAGE50"]
    today = timezone.localdate()
    villages = Facility.objects.filter(type_q(CareLevel.VILLAGE), community__isnull=False, is_active=True)
    villages = villages.filter(code=area.facility_key) if area.kind == "facility" else \
        villages.filter(region__code__startswith=area.prefix)
    ids = list(villages.values_list("pk", flat=True))
    counts = (StockBalance.objects.filter(facility_id__in=ids, quantity__gt=0, expires_on__gte=today)
              .values("facility_id").annotate(n=Count("item_id", distinct=True)).filter(n__gte=VILLAGE_GOAL))
    return _pct(counts.count(), len(ids), ind)


def stockout(area, period) -> Value:
    ind = BY_CODE["PH_STOCKOUT"]
    today = timezone.localdate()
    limits = StockLimit.objects.filter(_area_q(area), minimum__gt=0)
    n = limits.count()
    stocked = set(StockBalance.objects.filter(_area_q(area), quantity__gt=0, expires_on__gte=today)
                  .values_list("facility_id", "item_id").distinct())
    out = sum(1 for pair in limits.values_list("facility_id", "item_id") if pair not in stocked)
    return _pct(out, n, ind)


def near_expiry_value(area, period) -> Value:
    ind = BY_CODE["PH_NEAR_EXPIRY"]
    today = timezone.localdate()
    value = ExpressionWrapper(F("quantity") * F("item__price"), output_field=DecimalField(max_digits=16,
                                                                                          decimal_places=2))
    total = (StockBalance.objects.filter(_area_q(area), quantity__gt=0, expires_on__gte=today,
                                         expires_on__lte=today + dt.timedelta(days=NEAR_EXPIRY_DAYS))
             .aggregate(v=Sum(value))["v"]) or Decimal(0)
    return Value(ind, Decimal(total), None, Decimal(total).quantize(Decimal("0.01")))


FIGURES = {"PH_VBP_DONE": vbp_done, "PH_ESSENTIAL": essential_share, "PH_VILLAGE50": village50,
           "PH_STOCKOUT": stockout, "PH_NEAR_EXPIRY": near_expiry_value}


def register() -> None:
    from yigongti.indicators import registry

    for ind in INDICATORS:
        registry.register(ind, FIGURES[ind.code])
