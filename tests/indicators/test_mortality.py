"""N14, premature mortality from the four NCDs by the life-table method."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from yigongti.encounters.models import Death, PopulationByAge
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import Area, premature_mortality, premature_probability

BANDS = [30, 35, 40, 45, 50, 55, 60, 65]


def test_probability_by_hand():
    # one death at 30–34 in 1,000 people, none elsewhere: M = 0.001, q = 5M/(1 + 2.5M) = 0.005/1.0025
    # = 0.0049875…, p = 1 − (1 − q) = 0.49875 % (all other bands survive with 1)
    p = premature_probability({30: 1}, dict.fromkeys(BANDS, 1000))
    assert p.quantize(Decimal("0.00001")) == Decimal("0.49875")


def test_two_bands_multiply_survival():
    # q30 = 0.0049875…, q65: M = 10/1000 = 0.01, q = 0.05/1.025 = 0.0487804…
    # p = 1 − 0.9950125 × 0.9512195 = 1 − 0.9464753 = 5.3525 %
    p = premature_probability({30: 1, 65: 10}, dict.fromkeys(BANDS, 1000))
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
    # the registry covers the whole year (its first and last registrations), so nothing is annualised
    for day in (dt.date(2026, 1, 3), dt.date(2026, 12, 28)):
        Death.objects.create(area_code="431127100201", sex="F", age=85, death_date=day, cause_icd10="I63.9")
    v = premature_mortality(Area("county", "431127000000", "蓝山县", "431127"), parse_period("2026"))
    # populations 1000 per band (500 + 500); deaths 1 at 30–34 and 1 at 65–69: q = 0.005/1.0025 both
    # p = 1 − (1 − 0.0049875)² = 0.99501 % → 1.00 at two places (half up)
    assert v.numerator == Decimal(2) and v.denominator == Decimal(8000)
    assert v.value == Decimal("1.00")


def test_a_year_with_ten_months_of_registrations_is_annualised_over_those_months(cast):
    """N14 for 2026 when deaths are registered January–October: the rate is annualised over 304 days,
    not over 365 (which would understate it by a sixth), and the card says so."""
    for b in BANDS:
        for sex in "MF":
            PopulationByAge.objects.create(area_code="431127100000", year=2026, sex=sex, age_from=b, population=500)
    Death.objects.create(area_code="431127100201", sex="M", age=32, death_date=dt.date(2026, 1, 4), cause_icd10="I21.9")
    Death.objects.create(area_code="431127100201", sex="M", age=67, death_date=dt.date(2026, 10, 30),
                         cause_icd10="C34.9")
    v = premature_mortality(Area("county", "431127000000", "蓝山县", "431127"), parse_period("2026"))
    years = Decimal(304) / Decimal(365)
    expected = premature_probability({30: 1, 65: 1}, dict.fromkeys(BANDS, 1000), years)
    # 1.1935 %; over 365 days it would read 1.00
    assert v.value == expected.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) == Decimal("1.19")
    assert v.extra["note"] == "按2026年1–10月（304天）年化"
