"""N14, premature mortality from the four NCDs by the life-table method."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from yigongti.encounters.models import Death, PopulationByAge
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import Area, premature_mortality, premature_probability

BANDS = [30, 35, 40, 45, 50, 55, 60, 65]


def test_probability_by_hand():
    # one death at 30–34 in 1,000 people, none elsewhere: M = 0.001, q = 5M/(1 + 2.5M) = 0.005/1.0025
    # = 0.0049875…, p = 1 − (1 − q) = 0.49875 % (all other bands survive with 1)
    p = premature_probability({30: 1}, {b: 1000 for b in BANDS})
    assert p.quantize(Decimal("0.00001")) == Decimal("0.49875")


def test_two_bands_multiply_survival():
    # q30 = 0.0049875…, q65: M = 10/1000 = 0.01, q = 0.05/1.025 = 0.0487804…
    # p = 1 − 0.9950125 × 0.9512195 = 1 − 0.9464753 = 5.3525 %
    p = premature_probability({30: 1, 65: 10}, {b: 1000 for b in BANDS})
    assert p.quantize(Decimal("0.0001")) == Decimal("5.3525")


def test_missing_population_band_gives_no_value():
    assert premature_probability({}, {b: 1000 for b in BANDS if b != 50}) is None


def test_only_ncd_deaths_aged_30_to_69_count(cast):
    for b in BANDS:
        for sex in "MF":
            PopulationByAge.objects.create(area_code="431127100000", year=2026, sex=sex, age_from=b, population=500)
    day = dt.date(2026, 5, 10)
    for age, cause in [(32, "I21.9"),   # counts: cardiovascular, 30–34
                       (67, "C34.9"),   # counts: cancer, 65–69
                       (50, "V89.2"),   # injury: not an NCD
                       (72, "I63.9"),   # too old
                       (29, "E11.9")]:  # too young
        Death.objects.create(area_code="431127100201", sex="M", age=age, death_date=day, cause_icd10=cause)
    v = premature_mortality(Area("county", "431127000000", "蓝山县", "431127"), parse_period("2026"))
    # populations 1000 per band (500 + 500); deaths 1 at 30–34 and 1 at 65–69: q = 0.005/1.0025 both
    # p = 1 − (1 − 0.0049875)² = 0.99501 % → 1.00 at two places (half up)
    assert v.numerator == Decimal(2) and v.denominator == Decimal(8000)
    assert v.value == Decimal("1.00")
