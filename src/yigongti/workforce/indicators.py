"""N04 from the postings (``indicators.registry``, as ``telemedicine.indicators`` provides N05): the distinct
physicians (执业、助理) of intermediate or senior title, on the establishment of a county-level facility, with at
least one day on site at a grassroots host of the area in the period (confirmed or booked on an active posting),
together with those seconded there (岗编分离: post at a county-level facility, working at a grassroots facility of
the area, the point-in-time count N04 had before postings existed), counted once, ÷ the area's resident
population × 10,000. Below the county, by the host's location."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils.translation import gettext_noop

from yigongti.core.carelevel import CareLevel, levels_q, type_q
from yigongti.indicators.definitions import D_SAME, Indicator, Value
from yigongti.orgs.models import Profession, Staff

from .ledger import MID_SENIOR
from .models import PostingDay, PostingStatus

N04 = Indicator(
    "N04", "中级及以上医师派驻基层人数（每万人口）", "Mid/senior physicians posted to grassroots per 10,000",
    D_SAME, "registry", unit="人/万人", unit_en="per 10,000", scale=10000, live_only=True,
    refine="派驻含：本期有下沉在岗日的专家，及岗编分离在基层工作的县级编制人员（在岗时点数），去重",
    definition="本期在基层医疗卫生机构（乡镇卫生院、社区卫生服务中心（站）、村卫生室）有派驻在岗日的、编制在县级医疗"
               "机构的中级及以上职称医师（执业、助理），及编制在县级、在基层工作（岗编分离）的同类医师，"
               "人数（去重）÷ 常住人口 × 10000（乡镇以下按派驻机构所在地）",
    definition_en="Distinct physicians (practising or assistant) with mid-level or senior titles, on the staff "
                  "establishment of county-level facilities, with at least one day on site at a grassroots facility "
                  "(township health centre, community health service centre or station, village clinic) in the "
                  "period, and those of them seconded to work at a grassroots facility, counted once, ÷ resident "
                  "population × 10,000 (below the township: by the host facility's location)")


def posted_physicians_q(prefix: str, start, stop) -> Q:
    return (Q(posting__status=PostingStatus.ACTIVE, day__gte=start, day__lt=stop,
              host__region__code__startswith=prefix,
              staff__profession__in=[Profession.PHYSICIAN, Profession.ASSISTANT_PHYSICIAN],
              staff__title__in=MID_SENIOR)
            & levels_q((CareLevel.TOWNSHIP, CareLevel.VILLAGE), "host__type")
            & type_q(CareLevel.COUNTY, "staff__establishment_facility__type"))


# stored in Chinese, shown in the reader's language by indicators.templatetags (its note patterns)
NOTE = gettext_noop("下沉 %(a)s 人，岗编分离 %(b)s 人（去重 %(c)s 人）")


def n04(area, period) -> Value:
    from yigongti.indicators.queries import resident_population

    if area.kind == "facility":
        return Value(N04, None, None, None)
    posted = set(PostingDay.objects.filter(posted_physicians_q(area.prefix, period.start, period.stop))
                 .values_list("staff_id", flat=True).distinct())
    seconded = set(Staff.objects.filter(
        levels_q((CareLevel.TOWNSHIP, CareLevel.VILLAGE), "work_facility__type"),
        type_q(CareLevel.COUNTY, "establishment_facility__type"), is_active=True,
        profession__in=[Profession.PHYSICIAN, Profession.ASSISTANT_PHYSICIAN], title__in=MID_SENIOR,
        work_facility__region__code__startswith=area.prefix).values_list("pk", flat=True))
    n = len(posted | seconded)
    pop = resident_population(area, int(period.last[:4]))
    value = None if not pop else (Decimal(n) / Decimal(pop) * N04.scale).quantize(Decimal("0.01"), ROUND_HALF_UP)
    note = NOTE % {"a": len(posted), "b": len(seconded), "c": n}
    return Value(N04, Decimal(n), Decimal(pop), value, extra={"note": note})


def register() -> None:
    from yigongti.indicators import registry

    registry.register(N04, n04)
