"""The shared centers' indicators on the dashboard and in the monthly report (``indicators.registry``), computed
from the app's live tables, attributed to the ordering facility (an area's figures are those of the orders its
facilities placed; a facility area, that facility's).

* TM_CRIT_NOTIFY 危急值通报率: values notified to a clinician ÷ all critical values × 100%.
* TM_CRIT_TIMELY 危急值通报及时率: values acknowledged (read back) within the first limit, before any escalation
  ÷ values notified × 100% (the communication counted as done when the clinician has acknowledged it).
* TM_CRIT_ACK 危急值确认率, TM_CRIT_CLOSE 危急值闭环率: acknowledged (closed) ÷ all × 100%.
* TM_CRIT_ACK_MIN, TM_CRIT_ACT_MIN: median minutes detected → acknowledged, detected → action.
* TM_TAT 报告及时率: reports signed within the center's turnaround target for the urgency ÷ reports × 100%; the
  note gives the median minutes per center.
* TM_READS 共享中心远程诊断报告数: reports the centers signed on the area's orders, by kind in the note.
* TM_RECOG 检查检验结果互认率: orders decided "recognised, not repeated" ÷ all recognition decisions × 100%; the
  note gives the tests avoided and the fees saved.
* N05 影像心电中心服务与心电设备村级覆盖率: the village clinics with an active ECG device ÷ the village clinics ×
  100%; the note gives the centers' remote reads (reports on orders from township and village facilities)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from yigongti.core.carelevel import GRASSROOTS_LEVELS, CareLevel, care_level, type_q
from yigongti.indicators.definitions import D_SAME, Indicator, Value
from yigongti.orgs.models import Facility

from . import critical as rules
from .models import CriticalValue, Device, DeviceKind, Order, Recognition, RecognitionDecision, Report
from .queries.critical import FIELDS, row_of

D_TM = "共享诊断中心"
SOURCE = "《医疗质量安全核心制度要点》危急值报告制度；紧密型县域医共体建设评判标准（2022）"

INDICATORS = [
    Indicator("TM_CRIT_NOTIFY", "危急值通报率", "Critical values notified", D_TM, "registry", target=Decimal(100),
              source=SOURCE, live_only=True,
              definition="已通知临床医生的危急值例数 ÷ 同期危急值总例数 × 100%（按申请机构）",
              definition_en="Critical values notified to a clinician ÷ all critical values of the period × 100% "
                            "(by ordering facility)"),
    Indicator("TM_CRIT_TIMELY", "危急值通报及时率", "Critical values acknowledged in time", D_TM, "registry",
              target=Decimal(95), source=SOURCE, live_only=True,
              definition="在确认时限内（升级前）由临床医生复述确认的危急值例数 ÷ 同期已通知的危急值例数 × 100%",
              definition_en="Critical values read back by a clinician within the acknowledgement limit (before any "
                            "escalation) ÷ critical values notified × 100%"),
    Indicator("TM_CRIT_ACK", "危急值确认率", "Critical values acknowledged", D_TM, "registry", target=Decimal(100),
              source=SOURCE, live_only=True,
              definition="已复述确认的危急值例数 ÷ 同期危急值总例数 × 100%",
              definition_en="Critical values acknowledged with a read-back ÷ all critical values × 100%"),
    Indicator("TM_CRIT_CLOSE", "危急值闭环率", "Critical values closed", D_TM, "registry", target=Decimal(95),
              source=SOURCE, live_only=True,
              definition="已记录处置并闭环的危急值例数 ÷ 同期危急值总例数 × 100%",
              definition_en="Critical values with an action recorded and closed ÷ all critical values × 100%"),
    Indicator("TM_CRIT_ACK_MIN", "危急值确认时间中位数", "Median minutes to acknowledgement", D_TM, "registry",
              unit="分钟", unit_en="minutes", scale=1, direction="lower", target=Decimal(10), source=SOURCE,
              live_only=True, definition="危急值从发现到临床医生复述确认的时间（分钟）的中位数",
              definition_en="Median minutes from a critical value's detection to its acknowledgement"),
    Indicator("TM_CRIT_ACT_MIN", "危急值处置时间中位数", "Median minutes to action", D_TM, "registry",
              unit="分钟", unit_en="minutes", scale=1, direction="lower", source=SOURCE, live_only=True,
              definition="危急值从发现到记录临床处置（医嘱、转诊、病程记录、联系患者）的时间（分钟）的中位数",
              definition_en="Median minutes from a critical value's detection to the clinical action recorded"),
    Indicator("TM_TAT", "共享中心报告及时率", "Center reports within turnaround target", D_TM, "registry",
              target=Decimal(90), source=SOURCE, live_only=True,
              definition="心电、影像、检验、病理中心在报告时限（按常规、加急、急诊）内签发的报告数 ÷ "
                         "同期报告数 × 100%；附注各中心报告时间中位数（分钟）",
              definition_en="Reports of the ECG, imaging, lab and pathology centers signed within the turnaround "
                            "target for their urgency ÷ reports × 100%; the note gives each center's median minutes"),
    Indicator("TM_READS", "共享中心远程诊断报告数", "Remote reads by the shared centers", D_TM, "registry",
              unit="份", unit_en="reports", scale=1, source=SOURCE, live_only=True,
              definition="本期共享中心为本地区（本机构）申请单签发的心电、影像、检验、病理报告数；附注按类别",
              definition_en="Reports signed by the shared centers in the period on orders from the area's "
                            "facilities (the facility's), by kind in the note"),
    Indicator("TM_RECOG", "检查检验结果互认率", "Mutual recognition of results", D_TM, "registry",
              source="《关于加强医疗机构检查检验结果互认工作的通知》（国卫医发〔2022〕6号）", live_only=True,
              definition="开单时有互认有效期内既往结果、医生选择“互认，不重复检查”的次数 ÷ 全部互认决定次数 × 100%；"
                         "附注避免的重复检查次数与节省费用",
              definition_en="Orders where a recent result within its validity was recognised instead of repeated ÷ "
                            "all recognition decisions × 100%; the note gives the tests avoided and the fees saved"),
]

N05 = Indicator("N05", "影像心电中心服务与心电设备村级覆盖率", "Imaging/ECG center service and village ECG coverage",
                D_SAME, "registry", source="紧密型县域医共体建设评判标准（2022）", live_only=True,
                definition="有在用心电图机（已登记设备）的村卫生室数 ÷ 村卫生室总数 × 100%；附注本期共享中心为乡镇、"
                           "村级机构出具的远程诊断报告数（心电、影像）",
                definition_en="Village clinics with an active, registered ECG machine ÷ all village clinics × "
                              "100%; the note gives the centers' remote reads (ECG and imaging reports) for "
                              "township and village facilities in the period")

BY_CODE = {i.code: i for i in INDICATORS} | {"N05": N05}


def _q(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _area_q(area, field: str = "facility") -> Q:
    if area.kind == "facility":
        return Q(**{f"{field}__code": area.facility_key})
    return Q(**{f"{field}__region__code__startswith": area.prefix})


def _bounds(period) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(period.start, dt.time(), tz), dt.datetime.combine(period.stop, dt.time(), tz)


def _criticals(area, period) -> QuerySet[CriticalValue]:
    start, stop = _bounds(period)
    return CriticalValue.objects.filter(_area_q(area), detected_at__gte=start, detected_at__lt=stop)


def _summary(area, period):
    return rules.summarise(row_of(*r) for r in _criticals(area, period).values_list(*FIELDS))


def _ratio(code: str, num: int, den: int, note: str = "") -> Value:
    ind = BY_CODE[code]
    if not den:
        return Value(ind, Decimal(num), Decimal(den), None, extra={"note": note or "本期无数据"})
    return Value(ind, Decimal(num), Decimal(den), _q(Decimal(num) * 100 / Decimal(den)), extra={"note": note})


def notified(area, period) -> Value:
    s = _summary(area, period)
    return _ratio("TM_CRIT_NOTIFY", s.notified, s.total)


def timely(area, period) -> Value:
    s = _summary(area, period)
    return _ratio("TM_CRIT_TIMELY", s.timely, s.notified, f"升级 {s.escalated} 例" if s.escalated else "")


def acknowledged(area, period) -> Value:
    s = _summary(area, period)
    return _ratio("TM_CRIT_ACK", s.acknowledged, s.total)


def closed(area, period) -> Value:
    s = _summary(area, period)
    return _ratio("TM_CRIT_CLOSE", s.closed, s.total)


def _median(code: str, minutes: float | None, n: int) -> Value:
    ind = BY_CODE[code]
    if minutes is None:
        return Value(ind, None, None, None, extra={"note": "本期无数据"})
    return Value(ind, Decimal(str(minutes)), Decimal(n), _q(Decimal(str(minutes))), extra={"note": f"{n} 例"})


def ack_minutes(area, period) -> Value:
    s = _summary(area, period)
    return _median("TM_CRIT_ACK_MIN", s.median_ack_minutes, s.acknowledged)


def action_minutes(area, period) -> Value:
    s = _summary(area, period)
    return _median("TM_CRIT_ACT_MIN", s.median_action_minutes, s.actioned)


def tat(area, period) -> Value:
    """Reports within target, and each center's median minutes ordered → signed."""
    start, stop = _bounds(period)
    rows = (Report.objects.filter(_area_q(area, "order__facility"), signed_at__gte=start, signed_at__lt=stop)
            .exclude(order__kind="consultation")
            .values_list("order__kind", "order__urgency", "order__ordered_at", "signed_at",
                         "order__center__tat_routine_minutes", "order__center__tat_urgent_minutes",
                         "order__center__tat_emergency_minutes"))
    within, total = 0, 0
    per: dict[str, list[float]] = defaultdict(list)
    for kind, urgency, ordered, signed, routine, urgent, emergency in rows.iterator(chunk_size=5000):
        limit = {"emergency": emergency, "urgent": urgent}.get(urgency, routine)
        minutes = (signed - ordered).total_seconds() / 60
        total += 1
        within += minutes <= limit
        per[KIND_NAMES.get(kind, kind)].append(minutes)
    note = "；".join(f"{n} 中位 {round(statistics.median(m))} 分钟" for n, m in sorted(per.items()))
    return _ratio("TM_TAT", within, total, note)


