"""Prescribing's indicators (``indicators.registry``), from the live tables, attributed to the prescribing
facility (an area's figures are those of its facilities' prescriptions).

* RX_REVIEW_PASS 处方审核通过率: prescriptions approved ÷ prescriptions a pharmacist decided × 100%.
* RX_FLAGGED 处方预警率: prescriptions the rule pack held for review ÷ prescriptions submitted × 100%.
* RX_IRRATIONAL 不合理处方率 (处方点评): sampled prescriptions classed 不规范 / 用药不适宜 / 超常 ÷ sampled
  prescriptions reviewed × 100%; the note gives the three classes.
* RX_ANTIBIOTIC 门诊抗菌药物使用率: outpatient prescriptions with an antibiotic ÷ outpatient prescriptions × 100%.
* RX_ESSENTIAL 基本药物处方占比: prescription lines of 国家基本药物 ÷ all lines × 100%."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from yigongti.indicators.definitions import Indicator, Value

from .models import CommentClass, CommentSample, Decision, Prescription, PrescriptionLine, Review, Status

D_RX = "合理用药"
SOURCE = "《医疗机构处方审核规范》（国卫办医发〔2018〕14号）；《医院处方点评管理规范（试行）》"

INDICATORS = [
    Indicator("RX_REVIEW_PASS", "处方审核通过率", "Prescriptions passing pharmacist review", D_RX, "registry",
              source=SOURCE, live_only=True,
              definition="药师审核通过的处方数 ÷ 同期经药师审核的处方数 × 100%（按开方机构）",
              definition_en="Prescriptions approved by a pharmacist ÷ prescriptions a pharmacist reviewed × 100% "
                            "(by prescribing facility)"),
    Indicator("RX_FLAGGED", "处方预警率", "Prescriptions held for review", D_RX, "registry", direction="lower",
              source=SOURCE, live_only=True,
              definition="审方规则判定需药师审核的处方数 ÷ 同期提交的处方数 × 100%",
              definition_en="Prescriptions the rule pack held for a pharmacist ÷ prescriptions submitted × 100%"),
    Indicator("RX_IRRATIONAL", "不合理处方率", "Irrational prescriptions (review sample)", D_RX, "registry",
              direction="lower", target=Decimal(5), source=SOURCE, live_only=True,
              definition="点评为不规范处方、用药不适宜处方、超常处方的处方数 ÷ 同期已点评的抽样处方数 × 100%",
              definition_en="Sampled prescriptions classed non-standard, inappropriate or excessive ÷ sampled "
                            "prescriptions reviewed × 100%"),
    Indicator("RX_ANTIBIOTIC", "门诊抗菌药物使用率", "Outpatient prescriptions with an antibiotic", D_RX, "registry",
              direction="lower", target=Decimal(20), source="《抗菌药物临床应用管理办法》；抗菌药物专项整治活动方案",
              live_only=True,
              definition="含抗菌药物的门诊处方数 ÷ 同期门诊处方数 × 100%",
              definition_en="Outpatient prescriptions with an antibiotic ÷ outpatient prescriptions × 100%"),
    Indicator("RX_ESSENTIAL", "基本药物处方占比", "Essential medicines share of prescription lines", D_RX,
              "registry", source="《国家基本药物目录管理办法》", live_only=True,
              definition="处方中国家基本药物品种数 ÷ 处方药品品种总数 × 100%",
              definition_en="Prescription lines of national essential medicines ÷ all prescription lines × 100%"),
]
BY_CODE = {i.code: i for i in INDICATORS}
NOTE_CLASSES = gettext_noop("不规范 %(a)s，用药不适宜 %(b)s，超常 %(c)s")
NOTE_EMPTY = gettext_noop("本期无数据")


def _area_q(area, field: str = "facility") -> Q:
    if area.kind == "facility":
        return Q(**{f"{field}__code": area.facility_key})
    return Q(**{f"{field}__region__code__startswith": area.prefix})


def _bounds(period) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(period.start, dt.time(), tz), dt.datetime.combine(period.stop, dt.time(), tz)


def _ratio(code: str, num: int, den: int, note: str = "") -> Value:
    ind = BY_CODE[code]
    if not den:
        return Value(ind, Decimal(num), Decimal(den), None, extra={"note": note or NOTE_EMPTY})
    v = (Decimal(num) * 100 / Decimal(den)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return Value(ind, Decimal(num), Decimal(den), v, extra={"note": note})


def _rx(area, period):
    start, stop = _bounds(period)
    return Prescription.objects.filter(_area_q(area), prescribed_at__gte=start, prescribed_at__lt=stop) \
        .exclude(status=Status.DRAFT)


def review_pass(area, period) -> Value:
    start, stop = _bounds(period)
    r = Review.objects.filter(_area_q(area, "prescription__facility"), at__gte=start, at__lt=stop).aggregate(
        n=Count("pk"), ok=Count("pk", filter=Q(decision=Decision.APPROVE)))
    return _ratio("RX_REVIEW_PASS", r["ok"], r["n"])


def flagged(area, period) -> Value:
    held = (Status.REVIEW_PENDING, Status.APPROVED, Status.REJECTED)
    r = _rx(area, period).aggregate(n=Count("pk"), held=Count("pk", filter=Q(reviews__isnull=False)
                                                                       | Q(status__in=held), distinct=True))
    return _ratio("RX_FLAGGED", r["held"], r["n"])


def irrational(area, period) -> Value:
    qs = CommentSample.objects.filter(_area_q(area), month__gte=period.start, month__lt=period.stop) \
        .exclude(classification="")
    r = qs.aggregate(n=Count("pk"), a=Count("pk", filter=Q(classification=CommentClass.NONSTANDARD)),
                     b=Count("pk", filter=Q(classification=CommentClass.INAPPROPRIATE)),
                     c=Count("pk", filter=Q(classification=CommentClass.EXCESSIVE)))
    note = NOTE_CLASSES % {"a": r["a"], "b": r["b"], "c": r["c"]}
    return _ratio("RX_IRRATIONAL", r["a"] + r["b"] + r["c"], r["n"], note)


def antibiotic(area, period) -> Value:
    r = _rx(area, period).exclude(kind="emergency").aggregate(n=Count("pk"),
                                                              ab=Count("pk", filter=Q(has_antibiotic=True)))
    return _ratio("RX_ANTIBIOTIC", r["ab"], r["n"])


def essential(area, period) -> Value:
    start, stop = _bounds(period)
    r = PrescriptionLine.objects.filter(_area_q(area, "prescription__facility"),
                                        prescription__prescribed_at__gte=start,
                                        prescription__prescribed_at__lt=stop).aggregate(
        n=Count("pk"), e=Count("pk", filter=Q(item__essential=True)))
    return _ratio("RX_ESSENTIAL", r["e"], r["n"])


FIGURES = {"RX_REVIEW_PASS": review_pass, "RX_FLAGGED": flagged, "RX_IRRATIONAL": irrational,
           "RX_ANTIBIOTIC": antibiotic, "RX_ESSENTIAL": essential}


def register() -> None:
    from yigongti.indicators import registry

    for code, figure in FIGURES.items():
        registry.register(BY_CODE[code], figure)
