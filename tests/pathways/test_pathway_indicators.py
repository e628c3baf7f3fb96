"""The pathway indicators in the indicator engine: registered at start-up, computed for an area and a period from
the constructed month (``test_dashboards.build_month``), shown through the engine's own ``figures``."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.pathways.test_dashboards import build_month
from yigongti.indicators import queries
from yigongti.indicators.definitions import INDICATORS
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import Area
from yigongti.pathways import indicators as pw
from yigongti.pathways.queries_dashboards import months_back


@pytest.fixture
def month(ems):
    return build_month(ems)


def hospital_area(cast) -> Area:
    h = cast.county_hospital
    return Area("facility", h.code, h.name, h.region.code, facility_key=h.code)


def county_area(cast) -> Area:
    return Area("county", cast.county.code, cast.county.name, cast.county.code[:6])


def test_the_pathway_indicators_are_registered_with_the_engine():
    for code in pw.FIGURES:
        assert code in INDICATORS and INDICATORS[code].kind == "registry"
        assert INDICATORS[code].definition_en and INDICATORS[code].live_only
        assert queries.REGISTRY_FIGURES[code] is pw.FIGURES[code]
        assert code in queries.DISPLAY_ORDER
    assert INDICATORS["PW_CP_D2W"].target == Decimal(75) and INDICATORS["PW_CP_D2W_MIN"].direction == "lower"


def test_the_figures_of_the_county_hospital_for_the_month(ems, month):
    area, period = hospital_area(ems.cast), parse_period(month.month)
    d2w = pw.FIGURES["PW_CP_D2W"](area, period)
    assert (d2w.numerator, d2w.denominator, d2w.value) == (2, 3, Decimal("66.67"))
    assert d2w.extra["note"] == "3 例，中位 70 分钟" and d2w.status == "red"
    ecg = pw.FIGURES["PW_CP_FMC_ECG"](area, period)
    assert (ecg.numerator, ecg.denominator, ecg.value) == (2, 3, Decimal("66.67"))
    dido = pw.FIGURES["PW_CP_DIDO"](area, period)
    assert (dido.numerator, dido.denominator, dido.value) == (1, 2, Decimal("50.00"))
    median = pw.FIGURES["PW_CP_D2W_MIN"](area, period)
    assert median.value == Decimal("70.00") and median.status == "green"
    dnt = pw.FIGURES["PW_ST_DNT"](area, period)
    assert (dnt.numerator, dnt.denominator, dnt.value) == (1, 1, Decimal("100.00"))
    dpt = pw.FIGURES["PW_ST_DPT"](area, period)
    assert dpt.value is None and dpt.extra["note"] == "本期无数据"
    delays = pw.FIGURES["PW_DELAY"](area, period)
    assert (delays.numerator, delays.denominator, delays.value) == (3, 6, Decimal("50.00"))
    assert delays.extra["note"] == "未填写 3 个"
    cases = pw.FIGURES["PW_CASES"](area, period)
    assert cases.value == 5 and cases.extra["note"] == "胸痛 4；卒中 1"


def test_a_region_area_counts_the_cases_of_its_treating_facilities(ems, month):
    c = ems.cast
    county = pw.FIGURES["PW_CP_D2W"](county_area(c), parse_period(month.month))
    assert (county.numerator, county.denominator) == (2, 3)
    # the county hospital stands in the county seat's region, not in 塔峰镇's: the township has none of its cases
    assert c.county_hospital.region == c.county
    township = Area("township", c.township.code, c.township.name, c.township.code[:9])
    assert pw.FIGURES["PW_CP_D2W"](township, parse_period(month.month)).denominator == 0
    far = Area("county", c.far_county.code, c.far_county.name, c.far_county.code[:6])
    assert pw.FIGURES["PW_CP_D2W"](far, parse_period(month.month)).value is None


def test_another_month_has_no_data(ems, month):
    earlier = months_back(month.month, 3)[0]
    v = pw.FIGURES["PW_CP_D2W"](hospital_area(ems.cast), parse_period(earlier))
    assert v.value is None and v.denominator == 0
    assert pw.FIGURES["PW_CASES"](hospital_area(ems.cast), parse_period(earlier)).value == 0


def test_the_engine_shows_them_as_cards(ems, month):
    cards = queries.figures(hospital_area(ems.cast), parse_period(month.month), codes=["PW_CP_D2W", "PW_DELAY"])
    by_code = {card.indicator.code: card for card in cards}
    assert by_code["PW_CP_D2W"].value.value == Decimal("66.67")
    assert by_code["PW_DELAY"].value.value == Decimal("50.00")
