"""N06 from the payroll summaries (``indicators.registry``, as ``workforce.indicators`` provides N04): the mean yearly
gross income of the staff of the area's grassroots facilities (township health centres, community health service
centres and stations, village clinics) ÷ the mean of the staff of the lead hospital (牵头医院) of the area's
community (communities, for a city), from the latest payroll year up to the period's year (payroll is yearly: a
month of this year shows last year's ratio until this year is imported)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum
from django.utils.translation import gettext_noop

from yigongti.core.carelevel import CareLevel, levels_q
from yigongti.indicators.definitions import D_SAME, Indicator, Value
from yigongti.orgs.models import MedicalCommunity

from . import scoring
from .models import PayrollRecord

N06 = Indicator(
    "N06", "基层人均收入与牵头医院人均收入比", "Grassroots vs lead-hospital mean income", D_SAME, "registry",
    unit="", scale=1, live_only=True,
    definition="基层医疗卫生机构（乡镇卫生院、社区卫生服务中心（站）、村卫生室）在岗人员年人均应发收入 ÷ "
               "医共体牵头医院在岗人员年人均应发收入（按导入的年度薪酬汇总，取统计期所在年度或之前最近一年）",
    definition_en="Mean yearly gross income of the staff of grassroots facilities (township health centres, community "
                  "health service centres and stations, village clinics) ÷ mean yearly gross income of the staff of "
                  "the community's lead hospital (from the imported yearly payroll summaries: the period's year or "
                  "the latest year before it)")

# stored in Chinese; the dashboard shows notes in the reader's language by indicators.templatetags' note patterns
NOTE = gettext_noop("%(y)s 年薪酬：基层 %(a)s 人，人均 %(b)s 元；牵头医院 %(c)s 人，人均 %(d)s 元")
NO_DATA = gettext_noop("未导入年度薪酬")


def lead_facility_ids(area) -> list[int]:
    qs = MedicalCommunity.objects.filter(lead_facility__isnull=False)
    if area.kind == "community":
        qs = qs.filter(pk=int(area.code) if str(area.code).isdigit() else 0)
    elif area.kind in ("township", "village"):
        qs = qs.filter(region__code__startswith=area.prefix[:6])
    else:
        qs = qs.filter(region__code__startswith=area.prefix)
    return [pk for pk in qs.values_list("lead_facility_id", flat=True) if pk]


def grassroots(year: int, prefix: str):
    return PayrollRecord.objects.filter(levels_q((CareLevel.TOWNSHIP, CareLevel.VILLAGE), "facility__type"),
                                        year=year, facility__region__code__startswith=prefix)


def _mean(qs) -> tuple[int, Decimal | None]:
    agg = qs.aggregate(n=Count("pk"), s=Sum("total"))
    return agg["n"] or 0, scoring.mean(agg["s"] or Decimal(0), agg["n"] or 0)


def n06(area, period) -> Value:
    if area.kind == "facility":
        return Value(N06, None, None, None)
    leads = lead_facility_ids(area)
    year = (PayrollRecord.objects.filter(year__lte=int(period.last[:4]), facility_id__in=leads)
            .order_by("-year").values_list("year", flat=True).first())
    if year is None:
        return Value(N06, None, None, None, extra={"note": NO_DATA})
    n_g, mean_g = _mean(grassroots(year, area.prefix))
    n_l, mean_l = _mean(PayrollRecord.objects.filter(year=year, facility_id__in=leads))
    value = scoring.income_ratio(mean_g, mean_l)
    note = NOTE % {"y": year, "a": n_g, "b": mean_g if mean_g is not None else "—", "c": n_l,
                   "d": mean_l if mean_l is not None else "—"}
    return Value(N06, mean_g, mean_l, value, extra={"note": note, "year": year})


def register() -> None:
    from yigongti.indicators import registry

    registry.register(N06, n06)