KIND_NAMES = {"ecg": "心电", "imaging": "影像", "lab": "检验", "pathology": "病理"}


def reads(area, period) -> Value:
    start, stop = _bounds(period)
    by_kind = dict(Report.objects.filter(_area_q(area, "order__facility"), signed_at__gte=start, signed_at__lt=stop)
                   .exclude(order__kind="consultation").values_list("order__kind").annotate(n=Count("id"))
                   .order_by())
    total = sum(by_kind.values())
    note = "；".join(f"{KIND_NAMES.get(k, k)} {n}" for k, n in sorted(by_kind.items()))
    return Value(BY_CODE["TM_READS"], Decimal(total), None, Decimal(total), extra={"note": note})


def recognition(area, period) -> Value:
    start, stop = _bounds(period)
    qs = Recognition.objects.filter(_area_q(area), decided_at__gte=start, decided_at__lt=stop)
    total = qs.count()
    recognised = qs.filter(decision=RecognitionDecision.RECOGNISED)
    n = recognised.count()
    saved = sum((r for r in recognised.values_list("saved_amount", flat=True)), Decimal(0))
    note = f"避免重复检查 {n} 次，节省 {_q(saved)} 元" if total else ""
    return _ratio("TM_RECOG", n, total, note)


def n05(area, period) -> Value:
    """Village clinics with an ECG machine in use — in the device registry or in the asset register (assets:
    07 医用诊察和监护器械 / 心电图机, 在用); the centers' remote reads for the grassroots in the note."""
    from django.db.models import Exists, OuterRef

    from yigongti.assets.categories import ecg_q
    from yigongti.assets.models import Asset

    clinics = Facility.objects.filter(type_q(CareLevel.VILLAGE), is_active=True)
    clinics = clinics.filter(code=area.facility_key) if area.kind == "facility" else \
        clinics.filter(region__code__startswith=area.prefix)
    device = Device.objects.filter(facility=OuterRef("pk"), kind=DeviceKind.ECG, active=True)
    asset = Asset.objects.filter(ecg_q(), facility=OuterRef("pk"))
    row = clinics.aggregate(n=Count("id"), dev=Count("id", filter=Q(Exists(device))),
                            ast=Count("id", filter=Q(Exists(asset))),
                            ecg=Count("id", filter=Q(Exists(device)) | Q(Exists(asset))))
    villages, with_ecg = row["n"], row["ecg"]
    start, stop = _bounds(period)
    reads = 0
    for ftype, n in (Order.objects.filter(_area_q(area), kind__in=("ecg", "imaging"), reported_at__gte=start,
                                          reported_at__lt=stop)
                     .values_list("facility__type").annotate(n=Count("id")).order_by()):
        if care_level(ftype) in GRASSROOTS_LEVELS:
            reads += n
    v = _ratio("N05", with_ecg, villages, f"本期远程心电、影像诊断报告 {reads} 份")
    v.extra.update(devices=row["dev"], assets=row["ast"])  # clinics with one in the registry / the register
    return v


FIGURES = {"TM_CRIT_NOTIFY": notified, "TM_CRIT_TIMELY": timely, "TM_CRIT_ACK": acknowledged,
           "TM_CRIT_CLOSE": closed, "TM_CRIT_ACK_MIN": ack_minutes, "TM_CRIT_ACT_MIN": action_minutes,
           "TM_TAT": tat, "TM_READS": reads, "TM_RECOG": recognition, "N05": n05}


def register() -> None:
    """Called from the app's registry at start-up: the centers' indicators (and N05) join the dashboard."""
    from yigongti.indicators import registry

    for code, figure in FIGURES.items():
        registry.register(BY_CODE[code], figure)
